"""Races and retries: the version check, idempotent create, the duplicate guard and the order number
sequence. The threaded tests run on both databases: each thread has its own connection, PostgreSQL
serialises them with row locks and SQLite (a file database in tests, IMMEDIATE transactions) with its
write lock and busy timeout."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from aftersales.core.errors import Conflict
from aftersales.service import services
from aftersales.service.services import common
from aftersales.service.models import OrderEvent, OrderNumberSequence, ServiceOrder
from tests.service.helpers import Actor, create, repair_body, shandong_farmer, state
from tests.support import build_network, make_customer, make_machine


def _threads(n: int, work) -> list:
    """Run ``work(i)`` in n threads released together by a barrier; each has its own connection."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results




@pytest.mark.django_db(transaction=True)
def test_two_concurrent_actions_on_one_order_exactly_one_wins():
    net = build_network()
    customer, machine = shandong_farmer()
    order = services.order_create(actor=net.agent, data=services.OrderInput(
        order_type="repair", customer_id=customer.pk, machine_id=machine.pk, symptom="冒黑烟")).order
    version = order.version

    def work(i):
        if i == 0:
            return services.order_forward(actor=net.info_coordinator, order_id=order.pk, version=version)
        return services.order_cancel(actor=net.agent, order_id=order.pk, version=version, reason="客户取消")

    results = _threads(2, work)
    wins = [r for r in results if isinstance(r, ServiceOrder)]
    losses = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].code == "stale_version"
    order.refresh_from_db()
    assert order.version == version + 1 and order.status == wins[0].status
    assert list(OrderEvent.objects.filter(order=order).values_list("seq", flat=True)) == [1, 2]


@pytest.mark.django_db
def test_the_same_version_twice_in_a_row_the_second_call_loses(net, api):
    """The version check itself, on any vendor: two calls carrying the same version."""
    customer, machine = shandong_farmer()
    _, order = create(api, net, repair_body(customer, machine))
    oid, version = order["id"], order["version"]
    assert Actor(api, net, net.info_coordinator)(oid, "forward", version=version)[0] == 200
    before = state(oid)
    code, body = Actor(api, net, net.info_coordinator)(oid, "forward", version=version)
    assert (code, body["code"]) == (409, "stale_version")
    assert state(oid) == before


@pytest.mark.django_db
def test_a_stale_write_is_refused_by_the_conditional_update_itself(net):
    """Even a caller that skipped the check cannot write over a newer row."""
    customer, machine = shandong_farmer()
    order = services.order_create(actor=net.agent, data=services.OrderInput(
        order_type="repair", customer_id=customer.pk, machine_id=machine.pk, symptom="冒黑烟")).order
    ServiceOrder.objects.filter(pk=order.pk).update(version=5)
    order.status = "cancelled"
    with pytest.raises(Conflict):
        common._save_if_version(order, 1)
    assert ServiceOrder.objects.get(pk=order.pk).status == "new"


@pytest.mark.django_db
def test_idempotent_create_returns_the_first_result_and_never_a_second_order(net, api):
    customer, machine = shandong_farmer()
    body = repair_body(customer, machine)
    first = create(api, net, body, HTTP_IDEMPOTENCY_KEY="call-7781-a")
    again = create(api, net, body, HTTP_IDEMPOTENCY_KEY="call-7781-a")
    assert first[0] == again[0] == 201
    assert again[1] == first[1]
    assert ServiceOrder.objects.count() == 1
    # the same key for a different request is an error and creates nothing
    code, err = create(api, net, {**body, "symptom": "另一个问题"}, HTTP_IDEMPOTENCY_KEY="call-7781-a")
    assert (code, err["code"]) == (422, "idempotency_key_reused")
    assert ServiceOrder.objects.count() == 1
    # keys belong to their user: another agent's same key is a new request (here: a duplicate)
    code, dup = create(api, net, body, user=net.supervisor, HTTP_IDEMPOTENCY_KEY="call-7781-a")
    assert (code, dup["code"]) == (409, "duplicate_order")


@pytest.mark.django_db(transaction=True)
def test_idempotent_create_under_concurrent_retries():
    net = build_network()
    customer, machine = shandong_farmer()
    data = services.OrderInput(order_type="repair", customer_id=customer.pk, machine_id=machine.pk, symptom="冒黑烟")

    def work(i):
        return services.order_create(actor=net.agent, data=data, idempotency_key="retry-1", request_hash="h",
                                     render=lambda o: {"number": o.number}).response

    results = _threads(4, work)
    assert all(isinstance(r, dict) for r in results), results
    assert len({r["number"] for r in results}) == 1
    assert ServiceOrder.objects.count() == 1


@pytest.mark.django_db
def test_duplicate_guard_same_machine_then_follow_up_or_force(net, api):
    customer, machine = shandong_farmer()
    _, first = create(api, net, repair_body(customer, machine))
    code, dup = create(api, net, repair_body(customer, machine, symptom="后桥漏油"))
    assert (code, dup["code"]) == (409, "duplicate_order")
    assert dup["current"]["id"] == first["id"] and dup["current"]["number"] == first["number"]
    assert ServiceOrder.objects.count() == 1
    # the agent adds the call to the existing order...
    body = Actor(api, net, net.agent).ok(first["id"], "follow_up", summary="客户再次来电催促")
    assert body["status"] == "new" and body["version"] == first["version"] + 1
    # ...or forces a new one with a reason, which is recorded
    code, forced = create(api, net, repair_body(customer, machine, symptom="后桥漏油", duplicate_reason="另一处故障"))
    assert code == 201 and forced["duplicate_of_id"] == first["id"]
    data = OrderEvent.objects.get(order_id=forced["id"], action="create").data
    assert data["duplicate_reason"] == "另一处故障" and data["duplicate_of"] == first["number"]


@pytest.mark.django_db
def test_duplicate_guard_same_phone_similar_symptom_within_seven_days(net, api):
    customer, machine = shandong_farmer()
    second_machine = make_machine("LX904-SD-0099", customer)
    _, first = create(api, net, repair_body(customer, machine, symptom="拖拉机启动困难，冒黑烟"))
    ServiceOrder.objects.filter(pk=first["id"]).update(status="closed")
    code, dup = create(api, net, repair_body(customer, second_machine, symptom="启动困难 冒黑烟"))
    assert (code, dup["code"]) == (409, "duplicate_order") and dup["current"]["id"] == first["id"]
    # a different problem is not a duplicate
    code, other = create(api, net, repair_body(customer, second_machine, symptom="驾驶室空调不制冷"))
    assert code == 201
    # nor is the same problem more than 7 days ago
    ServiceOrder.objects.filter(pk=other["id"]).update(status="closed")
    ServiceOrder.objects.filter(pk=first["id"]).update(created_at=timezone.now() - timedelta(days=8))
    assert create(api, net, repair_body(customer, second_machine, symptom="启动困难 冒黑烟"))[0] == 201


@pytest.mark.django_db
def test_cancelled_orders_keep_their_number_and_the_next_one_moves_on(net, api):
    customer, machine = shandong_farmer()
    _, first = create(api, net, repair_body(customer, machine))
    Actor(api, net, net.agent).ok(first["id"], "cancel", reason="重复来电")
    _, second = create(api, net, repair_body(customer, machine))
    assert int(second["number"][-5:]) == int(first["number"][-5:]) + 1
    # a failed create rolls back its increment: no gap, no reuse of a committed number
    assert create(api, net, {"order_type": "repair", "customer_id": customer.pk})[0] == 422
    _, third = create(api, net, repair_body(customer, make_machine("LX904-SD-0100", customer), symptom="仪表不亮"))
    assert int(third["number"][-5:]) == int(second["number"][-5:]) + 1


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_unique_under_concurrent_creation():
    net = build_network()
    per_thread = 6
    customers = [make_customer(f"并发{i}", f"1370000{i:04d}") for i in range(8)]

    def work(i):
        made = []
        for _ in range(per_thread):
            made.append(services.order_create(actor=net.agent, data=services.OrderInput(
                order_type="consultation", customer_id=customers[i].pk, symptom="咨询")).order.number)
        return made

    results = _threads(8, work)
    assert all(isinstance(r, list) for r in results), results
    numbers = [n for r in results for n in r]
    assert len(numbers) == len(set(numbers)) == 8 * per_thread
    days = {n[2:10] for n in numbers}
    assert len(days) == 1
    assert sorted(int(n[-5:]) for n in numbers) == list(range(1, 8 * per_thread + 1))
    assert OrderNumberSequence.objects.get().last == 8 * per_thread
