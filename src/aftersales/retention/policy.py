"""The retention policy as code: one rule per kind of data, how long it is kept and what happens
after (docs/deploy.md "Retention" states the same table and the reasons).

Each rule names the rows past their time (``candidates``, a queryset of ids in id order) and what
is done to one batch of them (``apply``, inside the batch's transaction). A rule whose period is 0
is switched off (kept forever). Rules are idempotent: a row they have handled is no longer a
candidate (deleted, or anonymised and so excluded), so a purge cut short resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

ANONYMOUS_NAME = "已匿名"  # what an anonymised customer is called on every page (a name, so not translated)
ANONYMISE = "anonymise"  # the order event's action (web.actions labels it)
FINAL = ("closed", "cancelled")


@dataclass(frozen=True)
class Rule:
    name: str
    label: object  # lazy translation
    action: str  # "delete" or "anonymise"
    days: Callable[[], int]
    candidates: Callable[[datetime], QuerySet]  # cutoff -> ids past their time
    apply: Callable[[list[int], dict], int]  # (ids, context) -> rows handled


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def cutoff(rule: Rule, now: datetime) -> datetime | None:
    days = rule.days()
    if days <= 0:
        return None
    if rule.name == "sessions":
        return now
    if rule.name in ("orders", "customers", "calls"):
        return years_before(now, settings.RETENTION_YEARS)
    return now - timedelta(days=days)


# --- candidates ----------------------------------------------------------------------------------

def _orders(cut: datetime) -> QuerySet:
    from aftersales.service.models import ServiceOrder

    # created_at < cut is implied by closed_at < cut and lets the (status, created_at, id) index narrow
    # the scan on a large archive; contact_phone = "" marks an order already anonymised.
    return (ServiceOrder.objects.filter(status__in=FINAL, created_at__lt=cut, closed_at__lt=cut)
            .exclude(contact_phone="").order_by("pk").values_list("pk", flat=True))


def _customers(cut: datetime) -> QuerySet:
    from aftersales.registry.models import Customer, Machine
    from aftersales.service.models import ServiceOrder

    # Kept while any of their orders is kept (open, or closed within the period) or any of their
    # machines changed within it (a warranty registration, a new owner).
    kept_order = ServiceOrder.objects.filter(customer=OuterRef("pk")).filter(
        ~Q(status__in=FINAL) | Q(closed_at__isnull=True) | Q(closed_at__gte=cut))
    recent_machine = Machine.objects.filter(owner=OuterRef("pk"), updated_at__gte=cut)
    return (Customer.objects.filter(updated_at__lt=cut).exclude(name=ANONYMOUS_NAME)
            .exclude(Exists(kept_order)).exclude(Exists(recent_machine))
            .order_by("pk").values_list("pk", flat=True))


def _deleting(model_path: str, field: str, **extra) -> Callable[[datetime], QuerySet]:
    def candidates(cut: datetime) -> QuerySet:
        from django.apps import apps

        model = apps.get_model(model_path)
        return model.objects.filter(**{f"{field}__lt": cut}, **extra).order_by("pk").values_list("pk", flat=True)

    return candidates


def _calls(cut: datetime) -> QuerySet:
    from aftersales.calls.models import Call

    # caller = "" marks a call already anonymised.
    return Call.objects.filter(created_at__lt=cut).exclude(caller="").order_by("pk").values_list("pk", flat=True)


def _drafts(cut: datetime) -> QuerySet:
    from aftersales.inbox.models import DraftState, IntakeDraft

    # A draft still to handle is never removed: a message nobody answered is a customer waiting.
    return (IntakeDraft.objects.filter(received_at__lt=cut).exclude(state=DraftState.DRAFT)
            .order_by("pk").values_list("pk", flat=True))


def _sessions(cut: datetime) -> QuerySet:
    from django.contrib.sessions.models import Session

    # Expired is the only test: the cutoff is "now" for sessions (a session past its expiry opens nothing).
    return Session.objects.filter(expire_date__lt=cut).order_by("pk").values_list("pk", flat=True)


# --- what is done to a batch ---------------------------------------------------------------------

def _delete(model_path: str) -> Callable[[list, dict], int]:
    def apply(ids: list, context: dict) -> int:
        from django.apps import apps

        return apps.get_model(model_path).objects.filter(pk__in=ids).delete()[0]

    return apply


def _delete_exports(ids: list, context: dict) -> int:
    from aftersales.exports.models import ExportFile

    files = ExportFile.objects.filter(pk__in=ids)
    root = Path(settings.VAR_DIR) / "exports"
    for token in files.values_list("token", flat=True):
        # The workbook holds what the page showed (names, maybe numbers): it goes with its row.
        (root / f"{token}.xlsx").unlink(missing_ok=True)
    return files.delete()[0]


def _anonymise_calls(ids: list, context: dict) -> int:
    from aftersales.calls.models import Call, CallbackTask, CallEvent

    # The call's times, agent, queue, customer and order stay (the call log and the agents' figures);
    # the number, the recording's reference and the phone system's raw payloads (which repeat the
    # number) go, and so does the number of the callback made for it.
    CallEvent.objects.filter(call_id__in=ids).update(data={})
    CallbackTask.objects.filter(call_id__in=ids).update(number="")
    return Call.objects.filter(pk__in=ids).exclude(caller="").update(caller="", recording="")


def _delete_drafts(ids: list, context: dict) -> int:
    from aftersales.inbox.models import DraftAttachment, IntakeDraft

    # Files first: a row deleted while its file stayed would leave the sender's fax on disk for good.
    # A completed draft's files were copied to its order, which keeps them as the repair record.
    for attachment in DraftAttachment.objects.filter(draft_id__in=ids):
        attachment.file.delete(save=False)
    return IntakeDraft.objects.filter(pk__in=ids).delete()[1].get(IntakeDraft._meta.label, 0)


def _anonymise_orders(ids: list, context: dict) -> int:
    from aftersales.service import hooks
    from aftersales.service.models import OrderEvent, ServiceOrder

    done = 0
    # Locked, and checked again under the lock: an order reopened meanwhile is skipped.
    for order in ServiceOrder.objects.select_for_update().filter(pk__in=ids, status__in=FINAL).exclude(contact_phone=""):
        order.contact_name = ""
        order.contact_phone = ""
        order.field_location = ""
        order.confirmed_by_name = ""
        order.confirmation_code_hash = ""
        order.tracking_token = None  # the customer's tracking link stops working
        order.event_seq += 1
        order.save(update_fields=["contact_name", "contact_phone", "field_location", "confirmed_by_name",
                                  "confirmation_code_hash", "tracking_token", "event_seq", "updated_at"])
        event = OrderEvent.objects.create(
            order=order, seq=order.event_seq, at=context["now"], actor=None, action=ANONYMISE,
            from_status=order.status, to_status=order.status,
            data={"retention_years": settings.RETENTION_YEARS, "run": context["run_id"]})
        hooks.order_changed(order, [event])  # the search index forgets the number and the place
        done += 1
    return done


def _anonymise_customers(ids: list, context: dict) -> int:
    from aftersales.registry import hooks
    from aftersales.registry.models import Customer, CustomerPhone

    done = 0
    for customer in Customer.objects.select_for_update().filter(pk__in=ids).exclude(name=ANONYMOUS_NAME):
        # Region (province to county) stays: it is what the statistics group by, not a person.
        customer.name = ANONYMOUS_NAME
        customer.township = customer.village = customer.address = customer.notes = ""
        customer.save(update_fields=["name", "township", "village", "address", "notes", "updated_at"])
        CustomerPhone.objects.filter(customer=customer).delete()
        hooks.customer_changed(customer)
        done += 1
    return done


def _setting(name: str) -> Callable[[], int]:
    return lambda: getattr(settings, name)


RULES: tuple[Rule, ...] = (
    Rule("orders", _("Closed and cancelled orders: contact person, phone, field location, tracking link"),
         ANONYMISE, lambda: settings.RETENTION_YEARS * 365, _orders, _anonymise_orders),
    Rule("customers", _("Customers with nothing kept: name, address, phone numbers"),
         ANONYMISE, lambda: settings.RETENTION_YEARS * 365, _customers, _anonymise_customers),
    Rule("phone_reveals", _("Log of full phone numbers shown to partners"), "delete",
         _setting("RETENTION_REVEAL_DAYS"), _deleting("registry.PhoneReveal", "at"), _delete("registry.PhoneReveal")),
    Rule("outbox_messages", _("Delivered and abandoned SMS, e-mail and webhook messages"), "delete",
         _setting("RETENTION_OUTBOX_DAYS"), _deleting("notify.OutboxMessage", "created_at", status__in=("sent", "dead")),
         _delete("notify.OutboxMessage")),
    Rule("idempotency_keys", _("Keys that make a retried order intake safe"), "delete",
         _setting("RETENTION_IDEMPOTENCY_DAYS"), _deleting("service.IdempotencyKey", "created_at"),
         _delete("service.IdempotencyKey")),
    Rule("login_codes", _("SMS login codes of the customer portal"), "delete",
         _setting("RETENTION_LOGIN_CODE_DAYS"), _deleting("portal.LoginCode", "created_at"), _delete("portal.LoginCode")),
    Rule("exports", _("Exported workbooks and their requests"), "delete",
         _setting("RETENTION_EXPORT_DAYS"), _deleting("exports.ExportFile", "created_at"), _delete_exports),
    Rule("calls", _("Phone-system calls: caller number, recording reference, raw events"), ANONYMISE,
         lambda: settings.RETENTION_YEARS * 365, _calls, _anonymise_calls),
    Rule("mail_drafts", _("Handled fax and e-mail messages of the intake inbox, with their files"), "delete",
         _setting("RETENTION_DRAFT_DAYS"), _drafts, _delete_drafts),
    Rule("notifications", _("In-app notices of the staff's inbox"), "delete",
         _setting("RETENTION_NOTIFICATION_DAYS"), _deleting("notify.Notification", "created_at"),
         _delete("notify.Notification")),
    # Expired sessions: "days" is only on/off here, the cutoff is their own expiry (see cutoff()).
    Rule("sessions", _("Expired sign-in sessions"), "delete", lambda: 1, _sessions, _delete("sessions.Session")),
)
