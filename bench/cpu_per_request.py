"""Server CPU per intake and per transition, in one process (issue 14).

The wrk figures of `make bench` divide the workers' CPU by the requests of a run, on a machine other
sessions share: contention inflates them. This measures the same requests through Django's whole
stack (every middleware, ninja, the services, the hooks, the answer's serialization) in this process,
one at a time, with the process's own CPU clock around each request, and counts the SQL statements
each runs. The median is the figure. ``--profile PATH`` writes a cProfile of the measured requests
of each kind (PATH.intake, PATH.dispatch, ...) and prints the Python function calls per request: a
count that does not depend on the machine's load (the CPU times under profiling are inflated).

    .venv/bin/python bench/cpu_per_request.py --scale 4000 [--count 200] [--profile var/bench/intake.prof]

It uses the database `make bench` built (var/bench/bench-<scale>.sqlite3, or DATABASE_URL), the
bench's personas and intake bodies; transitions run on orders it takes in itself and carries to
awaiting_dispatch first (not measured), then dispatch, accept, assign, tech_accept (measured).
Server-side only: no HTTP parsing and no granian (the floor's figure includes those; about 0.3 ms).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(scale: int) -> None:
    workdir = ROOT / "var" / "bench"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / f'bench-{scale}.sqlite3'}")
    os.environ["AFTERSALES_VAR_DIR"] = str(workdir)
    os.environ["AFTERSALES_DEBUG"] = "0"
    os.environ.setdefault("AFTERSALES_CONN_MAX_AGE", "60")
    os.environ["DJANGO_SETTINGS_MODULE"] = "aftersales.settings"
    import django

    django.setup()


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=int(os.environ.get("SCALE", 4000)))
    parser.add_argument("--count", type=int, default=150, help="measured requests of each kind")
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the measured requests here (.intake/.transition)")
    parser.add_argument("--only", default="intake,transition")
    args = parser.parse_args(argv)
    _setup(args.scale)

    from django.db import connection
    from django.test import Client

    from aftersales.accounts.models import Organization, User
    from aftersales.accounts.services import api_token_create
    from aftersales.service.models import ServiceOrder
    from bench.run import Bench

    users = {u.username: u for u in User.objects.all()}
    tokens = {}

    def auth(name):
        if name not in tokens:
            tokens[name] = api_token_create(user=users[name], name="cpu")[1]
        return {"HTTP_AUTHORIZATION": f"Bearer {tokens[name]}", "HTTP_ACCEPT_LANGUAGE": "zh-hans"}

    client = Client()
    counter = Counter()

    def post(path, body, who, expect):
        resp = client.post(path, data=json.dumps(body), content_type="application/json", **auth(who))
        assert resp.status_code == expect, (path, resp.status_code, resp.content[:300])
        return resp.json()

    def measured(samples, stmts, profiler, path, body, who, expect):
        counter.n = 0
        if profiler:
            profiler.enable()
        t0 = time.process_time()
        with connection.execute_wrapper(counter):
            out = post(path, body, who, expect)
        t1 = time.process_time()
        if profiler:
            profiler.disable()
        samples.append((t1 - t0) * 1000)
        stmts.append(counter.n)
        return out

    fake = type("B", (), {})()
    bodies = Bench._intake_bodies(fake, args.warm + args.count * 2 + 10)
    results = {}
    calls = {}  # Python function calls per request (cProfile's count): exact, whatever the machine's load
    only = set(args.only.split(","))
    bodies_iter = iter(bodies)

    if "intake" in only:
        samples, stmts = [], []
        prof = cProfile.Profile() if args.profile else None
        for _ in range(args.warm):
            post("/api/v1/orders", next(bodies_iter), "agent", 201)
        for _ in range(args.count):
            measured(samples, stmts, prof, "/api/v1/orders", next(bodies_iter), "agent", 201)
        if prof:
            prof.dump_stats(str(args.profile) + ".intake")
            calls["intake"] = pstats.Stats(prof).total_calls / args.count
        results["intake"] = (samples, stmts)

    if "transition" in only:
        rc = Organization.objects.get(code="RC")
        tech = users["tech_rc"]
        ids = [post("/api/v1/orders", next(bodies_iter), "agent", 201)["id"] for _ in range(args.count + args.warm)]

        def act(order_id, action, who, data=None, samples=None, stmts=None, prof=None):
            version = ServiceOrder.objects.values_list("version", flat=True).get(pk=order_id)
            body = {"version": version, "data": data or {}}
            path = f"/api/v1/orders/{order_id}/actions/{action}"
            if samples is None:
                return post(path, body, who, 200)
            return measured(samples, stmts, prof, path, body, who, 200)

        for oid in ids:
            act(oid, "forward", "coordinator", {"hotline_technician_id": users["hotline"].pk})
            act(oid, "callback", "hotline")
            act(oid, "diagnose", "hotline", {"steps": ["询问启动过程", "检查燃油滤清器"]})
            act(oid, "confirm_mode", "hotline", {"service_mode": "on_site", "reason": "客户要求"})
        kinds = {k: ([], []) for k in ("dispatch", "accept", "tech_accept")}
        profs = {k: cProfile.Profile() if args.profile else None for k in kinds}
        for n, oid in enumerate(ids):
            warm = n < args.warm
            s = {k: (([], []) if warm else kinds[k]) for k in kinds}
            p = {k: None if warm else profs[k] for k in kinds}
            act(oid, "dispatch", "dispatcher", {"organization_id": rc.pk, "outside_coverage_reason": "压测：全国维修中心"},
                *s["dispatch"], p["dispatch"])
            act(oid, "accept", "tech_rc", None, *s["accept"], p["accept"])
            act(oid, "assign", "tech_rc", {"technician_id": tech.pk})
            act(oid, "tech_accept", "tech_rc", None, *s["tech_accept"], p["tech_accept"])
        for k, prof in profs.items():
            if prof:
                prof.dump_stats(str(args.profile) + f".{k}")
                calls[k] = pstats.Stats(prof).total_calls / args.count
        results.update(kinds)

    print(f"database {connection.vendor}, scale {args.scale}, load {os.getloadavg()[0]:.1f}")
    for name, (samples, stmts) in results.items():
        print(f"{name:<12} cpu ms median {statistics.median(samples):6.2f}  p25 {statistics.quantiles(samples, n=4)[0]:6.2f}"
              f"  min {min(samples):6.2f}  statements median {statistics.median(stmts):g} max {max(stmts)}  (n={len(samples)})"
              + (f"  python calls {calls[name]:,.0f}" if name in calls else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
