"""The measurements of `make bench`: one function per figure (or pair of figures).

Each takes the running ``Bench`` context and returns ``{results.json key: value}``; a figure whose
feature does not exist yet is ``None`` with a note saying so, never an invented number. Later
features plug in as modules: ``bench/search_bench.py`` and ``bench/sla_sweep.py`` each expose
``measure(bench) -> dict`` returning their keys.
"""

from __future__ import annotations

import importlib
import json
import random
import re
import subprocess
import time
from pathlib import Path

from bench.client import Client, timed_requests

HERE = Path(__file__).resolve().parent
OPEN = ("forwarded,diagnosing,awaiting_dispatch,dispatched,accepted,assigned,tech_accepted,scheduled,in_service,"
        "awaiting_confirmation,escalated")


def find_page(kind: str) -> tuple[str, str] | None:
    """(URL name, kwarg) of an HTML page of the web workbench, or None before it exists.

    ``queue``: a URL name containing "queue"; ``order``: a page named like order / order_detail with
    one id argument. The API and the admin are not pages of the workbench."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith(("api/", "admin/")):
                    continue
                ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
                yield from walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern) and p.name:
                yield prefix + p.name, p.pattern.regex.groupindex

    for name, groups in walk(get_resolver().url_patterns):
        short = name.rsplit(":", 1)[-1]
        if kind == "queue" and "queue" in short and not groups:
            return name, ""
        if kind == "order" and re.fullmatch(r"(service_)?order(_detail|_page)?", short) and len(groups) == 1:
            return name, next(iter(groups))
    return None


def _latency(bench, client: Client, calls, key: str, note: str) -> dict:
    run = timed_requests(client, calls, max_requests=bench.requests, max_seconds=bench.seconds * 2)
    bench.note(key, note + (f"; unexpected answers {run['unexpected']}" if run["unexpected"] else ""))
    return {key: round(run["p95_ms"], 1) if run["p95_ms"] is not None else None}


def queue_p95(bench) -> dict:
    """A technician's open orders and the coordinator's awaiting-dispatch list, one client at a time."""
    from django.urls import reverse

    page = find_page("queue")
    tech, coordinator = bench.queue_technician, bench.users["dispatcher"]
    if page:
        url = reverse(page[0])
        clients = [Client(bench.port, cookie=bench.session(tech)), Client(bench.port, cookie=bench.session(coordinator))]
        calls = [(c, ("GET", url, None)) for c in clients]
        note = f"HTML page {page[0]} as {tech.username} and {coordinator.username}"
    else:
        clients = [Client(bench.port, token=bench.token(tech)), Client(bench.port, token=bench.token(coordinator))]
        calls = [(clients[0], ("GET", f"/api/v1/orders?technician={tech.pk}&status={OPEN}", None)),
                 (clients[1], ("GET", "/api/v1/orders?status=awaiting_dispatch", None))]
        note = ("HTML queue page not available yet: measured on GET /api/v1/orders filtered as the technician's "
                f"queue (technician={tech.pk}, open statuses) and the coordinator's (status=awaiting_dispatch)")
    latencies = []
    for client, call in calls:
        run = timed_requests(client, [call] * bench.requests, max_requests=bench.requests // 2,
                             max_seconds=bench.seconds)
        latencies.append(run)
        client.close()
    # Both personas' pages have the same target: report the slower one.
    p95 = max((r["p95_ms"] for r in latencies if r["p95_ms"] is not None), default=None)
    bench.note("queue_p95_ms", note + "; the larger of the two personas' p95")
    return {"queue_p95_ms": round(p95, 1) if p95 is not None else None}


def order_page_p95(bench) -> dict:
    from django.urls import reverse

    page = find_page("order")
    rng = random.Random(7)
    ids = rng.sample(bench.order_ids, min(len(bench.order_ids), bench.requests))
    agent = bench.users["agent"]
    if page:
        client = Client(bench.port, cookie=bench.session(agent))
        calls = [("GET", reverse(page[0], kwargs={page[1]: i}), None) for i in ids]
        note = f"HTML page {page[0]} as {agent.username}, random orders"
    else:
        client = Client(bench.port, token=bench.token(agent))
        calls = [("GET", f"/api/v1/orders/{i}", None) for i in ids]
        note = "HTML order page not available yet: measured on GET /api/v1/orders/{id} (the detail with timeline data)"
    try:
        return _latency(bench, client, calls, "order_page_p95_ms", note)
    finally:
        client.close()


def _plugin(bench, module: str, keys: tuple[str, ...], what: str) -> dict:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        for key in keys:
            bench.note(key, f"not available yet ({what} not built; {module.replace('.', '/')}.py absent)")
        return dict.fromkeys(keys)
    if not hasattr(mod, "measure"):
        for key in keys:
            bench.note(key, f"not available yet ({module.replace('.', '/')}.py has no measure(bench))")
        return dict.fromkeys(keys)
    try:
        result = mod.measure(bench)
    except Exception as exc:  # one plug-in's failure must not lose the other figures
        for key in keys:
            bench.note(key, f"not measured: {module}.measure failed: {exc!r}")
        return dict.fromkeys(keys)
    return {key: result.get(key) for key in keys}


def search_zh(bench) -> dict:
    return _plugin(bench, "bench.search_bench", ("search_zh_p95_ms",), "Chinese search")


def sla_sweep(bench) -> dict:
    return _plugin(bench, "bench.sla_sweep", ("sla_sweep_s", "worker_rss_mb_peak"), "SLA sweep")


def stats(bench) -> dict:
    return _plugin(bench, "bench.stats_bench", ("dashboard_p95_ms", "process_map_s", "stats_page_p95_ms", "stats_more_p95_ms"),
                   "statistics centre")


def intake_seq(bench) -> dict:
    client = Client(bench.port, token=bench.token(bench.users["agent"]))
    bodies = bench.intake_bodies[-bench.requests:]
    calls = [("POST", "/api/v1/orders", b) for b in bodies]
    started = time.monotonic()
    run = timed_requests(client, calls, max_requests=bench.requests, max_seconds=bench.seconds, expect=(201,))
    client.close()
    ok = run["count"] - sum(run["unexpected"].values())
    bench.note("intake_seq_per_s", f"{run['count']} creates in {run['seconds']:.1f} s, p95 {run['p95_ms']:.1f} ms"
               + (f"; unexpected {run['unexpected']}" if run["unexpected"] else ""))
    return {"intake_seq_per_s": round(ok / (time.monotonic() - started), 1)}


def _wrk(bench, script: str, args: list[str]) -> dict:
    cmd = ["wrk", "-t", "2", "-c", "8", "-d", f"{bench.seconds}s", "--timeout", "10s", "-s", str(HERE / "wrk" / script),
           f"http://127.0.0.1:{bench.port}", "--", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=bench.seconds + 60, check=True).stdout
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    return json.loads(line)


def intake_c8(bench) -> dict:
    """wrk, 2 threads, 8 connections; the workers' CPU time over the run divided by the requests."""
    path = bench.write_lines("intake", [("/api/v1/orders", bench.token(bench.users["agent"]), json.dumps(b))
                                         for b in bench.intake_bodies])
    cpu0 = bench.server.cpu_ms()
    r = _wrk(bench, "intake.lua", [str(path), str(int(time.time())), "2"])
    cpu = bench.server.cpu_ms() - cpu0
    ok = r["requests"] - r["non2xx"]
    seconds = r["duration_us"] / 1e6
    bench.note("intake_c8_per_s", f"wrk: {r['requests']} requests in {seconds:.1f} s, {r['non2xx']} non-2xx, "
               f"{r['socket_errors']} socket errors; p50 {r['p50_us'] / 1000:.1f} ms")
    return {"intake_c8_per_s": round(ok / seconds, 1), "intake_c8_p95_ms": round(r["p95_us"] / 1000, 1),
            "intake_cpu_ms": round(cpu / max(r["requests"], 1), 2)}


def floor_c8(bench) -> dict:
    """The floor (bench/floor/): the intake's own bodies POSTed by the same wrk script to a bare
    Django + django-ninja endpoint that validates them and writes five rows in one transaction,
    served by the same granian command line and workers on the same database, while the app's
    server idles. Its figures are the denominators of intake_vs_floor and transition_vs_floor."""
    import os
    import sys

    from bench.client import Server

    root = HERE.parent
    env = {**bench.server.env, "DJANGO_SETTINGS_MODULE": "bench.floor.settings",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(root), bench.server.env.get("PYTHONPATH", "")]))}
    subprocess.run([sys.executable, "-m", "django", "migrate", "--run-syncdb", "--verbosity", "0"], env=env,
                   check=True, cwd=root, timeout=120)
    floor = Server(env=env, workers=bench.server.workers, log_path=bench.workdir / "floor.log",
                   wsgi_app="bench.floor.wsgi:application")
    floor.start()
    try:
        path = bench.write_lines("floor", [("/floor/five", "-", json.dumps(b)) for b in bench.intake_bodies])
        cpu0 = floor.cpu_ms()
        cmd = ["wrk", "-t", "2", "-c", "8", "-d", f"{bench.seconds}s", "--timeout", "10s", "-s",
               str(HERE / "wrk" / "intake.lua"), f"http://127.0.0.1:{floor.port}", "--", str(path), "0", "2"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=bench.seconds + 60, check=True).stdout
        r = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
        cpu = floor.cpu_ms() - cpu0
    finally:
        floor.stop()
    ok = r["requests"] - r["non2xx"]
    seconds = r["duration_us"] / 1e6
    bench.note("floor_five_c8_per_s", f"wrk on POST /floor/five: {r['requests']} requests in {seconds:.1f} s, "
               f"{r['non2xx']} non-2xx; p95 {r['p95_us'] / 1000:.1f} ms")
    return {"floor_five_c8_per_s": round(ok / seconds, 1), "floor_five_cpu_ms": round(cpu / max(r["requests"], 1), 2)}


def transitions_c8(bench) -> dict:
    path = bench.write_lines("transitions", bench.transition_lines())
    r = _wrk(bench, "transitions.lua", [str(path), "2"])
    ok = r["requests"] - r["non2xx"]
    seconds = r["duration_us"] / 1e6
    bench.note("transition_c8_per_s", f"wrk: dispatch/accept/tech_accept on distinct orders, {r['requests']} requests, "
               f"{r['non2xx']} non-2xx (the prepared list is {bench.transition_count} actions long); "
               f"p95 {r['p95_us'] / 1000:.1f} ms")
    return {"transition_c8_per_s": round(ok / seconds, 1)}


def web_rss(bench) -> dict:
    peak = bench.server.rss_peak_mb()
    bench.note("web_rss_mb_peak", "VmHWM of the larger gunicorn worker at the end of the run")
    return {"web_rss_mb_peak": round(peak, 1) if peak else None}


# In this order: reads first on the dataset as built, then the writes, the sweep, memory last.
# The search measure rebuilds the whole index first (1.5 million rows at 1,000,000 orders); it runs
# after the write measures, so they do not pay for the database flushing that rebuild to disk.
def cti_events(bench) -> dict:
    return _plugin(bench, "bench.cti_bench", ("cti_events_per_s",), "phone-system events")


MEASUREMENTS = (queue_p95, order_page_p95, intake_seq, floor_c8, intake_c8, transitions_c8, search_zh, sla_sweep,
                web_rss, stats, cti_events)
