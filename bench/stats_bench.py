"""The statistics centre at scale (issue 15): ``dashboard_p95_ms`` and ``process_map_s``.

``measure(bench)`` (``make bench``, through bench/measures.py):

- brings the daily aggregates up to date first. The bench dataset is bulk-copied (no order-changed
  hooks ran), so the first run on a dataset rebuilds them from the events (``stats_rebuild_s`` is
  noted, not a results key); later runs only recount the orders the earlier measurements changed;
- ``dashboard_p95_ms``: the main dashboard's API answer, ``GET /api/v1/stats/kpis`` for the last
  365 days grouped by organization (read from the aggregates), alternately network-wide (the
  supervisor) and for the partner organization with the most orders; the larger of the two p95s;
- ``process_map_s``: ``GET /api/v1/stats/process-map`` for the last 365 days network-wide, the
  slowest of three answers;
- ``stats_page_p95_ms`` and ``stats_more_p95_ms``: the HTML pages themselves (``measure_pages``).
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone

from bench.client import Client, timed_requests


def _partner(bench):
    from django.db.models import Count

    from aftersales.accounts.policies import sees_whole_network
    from aftersales.service.models import ServiceOrder
    from aftersales.stats.policies import may_read_stats

    by_org = dict(ServiceOrder.objects.filter(assigned_org__isnull=False).values_list("assigned_org_id")
                  .annotate(n=Count("id")).values_list("assigned_org_id", "n"))
    partners = [u for u in bench.users.values() if u.is_active and u.organization_id
                and not sees_whole_network(u) and may_read_stats(u)]
    return max(partners, key=lambda u: by_org.get(u.organization_id, 0)), by_org


def _warm(client, path: str, seconds: float = 90) -> float:
    """Until the server answers 200: on SQLite a web worker's persistent connection (CONN_MAX_AGE)
    can read from a snapshot older than a token made just now and answer 401 until it is recycled;
    measuring those answers would time the refusal, not the dashboard. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        status, _body = client.request("GET", path, None)
        if status == 200:
            break
        time.sleep(1)
    return time.monotonic() - started


def ensure_aggregates(bench) -> str:
    from aftersales.service.models import ServiceOrder
    from aftersales.stats.models import OrderFact
    from aftersales.stats.services import aggregates_rebuild, aggregates_refresh

    orders, counted = ServiceOrder.objects.count(), OrderFact.objects.count()
    started = time.monotonic()
    if counted < orders * 0.95:
        aggregates_rebuild()
        return f"aggregates rebuilt from {orders} orders in {time.monotonic() - started:.1f} s"
    n = aggregates_refresh()
    return f"aggregates up to date ({n} changed orders recounted in {time.monotonic() - started:.1f} s)"


def measure(bench) -> dict:
    from aftersales.stats.models import DailyAggregate

    prepared = ensure_aggregates(bench)
    today = timezone.localdate()
    query = f"date_from={(today - timedelta(days=364)).isoformat()}&date_to={today.isoformat()}"
    supervisor = bench.users["supervisor"]
    partner, by_org = _partner(bench)
    runs = []
    for user in (supervisor, partner):
        client = Client(bench.port, token=bench.token(user))
        path = f"/api/v1/stats/kpis?{query}&group_by=organization"
        _warm(client, path)
        calls = [("GET", path, None)] * bench.requests
        runs.append(timed_requests(client, calls, max_requests=bench.requests // 2, max_seconds=bench.seconds))
        client.close()
    p95 = max((r["p95_ms"] for r in runs if r["p95_ms"] is not None), default=None)
    load = "load average %.1f %.1f %.1f" % __import__("os").getloadavg()
    rows = DailyAggregate.objects.count()
    bench.note("dashboard_p95_ms", f"GET /api/v1/stats/kpis a year by organization (aggregates, {rows} rows), "
               f"supervisor p95 {runs[0]['p95_ms']:.1f} ms and partner {partner.username} "
               f"({by_org.get(partner.organization_id, 0)} orders) p95 {runs[1]['p95_ms']:.1f} ms; the larger; "
               f"{prepared}; {load}" + (f"; unexpected {[r['unexpected'] for r in runs]}" if any(r["unexpected"] for r in runs) else ""))

    client = Client(bench.port, token=bench.token(supervisor))
    _warm(client, f"/api/v1/stats/kpis?{query}&group_by=none")
    seconds, bad = [], {}
    for _ in range(3):
        t0 = time.perf_counter()
        status, _body = client.request("GET", f"/api/v1/stats/process-map?{query}", None)
        seconds.append(time.perf_counter() - t0)
        if status != 200:
            bad[status] = bad.get(status, 0) + 1
    client.close()
    bench.note("process_map_s", f"GET /api/v1/stats/process-map a year network-wide (aggregates), slowest of 3: "
               + ", ".join(f"{s:.3f}" for s in seconds) + "; load average %.1f %.1f %.1f" % __import__("os").getloadavg()
               + (f"; unexpected {bad}" if bad else ""))
    pages = measure_pages(bench, supervisor, partner, query)
    return {"dashboard_p95_ms": round(p95, 1) if p95 is not None else None, "process_map_s": round(max(seconds), 3),
            **pages}


def measure_pages(bench, supervisor, partner, year_query: str) -> dict:
    """``stats_page_p95_ms``: the HTML page ``/stats/`` as a person opens it (no parameters: the last
    30 days by organization) and for the last 12 months, as the supervisor (network-wide) and as the
    partner; the largest p95. ``stats_more_p95_ms``: ``/stats/more/`` (cost, failures, SLA; read from
    claims, machines and clocks, not the aggregates) as the supervisor, the default 30 days."""
    runs = {}
    for user in (supervisor, partner):
        client = Client(bench.port, cookie=bench.session(user), timeout=300)
        for label, path in (("30 days", "/stats/"), ("12 months", f"/stats/?{year_query}&group_by=organization")):
            _warm(client, path)
            calls = [("GET", path, None)] * bench.requests
            runs[(user.username, label)] = timed_requests(client, calls, max_requests=max(bench.requests // 4, 20),
                                                          max_seconds=bench.seconds)
        client.close()
    p95s = [r["p95_ms"] for r in runs.values() if r["p95_ms"] is not None]
    bench.note("stats_page_p95_ms", "GET /stats/ (HTML), p95 ms: " + "; ".join(
        f"{who} {label} {r['p95_ms']:.1f} (p50 {r['p50_ms']:.1f}, {r['count']} requests"
        + (f", unexpected {r['unexpected']}" if r["unexpected"] else "") + ")"
        for (who, label), r in runs.items()) + "; the largest; load average %.1f %.1f %.1f" % __import__("os").getloadavg())
    client = Client(bench.port, cookie=bench.session(supervisor), timeout=600)
    _warm(client, "/stats/more/", seconds=600)
    more = timed_requests(client, [("GET", "/stats/more/", None)] * 10, max_requests=10, max_seconds=bench.seconds)
    client.close()
    bench.note("stats_more_p95_ms", f"GET /stats/more/ (HTML) as the supervisor, default 30 days: p50 {more['p50_ms']:.1f} "
               f"p95 {more['p95_ms']:.1f} ms over {more['count']} requests"
               + (f", unexpected {more['unexpected']}" if more["unexpected"] else "")
               + "; load average %.1f %.1f %.1f" % __import__("os").getloadavg())
    return {"stats_page_p95_ms": round(max(p95s), 1) if p95s else None,
            "stats_more_p95_ms": round(more["p95_ms"], 1) if more["p95_ms"] is not None else None}
