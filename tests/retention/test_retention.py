"""Retention (issue 19, docs/deploy.md "Retention"): `aftersales retention purge` counts what is past
its time, and with --apply anonymises the orders and customers kept past six years and deletes the
short-lived rows (SMS codes, sessions, idempotency keys, delivered messages, reveal log, exports), in
batches, once (a second run finds nothing), with a record of what it did. The worker runs it daily.

The orders are taken through the API as the hotline does; "seven years ago" is then written onto
their timestamps (the one thing a test cannot wait for)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from aftersales.exports.services import export_request
from aftersales.knowledge.selectors import search
from aftersales.notify.models import OutboxMessage, OutboxStatus
from aftersales.notify.services import outbox_enqueue
from aftersales.portal.models import LoginCode
from aftersales.portal.services import login_code_send
from aftersales.registry.models import Customer, CustomerPhone, PhoneReveal
from aftersales.registry.reveals import phone_reveal_record
from aftersales.retention.models import RetentionRun
from aftersales.retention.policy import ANONYMOUS_NAME
from aftersales.retention.services import retention_purge, retention_purge_if_due
from aftersales.service.models import IdempotencyKey, OrderEvent, ServiceOrder
from tests.service.helpers import Actor, create, repair_body, shandong_farmer
from tests.support import make_customer, make_machine

YEARS_AGO_7 = timedelta(days=7 * 365 + 2)


def age(model, pks, *, by: timedelta, **fields) -> None:
    """Time passes for these rows: every named timestamp moves ``by`` into the past."""
    for obj in model.objects.filter(pk__in=pks):
        model.objects.filter(pk=obj.pk).update(**{f: getattr(obj, f) - by for f in fields})


def cancelled_order(api, net, customer, machine, symptom: str, key: str) -> int:
    status, order = create(api, net, repair_body(customer, machine, symptom=symptom, duplicate_reason="测试"),
                           HTTP_IDEMPOTENCY_KEY=key)
    assert status == 201, order
    Actor(api, net, net.agent).ok(order["id"], "cancel", reason="客户自行修好")
    return order["id"]


def world(api, net):
    """An old customer (every order closed seven years ago), a current one (an order this year), and
    the short-lived rows of both ages."""
    old_owner, old_machine = shandong_farmer(phone="13912340001", serial="LX904-OLD-0001")
    new_owner, new_machine = shandong_farmer(phone="13912340002", serial="LX904-NEW-0001")
    old_orders = [cancelled_order(api, net, old_owner, old_machine, f"老单 拖拉机漏油 {i}", f"old-{i}") for i in range(3)]
    new_order = cancelled_order(api, net, new_owner, new_machine, "新单 拖拉机漏油", "new-0")
    open_status, open_order = create(api, net, repair_body(new_owner, new_machine, symptom="未结单 拖拉机不着车",
                                                           duplicate_reason="测试"))
    assert open_status == 201
    age(ServiceOrder, old_orders, by=YEARS_AGO_7, created_at=1, updated_at=1, closed_at=1)
    age(Customer, [old_owner.pk], by=YEARS_AGO_7, created_at=1, updated_at=1)
    old_machine.__class__.objects.filter(pk=old_machine.pk).update(updated_at=timezone.now() - YEARS_AGO_7)
    # An open order seven years old (a forgotten one) is kept: only closed and cancelled orders age out.
    age(ServiceOrder, [open_order["id"]], by=YEARS_AGO_7, created_at=1)

    login_code_send(phone="13912340001", client="203.0.113.9")
    login_code_send(phone="13912340002", client="203.0.113.9")
    codes = list(LoginCode.objects.order_by("pk").values_list("pk", flat=True))
    age(LoginCode, codes[:1], by=timedelta(days=31), created_at=1, expires_at=1)
    age(IdempotencyKey, list(IdempotencyKey.objects.filter(key__startswith="old-").values_list("pk", flat=True)),
        by=timedelta(days=31), created_at=1)
    with transaction.atomic():
        sent = outbox_enqueue(channel="sms", recipient="+8613912340001", template="order_created", webhooks=False)
        pending = outbox_enqueue(channel="sms", recipient="+8613912340001", template="order_created", webhooks=False)
    OutboxMessage.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT, created_at=timezone.now() - timedelta(days=181))
    OutboxMessage.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(days=181))
    with transaction.atomic():
        phone_reveal_record(user=net.agency_tech, customer=old_owner, reason="registered", where="test")
        phone_reveal_record(user=net.agency_tech, customer=new_owner, reason="registered", where="test")
    reveals = list(PhoneReveal.objects.order_by("pk").values_list("pk", flat=True))
    age(PhoneReveal, reveals[:1], by=timedelta(days=3 * 365 + 1), at=1)
    with transaction.atomic():
        old_export = export_request(user=net.supervisor, path="/queue/")
    exports = Path(settings.VAR_DIR) / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    workbook = exports / f"{old_export.token}.xlsx"
    workbook.write_bytes(b"PK old workbook")
    age(old_export.__class__, [old_export.pk], by=timedelta(days=8), created_at=1)
    expired, live = SessionStore(), SessionStore()
    expired.create()
    live.create()
    expired.model.objects.filter(pk=expired.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    return {"old_owner": old_owner, "new_owner": new_owner, "old_orders": old_orders, "new_order": new_order,
            "open_order": open_order["id"], "sent": sent.pk, "pending": pending.pk, "codes": codes,
            "reveals": reveals, "export": old_export, "workbook": workbook, "sessions": (expired, live)}


EXPECTED = {"orders": 3, "customers": 1, "phone_reveals": 1, "outbox_messages": 1, "idempotency_keys": 3,
            "login_codes": 1, "exports": 1, "sessions": 1, "calls": 0, "mail_drafts": 0,
            "notifications": 0}


def test_the_dry_run_counts_and_changes_nothing_then_apply_purges_once_with_a_record(net, api):
    w = world(api, net)
    before = {"orders": list(ServiceOrder.objects.order_by("pk").values_list("pk", "contact_phone", "event_seq")),
              "phones": CustomerPhone.objects.count(), "codes": LoginCode.objects.count()}

    # Before: the old number finds the old orders (so "finds nothing" below means something).
    assert len(search(net.supervisor, "13912340001", kinds=["order"])["order"]) == 3

    out = io.StringIO()
    call_command("retention", "purge", stdout=out)
    text = out.getvalue()
    assert "dry run" in text
    for rule, count in EXPECTED.items():
        assert any(line.split()[:3] == [rule, line.split()[1], str(count)] for line in text.splitlines()), (rule, text)
    assert list(ServiceOrder.objects.order_by("pk").values_list("pk", "contact_phone", "event_seq")) == before["orders"]
    assert CustomerPhone.objects.count() == before["phones"] and LoginCode.objects.count() == before["codes"]
    assert not RetentionRun.objects.exists()
    assert w["workbook"].exists()

    out = io.StringIO()
    call_command("retention", "purge", "--apply", "--batch", "2", stdout=out)  # batches of 2: several per rule
    run = RetentionRun.objects.get()
    assert run.counts == EXPECTED and run.finished_at is not None
    assert run.policy["retention_years"] == 6 and run.policy["login_codes"]["days"] == 30

    # The old orders: still there and countable, the repair facts kept, the person gone, the step on the timeline.
    for oid in w["old_orders"]:
        order = ServiceOrder.objects.get(pk=oid)
        assert order.contact_phone == "" and order.contact_name == "" and order.field_location == ""
        assert order.tracking_token is None and order.status == "cancelled"
        assert order.symptom.startswith("老单 拖拉机漏油") and order.machine_id is not None
        last = OrderEvent.objects.filter(order_id=oid).order_by("-seq").first()
        assert last.action == "anonymise" and last.seq == order.event_seq and last.data["run"] == run.pk
    # The recent, the open and the forgotten-open orders keep everything.
    for oid in (w["new_order"], w["open_order"]):
        assert ServiceOrder.objects.get(pk=oid).contact_phone == "+8613912340002"
    old_owner = Customer.objects.get(pk=w["old_owner"].pk)
    assert old_owner.name == ANONYMOUS_NAME and old_owner.address == "" and old_owner.province == "山东省"
    assert not CustomerPhone.objects.filter(customer=old_owner).exists()
    assert Customer.objects.get(pk=w["new_owner"].pk).name == "刘大壮"
    # Search by the old number or name finds neither the orders nor the customer any more.
    found = search(net.supervisor, "13912340001", kinds=["order", "customer"])
    assert not any(found.values()), found
    assert search(net.supervisor, "13912340002", kinds=["order"])["order"]

    # The short-lived rows: the old ones gone, the recent ones kept.
    assert list(LoginCode.objects.values_list("pk", flat=True)) == w["codes"][1:]
    assert list(PhoneReveal.objects.values_list("pk", flat=True)) == w["reveals"][1:]
    assert not OutboxMessage.objects.filter(pk=w["sent"]).exists()
    assert OutboxMessage.objects.filter(pk=w["pending"]).exists()  # never delivered: kept, whatever its age
    assert not IdempotencyKey.objects.filter(key__startswith="old-").exists()
    assert IdempotencyKey.objects.filter(key="new-0").exists()
    assert not w["workbook"].exists() and not w["export"].__class__.objects.filter(pk=w["export"].pk).exists()
    expired, live = w["sessions"]
    assert not expired.exists(expired.session_key) and live.exists(live.session_key)

    # Again: nothing left to do, and the record says so.
    again = retention_purge(apply=True, actor="test")
    assert set(again.counts.values()) == {0}
    out = io.StringIO()
    call_command("retention", "runs", stdout=out)
    runs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["counts"] for r in runs] == [{k: 0 for k in EXPECTED}, EXPECTED]


def test_the_old_order_page_shows_the_anonymisation_on_its_timeline(net, api, client):
    owner, machine = shandong_farmer(phone="13912340003", serial="LX904-OLD-0003")
    oid = cancelled_order(api, net, owner, machine, "老单 液压无力", "page-0")
    age(ServiceOrder, [oid], by=YEARS_AGO_7, created_at=1, updated_at=1, closed_at=1)
    retention_purge(apply=True, actor="test", only=["orders"])
    client.force_login(net.supervisor)
    page = client.get(f"/orders/{oid}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "保存期满，个人信息已删除" in page
    assert "13912340003" not in page and "139 1234 0003" not in page


@override_settings(RETENTION_YEARS=0, RETENTION_LOGIN_CODE_DAYS=0)
def test_a_period_of_zero_keeps_forever(net, api):
    owner, machine = shandong_farmer(phone="13912340004", serial="LX904-OLD-0004")
    oid = cancelled_order(api, net, owner, machine, "老单 水箱漏水", "zero-0")
    age(ServiceOrder, [oid], by=YEARS_AGO_7 * 3, created_at=1, updated_at=1, closed_at=1)
    login_code_send(phone="13912340004", client="203.0.113.9")
    age(LoginCode, list(LoginCode.objects.values_list("pk", flat=True)), by=timedelta(days=400), created_at=1, expires_at=1)
    result = retention_purge(apply=True, actor="test")
    assert result.counts["orders"] == result.counts["customers"] == result.counts["login_codes"] == 0
    assert result.cutoffs["orders"] is None
    assert ServiceOrder.objects.get(pk=oid).contact_phone == "+8613912340004" and LoginCode.objects.exists()


def test_the_worker_purges_once_a_day(net):
    customer = make_customer("王老五", "13912340005", province="山东省", city="潍坊市", county="寿光市")
    make_machine("LX904-OLD-0005", customer)
    login_code_send(phone="13912340005", client="203.0.113.9")
    age(LoginCode, list(LoginCode.objects.values_list("pk", flat=True)), by=timedelta(days=40), created_at=1, expires_at=1)
    now = timezone.now()
    first = retention_purge_if_due(now=now)
    assert first is not None and first.counts["login_codes"] == 1 and first.run.actor == "worker"
    assert retention_purge_if_due(now=now + timedelta(hours=23)) is None
    assert retention_purge_if_due(now=now + timedelta(hours=25)) is not None
    with override_settings(RETENTION_PURGE_DAILY=False):
        assert retention_purge_if_due(now=now + timedelta(days=3)) is None
    assert RetentionRun.objects.filter(actor="worker").count() == 2
    # The worker's loop queues it with the others (sla/management/commands/worker.py).
    from aftersales.sla.management.commands.worker import schedule_periodic
    from django_tasks_db.models import DBTaskResult

    schedule_periodic()
    assert DBTaskResult.objects.filter(task_path="aftersales.retention.tasks.purge_expired").exists()


def test_an_unknown_rule_is_refused_by_name(net):
    import pytest
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="orderz"):
        call_command("retention", "purge", "--only", "orderz")


def test_the_policy_table_in_the_deploy_guide_is_the_policy_the_code_applies():
    import re

    from aftersales.retention.policy import RULES, cutoff

    doc = (Path(__file__).resolve().parents[2] / "docs/deploy.md").read_text()
    section = doc[doc.index("## Retention"):]
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)` \|.*$", section, flags=re.M)}
    assert set(rows) == {r.name for r in RULES}
    now = timezone.now()
    for rule in RULES:
        row = rows[rule.name]
        assert ("anonymised" in row) == (rule.action == "anonymise"), rule.name
        env = re.search(r"`AFTERSALES_(RETENTION_\w+)`(?: \((\d+)\))?", row)
        if rule.name == "sessions":
            assert env is None and cutoff(rule, now) == now
            continue
        setting, default = env.group(1), env.group(2)
        if default:  # the number in the table is the default the settings read
            assert getattr(settings, setting) == int(default) == rule.days(), rule.name
        else:
            assert setting == "RETENTION_YEARS" and rule.days() == settings.RETENTION_YEARS * 365


def test_calls_drafts_and_notices_age_out_numbers_and_files_go_the_rest_stays(net, api, tmp_path):
    """The phone system's calls keep their times and agent after six years but lose the number, the
    recording and the raw events; handled inbox messages go with their files after a year, a message
    still to handle never; the staff's notices go after a year."""
    from django.core.files.base import ContentFile

    from aftersales.calls import services as calls
    from aftersales.calls.models import Call, CallbackTask, CallEvent
    from aftersales.inbox.models import DraftAttachment, DraftState, IntakeDraft
    from aftersales.notify.inbox import inbox_add_many
    from aftersales.notify.models import Notification

    system, _token, _secret = calls.phone_system_create(name="Asterisk", organization_id=net.service_center.pk)
    start = timezone.now() - timedelta(minutes=3)
    for i, number in enumerate(("13700001111", "13700002222")):
        for kind, at in (("ringing", start), ("ended", start + timedelta(seconds=40))):
            calls.call_event_record(system=system, event={
                "event_id": f"e{i}{kind}", "call_id": f"c{i}", "kind": kind, "caller": number, "extension": "",
                "at": at, "recording": f"rec/{i}.wav"})
    old_call, new_call = Call.objects.order_by("pk")
    age(Call, [old_call.pk], by=YEARS_AGO_7, created_at=1)
    assert CallbackTask.objects.filter(call=old_call).get().number == "+8613700001111"  # abandoned: a callback

    drafts = {}
    for name, state in (("old_done", DraftState.COMPLETED), ("old_open", DraftState.DRAFT), ("new_done", DraftState.DISCARDED)):
        draft = IntakeDraft.objects.create(message_key=name, state=state, sender=f"{name}@example.com", body="传真 报修")
        row = DraftAttachment(draft=draft, token=name, content_type="image/png", extension=".png", size=4)
        row.file.save("upload", ContentFile(b"\x89PNG"), save=False)
        row.save()
        drafts[name] = (draft, Path(row.file.path))
    age(IntakeDraft, [drafts["old_done"][0].pk, drafts["old_open"][0].pk], by=timedelta(days=366), received_at=1)
    with transaction.atomic():
        old_note, new_note = inbox_add_many([(net.agent.pk, None, "order_created", {"number": "FW-1"}),
                                              (net.supervisor.pk, None, "order_created", {"number": "FW-1"})])
    age(Notification, [old_note.pk], by=timedelta(days=366), created_at=1)

    only = ["calls", "mail_drafts", "notifications"]
    assert retention_purge(only=only).counts == {"calls": 1, "mail_drafts": 1, "notifications": 1}
    assert retention_purge(apply=True, only=only).counts == {"calls": 1, "mail_drafts": 1, "notifications": 1}

    old_call.refresh_from_db()
    assert old_call.caller == "" and old_call.recording == "" and old_call.rang_at is not None
    assert old_call.outcome == "abandoned" and old_call.system_id == system.pk
    assert all(e.data == {} for e in CallEvent.objects.filter(call=old_call)) and CallEvent.objects.filter(call=old_call).count() == 2
    assert CallbackTask.objects.get(call=old_call).number == ""
    new_call.refresh_from_db()
    assert new_call.caller == "+8613700002222" and CallbackTask.objects.get(call=new_call).number == "+8613700002222"
    assert any(e.data for e in CallEvent.objects.filter(call=new_call))

    assert not IntakeDraft.objects.filter(message_key="old_done").exists() and not drafts["old_done"][1].exists()
    assert IntakeDraft.objects.filter(message_key="old_open").exists() and drafts["old_open"][1].exists()
    assert IntakeDraft.objects.filter(message_key="new_done").exists() and drafts["new_done"][1].exists()
    assert list(Notification.objects.values_list("pk", flat=True)) == [new_note.pk]
    # Once: a second run finds nothing left.
    assert retention_purge(apply=True, only=only).counts == {"calls": 0, "mail_drafts": 0, "notifications": 0}
