"""`aftersales backup` while orders are being written, and `aftersales restore` of that copy."""

import sqlite3
import threading
import time

from tests.reliability.live import LiveSite, assert_timelines_complete


def test_backup_under_load_restores_every_acknowledged_order(site, tmp_path):
    token = site.token("agent")
    machines = site.machines()
    acknowledged: list[tuple[float, int]] = []
    stop = threading.Event()

    def writer():
        n = 0
        while not stop.is_set() and n < 5000:  # the stop comes first: the cap only bounds a runaway
            machine_id, owner_id = machines[n % len(machines)]
            status, body = site.call("POST", "/orders", token, {
                "order_type": "repair", "customer_id": owner_id, "machine_id": machine_id,
                "symptom": f"启动困难 第{n}次", "duplicate_reason": "备份测试"}, timeout=20)
            assert status == 201, body
            acknowledged.append((time.monotonic(), body["id"]))
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    while len(acknowledged) < 10:
        time.sleep(0.02)
    backup_started = time.monotonic()
    result = site.manage("backup", str(tmp_path / "copy.sqlite3"))
    writes_during_backup = len(acknowledged)
    time.sleep(0.3)
    stop.set()
    thread.join()
    assert "backup written" in result.stdout
    assert len(acknowledged) > writes_during_backup  # the writer kept going after the copy

    target = LiveSite(tmp_path / "restored")
    target.tmp.mkdir()
    target.manage("migrate", "--verbosity", "0")
    refused = target.manage("restore", str(tmp_path / "copy.sqlite3"), check=False)
    assert refused.returncode != 0 and "--force" in refused.stderr
    target.manage("restore", str(tmp_path / "copy.sqlite3"), "--force")

    restored = {i for (i,) in target.sql("SELECT id FROM service_serviceorder")}
    before = {order_id for at, order_id in acknowledged if at < backup_started}
    assert before and before <= restored
    # One consistent state: the copy holds no order the live database lacks, and whole timelines.
    assert restored <= {i for (i,) in site.sql("SELECT id FROM service_serviceorder")}
    assert_timelines_complete(target)
    with sqlite3.connect(target.db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
