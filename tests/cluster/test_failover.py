"""The primary is lost: promote the replica and carry on (issue 19; docs/deploy.md "Failover").

Its own PostgreSQL pair, with synchronous replication as docs/deploy.md recommends (a commit is
acknowledged once the replica has its WAL on disk), behind the cluster of bench/cluster.py (two web
nodes, one worker, HAProxy). Clients take and forward orders through the load balancer; a third of
the way in the primary crashes (immediate stop: no checkpoint, connections cut). The test then runs
docs/deploy.md's failover steps, in their order, with the commands printed there:

1. fence the old primary (here it is already dead; it is never started again),
2. promote the replica (``SELECT pg_promote(...)``, then ``pg_is_in_recovery()`` is false),
3. stop waiting for a synchronous standby that does not exist yet, or every commit would hang,
4. point every node and worker at it (DATABASE_URL, no DATABASE_REPLICA_URL) and restart them,
5. make a new replica from the promoted server and turn synchronous waiting and the replica reads on again.

Meanwhile the clients keep retrying with their Idempotency-Keys. At the end every acknowledged order
is on the promoted server exactly once with its whole timeline, orders were taken after the
failover, and a new order goes through the load balancer with the new replica in place.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from bench.cluster import Cluster, Workload, call, check
from bench.pgpair import PROMOTE_SQL, PgPair

DEPLOY = Path(__file__).resolve().parents[2] / "docs/deploy.md"

# The commands of docs/deploy.md's failover steps that this test runs (test_the_documented_steps...).
IN_RECOVERY_SQL = "SELECT pg_is_in_recovery()"
NO_SYNC_SQL = "ALTER SYSTEM SET synchronous_standby_names = ''"
SYNC_AGAIN_SQL = "ALTER SYSTEM SET synchronous_standby_names = '*'"
RELOAD_SQL = "SELECT pg_reload_conf()"


@pytest.fixture
def pair():
    p = PgPair().start(synchronous=True)
    try:
        yield p
    finally:
        p.stop()


def restart_everywhere(cluster: Cluster, **env: str | None) -> None:
    """Step 4 (and 5): the new settings in every node's and worker's environment, then a restart one
    by one (systemctl restart aftersales-web / aftersales-worker on real machines)."""
    for proc in [*cluster.nodes, *cluster.workers]:
        for key, value in env.items():
            if value is None:
                proc.env.pop(key, None)
            else:
                proc.env[key] = value
    for node in cluster.nodes:
        node.stop()
        node.start()
    for worker in cluster.workers:
        worker.stop()
        worker.start()


def failover(cluster: Cluster, db: str, load: Workload) -> dict:
    pg = cluster.pg
    # 1. Fence: the old primary is down (crashed here) and must stay down; it is never started again.
    # 2. Promote the replica.
    pg.promote()  # runs PROMOTE_SQL on the replica
    assert pg.sql("primary", IN_RECOVERY_SQL)[0][0] is False
    # 3. No standby yet: synchronous commits would wait for one forever.
    pg.sql("primary", NO_SYNC_SQL)
    pg.sql("primary", RELOAD_SQL)
    # Nothing can have been taken since the crash: every node still points at the dead primary.
    marks = {"acknowledged_at_promotion": len(load.acknowledged)}
    # 4. Every node and worker on the promoted server, no replica reads until a new one exists.
    restart_everywhere(cluster, DATABASE_URL=pg.url(db), DATABASE_REPLICA_URL=None)
    return marks


def test_the_primary_dies_the_replica_is_promoted_and_nothing_acknowledged_is_lost(pair, tmp_path):
    cluster = Cluster(tmp_path, pg=pair, nodes=2, workers=1, db="failover")
    try:
        cluster.start(customers=20)
        db = cluster.site.db
        load = Workload(cluster, clients=4, orders_each=6)
        total = 4 * 6
        marks: dict = {}

        def crash_then_failover(load: Workload) -> None:
            deadline = time.monotonic() + 120
            while len(load.acknowledged) < total // 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            pair.crash("primary")
            marks["acknowledged_before_crash"] = len(load.acknowledged)
            marks["keys_before_crash"] = set(load.acknowledged)
            time.sleep(1)  # the clients meet errors and retry meanwhile
            marks.update(failover(cluster, db, load))

        load.run(during=crash_then_failover, timeout=400)
        # check() counts on "primary": now the promoted server.
        result = check(cluster, load, [])
        assert 0 < marks["acknowledged_before_crash"] < total, marks
        assert result["acknowledged"] == total and result["forwarded"] == total, (result, marks)
        assert result["lost"] == 0 and result["duplicated"] == 0 and result["timelines_broken"] == 0, result
        # Every order acknowledged before the crash is on the promoted server under its own key.
        keys = dict(cluster.site.sql("SELECT key, order_id FROM service_idempotencykey WHERE key = ANY(%s)",
                                     (sorted(marks["keys_before_crash"]),)))
        assert keys == {k: load.acknowledged[k] for k in marks["keys_before_crash"]}
        # Intake went on after the failover: the rest of the run was taken by the promoted server.
        assert marks["acknowledged_at_promotion"] < total, marks

        # 5. A new replica from the promoted server; synchronous again; replica reads back on.
        pair.make_replica()
        pair.sql("primary", SYNC_AGAIN_SQL)
        pair.sql("primary", RELOAD_SQL)
        restart_everywhere(cluster, DATABASE_REPLICA_URL=pair.url(db, "replica"))
        machine_id, owner_id = cluster.site.sql(
            "SELECT id, owner_id FROM registry_machine WHERE owner_id IS NOT NULL ORDER BY id LIMIT 1")[0]
        deadline = time.monotonic() + 60
        while True:
            status, order, _ = call(cluster.lb.port, "POST", "/api/v1/orders", token=cluster.site.tokens["agent"],
                                    body={"order_type": "repair", "customer_id": owner_id, "machine_id": machine_id,
                                          "symptom": "提升器漏油 切换后新单", "duplicate_reason": "切换测试"},
                                    headers={"Idempotency-Key": f"after-failover-{load.run_id}"})
            if status == 201 or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # HAProxy marks the restarted nodes up after two checks
        assert status == 201, order
        # The new order is on the promoted primary and (synchronous) already on the new replica.
        assert pair.sql("replica", "SELECT count(*) FROM service_serviceorder WHERE number = %s",
                        (order["number"],), db=db)[0][0] == 1
        assert pair.sql("replica", IN_RECOVERY_SQL)[0][0] is True
        status, report, _ = call(cluster.lb.port, "GET", "/readyz")
        assert report["replica"]["used"] is True, report
    finally:
        cluster.stop()


def test_the_documented_failover_steps_are_the_ones_this_test_runs():
    text = DEPLOY.read_text()
    section = text[text.index("## Failover"):]
    section = section[:section.index("\n## ", 4)]
    for command in (PROMOTE_SQL, IN_RECOVERY_SQL, NO_SYNC_SQL, SYNC_AGAIN_SQL, RELOAD_SQL, "synchronous_standby_names",
                    "pg_basebackup", "DATABASE_URL", "DATABASE_REPLICA_URL", "systemctl restart aftersales-web",
                    "systemctl restart aftersales-worker"):
        assert command in section, command
    # The steps are numbered 1-5 in the order failover() and the test above take them.
    steps = re.findall(r"^(\d)\. \*\*(\w+)", section, flags=re.M)
    assert [n for n, _ in steps] == ["1", "2", "3", "4", "5"], steps
    assert [w.lower() for _, w in steps] == ["fence", "promote", "unblock", "repoint", "rebuild"], steps
