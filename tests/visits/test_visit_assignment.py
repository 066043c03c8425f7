"""Visit tasks per agent (回访分派): an agent claims an unassigned visit (a retry claims nothing more),
another agent cannot take it, a supervisor assigns and unassigns; "my visits" lists only one's own,
through the API and on the worklist page in a real browser."""

from __future__ import annotations

import pytest

from aftersales.visits.models import VisitTask
from tests.support import make_user
from tests.visits.test_visits import _visit
from tests.web.test_a11y import axe_violations
from tests.web.test_browser import PHONE, browser, session  # noqa: F401 (browser is a fixture)


@pytest.mark.django_db
def test_claim_assign_and_my_visits_through_the_api(net, api):
    task = _visit(net)
    colleague = make_user("agent2", net.service_center, "call_agent", name="话务代表小王")
    me, other, sup = net.token(net.agent), net.token(colleague), net.token(net.supervisor)
    status, body = api.get("/visits", token=me, whose="mine")
    assert status == 200 and body == []
    assert [v["id"] for v in api.get("/visits", token=me, whose="unassigned")[1]] == [task.pk]

    status, body = api.post(f"/visits/{task.pk}/claim", token=me)
    assert status == 200 and body["assigned_to_id"] == net.agent.pk and body["assigned_to_name"] == "话务代表小李"
    assert body["version"] == task.version  # taking a visit does not make an open page stale
    # The same claim again (a retry): the same answer, nothing changed.
    assert api.post(f"/visits/{task.pk}/claim", token=me) == (status, body)
    assert [v["id"] for v in api.get("/visits", token=me, whose="mine")[1]] == [task.pk]
    assert api.get("/visits", token=me, whose="unassigned")[1] == []
    # Another agent cannot take it nor give it away; their "my visits" stays empty.
    status, err = api.post(f"/visits/{task.pk}/claim", token=other)
    assert status == 409 and err["code"] == "taken" and "话务代表小李" in err["message"]
    assert api.post(f"/visits/{task.pk}/assign", {"assignee_id": colleague.pk}, token=other)[0] == 409
    assert api.get("/visits", token=other, whose="mine")[1] == []
    # A supervisor moves it to the colleague; a non-visiting user is refused, naming the field.
    status, err = api.post(f"/visits/{task.pk}/assign", {"assignee_id": net.agency_tech.pk}, token=sup)
    assert status == 422 and err["errors"][0]["field"] == "assignee_id"
    status, body = api.post(f"/visits/{task.pk}/assign", {"assignee_id": colleague.pk}, token=sup)
    assert status == 200 and body["assigned_to_id"] == colleague.pk
    assert [v["id"] for v in api.get("/visits", token=other, whose="mine")[1]] == [task.pk]
    # The colleague gives it back to the shared list.
    status, body = api.post(f"/visits/{task.pk}/assign", {"assignee_id": None}, token=other)
    assert status == 200 and body["assigned_to_id"] is None
    # Partners see no visit at all: a 404 like any record outside their scope.
    assert api.post(f"/visits/{task.pk}/claim", token=net.token(net.agency_tech))[0] in (403, 404)
    # A finished visit cannot be taken.
    api.post(f"/visits/{task.pk}/refused", {"version": task.version}, token=me)
    assert api.post(f"/visits/{task.pk}/claim", token=me)[0] == 409
    assert VisitTask.objects.get(pk=task.pk).assigned_to_id is None


@pytest.mark.django_db(transaction=True)
def test_an_agent_takes_a_visit_and_finds_it_under_my_visits(browser, live_server, net):  # noqa: F811
    task = _visit(net)
    page = session(browser, live_server, net.agent, viewport=PHONE)
    page.goto(f"{live_server.url}/visits/?whose=mine")
    assert page.locator("#due-list tbody tr a").count() == 0
    page.goto(f"{live_server.url}/visits/?whose=unassigned")
    row = page.locator("#due-list tbody tr")
    assert row.count() == 1 and task.customer.name in row.inner_text()
    with page.expect_navigation():
        row.get_by_role("button").click()
    assert "?whose=unassigned" in page.url and page.locator("#due-list tbody tr a").count() == 0
    with page.expect_navigation():
        page.locator("nav.tabs a[href='?whose=mine']").click()
    row = page.locator("#due-list tbody tr")
    assert row.count() == 1 and "话务代表小李" in row.inner_text()
    assert not axe_violations(page), axe_violations(page)
    assert VisitTask.objects.get(pk=task.pk).assigned_to_id == net.agent.pk
    page.context.close()
    # The supervisor reassigns it on the visit page.
    page = session(browser, live_server, net.supervisor, viewport=PHONE)
    page.goto(f"{live_server.url}/visits/{task.pk}/")
    page.locator("select[name=assignee]").select_option(str(net.hotline_tech.pk))
    with page.expect_navigation():
        page.get_by_role("button", name="分派").click()
    assert VisitTask.objects.get(pk=task.pk).assigned_to_id == net.hotline_tech.pk
    assert not axe_violations(page), axe_violations(page)
    page.context.close()
