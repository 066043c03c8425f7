"""16 clients record orders with Idempotency-Keys while the server is killed (SIGKILL) and restarted:
nothing acknowledged is lost, nothing is made twice, every timeline is complete."""

import http.client
import threading
import time
import uuid

from tests.reliability.live import assert_timelines_complete

CLIENTS, ORDERS_EACH = 16, 5


def test_acknowledged_orders_survive_a_kill_and_retries_make_no_second_order(site):
    token = site.token("agent")
    machines = site.machines()
    acknowledged: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + 90  # a bound, not a target: a restart takes seconds on a busy machine

    def client(n: int) -> None:
        for i in range(ORDERS_EACH):
            machine_id, owner_id = machines[(n * ORDERS_EACH + i) % len(machines)]
            key = f"rel-{n}-{i}-{uuid.uuid4().hex[:8]}"
            body = {"order_type": "repair", "customer_id": owner_id, "machine_id": machine_id,
                    "symptom": f"液压提升无力 客户{n}-{i}", "duplicate_reason": "可靠性测试"}
            while time.monotonic() < deadline:
                try:
                    status, data = site.call("POST", "/orders", token, body, {"Idempotency-Key": key}, timeout=3)
                except (OSError, http.client.HTTPException):
                    time.sleep(0.1)  # refused or cut off mid-answer: the server is down; retry the same key
                    continue
                if status == 201:
                    with lock:
                        acknowledged[key] = data["id"]
                    break
                assert status >= 500, (status, data)  # only a server in trouble is retried
                time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    while len(acknowledged) < CLIENTS * ORDERS_EACH // 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    site.kill()
    killed_after = len(acknowledged)
    site.start()
    for t in threads:
        t.join()

    assert 0 < killed_after < CLIENTS * ORDERS_EACH  # the kill really came mid-run
    assert len(acknowledged) == CLIENTS * ORDERS_EACH
    rows = site.sql("SELECT key, order_id FROM service_idempotencykey")
    keys = dict(rows)
    assert len(keys) == len(rows)  # one row per key
    orders = site.sql("SELECT id FROM service_serviceorder")
    # Every order belongs to exactly one key and every acknowledged key to the order it answered.
    assert sorted(o for (o,) in orders) == sorted(keys.values())
    assert {k: keys[k] for k in acknowledged} == acknowledged
    numbers = site.sql("SELECT number FROM service_serviceorder")
    assert len({n for (n,) in numbers}) == len(numbers)
    assert_timelines_complete(site)
