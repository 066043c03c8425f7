"""Time limits on every list, the supervisor's numbers, the bell and the inbox, through the pages a
person opens (Django's test client against the real database; the browser walk is in
test_clocks_browser.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aftersales.notify.models import Notification, OutboxMessage
from aftersales.notify.templates import render
from aftersales.service import services
from aftersales.sla import services as sla_services
from aftersales.sla.models import SlaClock
from tests.service.helpers import shandong_farmer
from tests.web.test_pages import login, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def farmer(net):
    return shandong_farmer()


def badges(html: str) -> list[dict]:
    """Every SLA badge of a page: its hop, data-due and data-state."""
    return [dict(re.findall(r'data-(due|state|hop)="([^"]*)"', tag))
            for tag in re.findall(r'<span class="badge clock[^>]*>', html)]


def run_out(order, target="handoff", minutes=5):
    """The clock's time has run out ``minutes`` ago: due then, started its target's length before, the
    warning where it was relative to the due time. (Moving the start by the same shift as the due time
    put it in the last month when a working-time clock was made at night on the 1st: the supervisor's
    figures count the clocks started this month.)"""
    clock = SlaClock.objects.get(order=order, target=target)
    due = timezone.now() - timedelta(minutes=minutes)
    SlaClock.objects.filter(pk=clock.pk).update(due_at=due, warn_at=due - (clock.due_at - clock.warn_at),
                                                started_at=due - timedelta(seconds=clock.target_seconds))


def test_seed_15_minute_handoff_shows_on_the_coordinators_queue_and_reads_breached_once_past_due(client, net, farmer):
    """Seed: the information coordinator forwards within 15 minutes; the queue row shows that clock."""
    order = record(net, *farmer)
    html = login(client, net.info_coordinator).get(reverse("web:queue")).content.decode()
    [badge] = badges(html)
    clock = SlaClock.objects.get(order=order, target="handoff")
    assert badge == {"due": timezone.localtime(clock.due_at).isoformat(), "state": "running", "hop": "handoff"}
    run_out(order)
    html = client.get(reverse("web:queue")).content.decode()
    assert [b["state"] for b in badges(html)] == ["breached"]  # before any sweep noticed it
    assert "超时" in re.search(r'<span class="badge clock[^>]*>([^<]*)<', html).group(1)
    # ... and in the coordinators' overdue list; not in the call agent's
    assert order.number in client.get(reverse("web:queue") + "?overdue=1").content.decode()
    assert SlaClock.objects.get(pk=clock.pk).breach_noticed_at is None


def test_the_queue_reads_the_clocks_of_a_page_in_one_query(client, net, farmer):
    customer, machine = farmer
    login(client, net.info_coordinator)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("web:queue")).status_code == 200
        return len(ctx)

    record(net, customer, machine, symptom="故障0")
    few = queries()
    for i in range(1, 12):
        record(net, customer, machine, duplicate_reason=f"第{i}次", symptom=f"故障{i}")
    assert queries() == few  # no query per row
    html = client.get(reverse("web:queue")).content.decode()
    assert len(badges(html)) == 12 and html.count('class="num" href="/orders/') == 12


def test_order_page_lists_every_clock_and_the_technicians_card_shows_overdue_in_red(client, net, farmer):
    order = record(net, *farmer)
    coordinator_version = order.version
    order = services.order_forward(actor=net.info_coordinator, order_id=order.pk, version=coordinator_version,
                                   hotline_technician_id=net.hotline_tech.pk)
    order = services.order_callback(actor=net.hotline_tech, order_id=order.pk, version=order.version)
    order = services.order_confirm_mode(actor=net.hotline_tech, order_id=order.pk, version=order.version,
                                        service_mode="on_site", steps=["检查油路"])
    order = services.order_dispatch(actor=net.repair_coordinator, order_id=order.pk, version=order.version,
                                    organization_id=net.agency_shandong.pk, technician_id=net.agency_tech.pk)
    html = login(client, net.agency_tech).get(reverse("web:order", args=[order.pk])).content.decode()
    hops = [b["hop"] for b in badges(html.split('class="card clocks-list"')[1])]
    assert {"handoff", "callback", "dispatch_accept", "on_site"} <= set(hops)
    run_out(order, "dispatch_accept", minutes=30)
    html = client.get(reverse("web:tech")).content.decode()
    card = html.split('class="order-card"')[1]
    assert re.search(r'class="badge clock clock-breached"[^>]*data-state="breached"[^>]*data-hop="dispatch_accept"', card)
    assert "超时 30分钟" in card or "超时 31分钟" in card


def test_supervisor_sees_numbers_and_breaches_per_hop_and_organization(client, net, farmer):
    customer, machine = farmer
    orders = [record(net, customer, machine, duplicate_reason=f"第{i}次", symptom=f"故障{i}") for i in range(3)]
    for o in orders[:2]:
        run_out(o)
    login(client, net.supervisor)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("web:supervisor")).content.decode()
    fixed = len(ctx)

    def figure(name: str) -> str:
        return re.search(rf'data-figure="{name}".*?class="figure[^"]*">([^<]*)<', html, re.S).group(1).strip()

    assert figure("today_intake") == "3" and figure("open") == "3" and figure("overdue") == "2"
    hop_rows = dict(re.findall(r'<tr data-hop="(\w+)" data-count="(\d+)">', html))
    assert hop_rows["handoff"] == "2" and hop_rows["callback"] == "0"
    assert re.search(r'<tr data-count="2"><th scope="row">开拓机械服务中心</th>', html)
    assert "没有超时" not in html
    overdue_list = html.split("超时任务单")[-1]
    assert all(o.number in overdue_list for o in orders[:2]) and orders[2].number not in overdue_list
    # the numbers are aggregates: more orders, the same queries
    for i in range(3, 10):
        run_out(record(net, customer, machine, duplicate_reason=f"第{i}次", symptom=f"故障{i}"))
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("web:supervisor")).content.decode()
    assert len(ctx) <= fixed + 1  # + the overdue rows' clocks, read once for the page
    assert dict(re.findall(r'<tr data-hop="(\w+)" data-count="(\d+)">', html))["handoff"] == "9"
    assert 'style="' not in html and "<script>" not in html  # strict CSP: no inline style or script


def test_bell_counts_unread_and_the_inbox_opens_the_order_and_marks_it_read(client, net, farmer):
    order = record(net, *farmer)
    login(client, net.info_coordinator)
    html = client.get(reverse("web:queue")).content.decode()
    assert 'id="bell"' in html and 'data-unread="1"' in html
    inbox = client.get(reverse("web:inbox")).content.decode()
    note = Notification.objects.get(user=net.info_coordinator)
    assert order.number in inbox and f'href="/inbox/{note.pk}/"' in inbox and "待转交热线技术员" in inbox
    response = client.get(reverse("web:inbox-open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("web:order", args=[order.pk])
    assert 'data-unread="0"' in client.get(reverse("web:queue")).content.decode()
    # another person's notification does not exist for this user
    login(client, net.hotline_tech)
    assert client.get(reverse("web:inbox-open", args=[note.pk])).status_code == 404
    # the call agent who took the call is not told to forward it
    assert not Notification.objects.filter(user=net.agent).exists()


def test_each_handoff_tells_whoever_holds_the_next_hop(net, farmer):
    order = record(net, *farmer)
    assert list(Notification.objects.filter(order=order).values_list("user__username", "kind")) == [
        ("infoco", "inbox_new_order")]
    order = services.order_forward(actor=net.info_coordinator, order_id=order.pk, version=order.version,
                                   hotline_technician_id=net.hotline_tech.pk)
    order = services.order_callback(actor=net.hotline_tech, order_id=order.pk, version=order.version)
    order = services.order_confirm_mode(actor=net.hotline_tech, order_id=order.pk, version=order.version,
                                        service_mode="on_site", steps=["检查油路"])
    order = services.order_dispatch(actor=net.repair_coordinator, order_id=order.pk, version=order.version,
                                    organization_id=net.agency_shandong.pk)
    order = services.order_accept(actor=net.agency_tech, order_id=order.pk, version=order.version)
    order = services.order_assign(actor=net.agency_tech, order_id=order.pk, version=order.version,
                                  technician_id=net.agency_tech.pk)
    kinds = list(Notification.objects.filter(order=order).order_by("id").values_list("user__username", "kind"))
    assert kinds == [("infoco", "inbox_new_order"), ("hotline", "inbox_forwarded"),
                     ("repairco", "inbox_awaiting_dispatch"), ("agencytech", "inbox_dispatched")]
    # (the assignment to oneself tells nobody; the SMS of the outbox still goes as configured)


def test_the_sweeps_warning_and_breach_reach_the_pool_in_the_inbox_too(net, farmer):
    order = record(net, *farmer)
    clock = SlaClock.objects.get(order=order, target="handoff")
    sla_services.sweep(now=clock.due_at + timedelta(minutes=1))
    kinds = set(Notification.objects.filter(user=net.info_coordinator, order=order).values_list("kind", flat=True))
    assert {"inbox_new_order", "sla_breach"} <= kinds
    assert not Notification.objects.filter(user=net.agent).exists()


def test_notifications_api_lists_own_with_unread_and_marks_read(api, net, farmer):
    order = record(net, *farmer)
    token = net.token(net.info_coordinator)
    status, body = api.get("/notifications", token=token)
    assert status == 200 and body["unread"] == 1
    [item] = body["items"]
    assert (item["order_id"], item["order_number"], item["url"]) == (order.pk, order.number, f"/orders/{order.pk}/")
    assert item["kind"] == "inbox_new_order" and item["read_at"] is None and "15" in item["text"]
    assert api.get("/notifications", token=net.token(net.hotline_tech))[1] == {"unread": 0, "items": []}
    # another user's ids are ignored; one's own are marked, and again changes nothing
    assert api.post("/notifications/read", {"ids": [item["id"]]}, token=net.token(net.hotline_tech))[1]["marked"] == 0
    assert api.post("/notifications/read", {"ids": [item["id"]]}, token=token)[1] == {"marked": 1, "unread": 0}
    assert api.post("/notifications/read", {}, token=token)[1] == {"marked": 0, "unread": 0}
    assert api.get("/notifications", token=token, limit=1000)[0] == 422


def test_the_first_sms_carries_the_absolute_tracking_link_and_the_hotline(settings, net, farmer):
    settings.SITE_URL, settings.HOTLINE = "https://fuwu.kaituo.example", "400-600-8899"
    order = record(net, *farmer)
    sms = OutboxMessage.objects.get(order=order, template="order_created")
    text = render(sms.template, sms.context)
    assert f"https://fuwu.kaituo.example/t/{order.tracking_token}" in text and "400-600-8899" in text
    assert "Hotline 400-600-8899" in render(sms.template, sms.context, "en")


def test_check_deploy_warns_when_the_site_url_is_the_local_default(settings, capsys):
    settings.SITE_URL = "http://127.0.0.1:8000"
    call_command("check", "--deploy", "--tag", "security")
    assert "aftersales.W001" in capsys.readouterr().err
    settings.SITE_URL = "https://fuwu.kaituo.example"
    call_command("check", "--deploy", "--tag", "security")
    assert "aftersales.W00" not in capsys.readouterr().err


def test_an_answered_escalation_tells_the_one_who_raised_it(net, farmer):
    order = record(net, *farmer)
    order = services.order_forward(actor=net.info_coordinator, order_id=order.pk, version=order.version,
                                   hotline_technician_id=net.hotline_tech.pk)
    order = services.order_callback(actor=net.hotline_tech, order_id=order.pk, version=order.version)
    order = services.order_escalate(actor=net.hotline_tech, order_id=order.pk, version=order.version,
                                    problem="液压提升器无法下降", tried="更换液压油，检查分配器")
    order = services.order_answer_escalation(actor=net.engineer, order_id=order.pk, version=order.version,
                                             outcome="guidance", answer="先检查提升器安全阀是否卡滞")
    note = Notification.objects.get(user=net.hotline_tech, kind="inbox_escalation_answered")
    assert note.order_id == order.pk and note.context["number"] == order.number
    assert "疑难升级已有答复" in render(note.kind, note.context, plain=True)


@pytest.mark.parametrize("page", ["web:tech", "web:inbox"])
def test_the_technicians_list_and_the_inbox_keep_their_queries_whatever_their_length(client, net, farmer, page):
    customer, machine = farmer
    user = net.agency_tech if page == "web:tech" else net.info_coordinator
    login(client, user)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            o = record(net, customer, machine, duplicate_reason=f"第{i}次", symptom=f"故障{i}")
            if page == "web:tech":
                o = services.order_forward(actor=net.info_coordinator, order_id=o.pk, version=o.version,
                                           hotline_technician_id=net.hotline_tech.pk)
                o = services.order_callback(actor=net.hotline_tech, order_id=o.pk, version=o.version)
                o = services.order_confirm_mode(actor=net.hotline_tech, order_id=o.pk, version=o.version,
                                                service_mode="on_site", steps=["检查油路"])
                services.order_dispatch(actor=net.repair_coordinator, order_id=o.pk, version=o.version,
                                        organization_id=net.agency_shandong.pk, technician_id=net.agency_tech.pk)

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            html = client.get(reverse(page)).content.decode()
        return len(ctx), html

    add(1, 0)
    few, _html = queries()
    add(6, 1)
    many, html = queries()
    assert many == few
    if page == "web:tech":
        assert len(badges(html)) == 7
    else:
        assert len(re.findall(r'href="/inbox/\d+/"', html)) == 7
