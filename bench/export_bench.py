"""`make bench-export`: the export figure of issue 13 alone, at full size.

    python bench/export_bench.py --scale 100000      # DATABASE_URL picks the database (SQLite by default)

Builds (or reuses) the same dataset as bench/run.py, starts the real server, asks for
`/queue/?number=FW&export=xlsx` as the supervisor (every order: 100,000 rows at SCALE=100000), lets
`aftersales worker --once` write the workbook (exports app, openpyxl write-only) and records the
worker's peak resident memory (VmHWM) as `export_rss_mb_peak`. The figure is merged into
bench/results.json, the per-database copy (bench/results-<db>-<scale>.json) and the committed one
(docs/bench-results/results-<db>-<scale>.json, when it exists) without touching their other figures, so a full `make bench` and this focused run can be combined.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def merge(path: Path, figures: dict, notes: dict) -> None:
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(figures)
    if "notes" in data or path.name != "results.json":
        data.setdefault("notes", {}).update(notes)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=int(os.environ.get("SCALE", 100_000)))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)

    from bench.run import setup_django

    workdir = setup_django(args.scale)
    from django.db import connection

    from aftersales.service.models import ServiceOrder
    from bench.client import Server
    from bench.run import Bench, _prepare_database, export_xlsx, git_commit, machine

    _prepare_database(args.scale, args.rebuild)
    orders = ServiceOrder.objects.count()
    server = Server(env=dict(os.environ), workers=2, log_path=workdir / "server.log")
    server.start()
    try:
        bench = Bench(server=server, scale=args.scale, seconds=1, requests=1, workdir=workdir)
        connection.close()
        figures = export_xlsx(bench)
    finally:
        server.stop()
    load = Path("/proc/loadavg").read_text().split()[:3]
    notes = {"export_rss_mb_peak": f"{bench.notes.get('export_rss_mb_peak', '')}; {orders} orders in the database; "
                                   f"load average {' '.join(load)} at the end; bench/export_bench.py at {git_commit()}"}
    figures_out = {**figures, "export_scale": args.scale, "export_database": connection.vendor,
                   "export_machine": machine()}
    merge(args.output, figures, {})
    merge(args.output.parent / f"results-{connection.vendor}-{args.scale}.json", figures_out, notes)
    kept = ROOT / "docs" / "bench-results" / f"results-{connection.vendor}-{args.scale}.json"
    if kept.exists():  # the committed copy of the figures (docs/performance.md)
        merge(kept, figures_out, notes)
    print(json.dumps({**figures_out, "note": notes["export_rss_mb_peak"]}, indent=2, ensure_ascii=False))
    return 0 if figures.get("export_rss_mb_peak") is not None else 1


if __name__ == "__main__":
    sys.exit(main())
