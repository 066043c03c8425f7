"""The customer's phone portal (客户自助服务): the SMS-code login, and the customer's own requests,
which enter through the SAME service functions as the hotline's and the tracking page's
(intake with its duplicate guard, attachments with their checks and quotas, the customer's
confirmation and rating, complaints), with the channel ``portal``.

Who acts: the customer has no account. Orders and files are recorded in the name of the portal's
intake account (``settings.PORTAL_USERNAME``, a call agent of the service center, created on first
use), so the hotline sees the portal as one more first-contact owner (首问) whose orders it
follows; the timeline says ``by: customer`` where the service functions do.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import Organization, OrganizationKind, Role, RoleCode, User
from aftersales.core import throttle
from aftersales.core.errors import ValidationFailed
from aftersales.core.phones import normalize_phone
from aftersales.notify.services import outbox_enqueue
from aftersales.portal import selectors
from aftersales.portal.models import LoginCode, PortalToken
from aftersales.service import services as order_services
from aftersales.service.models import AttachmentKind, Channel, ComplaintCategory, ComplaintSeverity, OrderType, Urgency

CODE_TTL = timedelta(minutes=5)
CODE_TRIES = 5  # wrong tries of one code before it is spent
# Sending: a phone gets at most 3 codes in 15 minutes (an SMS costs money and annoys its owner);
# one client address at most 20 an hour (trying many phones from one place).
SEND_PER_PHONE, SEND_PHONE_WINDOW = 3, 15 * 60
SEND_PER_CLIENT, SEND_CLIENT_WINDOW = 20, 60 * 60
# Guessing: 10 wrong codes per phone or per client address in 15 minutes, then a pause.
FAIL_LIMIT, FAIL_WINDOW = 10, 15 * 60
# Files: per phone and hour, on top of the service's own quotas (the portal account's hourly
# quota is shared by every customer, so it is the portal's ceiling, not a customer's).
FILES_PER_PHONE_HOUR = 20
MAX_PHOTOS = 6


def _hash(phone: str, code: str) -> str:
    # Keyed by the secret and the phone: a leaked table cannot be tried offline cheaply.
    return hmac.new(settings.SECRET_KEY.encode(), f"portal:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _phone(raw: str) -> str:
    return normalize_phone((raw or "")[:30], field="phone")


def login_code_send(*, phone: str, client: str) -> None:
    """Send a login code to ``phone`` if it is a customer's. The answer is the same whether or
    not it is (the portal does not tell who our customers are); the limits count either way."""
    e164 = _phone(phone)
    throttle.hit(throttle.key("portal-send-client", client), limit=SEND_PER_CLIENT, window=SEND_CLIENT_WINDOW)
    throttle.hit(throttle.key("portal-send", e164), limit=SEND_PER_PHONE, window=SEND_PHONE_WINDOW)
    if not selectors.customer_ids(e164):
        return
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        # A new code spends the earlier ones: only the newest SMS works.
        LoginCode.objects.filter(phone=e164, used_at=None).update(used_at=now)
        LoginCode.objects.create(phone=e164, code_hash=_hash(e164, code), expires_at=now + CODE_TTL)
        # The code lives only in the outbox (to the phone), never in a webhook or on a page.
        outbox_enqueue(channel="sms", recipient=e164, template="portal_code", webhooks=False,
                       context={"code": code, "minutes": int(CODE_TTL.total_seconds() // 60)})


def login_code_verify(*, phone: str, code: str, client: str) -> str:
    """The phone (E.164) once its newest code is right; otherwise a 422 on ``code``. Wrong codes
    count per code (5 spend it), per phone and per client address (10 in 15 minutes pause both)."""
    e164 = _phone(phone)
    phone_key, client_key = throttle.key("portal-fail", e164), throttle.key("portal-fail-client", client)
    throttle.check(client_key, limit=FAIL_LIMIT, window=FAIL_WINDOW)
    throttle.check(phone_key, limit=FAIL_LIMIT, window=FAIL_WINDOW)
    entered = "".join((code or "").split())[:12]
    now = timezone.now()
    row = (LoginCode.objects.filter(phone=e164, used_at=None, expires_at__gt=now, failures__lt=CODE_TRIES)
           .order_by("-created_at").first())
    if row is not None and entered and hmac.compare_digest(row.code_hash, _hash(e164, entered)):
        # Spent at once, conditionally: two tabs sending the same code log in once.
        if LoginCode.objects.filter(pk=row.pk, used_at=None).update(used_at=now) == 1:
            throttle.reset(phone_key)
            return e164
    if row is not None:
        LoginCode.objects.filter(pk=row.pk).update(failures=F("failures") + 1)
    throttle.record(phone_key, window=FAIL_WINDOW)
    throttle.record(client_key, window=FAIL_WINDOW)
    raise ValidationFailed(_("Nothing was changed."), code="wrong_code",
                           fields={"code": _("The code is not right or has expired; ask for a new one.")})


TOKEN_PREFIX = "pt_"  # staff tokens start "as_": neither kind opens the other's endpoints


def _token_hash(key: str) -> str:
    # 32 random bytes: a fast hash is enough, there is nothing to guess.
    return hashlib.sha256(key.encode()).hexdigest()


def portal_token_issue(*, phone: str) -> tuple[PortalToken, str]:
    """A bearer token for the phone just proved by login_code_verify (the portal API's login). The
    key is returned once; only its hash is kept."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PortalToken.objects.create(phone=phone, prefix=key[:10], key_hash=_token_hash(key),
                                       expires_at=timezone.now() + timedelta(days=settings.PORTAL_TOKEN_DAYS))
    return token, key


def portal_token_authenticate(key: str) -> str | None:
    """The phone (E.164) a live token stands for, or None: unknown, revoked, expired, or the phone
    no longer a customer's (as the pages' login check)."""
    if not key or not key.startswith(TOKEN_PREFIX) or len(key) > 100:
        return None
    phone = (PortalToken.objects.filter(key_hash=_token_hash(key), revoked_at=None, expires_at__gt=timezone.now())
             .values_list("phone", flat=True).first())
    if phone is None or not selectors.customer_ids(phone):
        return None
    return phone


def portal_token_revoke(*, key: str) -> None:
    """The app's logout: the token opens nothing from now on."""
    PortalToken.objects.filter(key_hash=_token_hash(key or ""), revoked_at=None).update(revoked_at=timezone.now())


def _scoped_key(phone: str, key: str) -> str:
    # Idempotency keys are stored per acting user, and every portal order is made by the one
    # portal account: the phone in the key keeps one customer's key from meeting another's.
    return f"{phone}:{key}"[:order_services.IDEMPOTENCY_KEY_MAX] if key else ""


def portal_actor() -> User:
    """The portal's intake account (首问 of portal orders): a call agent of the service center."""
    user = User.objects.filter(username=settings.PORTAL_USERNAME).first()
    if user is not None:
        return user
    centre = Organization.objects.filter(kind=OrganizationKind.SERVICE_CENTER).order_by("pk").first()
    if centre is None:
        raise ValidationFailed(_("The portal is not set up: there is no service center."), code="portal_not_set_up")
    try:
        with transaction.atomic():
            user = User(username=settings.PORTAL_USERNAME, organization=centre, display_name="客户自助门户")
            user.set_unusable_password()
            user.save()
            role, _created = Role.objects.get_or_create(code=RoleCode.CALL_AGENT)
            user.roles.add(role)
    except IntegrityError:  # created by a concurrent request
        user = User.objects.get(username=settings.PORTAL_USERNAME)
    return user


@dataclass
class FaultReport:
    machine_id: int
    symptom: str
    stopped: bool = False
    address: str = ""
    latitude: str = ""
    longitude: str = ""
    duplicate_reason: str = ""
    photos: list = field(default_factory=list)
    video: object | None = None
    voice: object | None = None


def _location(report: FaultReport, errors: dict) -> str:
    text = " ".join((report.address or "").split())
    if report.latitude or report.longitude:
        try:
            lat, lng = float(report.latitude), float(report.longitude)
        except ValueError:
            lat = lng = 999.0
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            errors["location"] = _("The position from the phone is not valid; type the address instead.")
        else:
            text = f"{text} (GPS {lat:.5f},{lng:.5f})".strip()
    if len(text) > 200:
        errors["address"] = _("At most %(limit)s characters (this has %(n)s).") % {"limit": 200, "n": len(text)}
    return text


def _files(report: FaultReport, errors: dict) -> list[tuple[object, str]]:
    """The uploads with their kinds, checked before the order is made (the service checks them
    again when it stores them): a wrong file is a 422 and no order, not an order without it."""
    files = [(f, AttachmentKind.PHOTO) for f in report.photos if f]
    files += [(f, kind) for f, kind in ((report.video, AttachmentKind.VIDEO), (report.voice, AttachmentKind.AUDIO)) if f]
    if len([f for f, k in files if k == AttachmentKind.PHOTO]) > MAX_PHOTOS:
        errors["photos"] = _("At most %(n)s photos.") % {"n": MAX_PHOTOS}
    from aftersales.service.services.attachments import _MEDIA_TYPES

    names = {AttachmentKind.PHOTO: "photos", AttachmentKind.VIDEO: "video", AttachmentKind.AUDIO: "voice"}
    for upload, kind in files:
        size = getattr(upload, "size", 0) or 0
        name = names[kind]
        if size > order_services.MAX_ATTACHMENT_BYTES:
            errors[name] = _("The file is larger than 10 MB.")
            continue
        upload.seek(0)
        sniffed = order_services.sniff_content_type(upload.read(16), media=kind != AttachmentKind.PHOTO)
        upload.seek(0)
        allowed = _MEDIA_TYPES.get(kind)
        if sniffed is None or (allowed is None and not sniffed[0].startswith("image/")) or (
                allowed is not None and sniffed[0] not in allowed):
            errors[name] = {"photos": _("A photo must be a JPEG, PNG or WebP image."),
                            "video": _("A video must be MP4, MOV or WebM."),
                            "voice": _("A voice note must be M4A, AMR, MP3, AAC, Ogg, WAV or WebM.")}[name]
    return files


def fault_report(*, phone: str, report: FaultReport, idempotency_key: str = "") -> order_services.CreateResult:
    """报修: a repair order for one of the customer's machines, through the hotline's intake (the
    duplicate guard, the warranty proposal, the SMS with the tracking link), then its files."""
    machine = selectors.machine_get(phone, report.machine_id)
    errors: dict[str, str] = {}
    location = _location(report, errors)
    files = _files(report, errors)
    if files:
        throttle.check(throttle.key("portal-files", phone), limit=FILES_PER_PHONE_HOUR, window=3600)
    if errors:
        raise ValidationFailed(_("The request was not sent."), fields=errors)
    data = order_services.OrderInput(
        order_type=OrderType.REPAIR, customer_id=machine.owner_id, machine_id=machine.pk, contact_phone=phone,
        channel=Channel.PORTAL, field_location=location, symptom=report.symptom,
        # A machine stopped in the field is an emergency whatever the customer's class.
        urgency=Urgency.CRITICAL if report.stopped else Urgency.NORMAL,
        duplicate_reason=report.duplicate_reason,
    )
    actor = portal_actor()
    result = order_services.order_create(actor=actor, data=data, idempotency_key=_scoped_key(phone, idempotency_key),
                                         request_hash=f"portal:{phone}:{machine.pk}")
    if not result.replayed:
        for upload, kind in files:
            throttle.record(throttle.key("portal-files", phone), window=3600)
            order_services.attachment_add(actor=actor, order_id=result.order.pk, upload=upload, kind=kind)
    return result


COMPLAINT_CATEGORIES = (ComplaintCategory.ATTITUDE, ComplaintCategory.DELAY, ComplaintCategory.QUALITY,
                        ComplaintCategory.PRODUCT, ComplaintCategory.CHARGES, ComplaintCategory.OTHER)


def complaint_file(*, phone: str, number: str, category: str, text: str, idempotency_key: str = ""):
    """投诉 about one of the customer's orders: a complaint order through intake, which goes to a
    supervisor at once."""
    about = selectors.order_get(phone, number)
    if category not in COMPLAINT_CATEGORIES:
        raise ValidationFailed(_("Nothing was changed."), fields={"category": _("Pick a complaint category.")})
    data = order_services.OrderInput(
        order_type=OrderType.COMPLAINT, customer_id=about.customer_id, contact_phone=phone, channel=Channel.PORTAL,
        symptom=text, about_order_id=about.pk, complaint_category=category,
        complaint_severity=ComplaintSeverity.MEDIUM,
    )
    return order_services.order_create(actor=portal_actor(), data=data, idempotency_key=_scoped_key(phone, idempotency_key),
                                       request_hash=f"portal-complaint:{phone}:{about.pk}").order


def order_confirm(*, phone: str, number: str, version: int, code: str):
    """The customer confirms the repair with the completion code from the technician's check-out."""
    order = selectors.order_get(phone, number)
    return order_services.order_confirm_by_customer(token=order.tracking_token, version=version, code=code)


def order_rate(*, phone: str, number: str, version: int, score: int, comment: str = ""):
    order = selectors.order_get(phone, number)
    return order_services.order_rate_by_customer(token=order.tracking_token, version=version, score=score,
                                                 comment=comment)
