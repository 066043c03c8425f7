"""The action forms of the order page, built from the payload schemas of the API's action registry
(service/api.py ``ACTION_DATA``): the page offers what the transition table allows, the form
fields are the schema's fields, and the posted form is turned back into the schema's data in one
place (``parse``) before the matching ``order_<action>`` service is called."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, get_args, get_origin

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy as _

from aftersales.accounts.models import SERVICE_PROVIDER_KINDS, RoleCode
from aftersales.accounts import selectors as account_selectors
from aftersales.service import selectors, services
from aftersales.service.api import ACTION_DATA, _service_kwargs
from aftersales.service.models import AttachmentKind, Channel, EscalationOutcome, ServiceMode
from aftersales.warranty.parts import part_label, part_labels

LABELS: dict[str, Any] = {
    "answer": _("Answer"), "hotline_technician_id": _("Hotline technician"), "reached": _("Customer reached"),
    "steps": _("Diagnosis steps (one per line)"), "solution": _("Solution"), "service_mode": _("Service mode"),
    "reason": _("Reason"), "organization_id": _("Organization"), "technician_id": _("Technician"),
    "promised_at": _("Promised time"), "appointment_at": _("Appointment"), "items": _("Quote items"),
    "inbound_tracking": _("Inbound tracking number"), "fault_found": _("Fault found"), "cause": _("Cause"),
    "diagnosis_steps": _("Diagnosis steps (one per line)"), "parts": _("Parts used"), "labour_hours": _("Labour hours"),
    "hours_meter": _("Hour-meter reading"), "photo_ids": _("Photos"), "component": _("Component repaired"),
    "serious": _("Serious fault"), "outbound_tracking": _("Return tracking number"), "name": _("Customer name"),
    "signature_id": _("Customer signature"), "code": _("Confirmation code (SMS)"), "problem": _("Problem"),
    "tried": _("What was tried"), "outcome": _("Outcome"), "new_serial_number": _("New serial number"),
    "engine_number": _("Engine number"), "model_code": _("Model code"), "refund_amount": _("Refund amount"),
    "resolution": _("Resolution"), "findings": _("Findings"), "score": _("Score"), "comment": _("Comment"),
    "summary": _("Summary"), "channel": _("Channel"),
    "outside_coverage_reason": _("Why outside the organization's coverage"),
}
LONG_TEXT = {"answer", "solution", "reason", "fault_found", "cause", "problem", "tried", "resolution", "findings",
             "comment", "summary"}
# Fields the page fills another way (the dispatch form's technician is chosen by the organization).
HIDDEN = {"dispatch": {"technician_id"}}
PART_ROWS = 3
# Actions that move the order on: shown as the main (blue) button; the rest are secondary.
SECONDARY = {"cancel", "follow_up", "reject", "tech_decline", "close", "escalate", "resend_code", "quote",
             "quote_decline", "customer_reject", "reject_return"}


@dataclass
class FormField:
    name: str
    label: str
    kind: str  # text | textarea | lines | select | checkbox | number | datetime | parts | items | photos | signature
    required: bool
    choices: list[tuple[Any, str]] = field(default_factory=list)
    value: Any = ""


@dataclass
class ActionForm:
    action: str
    label: str
    enabled: bool
    blocked_reason: str
    primary: bool
    fields: list[FormField]

    @property
    def has_files(self) -> bool:
        return any(f.kind in ("photos", "signature") for f in self.fields)


def _kind(name: str, annotation) -> str:
    if name == "parts":
        return "parts"
    if name == "items":
        return "items"
    if name == "photo_ids":
        return "photos"
    if name == "signature_id":
        return "signature"
    if name in LONG_TEXT:
        return "textarea"
    args = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    base = args[0]
    if get_origin(base) is list:
        return "lines"
    if base is bool:
        return "checkbox"
    if base is datetime:
        return "datetime"
    if base in (int, Decimal) and not name.endswith("_id") and name != "score":
        return "number"
    return "text"


def _choices(user, order, name: str) -> list[tuple[Any, str]] | None:
    if name == "service_mode":
        return list(ServiceMode.choices)
    if name == "outcome":
        return list(EscalationOutcome.choices)
    if name == "channel":
        return list(Channel.choices)
    if name == "score":
        return [(5, "★★★★★"), (4, "★★★★"), (3, "★★★"), (2, "★★"), (1, "★")]
    if name == "component":
        language = get_language() or "zh-hans"
        return [(code, part_label(code, language)) for code in part_labels()]
    if name == "hotline_technician_id":
        people = account_selectors.user_queryset(user).filter(roles__code=RoleCode.HOTLINE_TECHNICIAN, is_active=True)
        return [("", _("Any hotline technician"))] + [(u.pk, str(u)) for u in people]
    if name == "organization_id":
        suggested = selectors.dispatch_suggestions(order)
        if suggested:
            return [(o.pk, _("%(name)s · %(load)s open orders") % {"name": o.name, "load": o.open_load}) for o in suggested]
        orgs = account_selectors.organization_queryset(user).filter(is_active=True, kind__in=SERVICE_PROVIDER_KINDS)
        return [(o.pk, o.name) for o in orgs.order_by("code")]
    if name == "technician_id":
        people = account_selectors.user_queryset(user).filter(
            organization_id=order.assigned_org_id, roles__code=RoleCode.FIELD_TECHNICIAN, is_active=True)
        return [(u.pk, str(u)) for u in people]
    return None


def build(user, order) -> list[ActionForm]:
    """One form per action the table allows this user now; the blocked ones carry the reason."""
    forms = []
    for allowed in selectors.order_allowed_actions(user, order):
        action = allowed["action"]
        schema = ACTION_DATA[action]
        fields = []
        for name, info in schema.model_fields.items():
            if name in HIDDEN.get(action, ()):
                continue
            kind = _kind(name, info.annotation)
            choices = _choices(user, order, name) or []
            if choices and kind in ("text", "number"):
                kind = "select"
            default = info.default if not info.is_required() and info.default is not None else ""
            if kind == "photos":
                choices = [(a.pk, a.original_name or a.token[:8]) for a in order.attachments.all()
                           if a.kind == AttachmentKind.PHOTO]
            if name == "name" and action == "confirm":
                default = order.contact_name
            fields.append(FormField(name=name, label=str(LABELS.get(name, name)), kind=kind, required=info.is_required(),
                                    choices=choices, value=default if not isinstance(default, list) else ""))
        forms.append(ActionForm(action=action, label=allowed["label"], enabled=allowed["enabled"],
                                blocked_reason=allowed["blocked_reason"], primary=action not in SECONDARY, fields=fields))
    # The moves that take the order on first; cancel, decline and the like after them.
    return sorted(forms, key=lambda f: not f.primary)


def _aware(value: str) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _rows(post, prefix: str, names: tuple[str, ...], key: str) -> list[dict]:
    rows = []
    for i in range(PART_ROWS):
        row = {n: post.get(f"{prefix}-{i}-{n}", "").strip() for n in names}
        if row[key] or (prefix == "items" and row.get("description")):
            rows.append(row)
    return rows


def _signature_upload(data_url: str):
    """The canvas sends ``data:image/png;base64,...``; the service checks the bytes are an image."""
    head, _sep, body = data_url.partition(",")
    if not head.startswith("data:image/png;base64"):
        return None
    try:
        content = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None
    return SimpleUploadedFile("signature.png", content, content_type="image/png")


def parse(user, order, action: str, post, files) -> dict:
    """The posted form as the action's ``data``; photos and a drawn signature are stored first
    (as attachments of the order) and passed on by id, as the API's clients do."""
    schema = ACTION_DATA[action]
    data: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        kind = _kind(name, info.annotation)
        raw = post.get(name, "")
        if kind == "checkbox":
            data[name] = name in post
        elif kind == "lines":
            data[name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif kind == "datetime":
            if raw:
                data[name] = _aware(raw)
        elif kind == "parts":
            rows = _rows(post, "parts", ("part_number", "name", "quantity", "unit_price", "warranty"), "part_number")
            data[name] = [{**r, "quantity": r["quantity"] or "1", "unit_price": r["unit_price"] or "0",
                           "warranty": bool(r["warranty"])} for r in rows]
        elif kind == "items":
            rows = _rows(post, "items", ("kind", "part_number", "description", "quantity", "unit_price"), "part_number")
            data[name] = [{**r, "kind": r["kind"] or "part", "quantity": r["quantity"] or "1",
                           "unit_price": r["unit_price"] or "0"} for r in rows]
        elif kind == "photos":
            ids = [int(v) for v in post.getlist(name) if v.isdigit()]
            for upload in files.getlist("photos"):
                ids.append(services.attachment_add(actor=user, order_id=order.pk, upload=upload).pk)
            data[name] = ids
        elif kind == "signature":
            upload = _signature_upload(post.get("signature_png", ""))
            if upload is not None:
                data[name] = services.attachment_add(actor=user, order_id=order.pk, upload=upload,
                                                     kind=AttachmentKind.SIGNATURE).pk
        elif raw != "":
            data[name] = raw
    return data


def perform(user, order_id: int, action: str, version: int, note: str, data: dict):
    """Validate ``data`` with the action's schema and call ``order_<action>``; raise the service's errors."""
    from pydantic import ValidationError as PydanticError

    from aftersales.core.errors import ValidationFailed

    try:
        payload = ACTION_DATA[action].model_validate(data)
    except PydanticError as exc:
        fields = {".".join(str(p) for p in e["loc"]): e["msg"] for e in exc.errors()}
        raise ValidationFailed(str(_("Nothing was changed.")), fields=fields) from None
    service = getattr(services, f"order_{action}")
    return service(actor=user, order_id=order_id, version=version, note=note, **_service_kwargs(action, payload))


EVENT_LABELS = {"create": _("Recorded"), "attach": _("File added")}


def label_of(action: str) -> str:
    """The table's label of an action, also for the timeline's events (which name actions by code)."""
    from aftersales.service import workflow

    t = workflow.TRANSITIONS_BY_ACTION.get(action)
    return str(t.label if t else EVENT_LABELS.get(action, action))
