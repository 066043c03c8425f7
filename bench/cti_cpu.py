"""CPU and statements per call event, in process (issue 16): the figures that do not depend on how
loaded the machine is, unlike `cti_events_per_s`.

A day of the simulator's call events (ringing, answered, transferred, ended; extensions seated) goes
through the whole Django stack (middleware, the API, the service) with Django's test client, one
request after another; the CPU time of this process (time.process_time: user + system, so waiting
for the machine does not count) is divided by the events. A second pass counts the statements per
event with CaptureQueriesContext. The client's own cost (signing, building the request) is measured
alone and subtracted. `--profile` prints a CPU-time cProfile of the timed pass.

    .venv/bin/python bench/cti_cpu.py [--events 900] [--profile]   # DATABASE_URL picks the database
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(workdir_name: str = "bench-cti-cpu", sqlite_name: str = "cpu.sqlite3") -> Path:
    """Django for a CTI bench in its own var directory (SQLite there unless DATABASE_URL says otherwise);
    bench/cti_only.py shares it. Returns the directory."""
    workdir = ROOT / "var" / workdir_name
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / sqlite_name}")
    os.environ["AFTERSALES_VAR_DIR"] = str(workdir)
    os.environ["AFTERSALES_DEBUG"] = "0"
    os.environ.setdefault("AFTERSALES_CONN_MAX_AGE", "60")
    os.environ["DJANGO_SETTINGS_MODULE"] = "aftersales.settings"
    import django

    django.setup()
    return workdir


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=900)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the timed pass (CPU time: "
                        "process_time, so time waiting for the database or the machine is not counted)")
    args = parser.parse_args(argv)
    setup_django()
    import random

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from aftersales.accounts.models import Organization, User
    from aftersales.calls import services, simulate

    setup_test_environment()
    call_command("migrate", interactive=False, verbosity=0)
    sc = Organization.objects.filter(code="SC").first() or Organization.objects.create(
        code="SC", name="开拓机械服务中心", kind="service_center")
    seed = random.randrange(1_000_000)
    system, token, secret = services.phone_system_create(name=f"cpu-{seed}", organization_id=sc.pk)
    for n, ext in enumerate(["8001", "8002", "8003", "8004", "8201"]):
        user, _created = User.objects.get_or_create(username=f"cti-cpu-{ext}", defaults={"organization": sc})
        services.extension_set(user=user, extension=ext)
    planned = simulate.plan_day(calls=args.events // 3 * 2, extensions=["8001", "8002", "8003", "8004"],
                                known_numbers=[], seed=seed, transfer_to="8201")
    events = [p.event for p in planned]
    half = len(events) // 2
    warm, timed, counted = events[:50], events[50:half], events[half:]
    client = Client()

    def signed(event: dict) -> tuple[bytes, dict]:
        from datetime import datetime, timezone

        raw = json.dumps({**event, "at": datetime.now(timezone.utc).isoformat()}).encode()
        ts = f"{time.time():.6f}"
        return raw, {"HTTP_X_CTI_TOKEN": token, "HTTP_X_CTI_TIMESTAMP": ts,
                     "HTTP_X_CTI_SIGNATURE": "sha256=" + services.sign(secret, ts, raw)}

    def send(batch: list[dict]) -> None:
        for e in batch:
            raw, headers = signed(e)
            r = client.post("/api/v1/calls/events", data=raw, content_type="application/json", **headers)
            assert r.status_code == 200, r.content[:300]

    send(warm)
    # The client's own part (signing, JSON) alone, to subtract it.
    t0 = time.process_time()
    for e in timed:
        signed(e)
    client_cpu = time.process_time() - t0
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    t0 = time.process_time()
    w0 = time.perf_counter()
    send(timed)
    cpu = time.process_time() - t0
    wall = time.perf_counter() - w0
    if profiler is not None:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr).strip_dirs()
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
    with CaptureQueriesContext(connection) as ctx:
        send(counted)
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print(json.dumps({
        "database": connection.vendor, "at": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()), "load": load,
        "events_timed": len(timed), "cpu_ms_per_event": round((cpu - client_cpu) * 1000 / len(timed), 3),
        "client_cpu_ms_per_event": round(client_cpu * 1000 / len(timed), 3),
        "wall_ms_per_event": round(wall * 1000 / len(timed), 3),
        "statements_per_event": round(len(ctx.captured_queries) / len(counted), 2),
        "profiled": bool(profiler),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
