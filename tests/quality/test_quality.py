"""A batch that fails too often becomes a quality issue for the technical centre, which analyses it,
sets a countermeasure and starts a service campaign with one order per machine in the field."""

from __future__ import annotations

import pytest

from aftersales.quality.models import Campaign, CampaignTarget, IssueStatus, QualityIssue
from aftersales.quality.services import campaign_run, quality_scan
from aftersales.service import services
from aftersales.service.models import ServiceOrder, ServiceRecord
from tests.support import make_customer, make_machine, make_model

FAILURES = {"LX904-2405": 1, "LX904-2406": 6, "LX904-2407": 1}


def _fail(net, machine, n: int) -> ServiceOrder:
    result = services.order_create(actor=net.agent, data=services.OrderInput(
        order_type="repair", customer_id=machine.owner_id, machine_id=machine.pk, symptom=f"变速箱异响，挂挡困难 {n}",
        duplicate_reason="另一次故障"))
    ServiceRecord.objects.create(order=result.order, technician=net.agency_tech, fault_found="变速箱二轴轴承损坏",
                                 solution="更换轴承", component="gearbox", serious=True)
    return result.order


@pytest.fixture
def field(net):
    """90 tractors in three production batches of 30; batch 2406's gearboxes fail six times."""
    model = make_model()
    machines = {}
    n = 0
    for batch in FAILURES:
        machines[batch] = []
        for i in range(30):
            n += 1
            owner = make_customer(f"农户{n}", f"139{n:08d}", province="山东省", city="潍坊市", county="寿光市")
            machines[batch].append(make_machine(f"{batch}-{i:04d}", owner, model=model))
    for batch, count in FAILURES.items():
        for i in range(count):
            _fail(net, machines[batch][i], i)
    return model, machines


def test_the_scan_opens_one_issue_for_the_failing_batch_and_keeps_it_up_to_date(net, field):
    model, machines = field
    result = quality_scan()
    assert (result.alarms, result.opened) == (1, 1)
    issue = QualityIssue.objects.get()
    assert (issue.model_id, issue.component, issue.batch) == (model.pk, "gearbox", "LX904-2406")
    assert (issue.failures, issue.machines_in_field, issue.expected) == (6, 30, 1.0)
    assert issue.status == IssueStatus.OPEN and issue.number.startswith("ZL")
    assert issue.orders.count() == 6
    # scanning again changes nothing; a new failure updates the same issue
    assert quality_scan().opened == 0
    _fail(net, machines["LX904-2406"][10], 99)
    again = quality_scan()
    assert (again.opened, again.updated) == (0, 1)
    issue.refresh_from_db()
    assert issue.failures == 7 and issue.orders.count() == 7
    assert list(issue.events.values_list("action", flat=True)) == ["detected", "rescanned"]


def test_the_technical_centre_works_the_issue_through_and_partners_never_see_it(net, api, field):
    quality_scan()
    issue = QualityIssue.objects.get()
    engineer = net.token(net.engineer)
    status, rows = api.get("/quality/issues", token=engineer)
    assert status == 200 and [r["id"] for r in rows] == [issue.pk]
    assert rows[0]["allowed_actions"] == ["analyse", "close"]
    assert api.get("/quality/issues", token=net.token(net.agency_tech)) == (200, [])
    assert api.get(f"/quality/issues/{issue.pk}", token=net.token(net.agency_tech))[0] == 404

    status, body = api.post(f"/quality/issues/{issue.pk}/actions/analyse", {"version": 1, "text": "拆检6台：二轴轴承批次不良"}, token=engineer)
    assert status == 200 and body["status"] == "analysing"
    status, body = api.post(f"/quality/issues/{issue.pk}/actions/countermeasure", {"version": 2}, token=engineer)
    assert status == 422 and body["errors"][0]["field"] == "text"
    status, body = api.post(f"/quality/issues/{issue.pk}/actions/countermeasure", {"version": 1, "text": "x"}, token=engineer)
    assert status == 409 and body["code"] == "stale_version"
    status, body = api.post(f"/quality/issues/{issue.pk}/actions/verify", {"version": 2, "text": "x"}, token=engineer)
    assert status == 409 and body["code"] == "invalid_transition"
    status, body = api.post(f"/quality/issues/{issue.pk}/actions/countermeasure",
                            {"version": 2, "text": "更换供应商；在用机器更换二轴轴承"}, token=engineer)
    assert status == 200 and body["countermeasure"] == "更换供应商；在用机器更换二轴轴承"
    assert [e["action"] for e in body["events"]] == ["detected", "analyse", "countermeasure"]


def test_a_campaign_makes_one_order_per_machine_of_the_batch_once(net, api, field):
    quality_scan()
    issue = QualityIssue.objects.get()
    before = ServiceOrder.objects.count()
    status, body = api.post(f"/quality/issues/{issue.pk}/campaigns", {"title": "2406批次变速箱轴承更换",
                            "instructions": "检查并更换二轴轴承"}, token=net.token(net.engineer))
    assert status == 422 and body["errors"][0]["field"] == "owner_id"  # engineers record no orders
    status, body = api.post(f"/quality/issues/{issue.pk}/campaigns", {"title": "2406批次变速箱轴承更换",
                            "instructions": "检查并更换二轴轴承", "owner_id": net.info_coordinator.pk},
                            token=net.token(net.engineer))
    assert status == 201, body
    assert body["progress"] == {"total": 30, "created": 10, "skipped": 0, "waiting": 20}
    campaign = Campaign.objects.get()
    assert campaign_run(campaign_id=campaign.pk) == 20  # what the worker's task does
    campaign.refresh_from_db()
    assert campaign.status == "done"
    assert ServiceOrder.objects.count() == before + 30
    made = ServiceOrder.objects.filter(pk__in=CampaignTarget.objects.values("order"))
    assert {o.machine.serial_number[:10] for o in made} == {"LX904-2406"}
    assert all(o.owner_id == net.info_coordinator.pk for o in made)
    # a batch run again, even after losing a link (a crash between the order and its link), makes nothing new
    lost = CampaignTarget.objects.filter(campaign=campaign).first()
    order_id = lost.order_id
    CampaignTarget.objects.filter(pk=lost.pk).update(order=None)
    assert campaign_run(campaign_id=campaign.pk) == 1
    assert ServiceOrder.objects.count() == before + 30
    assert CampaignTarget.objects.get(pk=lost.pk).order_id == order_id
    assert campaign_run(campaign_id=campaign.pk) == 0


def test_people_report_a_quality_issue_with_orders_they_can_see(net, api, field):
    token = net.token(net.engineer)
    model, _ = field
    status, body = api.post("/quality/issues", {"model_id": model.pk, "component": "gear_box"}, token=token)
    assert status == 422 and body["errors"][0]["field"] == "component"
    order = ServiceOrder.objects.first()
    status, body = api.post("/quality/issues", {"model_id": model.pk, "component": "fuel_injection_pump", "batch": "lx904-2405",
                                                "order_ids": [order.pk]}, token=token)
    assert status == 201 and body["batch"] == "LX904-2405" and body["order_ids"] == [order.pk]
    status, body = api.post("/quality/issues", {"model_id": model.pk, "component": "fuel_injection_pump", "batch": "LX904-2405"},
                            token=token)
    assert status == 409 and body["code"] == "duplicate_issue"
    assert api.post("/quality/issues", {"model_id": model.pk, "component": "fuel_injection_pump"},
                    token=net.token(net.agency_tech))[0] == 403


def test_the_worker_scans_once_a_day(net, field):
    from datetime import timedelta

    from django.utils import timezone

    from aftersales.quality.models import QualityScan
    from aftersales.quality.services import quality_scan_if_due

    now = timezone.now()
    assert quality_scan_if_due(now=now).opened == 1
    assert quality_scan_if_due(now=now + timedelta(hours=23)) is None
    assert quality_scan_if_due(now=now + timedelta(hours=24)).opened == 0
    assert QualityScan.objects.count() == 2 and QualityScan.objects.first().alarms == 1


def test_the_alarm_waits_in_the_technical_centres_queue(net, client, field):
    quality_scan()
    issue = QualityIssue.objects.get()
    client.force_login(net.engineer)
    html = client.get("/queue/").content.decode()
    assert 'id="h-quality"' in html and issue.number in html and f"/quality/{issue.pk}/" in html
    client.force_login(net.agency_tech)  # partners never see the maker's quality issues
    html = client.get("/queue/").content.decode()
    assert 'id="h-quality"' not in html and issue.number not in html
