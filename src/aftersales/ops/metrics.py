"""Prometheus metrics (prometheus-client).

Two kinds:
- counted as they happen, in every granian worker process: requests by route, method and status,
  and their latency. granian runs several processes, so `aftersales serve` points
  PROMETHEUS_MULTIPROC_DIR at a fresh directory under the var dir and each process writes its
  samples there; a scrape of any process sums them (prometheus-client's multiprocess mode).
- read from the database at scrape time (OpsCollector): orders by status, SLA clocks, the outbox,
  the task queue, the workers' heartbeats, database connections. These are the same for every web
  node; scrape one node for them (or all and take max()).
"""

from __future__ import annotations

import os

from django.conf import settings
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from aftersales.ops import selectors

REQUESTS = Counter("aftersales_http_requests", "HTTP requests answered, by route pattern, method and status.",
                   ["route", "method", "status"])
LATENCY = Histogram("aftersales_http_request_duration_seconds", "Time to answer an HTTP request, by route pattern.",
                    ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
REPLICA_READS = Counter("aftersales_db_replica_requests", "Requests whose reads went to the replica, or fell back "
                        "to the primary (sticky after a write, replica lagging or down).", ["target", "reason"])


class OpsCollector:
    """Gauges read from the database when Prometheus scrapes."""

    def collect(self):
        orders = GaugeMetricFamily("aftersales_orders", "Service orders by status.", labels=["status"])
        for status, n in sorted(selectors.orders_by_status().items()):
            orders.add_metric([status], n)
        yield orders

        clocks = GaugeMetricFamily("aftersales_sla_clocks", "SLA clocks: running on time, at risk (past the "
                                   "warning), breached, paused.", labels=["state"])
        for state, n in selectors.sla_clocks().items():
            clocks.add_metric([state], n)
        yield clocks

        box = selectors.outbox()
        depth = GaugeMetricFamily("aftersales_outbox_messages", "Outbox messages not yet sent, by status.",
                                  labels=["status"])
        for status in ("pending", "sending", "failed", "dead"):
            depth.add_metric([status], box["counts"].get(status, 0))
        yield depth
        yield GaugeMetricFamily("aftersales_outbox_oldest_due_age_seconds",
                                "How long the oldest due outbox message has waited.", value=box["oldest_due_age"])

        queue = selectors.task_queue()
        tasks = GaugeMetricFamily("aftersales_task_queue", "Background tasks queued (READY) or running.",
                                  labels=["status"])
        for status in ("READY", "RUNNING"):
            tasks.add_metric([status], queue.get(status, 0))
        yield tasks

        now = timezone.now()
        beats = selectors.worker_heartbeats()
        seen = GaugeMetricFamily("aftersales_worker_heartbeat_age_seconds",
                                 "Seconds since each worker process last reported.", labels=["worker", "host"])
        for beat in beats:
            seen.add_metric([beat.worker_id, beat.hostname], max(0.0, (now - beat.seen_at).total_seconds()))
        yield seen
        yield GaugeMetricFamily("aftersales_workers_alive", "Worker processes that reported within "
                                "AFTERSALES_READY_WORKER_STALE seconds.", value=selectors.live_workers())

        for alias in settings.DATABASES:
            conns = selectors.database_connections(alias)
            if conns is None:
                continue
            family = GaugeMetricFamily("aftersales_db_connections", "Server connections to this database by "
                                       "state (pg_stat_activity), and max_connections.", labels=["database", "state"])
            for state, n in sorted(conns.items()):
                family.add_metric([alias, state], n)
            yield family


def exposition() -> bytes:
    """The text a scrape gets: this node's request metrics (all its processes) + the database's."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        # One process (runserver, the tests): the default registry holds the request metrics.
        for metric in (REQUESTS, LATENCY, REPLICA_READS):
            registry.register(metric)
    registry.register(OpsCollector())
    return generate_latest(registry)
