"""The README's screenshots of every workbench, taken from the demo that `make run` serves.

    make run &                                   # the demo (aftersales demo --seed 2026), port 8000
    .venv/bin/python bench/screenshots.py --base http://127.0.0.1:8000

Run with the same DATABASE_URL / AFTERSALES_VAR_DIR as the server: the script reads the database
only to choose the orders to show and the SMS code the customer portal sends (the demo's outbox,
as tests/portal does). Each page is opened as its role would open it (the login form, the
customer's SMS link, the portal's SMS code) in Debian's Chromium through Playwright, in Chinese,
on an office screen or a phone, and saved under docs/screenshots/. The signature pad
(5-signature-phone.png) is drawn by tests/web/test_browser.py with SCREENSHOTS=1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
OFFICE = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PASSWORD = "demo1234"


def choose() -> dict:
    """The demo's orders and customer the pictures show (the same on every run of the same seed)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    import django

    django.setup()
    from aftersales.knowledge.models import Article
    from aftersales.service.models import ServiceOrder

    orders = ServiceOrder.objects.exclude(tracking_token=None).order_by("pk")
    dispatch = orders.filter(status="awaiting_dispatch").first()
    completed = orders.filter(status="completed", order_type="repair").first()
    closed = orders.filter(status="closed", order_type="repair").first()
    customer = completed.customer
    article = Article.objects.filter(status="published").order_by("pk").first()
    return {"dispatch": dispatch.pk, "token": completed.tracking_token, "closed": closed.pk,
            "customer": customer.pk, "phone": completed.contact_phone, "article": article.pk if article else None}


def sent_code(phone: str) -> str:
    from aftersales.notify.models import OutboxMessage

    return OutboxMessage.objects.filter(template="portal_code", recipient=phone).latest("id").context["code"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", default="", help="comma-separated picture names")
    args = parser.parse_args(argv)
    picked = choose()
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the portal's code is read while Playwright runs
    from playwright.sync_api import sync_playwright

    # (picture, who, path, viewport): who is a demo username, "customer" (the portal's SMS code) or
    # None (the tracking link from the SMS, no account).
    shots = [
        ("1-call-desk", "agent", f"/desk/?customer={picked['customer']}", OFFICE),
        ("2-queue", "coordinator", "/queue/", OFFICE),
        ("3-order-dispatch", "dispatcher", f"/orders/{picked['dispatch']}/", OFFICE),
        ("4-technician-phone", "tech_sd", "/tech/", PHONE),
        ("6-customer-tracking", None, f"/t/{picked['token']}", PHONE),
        ("7-supervisor", "supervisor", "/supervisor/", OFFICE),
        ("8-print-service-record", "agent", f"/orders/{picked['closed']}/print/", OFFICE),
        ("10-stats-dashboard", "supervisor", "/stats/", OFFICE),
        ("11-technical-centre-queue", "engineer", "/quality/", OFFICE),
        ("12-parts-van-phone", "tech_sd", "/parts/van/", PHONE),
        ("13-customer-portal-phone", "customer", "/m/", PHONE),
    ]
    if picked["article"]:
        shots.append(("9-knowledge-article-phone", "tech_sd", f"/knowledge/{picked['article']}/", PHONE))
    only = {n for n in args.only.split(",") if n}
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        for name, who, path, viewport in shots:
            if only and name not in only:
                continue
            context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE)
            page = context.new_page()
            page.set_default_timeout(60_000)
            if who == "customer":
                page.goto(f"{args.base}/m/login/")
                page.fill("input[name=phone]", picked["phone"])
                with page.expect_navigation():
                    page.click("main button[type=submit]")
                page.fill("input[name=code]", sent_code(picked["phone"]))
                with page.expect_navigation():
                    page.locator("main form button[type=submit]").first.click()
            elif who:
                page.goto(f"{args.base}/login/")
                page.fill("input[name=username]", who)
                page.fill("input[name=password]", PASSWORD)
                with page.expect_navigation():
                    page.click("main button[type=submit]")
            response = page.goto(args.base + path)
            page.wait_for_load_state("networkidle")
            if response is None or response.status != 200 or "/login/" in page.url:
                failed.append(f"{name}: HTTP {response.status if response else '?'} at {page.url}")
            page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
            print(f"{name}: {page.url}", flush=True)
            context.close()
        browser.close()
    for line in failed:
        print("FAILED", line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
