"""Every write of the fax and e-mail inbox: taking messages from IMAP into drafts (each exactly once),
completing a draft into an order (channel fax or email; the sender is told the order number through
the outbox) and discarding one."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.inbox.models import DraftAttachment, DraftKind, DraftState, IntakeDraft

logger = logging.getLogger("aftersales.inbox")
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
BODY_MAX = 20_000
_TIFF = (b"II*\x00", b"MM\x00*")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d[- ]?\d{4}[- ]?\d{4}|0\d{2,3}[- ]?\d{7,8})(?!\d)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_UID = re.compile(rb"UID (\d+)")


def sniff(head: bytes) -> tuple[str, str] | None:
    """What a file is, from its first bytes: the order attachments' types, and TIFF (fax pages)."""
    from aftersales.service.services.attachments import sniff_content_type

    if head[:4] in _TIFF:
        return "image/tiff", ".tif"
    return sniff_content_type(head)


def _match(text: str, sender: str):
    """The phone numbers in the sender's address, subject or text: the first that is a customer's
    (with the customer), else the first valid one (a new caller's)."""
    from aftersales.core.phones import normalize_phone
    from aftersales.registry.models import CustomerPhone

    numbers = []
    for found in _PHONE.finditer(f"{sender} {text}"):
        try:
            number = normalize_phone(found.group(0))
        except ValidationFailed:
            continue
        if number not in numbers:
            numbers.append(number)
        if len(numbers) >= 10:
            break
    if not numbers:
        return "", None
    phones = {p.number: p.customer for p in CustomerPhone.objects.filter(number__in=numbers).select_related("customer")}
    for number in numbers:
        if number in phones:
            return number, phones[number]
    return numbers[0], None


@dataclass
class Incoming:
    """A message as the reader hands it over (already within the size limit)."""

    key: str
    uid: str
    sender: str
    sender_name: str
    subject: str
    text: str
    sent_at: object
    size: int
    files: list[tuple[str, bytes]]


def draft_from_message(msg: Incoming) -> IntakeDraft | None:
    """Store one message as a draft; None if it was stored before (by this or another worker)."""
    files = []
    for name, payload in msg.files[:MAX_ATTACHMENTS]:
        kind = sniff(payload[:16])
        if kind is None or len(payload) > MAX_ATTACHMENT_BYTES or not payload:
            continue  # not a type we keep (or too large): the text says what was sent
        files.append((name, payload, kind))
    has_fax_pages = any(k[0] in ("image/tiff", "application/pdf") for _n, _p, k in files)
    marked_fax = "fax" in f"{msg.sender} {msg.subject}".lower() or "传真" in msg.subject
    kind = DraftKind.FAX if has_fax_pages and (marked_fax or not msg.text.strip()) else DraftKind.EMAIL
    phone, customer = _match(f"{msg.subject} {msg.text[:4000]}", msg.sender)
    try:
        with transaction.atomic():
            draft = IntakeDraft.objects.create(
                message_key=msg.key[:255], uid=msg.uid[:40], kind=kind, sender=msg.sender[:254],
                sender_name=msg.sender_name[:100], subject=msg.subject[:300], body=msg.text[:BODY_MAX],
                size=msg.size, sent_at=msg.sent_at, customer=customer, phone=phone)
            for name, payload, (content_type, extension) in files:
                row = DraftAttachment(draft=draft, token=uuid.uuid4().hex, original_name=name[:200],
                                      content_type=content_type, extension=extension, size=len(payload))
                row.file.save("upload", ContentFile(payload), save=False)
                row.save()
    except IntegrityError:
        return None  # another worker took it first
    return draft


def draft_refused(*, key: str, uid: str, size: int, sender: str = "") -> IntakeDraft | None:
    """A message over the size limit: recorded (so it is taken once and an agent sees it came), unread."""
    try:
        with transaction.atomic():
            return IntakeDraft.objects.create(message_key=key[:255], uid=uid[:40], state=DraftState.REFUSED,
                                              size=size, sender=sender[:254],
                                              note=_("Larger than %(mb)s MB; not read.") % {
                                                  "mb": settings.INBOX_MAX_BYTES // (1024 * 1024)})
    except IntegrityError:
        return None


def inbox_poll(*, mailbox=None) -> dict:
    """Read the unseen messages of the configured IMAP folder into drafts. Sizes are asked first
    (RFC822.SIZE): a message over AFTERSALES_INBOX_MAX_BYTES is never fetched or parsed. Each message
    is fetched with BODY.PEEK (not marked read), stored (unique key), then flagged \\Seen: a second
    worker that read it meanwhile finds the key taken and stores nothing."""
    from imap_tools import AND, MailBox, MailBoxUnencrypted

    if mailbox is None and not settings.INBOX_HOST:
        return {"configured": False}
    counts = {"stored": 0, "refused": 0, "skipped": 0}
    own = mailbox is None
    if own:
        cls = MailBox if settings.INBOX_SSL else MailBoxUnencrypted
        mailbox = cls(settings.INBOX_HOST, port=settings.INBOX_PORT, timeout=30).login(
            settings.INBOX_USER, settings.INBOX_PASSWORD, initial_folder=settings.INBOX_FOLDER)
    try:
        uids = mailbox.uids(AND(seen=False))[: settings.INBOX_BATCH]
        if not uids:
            return counts
        uidvalidity = str(mailbox.folder.status(settings.INBOX_FOLDER, ["UIDVALIDITY"]).get("UIDVALIDITY", ""))
        typ, data = mailbox.client.uid("FETCH", ",".join(uids), "(RFC822.SIZE)")
        sizes = {}
        for item in data or []:
            line = item[0] if isinstance(item, tuple) else item
            if isinstance(line, bytes) and _UID.search(line) and _SIZE.search(line):
                sizes[_UID.search(line).group(1).decode()] = int(_SIZE.search(line).group(1))
        small = []
        for uid in uids:
            size = sizes.get(uid, 0)
            if size > settings.INBOX_MAX_BYTES:
                stored = draft_refused(key=f"uid:{uidvalidity}:{uid}", uid=uid, size=size)
                counts["refused" if stored else "skipped"] += 1
                mailbox.flag([uid], "\\Seen", True)
            else:
                small.append(uid)
        if small:
            for msg in mailbox.fetch(AND(uid=small), mark_seen=False, bulk=False):
                key = (msg.headers.get("message-id", ("",))[0] or "").strip() or f"uid:{uidvalidity}:{msg.uid}"
                incoming = Incoming(
                    key=key, uid=msg.uid or "", sender=msg.from_ or "", sender_name=(msg.from_values.name if msg.from_values else "") or "",
                    subject=msg.subject or "", text=msg.text or _strip_html(msg.html or ""),
                    sent_at=msg.date if msg.date and msg.date.year > 1900 else None, size=sizes.get(msg.uid, 0),
                    files=[(a.filename or "", a.payload) for a in msg.attachments])
                stored = draft_from_message(incoming)
                counts["stored" if stored else "skipped"] += 1
                mailbox.flag([msg.uid], "\\Seen", True)
    finally:
        if own:
            mailbox.logout()
    if counts["stored"] or counts["refused"]:
        logger.info("inbox: %s", counts)
    return counts


def _strip_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _lock(actor, draft_id: int) -> IntakeDraft:
    from aftersales.inbox import selectors

    try:
        draft = selectors.draft_queryset(actor).select_for_update().get(pk=draft_id)
    except IntakeDraft.DoesNotExist:
        raise NotFound(_("Draft not found.")) from None
    if draft.state != DraftState.DRAFT:
        raise Conflict(_("This message was already handled."), code="invalid_transition")
    return draft


@dataclass(frozen=True)
class CompleteInput:
    order_type: str = "repair"
    customer_id: int | None = None
    new_customer_name: str = ""
    phone: str = ""
    machine_id: int | None = None
    symptom: str = ""
    duplicate_reason: str = ""
    # The desk's new-customer address and new-machine fields (registry.services' inputs): an unknown
    # sender's repair needs the machine registered with the order.
    new_customer: object | None = None  # registry.services.CustomerInput
    new_machine: object | None = None  # registry.services.MachineInput


@transaction.atomic
def draft_complete(*, actor, draft_id: int, data: CompleteInput):
    """The draft becomes an order through the intake service (channel fax or email), with its PDF and
    image attachments; the sender is e-mailed the order number through the outbox."""
    from aftersales.notify.services import outbox_enqueue
    from aftersales.registry.services import CustomerInput
    from aftersales.service import services as order_services
    from aftersales.service.models import Channel

    draft = _lock(actor, draft_id)
    new_customer = None
    if data.customer_id is None:
        if data.new_customer is not None and data.new_customer.name.strip() and data.new_customer.phones:
            new_customer = data.new_customer
        elif not data.new_customer_name.strip() or not data.phone.strip():
            raise ValidationFailed(_("Nothing was saved."), fields={
                "customer_id": _("Choose the customer, or give a new customer's name and phone.")})
        else:
            new_customer = CustomerInput(name=data.new_customer_name.strip(), phones=[data.phone.strip()])
    symptom = data.symptom.strip() or f"{draft.subject}\n{draft.body}".strip()[:2000]
    result = order_services.order_create(actor=actor, data=order_services.OrderInput(
        order_type=data.order_type, customer_id=data.customer_id, new_customer=new_customer,
        machine_id=data.machine_id, new_machine=data.new_machine if data.machine_id is None else None,
        contact_phone=data.phone.strip(), contact_name=draft.sender_name,
        channel=Channel.FAX if draft.kind == DraftKind.FAX else Channel.EMAIL, symptom=symptom,
        duplicate_reason=data.duplicate_reason))
    order = result.order
    for attachment in draft.attachments.all():
        if attachment.content_type in ("application/pdf", "image/jpeg", "image/png", "image/webp", "image/tiff"):
            from aftersales.service.services.attachments import attachment_add

            with attachment.file.open("rb") as fh:
                upload = ContentFile(fh.read(), name=attachment.original_name or f"fax{attachment.extension}")
            try:
                attachment_add(actor=actor, order_id=order.pk, upload=upload, kind="document")
            except ValidationFailed:
                # A page the order cannot take (an unreadable TIFF): it stays on the draft, which
                # keeps every file, rather than the whole fax staying unanswered.
                continue
    draft.state, draft.order, draft.handled_by, draft.handled_at = DraftState.COMPLETED, order, actor, timezone.now()
    draft.save(update_fields=["state", "order", "handled_by", "handled_at"])
    if draft.sender:
        outbox_enqueue(channel="email", recipient=draft.sender, template="inbox_order_created", order=order,
                       context={"number": order.number, "tracking_path": f"/t/{order.tracking_token}",
                                "subject": draft.subject[:100]})
    return order


@transaction.atomic
def draft_discard(*, actor, draft_id: int, note: str = "") -> IntakeDraft:
    draft = _lock(actor, draft_id)
    if len(note) > 300:
        raise ValidationFailed(_("Nothing was saved."), fields={"note": _("At most 300 characters.")})
    draft.state, draft.handled_by, draft.handled_at, draft.note = DraftState.DISCARDED, actor, timezone.now(), note
    draft.save(update_fields=["state", "handled_by", "handled_at", "note"])
    return draft
