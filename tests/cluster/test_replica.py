"""Reads where they belong (issue 19, item 3), against a real streaming replica.

The suite starts its own PostgreSQL primary and replica (pg_basebackup -R) and one web node with
DATABASE_REPLICA_URL. The replica's WAL replay is paused (pg_wal_replay_pause) so that what it
shows is visibly older than the primary; then:
- a search from a browser without the read-your-writes cookie is answered from the replica (the
  order just taken is not there yet),
- the same user's browser that took the order carries the cookie and reads the primary (it is),
- once the replica is more than AFTERSALES_REPLICA_MAX_LAG seconds behind, everyone reads the
  primary; when it has caught up, the replica again,
- a replica that is down sends reads to the primary, and the site keeps answering.
"""

from __future__ import annotations

import time

import pytest

from bench.cluster import Site, WebNode, call

MAX_LAG = 6


@pytest.fixture
def site(pg, prepared, tmp_path):
    db, tokens = prepared
    s = Site(pg, tmp_path, db=db, AFTERSALES_REPLICA_MAX_LAG=str(MAX_LAG), AFTERSALES_REPLICA_LAG_CHECK="0",
             AFTERSALES_REPLICA_STICKY="120")
    s.tokens = tokens
    return s


def search(port, token, number, cookie=None):
    headers = {"Cookie": cookie} if cookie else {}
    status, body, hdrs = call(port, "GET", f"/api/v1/search?q={number}&kinds=order", token=token, headers=headers)
    assert status == 200, body
    found = [hit for hits in body["results"].values() for hit in hits]
    return any(number in hit["title"] for hit in found), hdrs["x-aftersales-read-db"]


def test_reports_and_search_read_the_replica_with_read_your_writes_and_a_lag_guard(pg, site):
    token = site.tokens["agent"]
    machine_id, owner_id = site.sql("SELECT id, owner_id FROM registry_machine WHERE owner_id IS NOT NULL "
                                    "ORDER BY id DESC LIMIT 1")[0]
    node = WebNode(site, "replica-web").start()
    try:
        # Statistics go to the replica; an order page, a queue and every write go to the primary.
        status, _body, hdrs = call(node.port, "GET", "/api/v1/stats/kpis", token=token)
        assert status == 200 and hdrs["x-aftersales-read-db"] == "replica"
        status, _body, hdrs = call(node.port, "GET", "/api/v1/orders", token=token)
        assert status == 200 and hdrs["x-aftersales-read-db"] == "default"

        pg.sql("primary", "CREATE TABLE IF NOT EXISTS lag_probe (at timestamptz)", db=site.db)
        pg.sql("primary", "INSERT INTO lag_probe VALUES (now())", db=site.db)
        pg.wait_caught_up()
        pg.sql("replica", "SELECT pg_wal_replay_pause()")

        body = {"order_type": "repair", "customer_id": owner_id, "machine_id": machine_id,
                "symptom": "收割机割台异响 只读副本测试"}
        status, order, hdrs = call(node.port, "POST", "/api/v1/orders", token=token, body=body)
        assert status == 201, order
        cookie = hdrs["set-cookie"].split(";")[0]
        assert cookie.startswith("aftersales_primary=")
        number = order["number"]

        # Another browser of the same user, no cookie: the replica, which has not replayed the order.
        assert search(node.port, token, number) == (False, "replica")
        # The browser that wrote: the primary, its own order is there.
        assert search(node.port, token, number, cookie) == (True, "default")

        # The replica falls behind past the guard: everyone reads the primary.
        deadline = time.monotonic() + 60
        while pg.lag() <= MAX_LAG + 0.5:
            assert time.monotonic() < deadline
            time.sleep(0.25)
        assert search(node.port, token, number) == (True, "default")
        status, report, _ = call(node.port, "GET", "/readyz")
        assert report["replica"]["used"] is False and report["replica"]["lag_seconds"] > MAX_LAG

        pg.sql("replica", "SELECT pg_wal_replay_resume()")
        pg.wait_caught_up()
        assert search(node.port, token, number) == (True, "replica")

        # The replica goes down: reads fall back to the primary, nothing fails.
        pg.pg_ctl("replica", "stop")
        try:
            assert search(node.port, token, number) == (True, "default")
            status, _body, hdrs = call(node.port, "GET", "/api/v1/stats/kpis", token=token)
            assert status == 200 and hdrs["x-aftersales-read-db"] == "default"
        finally:
            pg.pg_ctl("replica", "start")
    finally:
        node.stop()
