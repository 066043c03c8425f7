"""The stock ledger: every movement a line, balances the sum of the lines, never negative, the last
unit issued once under real concurrency (threads, each with its own connection, on both databases)."""

import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, close_old_connections, connection, transaction

from aftersales.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from aftersales.parts import selectors, services
from aftersales.parts.models import MoveKind, SerialUnit, StockBalance, StockMove
from tests.parts.helpers import agency_store, catalogue, centre, stocked, van
from tests.support import build_network


def _on_hand(warehouse, part) -> Decimal:
    row = StockBalance.objects.filter(warehouse=warehouse, part=part).first()
    return row.quantity if row else Decimal(0)


@pytest.mark.django_db
def test_every_movement_is_a_ledger_line_and_the_balance_their_sum(net):
    parts = catalogue()
    cw = stocked(net, parts, qty=10)
    store = agency_store(net)
    pump = parts["pump"]
    services.stock_transfer(actor=net.repair_coordinator, from_warehouse_id=cw.pk, to_warehouse_id=store.pk,
                            part_id=pump.pk, quantity=4, tracking_number="SF1234567")
    services.stock_adjust(actor=net.agency_tech, warehouse_id=store.pk, part_id=pump.pk, quantity=-1, reason="运输损坏")
    services.stock_count(actor=net.agency_tech, warehouse_id=store.pk, part_id=pump.pk, counted=2, reason="月末盘点")
    assert _on_hand(cw, pump) == 6 and _on_hand(store, pump) == 2
    kinds = list(StockMove.objects.filter(part=pump).order_by("id").values_list("kind", "quantity", "tracking_number"))
    assert kinds == [(MoveKind.RECEIPT, Decimal(10), ""), (MoveKind.TRANSFER_OUT, Decimal(-4), "SF1234567"),
                     (MoveKind.TRANSFER_IN, Decimal(4), "SF1234567"), (MoveKind.ADJUSTMENT, Decimal(-1), ""),
                     (MoveKind.STOCKTAKE, Decimal(-1), "")]
    assert selectors.ledger_differences() == []
    call_command("parts", "check-ledger")
    # someone writes the cache by hand: the command finds it
    StockBalance.objects.filter(warehouse=store, part=pump).update(quantity=7)
    with pytest.raises(CommandError):
        call_command("parts", "check-ledger")


@pytest.mark.django_db
def test_bad_movements_are_refused_and_change_nothing(net):
    parts = catalogue()
    cw = stocked(net, parts, qty=3)
    pump = parts["pump"]
    before = StockMove.objects.count()
    for quantity in (0, -2, "abc", "1.001"):
        with pytest.raises(ValidationFailed) as exc:
            services.stock_receive(actor=net.repair_coordinator, warehouse_id=cw.pk, part_id=pump.pk, quantity=quantity)
        assert "quantity" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        services.stock_transfer(actor=net.repair_coordinator, from_warehouse_id=cw.pk, to_warehouse_id=cw.pk,
                                part_id=pump.pk, quantity=1)
    assert "to_warehouse_id" in exc.value.fields
    with pytest.raises(ValidationFailed):
        services.stock_adjust(actor=net.repair_coordinator, warehouse_id=cw.pk, part_id=pump.pk, quantity=-1, reason=" ")
    with pytest.raises(Conflict) as exc:
        services.stock_adjust(actor=net.repair_coordinator, warehouse_id=cw.pk, part_id=pump.pk, quantity=-4, reason="丢失")
    assert exc.value.code == "insufficient_stock"
    # a partner cannot see, let alone move, the centre's stock; nor another agency's van
    with pytest.raises(NotFound):
        services.stock_adjust(actor=net.agency_tech, warehouse_id=cw.pk, part_id=pump.pk, quantity=1, reason="x")
    other_van = van(net.other_agency_tech)
    with pytest.raises(NotFound):
        services.stock_receive(actor=net.agency_tech, warehouse_id=other_van.pk, part_id=pump.pk, quantity=1)
    assert StockMove.objects.count() == before and _on_hand(cw, pump) == 3
    # the database refuses a negative balance even if the service were bypassed
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(warehouse=cw, part=pump).update(quantity=-1)


@pytest.mark.django_db
def test_a_serial_tracked_part_keeps_its_serial_through_the_chain(net):
    parts = catalogue()
    cw = stocked(net, parts)
    gearbox = parts["gearbox"]
    store = agency_store(net)
    with pytest.raises(ValidationFailed):
        services.stock_transfer(actor=net.repair_coordinator, from_warehouse_id=cw.pk, to_warehouse_id=store.pk,
                                part_id=gearbox.pk, quantity=1)
    with pytest.raises(Conflict):
        services.stock_transfer(actor=net.repair_coordinator, from_warehouse_id=cw.pk, to_warehouse_id=store.pk,
                                part_id=gearbox.pk, quantity=1, serial="NOPE")
    services.stock_transfer(actor=net.repair_coordinator, from_warehouse_id=cw.pk, to_warehouse_id=store.pk,
                            part_id=gearbox.pk, quantity=1, serial="GBX-1")
    assert SerialUnit.objects.get(serial="GBX-1").warehouse == store
    assert SerialUnit.objects.get(serial="GBX-0").warehouse == cw
    assert _on_hand(store, gearbox) == 1


@pytest.mark.django_db
def test_replenishment_suggests_up_to_the_reorder_level(net):
    parts = catalogue()
    cw = stocked(net, parts, qty=3)
    services.reorder_set(actor=net.repair_coordinator, warehouse_id=cw.pk, part_id=parts["pump"].pk,
                         reorder_point=5, reorder_quantity=10)
    services.reorder_set(actor=net.repair_coordinator, warehouse_id=cw.pk, part_id=parts["filter"].pk,
                         reorder_point=2, reorder_quantity=10)
    rows = selectors.replenishment(net.repair_coordinator)
    assert [(r["balance"].part.number, r["suggested"]) for r in rows] == [("4110001", Decimal(12))]
    assert selectors.replenishment(net.agency_tech) == []


def _threads(n, work):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - each thread's outcome is inspected
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
def test_two_concurrent_issues_of_the_last_unit_one_wins_one_is_refused():
    net = build_network()
    parts = catalogue()
    cw = centre(net)
    pump = parts["pump"]
    services.stock_receive(actor=net.repair_coordinator, warehouse_id=cw.pk, part_id=pump.pk, quantity=1)
    store = agency_store(net)
    other = services.warehouse_create(actor=net.repair_coordinator, organization=net.agency_heilongjiang,
                                      code="AG-HL", name="佳木斯站库", kind="agency")

    def work(i):
        return services.stock_transfer(actor=net.repair_coordinator, from_warehouse_id=cw.pk,
                                       to_warehouse_id=(store, other)[i].pk, part_id=pump.pk, quantity=1)

    results = _threads(2, work)
    wins = [r for r in results if isinstance(r, tuple)]
    losses = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].code == "insufficient_stock"
    assert _on_hand(cw, pump) == 0 and _on_hand(store, pump) + _on_hand(other, pump) == 1
    assert StockMove.objects.filter(part=pump).count() == 3
    assert selectors.ledger_differences() == []


@pytest.mark.django_db
def test_only_the_parts_desk_creates_warehouses(net):
    with pytest.raises(Forbidden):
        services.warehouse_create(actor=net.agency_tech, organization=net.agency_shandong, code="X", name="X",
                                  kind="agency")


@pytest.mark.django_db
def test_a_part_for_other_models_needs_a_reason_and_a_gearbox_leaves_the_van_by_its_serial(net, api):
    from aftersales.parts.models import OldPart
    from tests.service.helpers import shandong_farmer
    from tests.service.test_flows import _checked_in
    from tests.support import make_model

    parts = catalogue()
    cw = stocked(net, parts)
    my_van = van(net.agency_tech)
    services.stock_transfer(actor=net.repair_coordinator, from_warehouse_id=cw.pk, to_warehouse_id=my_van.pk,
                            part_id=parts["gearbox"].pk, quantity=1, serial="GBX-1")
    other = make_model(code="LX1000", name="东方红LX1000拖拉机", power="73.5")
    parts["gearbox"].models_fitted.add(other)
    customer, machine = shandong_farmer()
    oid, tech = _checked_in(api, net, customer, machine)
    line = {"part_number": "GB-904", "quantity": 1, "component": "gearbox", "action": "replaced"}
    status, body = tech(oid, "record_service", fault_found="变速箱异响", solution="更换变速箱", parts=[line])
    assert status == 422 and body["errors"][0]["field"] == "data.parts[0].fit_reason"
    status, body = tech(oid, "record_service", fault_found="变速箱异响", solution="更换变速箱",
                        parts=[{**line, "fit_reason": "同系列通用，技术中心同意"}])
    assert status == 422 and body["errors"][0]["field"] == "data.parts[0].serial"
    tech.ok(oid, "record_service", fault_found="变速箱异响", solution="更换变速箱",
            parts=[{**line, "fit_reason": "同系列通用，技术中心同意", "serial": "GBX-1"}])
    unit = SerialUnit.objects.get(serial="GBX-1")
    assert unit.warehouse is None and unit.order_id == oid
    assert StockMove.objects.get(order_id=oid, kind=MoveKind.ISSUE).reason == "同系列通用，技术中心同意"
    assert OldPart.objects.get(order_id=oid).serial == "GBX-1"


@pytest.mark.django_db
def test_a_retried_requisition_with_the_same_key_is_asked_once(net, api):
    from aftersales.parts.models import Requisition

    parts = catalogue()
    van(net.agency_tech)
    body = {"lines": [{"part_id": parts["pump"].pk, "quantity": "1"}]}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {net.token(net.agency_tech)}", "HTTP_IDEMPOTENCY_KEY": "req-1"}
    import json
    first = api.client.post("/api/v1/requisitions", json.dumps(body), content_type="application/json", **headers)
    again = api.client.post("/api/v1/requisitions", json.dumps(body), content_type="application/json", **headers)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    other = api.client.post("/api/v1/requisitions", json.dumps({**body, "note": "x"}), content_type="application/json",
                            **headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Requisition.objects.count() == 1
