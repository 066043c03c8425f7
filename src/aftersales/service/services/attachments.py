"""Photos, signatures and documents attached to an order, recognised by their first bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core.errors import Forbidden
from aftersales.service import policies
from aftersales.service.models import (
    Attachment,
    AttachmentKind,
    ServiceOrder,
)
from aftersales.service.services.common import _append_event, _changed, _lock, _raise_if, _text

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Recognised by their first bytes, not by the name or the browser's claim.
_SIGNATURES: tuple[tuple[str, str, Callable[[bytes], bool]], ...] = (
    ("image/jpeg", ".jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("image/png", ".png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/webp", ".webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    ("application/pdf", ".pdf", lambda head: head.startswith(b"%PDF-")),
)


def sniff_content_type(head: bytes) -> tuple[str, str] | None:
    for content_type, extension, matches in _SIGNATURES:
        if matches(head):
            return content_type, extension
    return None


def attachment_add(*, actor, order_id: int, upload, kind: str = AttachmentKind.PHOTO) -> Attachment:
    """Store a photo, a PDF or a signature image. Adds an event but keeps the version: an upload
    changes none of the order's fields, and a technician's next action should not fail over it."""
    errors = {}
    if kind not in AttachmentKind.values:
        errors["kind"] = _("Use photo, document or signature.")
    size = getattr(upload, "size", 0) or 0
    if size > MAX_ATTACHMENT_BYTES:
        errors["file"] = _("The file is larger than 10 MB.")
    elif size == 0:
        errors["file"] = _("The file is empty.")
    sniffed = None
    if "file" not in errors:
        upload.seek(0)
        sniffed = sniff_content_type(upload.read(16))
        upload.seek(0)
        if sniffed is None:
            errors["file"] = _("Only JPEG, PNG or WebP images and PDF documents are accepted.")
        elif kind in (AttachmentKind.PHOTO, AttachmentKind.SIGNATURE) and not sniffed[0].startswith("image/"):
            errors["file"] = _("A photo or signature must be an image.")
    with transaction.atomic():
        order = _lock(actor, order_id)
        if not policies.may_attach(actor, order):
            raise Forbidden(_("You may not add files to this order."))
        _raise_if(errors, _("The file was not stored."))
        content_type, extension = sniffed
        attachment = Attachment(order=order, kind=kind, token=uuid.uuid4().hex, extension=extension,
                                original_name=_text(getattr(upload, "name", ""), 200).replace("/", "_").replace("\\", "_"),
                                content_type=content_type, size=size, uploaded_by=actor)
        attachment.file.save("upload", upload, save=False)
        attachment.save()
        _append_event(order, actor=actor, action="attach", from_status=order.status, to_status=order.status,
                      data={"attachment_id": attachment.pk, "kind": kind, "content_type": content_type, "size": size})
        ServiceOrder.objects.filter(pk=order.pk).update(event_seq=order.event_seq)
        _changed(order)
    return attachment
