"""Accessibility, in a real browser: axe-core finds no serious or critical violation on any page of
any role, in Chinese and English, on an office screen and a phone; the main task of the customer
(the rating), the call agent (the intake) and a coordinator (an order action) can be done with the
keyboard alone and is named for a screen reader; no page breaks its Content-Security-Policy.

A new page is checked by adding its path to PAGES (one list, per role).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from aftersales.service import services
from aftersales.service.models import OrderStatus, ServiceOrder
from tests.service.helpers import last_code, shandong_farmer
from tests.support import make_machine
from tests.web.test_browser import OFFICE, PHONE, browser, session  # noqa: F401 (browser is a fixture)

AXE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text()

# Every page of every workbench, per role (a Network attribute; None: the customer, no account).
# Placeholders name the orders built by `orders` below: {new}, {dispatch}, {confirming},
# {completed}, {closed} (their ids), {t_...} (their tracking tokens), {customer}.
PAGES: list[tuple[str | None, str]] = [
    (None, "/login/"),
    (None, "/track/"),
    (None, "/t/{t_new}"),
    (None, "/t/{t_confirming}"),
    (None, "/t/{t_completed}"),  # the rating form
    (None, "/t/{t_closed}"),  # the rating given
    ("agent", "/desk/"),
    ("agent", "/desk/?customer={customer}"),  # the intake form
    ("agent", "/queue/"),
    ("agent", "/search/?q=刘大壮"),
    ("agent", "/orders/{new}/"),
    ("info_coordinator", "/queue/"),
    ("info_coordinator", "/orders/{new}/"),
    ("hotline_tech", "/queue/"),
    ("repair_coordinator", "/queue/"),
    ("repair_coordinator", "/orders/{dispatch}/"),
    ("engineer", "/queue/"),
    ("agency_tech", "/tech/"),
    ("agency_tech", "/orders/{confirming}/"),  # the signature pad
    ("agency_tech", "/orders/{completed}/"),
    ("supervisor", "/supervisor/"),
    ("supervisor", "/queue/"),
    ("supervisor", "/orders/{closed}/"),
    ("dealer_clerk", "/queue/"),
    ("admin", "/desk/"),
    ("supervisor", "/stats/"),
    ("supervisor", "/stats/orders/?measure=handoff"),
    ("supervisor", "/stats/print/"),
    ("supervisor", "/supervisor/phone-reveals/"),
    ("engineer", "/quality/"),
    ("engineer", "/knowledge/"),
    ("agent", "/inbox/"),
    ("agent", "/customers/"),
    ("agent", "/machines/"),
    ("agent", "/orders/{new}/print/"),
    ("agent", "/standards/"),
    ("supervisor", "/standards/rollcall/"),
    ("supervisor", "/standards/inspect/?gender=female"),
    ("supervisor", "/standards/cases/"),
    ("supervisor", "/standards/cases/new"),
    ("supervisor", "/standards/scorecards/"),
    ("agent", "/standards/training/"),
    ("agent", "/standards/catalogue/"),
    ("agency_tech", "/parts/van/"),
    ("branch_tech", "/parts/stock/"),
    ("repair_coordinator", "/parts/desk/"),
    ("engineer", "/parts/desk/"),
    ("supervisor", "/parts/claims/"),
    ("supervisor", "/parts/settlements/"),
    (None, "/m/login/"),
    ("customer", "/m/"),  # the customer's phone portal, logged in with the SMS code
    ("customer", "/m/machines/{machine}/"),
    ("customer", "/m/report/"),
    ("customer", "/m/orders/{n_confirming}/"),
    ("customer", "/m/orders/{n_completed}/"),
    ("agent", "/machines/labels/?q=LX904"),
    ("agent", "/visits/"),
    ("agent", "/calls/"),  # the phone system's day (tests/calls/test_a11y_calls.py: with calls and callbacks)
    ("agent", "/mailbox/"),  # fax and e-mail (tests/calls/test_a11y_calls.py: a draft and its form)
]

LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Orders:
    customer: object
    new: ServiceOrder
    dispatch: ServiceOrder
    confirming: ServiceOrder
    completed: ServiceOrder
    closed: ServiceOrder

    def fill(self, path: str) -> str:
        values = {"customer": self.customer.pk}
        for name in ("new", "dispatch", "confirming", "completed", "closed"):
            order = getattr(self, name)
            values[name], values[f"t_{name}"] = order.pk, order.tracking_token
            values[f"n_{name}"] = order.number
        values["machine"] = self.new.machine_id
        return path.format(**values)


def step(user, order, action: str, **data) -> ServiceOrder:
    order.refresh_from_db()
    getattr(services, f"order_{action}")(actor=user, order_id=order.pk, version=order.version, **data)
    order.refresh_from_db()
    return order


def build_orders(net) -> Orders:
    """Five orders of one farmer, each at a stage whose page shows a different form."""
    customer, first = shandong_farmer()
    net.agency_shandong.contact_phone = "0536-1234567"
    net.agency_shandong.save(update_fields=["contact_phone"])

    def create(n: int) -> ServiceOrder:
        machine = first if n == 0 else make_machine(f"LX904-SD-A11Y{n}", customer)
        data = services.OrderInput(order_type="repair", customer_id=customer.pk, machine_id=machine.pk, crop="小麦",
                                   operation="犁地", symptom="拖拉机启动困难，冒黑烟", urgency="urgent",
                                   duplicate_reason=f"另一台拖拉机 {n}" if n else "")
        return services.order_create(actor=net.agent, data=data).order

    def to_dispatch(order):
        step(net.info_coordinator, order, "forward", hotline_technician_id=net.hotline_tech.pk)
        step(net.hotline_tech, order, "callback")
        return step(net.hotline_tech, order, "confirm_mode", service_mode="on_site")

    def to_confirming(order):
        to_dispatch(order)
        step(net.repair_coordinator, order, "dispatch", organization_id=net.agency_shandong.pk)
        for action, data in (("accept", {}), ("assign", {"technician_id": net.agency_tech.pk}), ("tech_accept", {}),
                             ("schedule", {"appointment_at": timezone.now() + timedelta(hours=3)}), ("check_in", {}),
                             ("record_service", {"fault_found": "喷油嘴堵塞", "solution": "清洗喷油嘴"}),
                             ("check_out", {})):
            step(net.agency_tech, order, action, **data)
        return order

    def to_completed(order):
        to_confirming(order)
        return step(net.agency_tech, order, "confirm", code=last_code(order.pk))

    new = create(0)
    dispatch = to_dispatch(create(1))
    confirming = to_confirming(create(2))
    completed = to_completed(create(3))
    closed = step(net.agent, to_completed(create(4)), "rate", score=4, comment="师傅很专业")
    assert closed.status == OrderStatus.CLOSED and completed.status == OrderStatus.COMPLETED
    return Orders(customer, new, dispatch, confirming, completed, closed)


@pytest.fixture
def orders(net) -> Orders:
    return build_orders(net)


def open_page(browser, live_server, net, who, viewport=OFFICE, lang="zh-hans"):  # noqa: F811
    """A page of a new browser context: logged in as `who`, or a customer without an account."""
    context = browser.new_context(viewport=viewport, locale=LOCALES[lang], is_mobile=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    # The live server's first answer imports every app (over 10 s on a machine loaded five times over).
    page.set_default_navigation_timeout(40_000)
    if who == "customer":
        from tests.portal.test_portal import sent_code

        page.goto(f"{live_server.url}/m/login/")
        page.fill("input[name=phone]", "13912345678")
        with page.expect_navigation():
            page.click("main button[type=submit]")
        page.fill("input[name=code]", sent_code())
        with page.expect_navigation():
            page.locator("main form button[type=submit]").first.click()
        assert "/m/login/" not in page.url, "the customer could not log in"
    elif who is not None:
        user = getattr(net, who)
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", f"pass-{user.username}")
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert "/login/" not in page.url, f"{who} could not log in"
    page.csp_errors = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_errors.append(m.text))
    return page


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE)  # through the DevTools protocol: the page's CSP does not apply to it
    found = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
            .then(r => r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))""",
        AXE_TAGS)
    return found


@pytest.mark.parametrize("lang", list(LOCALES))
@pytest.mark.parametrize("viewport", [OFFICE, PHONE], ids=["office", "phone"])
def test_axe_finds_nothing_serious_on_any_page(browser, live_server, net, orders, lang, viewport):  # noqa: F811
    problems = {}
    pages = {}
    for who, path in PAGES:
        page = pages.get(who)
        if page is None:
            page = pages[who] = open_page(browser, live_server, net, who, viewport, lang)
        url = live_server.url + orders.fill(path)
        response = page.goto(url)
        assert response.status == 200, (who, path, response.status)
        assert page.locator("html").get_attribute("lang") == lang
        found = axe_violations(page)
        # Every <details> action opened too: the forms folded away are pages of their own to a user.
        if page.locator("details.action:not([open]) > summary").count():
            page.evaluate("document.querySelectorAll('details.action').forEach(d => d.open = true)")
            found += axe_violations(page)
        if found:
            problems[f"{who} {path}"] = found
        assert not page.csp_errors, (who, path, page.csp_errors)
    for page in pages.values():
        page.context.close()
    assert not problems, problems


def _tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches `selector`, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _focus_is_visible(page) -> bool:
    """The focused element (or, for the hidden star radios, its label) draws a focus outline."""
    return page.evaluate("""() => {
        let el = document.activeElement;
        if (el.classList.contains('visually-hidden') && el.labels && el.labels.length) el = el.labels[0];
        const s = getComputedStyle(el);
        return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
    }""")


def test_a_customer_rates_by_keyboard_on_a_phone(browser, live_server, net, orders):  # noqa: F811
    page = open_page(browser, live_server, net, None, PHONE)
    page.goto(f"{live_server.url}/t/{orders.completed.tracking_token}")
    assert page.locator("script").count() == 0 and page.evaluate("typeof htmx") == "undefined"
    # What a screen reader meets: a group named by its legend, five radios named by their meaning.
    group = page.get_by_role("group", name="您的评价")
    assert [group.get_by_role("radio", name=n).count() for n in ("1星 非常不满意", "3星 一般", "5星 非常满意")] == [1, 1, 1]
    # The current step is announced.
    assert page.locator("ol.steps li[aria-current=step]").inner_text() == "服务完成"

    # Sending without a star: the browser stops it, says why, and puts the focus on the stars.
    _tab_to(page, "form[action$=rate] button[type=submit]")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "score"
    assert page.evaluate("document.activeElement.validationMessage")
    assert page.url == f"{live_server.url}/track/"  # the SMS link signed in and left the address bar

    # Arrow keys move through the stars in score order; the focus is visible on the star.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    star = f"o{orders.completed.pk}-star"
    assert page.evaluate("document.activeElement.id") == f"{star}5"
    assert page.locator(f"#{star}5").is_checked()
    assert _focus_is_visible(page)
    assert page.locator(".star-meaning .meaning-5").is_visible()
    page.keyboard.press("ArrowLeft")
    assert page.locator(f"#{star}4").is_checked()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    page.keyboard.type("师傅很专业，来得也快")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "感谢您的评价" in page.locator(".messages").inner_text()
    assert page.get_by_role("img", name="5星 非常满意").count() == 1
    orders.completed.refresh_from_db()
    assert orders.completed.status == OrderStatus.CLOSED and orders.completed.rating.score == 5
    assert orders.completed.rating.comment == "师傅很专业，来得也快"
    page.context.close()


def test_a_rating_without_a_star_is_answered_beside_the_stars(client, net, orders):
    """Phones that skip the browser's check send the form without a score: the page says what is
    missing, next to the stars, keeps the comment, and changes nothing."""
    token = orders.completed.tracking_token
    client.get(f"/t/{token}")
    resp = client.post("/track/rate", {"order": orders.completed.number, "version": orders.completed.version,
                                       "comment": "还行"})
    html = resp.content.decode()
    error = f"o{orders.completed.pk}-score-error"
    assert resp.status_code == 400
    assert f'id="{error}" role="alert">请先选择 1 到 5 颗星。' in html
    assert f'aria-describedby="{error}"' in html and ">还行</textarea>" in html
    orders.completed.refresh_from_db()
    assert orders.completed.status == OrderStatus.COMPLETED


def test_the_customer_pages_offer_tel_buttons_and_keep_the_token_private(client, net, orders, settings):
    """The SMS link's page is /track/ (indexable, public content without the session): the token is
    neither in its address nor in its HTML, so nothing a search engine or a shoulder could see."""
    settings.HOTLINE = "400-800-1234"
    resp = client.get(f"/t/{orders.confirming.tracking_token}", follow=True)
    html = resp.content.decode()
    assert resp.redirect_chain == [("/track/", 303)]
    assert 'href="tel:4008001234"' in html and "400-800-1234" in html
    assert 'href="tel:+865361234567"' in html and "潍坊金丰农机维修站" in html
    assert orders.confirming.tracking_token not in html and 'name="robots"' not in html
    assert '<meta name="description"' in html and "<script" not in html
    find = client.get("/track/").content.decode()
    assert 'href="tel:4008001234"' in find and '<meta name="description"' in find
    assert 'name="robots"' not in find and "<script" not in find
    assert 'rel="icon"' in find


def test_the_intake_by_keyboard(browser, live_server, net, orders):  # noqa: F811
    """The call agent finds the caller, takes them and saves the order without the mouse."""
    caller, machine = shandong_farmer(phone="13800001111", serial="LX904-SD-KB01")
    page = open_page(browser, live_server, net, "agent")
    assert page.url.endswith("/desk/")
    assert page.evaluate("document.activeElement.id") == "caller-search"  # ready to type at once
    page.keyboard.type("1111")
    page.wait_for_selector(f"#lookup >> text={machine.serial_number}")
    assert page.locator("#lookup").get_attribute("aria-live") == "polite"  # the results are read out
    _tab_to(page, "#lookup a.btn")
    page.keyboard.press("Enter")
    page.wait_for_selector("#intake-form")
    # The focus is in the new form, so the agent goes on typing.
    assert page.evaluate("document.activeElement.closest('#intake-form') !== null")
    _tab_to(page, "input[name=crop]")
    page.keyboard.type("玉米")
    _tab_to(page, "select[name=urgency]")
    page.evaluate("document.getElementById('intake-form').dataset.before = 'redraw'")
    page.keyboard.press("ArrowDown")  # the form is drawn again for the new urgency
    page.wait_for_selector("#intake-form:not([data-before])")  # the redrawn form
    assert page.evaluate("document.activeElement.name") == "urgency"
    assert page.locator("#intake-form [name=crop]").input_value() == "玉米"
    _tab_to(page, "textarea[name=symptom]")
    assert _focus_is_visible(page)
    page.keyboard.type("收割机割台不转")
    _tab_to(page, "#intake-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    created = ServiceOrder.objects.get(customer=caller)
    assert created.symptom == "收割机割台不转" and created.crop == "玉米"
    page.context.close()


def test_text_typed_while_the_intake_form_is_redrawn_is_kept(browser, live_server, net, orders):  # noqa: F811
    """A slow answer to a redraw (new urgency) arrives after the agent has typed the symptom: the
    symptom is still there and the focus stays where the agent is typing."""
    shandong_farmer(phone="13800002222", serial="LX904-SD-KB02")
    page = open_page(browser, live_server, net, "agent")
    page.keyboard.type("2222")
    page.wait_for_selector("#lookup >> text=LX904-SD-KB02")
    _tab_to(page, "#lookup a.btn")
    page.keyboard.press("Enter")
    page.wait_for_selector("#intake-form")
    held = []
    page.route("**/desk/form*", lambda route: held.append(route))  # answered only when we say so
    _tab_to(page, "select[name=urgency]")
    page.evaluate("document.getElementById('intake-form').dataset.before = 'redraw'")
    page.keyboard.press("ArrowDown")
    page.wait_for_selector("#intake-form select[name=urgency].htmx-request")  # the redraw is on its way
    _tab_to(page, "textarea[name=symptom]")
    page.keyboard.type("拖拉机漏油")
    assert len(held) == 1
    held[0].continue_()
    page.wait_for_selector("#intake-form:not([data-before])")
    assert page.locator("#intake-form textarea[name=symptom]").input_value() == "拖拉机漏油"
    assert page.evaluate("document.activeElement.name") == "symptom"
    page.context.close()


def test_an_order_action_by_keyboard(browser, live_server, net, orders):  # noqa: F811
    """The information coordinator forwards a new order to a hotline technician by keyboard."""
    page = open_page(browser, live_server, net, "info_coordinator")
    page.goto(f"{live_server.url}/orders/{orders.new.pk}/")
    page.keyboard.press("Tab")  # the first Tab stop is the skip link, and it works
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    _tab_to(page, "#action-forward select[name=hotline_technician_id]")
    assert _focus_is_visible(page)
    page.keyboard.press("ArrowDown")
    assert page.locator("#action-forward select[name=hotline_technician_id]").input_value() == str(net.hotline_tech.pk)
    _tab_to(page, "#action-forward button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    orders.new.refresh_from_db()
    assert orders.new.status == OrderStatus.FORWARDED
    page.context.close()


def test_the_customer_signs_with_the_typed_name_by_keyboard(browser, live_server, net, orders):  # noqa: F811
    """The signature pad's alternative: the typed name becomes the signature, said in a status line."""
    page = open_page(browser, live_server, net, "agency_tech", PHONE)
    page.goto(f"{live_server.url}/orders/{orders.confirming.pk}/")
    confirm = page.locator("#action-confirm")
    if confirm.get_attribute("open") is None:
        _tab_to(page, "#action-confirm summary")
        page.keyboard.press("Enter")
    assert confirm.get_by_role("img", name="请在此签名").count() == 1
    assert confirm.locator("input[name=name]").input_value() == "刘大壮"  # the contact, ready to correct
    _tab_to(page, "#action-confirm [data-sign-typed]")
    page.keyboard.press("Enter")
    assert confirm.get_by_role("status").inner_text() == "已用填写的姓名作为签名。"
    _tab_to(page, "#action-confirm button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    orders.confirming.refresh_from_db()
    assert orders.confirming.status == OrderStatus.COMPLETED and orders.confirming.confirmed_by_name == "刘大壮"
    assert orders.confirming.attachments.filter(kind="signature").count() == 1
    page.context.close()


# Sizes on a 390 px phone: text, fields and tap targets.
SIZES = """() => {
  const out = {small_text: [], small_field: [], small_target: []};
  const visible = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && s.visibility !== 'hidden' && r.bottom > 0; };
  const name = el => el.tagName.toLowerCase() + (el.name ? '[name=' + el.name + ']' : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + (el.textContent || '').trim().slice(0, 20) + '"';
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own && visible(el) && parseFloat(getComputedStyle(el).fontSize) < 14) out.small_text.push(name(el));
  }
  for (const el of document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea'))
    if (visible(el) && parseFloat(getComputedStyle(el).fontSize) < 16) out.small_field.push(name(el));
  for (let el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    // A hidden radio or a checkbox is tapped through its label.
    if ((el.type === 'radio' || el.type === 'checkbox') && el.labels && el.labels.length) el = el.labels[0];
    if (!visible(el)) continue;
    // Links inside a sentence are exempt (WCAG 2.5.8 "inline").
    if (el.tagName === 'A' && getComputedStyle(el).display === 'inline' && el.parentElement.closest('p, li, dd, td, div.small'))
      continue;
    const r = el.getBoundingClientRect();
    if (r.width < 44 - 0.5 || r.height < 44 - 0.5) out.small_target.push(name(el) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
  }
  return out;
}"""


def test_phone_sizes_on_the_technician_and_customer_pages(browser, live_server, net, orders):  # noqa: F811
    checked = 0
    for who, path in ((None, "/track/"), (None, "/t/{t_completed}"), (None, "/t/{t_confirming}"),
                      ("agency_tech", "/tech/"), ("agency_tech", "/orders/{confirming}/")):
        page = open_page(browser, live_server, net, who, PHONE)
        page.goto(live_server.url + orders.fill(path))
        page.evaluate("document.querySelectorAll('details.action').forEach(d => d.open = true)")
        sizes = page.evaluate(SIZES)
        assert sizes == {"small_text": [], "small_field": [], "small_target": []}, (path, sizes)
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == 16
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
        checked += 1
        page.context.close()
    assert checked == 5


def test_the_language_is_switched_by_a_button_not_by_choosing(browser, live_server, net, orders):  # noqa: F811
    page = open_page(browser, live_server, net, None, PHONE)
    page.goto(f"{live_server.url}/track/")
    # Choosing alone changes nothing: the page has no script and the list no handler that could.
    assert page.locator("script, [onchange]").count() == 0
    page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    with page.expect_navigation():
        page.get_by_role("button", name="切换").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Track your service").count() == 1
    page.context.close()
