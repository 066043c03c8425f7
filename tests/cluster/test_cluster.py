"""Proven under faults (issue 19, item 2), small and bounded: the cluster of bench/cluster.py —
PostgreSQL primary + streaming replica, two web nodes behind HAProxy, two workers — takes orders
and forwards them through the load balancer while one web node and one worker are SIGKILLed and
restarted; then half the orders' SLA clocks fall due while the replica's replay is paused and the
other worker is killed too. `make bench-cluster` is the same run, longer, with throughput figures."""

from __future__ import annotations

from bench.cluster import Cluster, fault_run


def test_nothing_acknowledged_is_lost_or_doubled_with_a_node_and_a_worker_killed(pg, prepared, tmp_path):
    db, tokens = prepared
    cluster = Cluster(tmp_path, pg=pg, db=db)
    try:
        cluster.start(tokens=tokens)
        result = fault_run(cluster, clients=6, orders_each=5)
    finally:
        cluster.stop()
    assert result["acknowledged"] == 30 and result["forwarded"] == 30
    assert 0 < result["killed_after_acknowledged"] < 30, result  # the kill came mid-run
    assert result["lost"] == 0 and result["duplicated"] == 0 and result["timelines_broken"] == 0, result
    assert result["breaches_pushed"] > 0 and result["breaches_noticed"] == result["breaches_pushed"], result
    assert result["breach_notices_doubled"] == 0, result
    assert result["notifications_sent"] > 0, result
    assert result["notifications_unreceived"] == 0 and result["notifications_duplicated"] == 0, result
