"""Return visits (回访): the rules that make the next morning's list (completed orders, closed
complaints, key accounts each quarter, pre-season checks by the province's season calendar), the
three outcomes through the API (reached with the questionnaire, not reached with a retry time,
refused), a low score opening a complaint and a new fault a repair order (channel visit), the
satisfaction figures, and who may see visits at all."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from aftersales.registry.models import CustomerClass
from aftersales.service.models import OrderStatus, OrderType, ServiceOrder
from aftersales.service.services.common import _shanghai_today
from aftersales.visits import rules, services
from aftersales.visits.models import PlanRun, Season, VisitQuestion, VisitStatus, VisitTask
from aftersales.visits.tasks import plan_visits
from tests.support import make_customer, make_machine, make_model
from tests.web.test_a11y import build_orders


@pytest.mark.parametrize("on, start, lead, expected", [
    (date(2026, 5, 4), (5, 25), 21, date(2026, 5, 25)),   # the first day of the window
    (date(2026, 5, 3), (5, 25), 21, None),                # a day too early
    (date(2026, 5, 24), (5, 25), 21, date(2026, 5, 25)),  # the last day before the season
    (date(2026, 5, 25), (5, 25), 21, None),               # the season has started: too late
    (date(2026, 12, 20), (1, 5), 21, date(2027, 1, 5)),   # a season early next year
    (date(2027, 2, 10), (2, 29), 21, date(2027, 2, 28)),  # 29 February in a common year
])
def test_the_pre_season_window(on, start, lead, expected):
    assert rules.season_start_due(on, start_month=start[0], start_day=start[1], lead_days=lead) == expected


def test_quarters():
    assert [rules.quarter_key(date(2026, m, 1)) for m in (1, 3, 4, 9, 10, 12)] == [
        "2026Q1", "2026Q1", "2026Q2", "2026Q3", "2026Q4", "2026Q4"]


def _tomorrow() -> date:
    return _shanghai_today() + timedelta(days=1)


@pytest.mark.django_db
def test_the_rules_make_each_visit_once(net):
    orders = build_orders(net)  # completed and closed repairs of 刘大壮 (山东省), done just now
    # A complaint closed yesterday evening, an order completed a week ago, a key account.
    complaint = ServiceOrder.objects.create(
        number="FW-C-1", order_type=OrderType.COMPLAINT, status=OrderStatus.CLOSED, customer=orders.customer,
        contact_phone="+8613912345678", owning_org=net.service_center, owner=net.agent, symptom="态度差",
        closed_at=timezone.now() - timedelta(hours=12), tracking_token="c1")
    ServiceOrder.objects.filter(pk=orders.new.pk).update(completed_at=timezone.now() - timedelta(days=7),
                                                         status=OrderStatus.CLOSED)
    key = make_customer("黑龙江北大荒农场", "13600000001", customer_class=CustomerClass.KEY_ACCOUNT, province="黑龙江省")
    # A harvester in 山东 whose 三夏 season starts within the lead time of the planned day.
    on = _tomorrow()
    start = on + timedelta(days=10)
    season = Season.objects.create(province="山东省", name="测试季", start_month=start.month, start_day=start.day,
                                   end_month=start.month, end_day=start.day, categories=["combine_harvester"], lead_days=21)
    harvester = make_model(code="4LZ-8", name="谷神4LZ-8收割机", category="combine_harvester", power=None)
    farmer = make_customer("张收割", "13500000001", province="山东省")
    make_machine("4LZ-SD-001", farmer, model=harvester)
    make_machine("4LZ-SD-002", farmer, model=harvester)
    elsewhere = make_customer("李河南", "13500000002", province="河南省")
    make_machine("4LZ-HN-001", elsewhere, model=harvester)

    result = services.visits_plan(on=on)
    tasks = {t.source_key: t for t in VisitTask.objects.all()}
    assert f"order:{orders.completed.pk}" in tasks and f"order:{orders.closed.pk}" in tasks
    assert f"order:{orders.new.pk}" not in tasks  # completed a week ago: outside the 3 days
    assert tasks[f"complaint:{complaint.pk}"].kind == "after_complaint"
    assert tasks[f"key:{key.pk}:{rules.quarter_key(on)}"].kind == "key_account"
    pre = [t for t in tasks.values() if t.kind == "pre_season"]
    assert [(t.customer_id, t.season_id) for t in pre] == [(farmer.pk, season.pk)]  # one call, not one per machine
    assert all(t.due_on == on for t in tasks.values())
    assert sum(result.created.values()) == len(tasks)
    # Planned again (a second worker, a retry): nothing doubles.
    assert services.visits_plan(on=on).created == {} and VisitTask.objects.count() == len(tasks)
    # The worker's daily task plans the next morning once.
    PlanRun.objects.all().delete()
    assert plan_visits.call()["day"] == on.isoformat()
    assert plan_visits.call() == {} and VisitTask.objects.count() == len(tasks)


def _visit(net, **kw) -> VisitTask:
    orders = build_orders(net)
    services.visits_plan(on=_shanghai_today())  # completed just now: none yet for today
    services.visits_plan(on=_tomorrow())
    task = VisitTask.objects.get(order=orders.completed)
    VisitTask.objects.filter(pk=task.pk).update(due_on=_shanghai_today(), **kw)  # the morning has come
    task.refresh_from_db()
    return task


def _answers(task, score: int) -> dict:
    from aftersales.visits.selectors import questions_for

    out = {}
    for q in questions_for(task.kind):
        out[str(q.pk)] = {"score": score, "yes_no": True, "text": "师傅态度一般"}[q.answer_type]
    return out


@pytest.mark.django_db
def test_reached_with_a_low_score_and_a_new_fault_opens_a_complaint_and_a_repair(net, api):
    task = _visit(net)
    token = net.token(net.agent)
    status, due = api.get("/visits", token=token)
    assert status == 200 and [v["id"] for v in due] == [task.pk]
    assert due[0]["phone"] == "139 1234 5678"  # the service center sees the full number (the phone rule)
    status, body = api.get(f"/visits/{task.pk}", token=token)
    assert status == 200 and {q["answer_type"] for q in body["questions"]} == {"score", "yes_no", "text"}
    # A missing answer: 422 naming the question, nothing recorded.
    answers = _answers(task, 2)
    score_q = next(k for k, v in answers.items() if v == 2)
    status, body = api.post(f"/visits/{task.pk}/reached", {"version": task.version, "answers": {
        k: v for k, v in answers.items() if k != score_q}}, token=token)
    assert status == 422 and body["errors"][0]["field"] == f"answers.{score_q}"
    assert VisitTask.objects.get(pk=task.pk).status == "open" and not ServiceOrder.objects.filter(channel="visit").exists()

    status, body = api.post(f"/visits/{task.pk}/reached", {
        "version": task.version, "answers": answers, "new_fault": "液压提升时有时无", "note": "客户在地里"}, token=token)
    assert status == 200, body
    assert body["status"] == "done" and body["score"] == 2
    complaint = ServiceOrder.objects.get(number=body["complaint_number"])
    assert complaint.channel == "visit" and complaint.order_type == "complaint"
    assert complaint.complaint.category == "low_rating" and complaint.complaint.about_order_id == task.order_id
    repair = ServiceOrder.objects.get(number=body["repair_number"])
    assert repair.channel == "visit", (repair.number, repair.symptom, repair.status, repair.machine_id, task.machine_id)
    assert repair.machine_id == task.machine_id and repair.symptom == "液压提升时有时无"
    assert len(body["answers"]) == len(answers)
    # Sent again with the old version: 409, nothing doubled.
    status, _body = api.post(f"/visits/{task.pk}/reached", {"version": task.version, "answers": answers}, token=token)
    assert status == 409 and ServiceOrder.objects.filter(channel="visit").count() == 2
    # The satisfaction figures count it.
    today = _shanghai_today()
    status, stats = api.get("/visits/satisfaction", token=token, since=today.isoformat(),
                            until=(today + timedelta(days=1)).isoformat())
    assert status == 200 and stats["reached"] == 1 and stats["low"] == 1 and stats["score_mean"] == 2.0
    assert stats["complaints"] == 1 and stats["repairs"] == 1 and stats["by_kind"]["after_service"]["reached"] == 1


@pytest.mark.django_db
def test_a_good_score_opens_nothing_and_a_fault_already_open_is_not_doubled(net, api):
    task = _visit(net)
    open_order = ServiceOrder.objects.filter(machine__owner=task.customer, status="new").first()
    status, body = api.post(f"/visits/{task.pk}/reached", {
        "version": task.version, "answers": _answers(task, 5), "new_fault": "冒黑烟",
        "machine_id": open_order.machine_id}, token=net.token(net.agent))
    assert status == 200 and body["complaint_number"] is None
    assert body["repair_number"] == open_order.number  # the duplicate guard: the open order, not a new one
    assert not ServiceOrder.objects.filter(channel="visit").exists()


@pytest.mark.django_db
def test_not_reached_needs_a_retry_time_and_the_third_try_closes_the_visit(net, api):
    task = _visit(net)
    token = net.token(net.agent)
    status, body = api.post(f"/visits/{task.pk}/not-reached", {"version": task.version}, token=token)
    assert status == 422 and body["errors"][0]["field"] == "retry_at"
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    assert api.post(f"/visits/{task.pk}/not-reached", {"version": task.version, "retry_at": past}, token=token)[0] == 422
    later = (timezone.now() + timedelta(hours=2)).isoformat()
    status, body = api.post(f"/visits/{task.pk}/not-reached", {"version": task.version, "retry_at": later}, token=token)
    assert status == 200 and body["status"] == "open" and body["attempts"] == 1
    # Out of the worklist until the retry time, on the "later" list.
    assert api.get("/visits", token=token)[1] == []
    assert [v["id"] for v in api.get("/visits", token=token, status="waiting")[1]] == [task.pk]
    VisitTask.objects.filter(pk=task.pk).update(retry_at=timezone.now() - timedelta(minutes=1))
    status, body = api.post(f"/visits/{task.pk}/not-reached", {"version": body["version"], "retry_at": later}, token=token)
    assert status == 200 and body["attempts"] == 2
    status, body = api.post(f"/visits/{task.pk}/not-reached", {"version": body["version"]}, token=token)
    assert status == 200 and body["status"] == "unreachable" and body["attempts"] == 3


@pytest.mark.django_db
def test_refused_and_who_may_see_visits(net, api):
    task = _visit(net)
    # A partner's technician and a dealer do not make the maker's visits: a 404, and empty lists.
    for user in (net.agency_tech, net.dealer_clerk):
        assert api.get(f"/visits/{task.pk}", token=net.token(user))[0] == 404
        assert api.get("/visits", token=net.token(user))[1] == []
        assert api.post(f"/visits/{task.pk}/refused", {"version": task.version}, token=net.token(user))[0] in (403, 404)
    assert VisitTask.objects.get(pk=task.pk).status == "open"
    # Only supervisors plan by hand.
    assert api.post("/visits/plan", {"day": _tomorrow().isoformat()}, token=net.token(net.agent))[0] == 403
    assert api.post("/visits/plan", {"day": _tomorrow().isoformat()}, token=net.token(net.supervisor))[0] == 201
    status, body = api.post(f"/visits/{task.pk}/refused", {"version": task.version, "note": "不方便"},
                            token=net.token(net.agent))
    assert status == 200 and body["status"] == VisitStatus.REFUSED


@pytest.mark.django_db
def test_the_questionnaire_is_data(net):
    # Loaded by the migration, editable in the admin: a score, a yes/no and a free text at least.
    assert {q.answer_type for q in VisitQuestion.objects.all()} == {"score", "yes_no", "text"}
    assert Season.objects.filter(province="山东省").count() >= 2


@pytest.mark.django_db
def test_the_worklist_shows_tomorrows_planned_list_apart_from_todays(net, client):
    """After the nightly plan the agents see tomorrow's calls under their own heading, not as calls to
    make now; the morning they come due they move to the list to call."""
    orders = build_orders(net)
    services.visits_plan(on=_tomorrow())
    task = VisitTask.objects.get(order=orders.completed)
    client.force_login(net.agent)
    page = client.get("/visits/").content.decode()
    due, planned = page.split('id="planned-title"')
    assert "明日回访计划" in planned and orders.completed.number in planned and _tomorrow().isoformat() in planned
    assert orders.completed.number not in due and "目前没有需要回访的客户。" in due
    VisitTask.objects.filter(pk=task.pk).update(due_on=_shanghai_today())  # the morning has come
    page = client.get("/visits/").content.decode()
    due = page.split('id="planned-title"')[0]
    assert orders.completed.number in due
