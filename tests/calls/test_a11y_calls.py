"""axe on the pages of the phone system and the fax and e-mail inbox with their data in them: the
calls page with agents' figures, late answers, abandoned calls and callbacks; the desk with a popped
call; a draft with its attachments and the completion form (tests/web/test_a11y.py lists the
empty pages with every other page)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from aftersales.calls import services
from aftersales.inbox.services import Incoming, draft_from_message
from tests.service.helpers import shandong_farmer
from tests.web.test_a11y import LOCALES, axe_violations, open_page
from tests.web.test_browser import OFFICE, PHONE, browser  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _calls(net, customer):
    system, _token, _secret = services.phone_system_create(name="Asterisk", organization_id=net.service_center.pk)
    services.extension_set(user=net.agent, extension="8001")
    now = datetime.now(timezone.utc)

    def ev(eid, call, kind, at, caller="13912345678"):
        services.call_event_record(system=system, event={"event_id": eid, "call_id": call, "kind": kind, "at": at,
                                                         "caller": caller, "extension": "8001", "queue": "repair"})
    ev("1", "a", "ringing", now - timedelta(minutes=30))
    ev("2", "a", "answered", now - timedelta(minutes=30) + timedelta(seconds=25))
    ev("3", "a", "ended", now - timedelta(minutes=25))
    ev("4", "b", "ringing", now - timedelta(minutes=20), caller="13655556666")
    ev("5", "b", "ended", now - timedelta(minutes=19), caller="13655556666")
    ev("6", "c", "ringing", now, caller="13912345678")  # ringing now: the desk pops it


@pytest.mark.parametrize("lang,viewport", [("zh-hans", OFFICE), ("en", PHONE)], ids=["zh-office", "en-phone"])
def test_axe_on_the_calls_and_inbox_pages_with_data(browser, live_server, net, lang, viewport):  # noqa: F811
    customer, _machine = shandong_farmer()
    _calls(net, customer)
    draft = draft_from_message(Incoming(key="<a11y@example.com>", uid="1", sender="fax@fax.example", sender_name="传真",
                                        subject="传真 13912345678", text="", sent_at=None, size=1000,
                                        files=[("p1.pdf", b"%PDF-1.4\n%%EOF\n")]))
    page = open_page(browser, live_server, net, "agent", viewport, lang)
    problems = {}
    for path in ("/calls/", "/mailbox/", f"/mailbox/{draft.pk}/", "/desk/"):
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        if path == "/desk/":
            page.wait_for_selector("#call-pop[data-call]")
        found = axe_violations(page)
        if found:
            problems[path] = found
        assert not page.csp_errors, (path, page.csp_errors)
    assert page.locator("html").get_attribute("lang") == lang
    page.context.close()
    assert not problems, problems
