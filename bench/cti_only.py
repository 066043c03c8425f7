"""cti_events_per_s alone, without the benchmark dataset (the figure needs only the schema and the
service center): migrate DATABASE_URL, start `aftersales serve` (two workers) and run
bench/cti_bench.py's burst; prints one JSON line with the load average before and after.

    nice -n 10 .venv/bin/python bench/cti_only.py            # DATABASE_URL picks the database
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from bench.cti_cpu import setup_django

    workdir = setup_django("bench-cti", "cti.sqlite3")
    from django.core.management import call_command
    from django.db import connection

    from aftersales.accounts.models import Organization
    from bench import cti_bench
    from bench.client import Server

    call_command("migrate", interactive=False, verbosity=0)
    if not Organization.objects.filter(code="SC").exists():
        Organization.objects.create(code="SC", name="开拓机械服务中心", kind="service_center")
    connection.close()
    server = Server(env=dict(os.environ), workers=2, log_path=workdir / "server.log")
    server.start()

    class Bench:
        port, notes = server.port, {}

        def note(self, key, text):
            self.notes[key] = text

    bench = Bench()
    try:
        before = " ".join(open("/proc/loadavg").read().split()[:3])
        result = cti_bench.measure(bench)
        after = " ".join(open("/proc/loadavg").read().split()[:3])
    finally:
        server.stop()
    print(json.dumps({"database": connection.vendor, "at": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
                      "load_before": before, "load_after": after, **result,
                      "note": bench.notes.get("cti_events_per_s")}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
