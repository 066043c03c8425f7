"""Photos, signatures and documents attached to an order, recognised by their first bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Forbidden, Throttled, ValidationFailed
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
    # Fax pages (from the mailbox's fax drafts): kept as sent, each page also stored as a PNG to show.
    ("image/tiff", ".tif", lambda head: head[:4] in (b"II*\x00", b"MM\x00*")),
)


# Video and voice notes from the customer's phone portal, only for the kinds video and audio (a
# photo or a document stays an image or a PDF). Phones record into these containers: MP4/MOV
# (iOS, Android), WebM/Ogg (a browser's MediaRecorder), AMR and AAC/MP3 (WeChat and voice apps).
_MEDIA_SIGNATURES: tuple[tuple[str, str, Callable[[bytes], bool]], ...] = (
    ("audio/mp4", ".m4a", lambda head: head[4:8] == b"ftyp" and head[8:11] == b"M4A"),
    ("video/quicktime", ".mov", lambda head: head[4:8] == b"ftyp" and head[8:12] == b"qt  "),
    ("video/mp4", ".mp4", lambda head: head[4:8] == b"ftyp"),
    ("video/webm", ".webm", lambda head: head.startswith(b"\x1a\x45\xdf\xa3")),
    ("audio/ogg", ".ogg", lambda head: head.startswith(b"OggS")),
    ("audio/amr", ".amr", lambda head: head.startswith(b"#!AMR")),
    ("audio/wav", ".wav", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WAVE"),
    ("audio/mpeg", ".mp3", lambda head: head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3")),
    ("audio/aac", ".aac", lambda head: head[:2] in (b"\xff\xf1", b"\xff\xf9")),
)
# What each media kind accepts: a voice note recorded by a browser comes in a WebM or MP4 container.
_MEDIA_TYPES = {
    AttachmentKind.VIDEO: {"video/mp4", "video/quicktime", "video/webm"},
    AttachmentKind.AUDIO: {"audio/mp4", "audio/ogg", "audio/amr", "audio/wav", "audio/mpeg", "audio/aac",
                           "video/webm", "video/mp4"},
}


def sniff_content_type(head: bytes, *, media: bool = False) -> tuple[str, str] | None:
    """The content type and extension the first bytes prove; with ``media`` also video and audio."""
    for content_type, extension, matches in _SIGNATURES + (_MEDIA_SIGNATURES if media else ()):
        if matches(head):
            return content_type, extension
    return None


def attachment_add(*, actor, order_id: int, upload, kind: str = AttachmentKind.PHOTO) -> Attachment:
    """Store a photo, a PDF or a signature image. Adds an event but keeps the version: an upload
    changes none of the order's fields, and a technician's next action should not fail over it.
    A TIFF (fax pages) is kept as sent and each of its pages stored beside it as a PNG to show."""
    errors = {}
    if kind not in AttachmentKind.values:
        errors["kind"] = _("Use photo, document, signature, video or audio.")
    size = getattr(upload, "size", 0) or 0
    if size > MAX_ATTACHMENT_BYTES:
        errors["file"] = _("The file is larger than 10 MB.")
    elif size == 0:
        errors["file"] = _("The file is empty.")
    sniffed = None
    if "file" not in errors:
        upload.seek(0)
        media = kind in _MEDIA_TYPES
        sniffed = sniff_content_type(upload.read(16), media=media)
        upload.seek(0)
        if media and (sniffed is None or sniffed[0] not in _MEDIA_TYPES[kind]):
            errors["file"] = (_("A video must be MP4, MOV or WebM.") if kind == AttachmentKind.VIDEO
                              else _("A voice note must be M4A, AMR, MP3, AAC, Ogg, WAV or WebM."))
        elif sniffed is None:
            errors["file"] = _("Only JPEG, PNG, WebP or TIFF images and PDF documents are accepted.")
        elif kind in (AttachmentKind.PHOTO, AttachmentKind.SIGNATURE) and not sniffed[0].startswith("image/"):
            errors["file"] = _("A photo or signature must be an image.")
    pages = _tiff_pages(upload, errors) if sniffed and sniffed[0] == "image/tiff" and not errors else []
    with transaction.atomic():
        order = _lock(actor, order_id)
        if not policies.may_attach(actor, order):
            raise Forbidden(_("You may not add files to this order."))
        _raise_if(errors, _("The file was not stored."))
        # under the order's row lock: two uploads cannot both slip in
        _check_quotas(actor, order, size + sum(len(p) for p in pages), files=1 + len(pages))
        content_type, extension = sniffed
        name = _text(getattr(upload, "name", ""), 200)
        attachment = Attachment(order=order, kind=kind, token=uuid.uuid4().hex, extension=extension,
                                original_name=name, content_type=content_type, size=size, uploaded_by=actor)
        attachment.file.save("upload", upload, save=False)
        attachment.save()
        data = {"attachment_id": attachment.pk, "kind": kind, "content_type": content_type, "size": size}
        if pages:
            data["pages"] = [_page_store(order, actor, kind, name, n, png).pk for n, png in enumerate(pages, 1)]
        _append_event(order, actor=actor, action="attach", from_status=order.status, to_status=order.status, data=data)
        ServiceOrder.objects.filter(pk=order.pk).update(event_seq=order.event_seq)
        _changed(order)
    return attachment


def _tiff_pages(upload, errors: dict) -> list[bytes]:
    """A TIFF's pages as PNGs (browsers show no TIFF), or an error on ``file``."""
    from aftersales.core.tiff import MAX_PAGES, NotAFax, tiff_pages

    upload.seek(0)
    try:
        return tiff_pages(upload.read())
    except NotAFax:
        errors["file"] = _("The TIFF cannot be read, or has more than %(pages)s pages.") % {"pages": MAX_PAGES}
        return []
    finally:
        upload.seek(0)


def _page_store(order, actor, kind: str, name: str, number: int, png: bytes) -> Attachment:
    """One page of a TIFF, as a PNG attachment beside the original (named after it and the page)."""
    from django.core.files.base import ContentFile

    stem = name.rsplit(".", 1)[0] if name else "fax"
    page = Attachment(order=order, kind=kind, token=uuid.uuid4().hex, extension=".png",
                      original_name=_text(f"{stem} p{number}.png", 200), content_type="image/png", size=len(png),
                      uploaded_by=actor)
    page.file.save("upload", ContentFile(png), save=False)
    page.save()
    return page


def _check_quotas(actor, order, size: int, files: int = 1) -> None:
    """Files per order, uploads per user and hour, and bytes per organization (uploads have no other
    cost to the sender, and the disk is shared by the whole network)."""
    if order.attachments.count() + files > settings.ATTACHMENTS_PER_ORDER:
        raise ValidationFailed(_("The file was not stored."), code="attachment_quota", fields={
            "file": _("An order holds at most %(limit)s files.") % {"limit": settings.ATTACHMENTS_PER_ORDER}})
    since = timezone.now() - timedelta(hours=1)
    if Attachment.objects.filter(uploaded_by=actor, uploaded_at__gte=since).count() >= settings.ATTACHMENTS_PER_USER_HOUR:
        raise Throttled(_("Too many uploads in the last hour; try again later."), retry_after=3600, fields={
            "file": _("At most %(limit)s files an hour.") % {"limit": settings.ATTACHMENTS_PER_USER_HOUR}})
    if actor.organization_id:
        used = (Attachment.objects.filter(uploaded_by__organization_id=actor.organization_id)
                .aggregate(total=Sum("size"))["total"] or 0)
        if used + size > settings.ATTACHMENT_BYTES_PER_ORGANIZATION:
            raise ValidationFailed(_("The file was not stored."), code="attachment_quota", fields={
                "file": _("Your organization's file storage is full; ask the service center.")})
