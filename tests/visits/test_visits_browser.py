"""The visiting agent's morning in a real browser: the worklist holds the completed order planned
for today, the questionnaire is answered with the keyboard-friendly radios, a low score opens a
complaint at once, and the visit leaves the list. axe finds nothing serious on the visit page."""

from __future__ import annotations

import pytest

from aftersales.service.models import ServiceOrder
from aftersales.visits.models import VisitTask
from tests.visits.test_visits import _visit
from tests.web.test_a11y import axe_violations
from tests.web.test_browser import PHONE, browser, session  # noqa: F401 (browser is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_works_the_visit_list(browser, live_server, net):  # noqa: F811
    task = _visit(net)
    page = session(browser, live_server, net.agent, viewport=PHONE)
    page.goto(f"{live_server.url}/visits/")
    row = page.locator("#due-list tbody tr")
    assert row.count() == 1 and task.customer.name in row.inner_text() and "139 1234 5678" in row.inner_text()
    with page.expect_navigation():
        row.locator("a").click()
    assert not axe_violations(page), axe_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    form = page.locator("form[action$='/reached']")
    for fieldset in form.locator("fieldset").all():
        radios = fieldset.locator("input[type=radio]")
        # A score question gets a 1, a yes/no question a "no".
        radios.nth(0).check() if radios.count() == 5 else radios.nth(1).check()
    form.locator("textarea").first.fill("技术员没有按时到")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.url.endswith("/visits/")
    message = page.locator(".messages").inner_text()
    task.refresh_from_db()
    assert task.status == "done" and task.score == 1 and task.complaint is not None
    assert task.complaint.number in message
    assert ServiceOrder.objects.get(pk=task.complaint_id).channel == "visit"
    assert page.locator("#due-list tbody tr a").count() == 0  # off the list
    assert not axe_violations(page), axe_violations(page)
    assert not VisitTask.objects.filter(status="open", due_on__lte=task.due_on).exists()
    page.context.close()
