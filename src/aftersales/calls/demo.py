"""Demo data of the phone system and the fax and e-mail inbox: the demo phone system (with a fixed
token and secret, so `aftersales cti simulate --demo` can ring the desk of `make run`), the hotline's
extensions (their employee numbers), this morning's calls, and two messages waiting in the inbox."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from aftersales.calls import services, simulate
from aftersales.calls.management.commands.cti import DEMO_SECRET, DEMO_TOKEN

SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def build(*, network) -> None:
    from aftersales.inbox.services import Incoming, draft_from_message
    from aftersales.registry.models import CustomerPhone

    system, _token, _secret = services.phone_system_create(
        name="演示电话系统 (Asterisk)", organization_id=network.service_center.pk, token=DEMO_TOKEN, secret=DEMO_SECRET)
    seated = []
    for username in ("agent", "coordinator", "hotline", "supervisor"):
        user = network.users.get(username)
        if user is not None and user.employee_no:
            services.extension_set(user=user, extension=user.employee_no)
            seated.append(user.employee_no)
    # This morning's calls (or yesterday's, before 9 o'clock), recorded through the same service.
    now = timezone.now()
    today = timezone.localdate()
    start = datetime.combine(today if now.astimezone(SHANGHAI).hour >= 9 else today - timedelta(days=1),
                             time(8), SHANGHAI)
    known = [n.removeprefix("+86") for n in CustomerPhone.objects.order_by("id").values_list("number", flat=True)[:60]]
    planned = simulate.plan_day(calls=40, extensions=seated[:1] or ["8001"], known_numbers=known, seed=2026,
                                transfer_to=seated[2] if len(seated) > 2 else "")
    for p in planned:
        at = start + timedelta(seconds=p.offset / 4)  # the day's first hours
        if at >= now:
            break
        services.call_event_record(system=system, event={**p.event, "at": at})
    caller = known[0] if known else "13912345678"
    draft_from_message(Incoming(key="<demo-fax-1@fax.example>", uid="", sender="fax-gateway@fax.example",
                                sender_name="传真网关", subject=f"传真 来自 {caller}", text="", sent_at=None,
                                size=len(PDF), files=[("fax-page-1.pdf", PDF)]))
    draft_from_message(Incoming(key="<demo-mail-1@example.com>", uid="", sender="wang.farm@example.com",
                                sender_name="王师傅", subject="收割机割台堵塞，请派人维修",
                                text="你好，我家的收割机割台一直堵，机器停在地里了。电话 13655556666。", sent_at=None,
                                size=200, files=[]))
