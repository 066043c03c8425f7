"""The action forms of the order page, built from the payload schemas of the API's action registry
(service/api.py ``ACTION_DATA``): the page offers what the transition table allows, the form
fields are the schema's fields, and the posted form is turned back into the schema's data in one
place (``parse``) before the matching ``order_<action>`` service is called."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, get_args, get_origin

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy as _, pgettext_lazy

from aftersales.accounts.models import SERVICE_PROVIDER_KINDS, RoleCode
from aftersales.accounts import selectors as account_selectors
from aftersales.service import selectors, services
from aftersales.service.api import _service_kwargs
from aftersales.service.schemas import ACTION_DATA
from aftersales.standards.selectors import technicians_ranked
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
    "override": _("Approve although the warranty engine found it not eligible (override)"),
    "outside_coverage_reason": _("Why outside the organization's coverage"),
}
LONG_TEXT = {"answer", "solution", "reason", "fault_found", "cause", "problem", "tried", "resolution", "findings",
             "comment", "summary"}
# Fields the page fills another way (the dispatch form's technician is chosen by the organization).
# The position at check-in/check-out is filled by static/web/js/app.js from the browser (hidden inputs).
POSITION = {"latitude", "longitude", "accuracy_m"}
HIDDEN = {"dispatch": {"technician_id"}, "check_in": POSITION, "check_out": POSITION}
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
    error: str = ""
    # parts / items: the rows as typed (a failed save shows them again), at least PART_ROWS of them
    rows: list[dict] = field(default_factory=list)
    # photos: the ids ticked; signature: the id of a signature already stored by a failed save
    checked: list[str] = field(default_factory=list)


@dataclass
class ActionForm:
    action: str
    label: str
    enabled: bool
    blocked_reason: str
    primary: bool
    moves: bool  # leads the order to another status
    fields: list[FormField]
    open: bool = False
    note: str = ""
    error: str = ""

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
    # ``list[str]`` itself has the args ``(str,)``: its origin says it is a list (diagnosis steps,
    # solution steps). Only an Optional's args are the alternatives to look through.
    if get_origin(annotation) is list:
        return "lines"
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
    if name in ("component", "parts"):  # parts: each line's component
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
        category = order.machine.model.category if order.machine_id else ""
        return [(u.pk, _("%(name)s · certified") % {"name": u} if certified else str(u))
                for u, certified in technicians_ranked(people, category)]
    return None


def build(user, order, *, posted=None, failed: str = "", errors: dict | None = None, done: str = "",
          message: str = "") -> list[ActionForm]:
    """One form per action the table allows this user now; the blocked ones carry the reason.

    ``posted`` with ``failed``: the form of an action whose save failed is filled with what was
    typed, opened and marked with ``errors``. ``done``: the action just taken, whose form stays shut
    (the page leads to the next step instead)."""
    forms = []
    errors = errors or {}
    for allowed in selectors.order_allowed_actions(user, order):
        action = allowed["action"]
        schema = ACTION_DATA[action]
        again = posted if action == failed else None
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
            form_field = FormField(name=name, label=str(LABELS.get(name, name)), kind=kind, required=info.is_required(),
                                   choices=choices, value=default if not isinstance(default, (list, bool)) else "",
                                   error=_field_error(errors, name) if again is not None else "")
            if kind == "checkbox":
                form_field.value = (name in again) if again is not None else bool(default)
            elif kind in ("parts", "items"):
                form_field.rows = _typed_rows(again, name, errors if again is not None else {})
            elif kind == "photos":
                # Every photo already stored stays ticked; after a failed save the ones it stored too.
                form_field.checked = [str(v) for v, _l in choices] if again is None else again.getlist("photo_ids")
            elif kind == "signature":
                form_field.checked = [again.get("signature_id")] if again is not None and again.get("signature_id") else []
            elif again is not None:
                form_field.value = again.get(name, "")
            fields.append(form_field)
        forms.append(ActionForm(action=action, label=allowed["label"], enabled=allowed["enabled"],
                                blocked_reason=allowed["blocked_reason"], primary=action not in SECONDARY,
                                moves=allowed["target"] != order.status, fields=fields,
                                note=again.get("note", "") if again is not None else "",
                                error=message if again is not None else ""))
    # What this user can do first, the moves that take the order on before the steps that keep it
    # where it is, cancel and the like after them, and what a guard blocks last.
    forms.sort(key=lambda f: (not f.enabled, not f.primary, not f.moves))
    failed_form = next((f for f in forms if f.action == failed), None)
    if failed_form is not None:
        failed_form.open = True
    elif forms and forms[0].enabled and forms[0].primary and forms[0].action != done:
        forms[0].open = True
    return forms


def next_step(order) -> str:
    """Who acts next, in one line, for a user who has nothing to do on the order now."""
    from aftersales.service.models import OrderStatus as S

    org = order.assigned_org.name if order.assigned_org_id else ""
    tech = str(order.assigned_technician) if order.assigned_technician_id else ""
    lines = {
        S.NEW: _("The information coordinator hands it to a hotline technician."),
        S.FORWARDED: _("The hotline technician calls the customer back."),
        S.DIAGNOSING: _("The hotline technician judges the fault and decides the service mode."),
        S.AWAITING_DISPATCH: _("The repair coordinator dispatches it to an organization."),
        S.DISPATCHED: _("%(org)s accepts or rejects the order.") % {"org": org},
        S.ACCEPTED: _("%(org)s assigns a technician.") % {"org": org},
        S.ASSIGNED: _("Technician %(tech)s accepts the order.") % {"tech": tech},
        S.TECH_ACCEPTED: _("Technician %(tech)s makes an appointment with the customer.") % {"tech": tech},
        S.SCHEDULED: _("Technician %(tech)s checks in on site.") % {"tech": tech},
        S.IN_SERVICE: _("Technician %(tech)s does the service and writes the service record.") % {"tech": tech},
        S.AWAITING_CONFIRMATION: _("The customer confirms the service."),
        S.COMPLETED: _("The hotline calls the customer back for the rating."),
        S.ESCALATED: _("A technical engineer answers the escalation."),
        S.AWAITING_APPROVAL: _("A technical engineer approves or rejects the return or exchange."),
        S.INVESTIGATING: _("The supervisor investigates the complaint."),
    }
    if order.order_type == "complaint" and order.status == S.NEW:
        return str(_("The supervisor starts the investigation."))
    if order.order_type == "complaint" and order.status == S.AWAITING_CONFIRMATION:
        return str(_("The customer accepts or rejects the resolution."))
    return str(lines.get(order.status, _("Nothing more is to be done on this order.")))


def _field_error(errors: dict, name: str) -> str:
    """The error of a field, also when the schema named a row of it (``parts.0.quantity``)."""
    if name in errors:
        return errors[name]
    prefixed = [v for k, v in errors.items() if k.startswith(f"{name}.") or k.startswith(f"{name}[")]
    return prefixed[0] if prefixed else ""


ROW_NAMES = {"parts": ("part_number", "name", "quantity", "unit_price", "warranty", "component", "action", "serious",
                       "serial", "fit_reason"),
             "items": ("kind", "part_number", "description", "quantity", "unit_price")}
MAX_ROWS = 50


def _row_count(post, prefix: str) -> int:
    """How many rows the form sent: the page shows PART_ROWS and the script adds more."""
    if post is None:
        return 0
    indices = [int(k.split("-")[1]) for k in post if k.startswith(f"{prefix}-") and k.count("-") >= 2
               and k.split("-")[1].isdigit()]
    return min(max(indices) + 1, MAX_ROWS) if indices else 0


def _typed_rows(post, prefix: str, errors: dict | None = None) -> list[dict]:
    names = ROW_NAMES[prefix]
    rows = [{n: (post.get(f"{prefix}-{i}-{n}", "") if post is not None else "") for n in names}
            for i in range(_row_count(post, prefix))]
    # The service numbers the lines it was sent (blank rows left out): each error goes back to the row
    # it was typed in, beside the field it names (the fit reason of the third row, not "a part").
    key = "part_number" if prefix == "parts" else "kind"
    sent = [i for i, row in enumerate(rows) if row[key].strip() or (prefix == "items" and row.get("description"))]
    for field, message in (errors or {}).items():
        found = re.match(rf"^{prefix}[\[.](\d+)\]?\.(\w+)$", field)
        if found and int(found[1]) < len(sent):
            rows[sent[int(found[1])]].setdefault("errors", {})[found[2]] = message
    if post is not None and prefix == "parts":
        for i, row in enumerate(rows):
            row["warranty"] = f"parts-{i}-warranty" in post
            row["serious"] = f"parts-{i}-serious" in post
    while len(rows) < PART_ROWS:
        rows.append({n: ("on" if n == "warranty" else "repaired" if n == "action" else "") for n in names})
    for i, row in enumerate(rows):
        row["index"] = i
    return rows


def _aware(value: str) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _rows(post, prefix: str, names: tuple[str, ...], key: str) -> list[dict]:
    rows = []
    for i in range(_row_count(post, prefix)):
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
    (as attachments of the order) and passed on by id, as the API's clients do.

    The typed fields are checked against the schema before any file is stored, so a form that
    cannot pass stores nothing; a photo or signature stored by a save that the service then
    refused comes back ticked in the form (by id) and is reused, never stored twice."""
    schema = ACTION_DATA[action]
    data: dict[str, Any] = {}
    uploads: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        kind = _kind(name, info.annotation)
        raw = post.get(name, "")
        if kind == "checkbox":
            data[name] = name in post
        elif kind == "lines":
            data[name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif kind == "datetime":
            if raw:
                try:
                    data[name] = _aware(raw)
                except ValueError:
                    data[name] = raw  # the schema says which field and why
        elif kind == "parts":
            rows = _rows(post, "parts", ROW_NAMES["parts"], "part_number")
            # serious unticked: as the record says (None), so one tick on the record covers all lines.
            data[name] = [{**r, "quantity": r["quantity"] or "1", "unit_price": r["unit_price"] or "0",
                           "warranty": bool(r["warranty"]), "action": r["action"] or "repaired",
                           "serious": True if r["serious"] else None} for r in rows]
        elif kind == "items":
            rows = _rows(post, "items", ("kind", "part_number", "description", "quantity", "unit_price"), "part_number")
            data[name] = [{**r, "kind": r["kind"] or "part", "quantity": r["quantity"] or "1",
                           "unit_price": r["unit_price"] or "0"} for r in rows]
        elif kind == "photos":
            data[name] = [int(v) for v in post.getlist(name) if v.isdigit()]
            uploads[name] = [f for f in files.getlist("photos") if f.size]
        elif kind == "signature":
            stored = post.get("signature_id", "")
            if stored.isdigit():
                data[name] = int(stored)
            else:
                uploads[name] = _signature_upload(post.get("signature_png", ""))
        elif raw != "":
            data[name] = raw
    validate(action, data)
    for name, pending in uploads.items():
        if name == "signature_id":
            if pending is not None:
                data[name] = services.attachment_add(actor=user, order_id=order.pk, upload=pending,
                                                     kind=AttachmentKind.SIGNATURE).pk
        else:
            for upload in pending:
                data[name].append(services.attachment_add(actor=user, order_id=order.pk, upload=upload).pk)
    return data


def _indexed(post, prefix: str, key: str, rows: list[dict]):
    """The rows with the index they were typed at (the warranty tick box is read by index)."""
    kept = [i for i in range(_row_count(post, prefix)) if post.get(f"{prefix}-{i}-{key}", "").strip()]
    return zip(kept, rows)


def _pydantic_message(error: dict) -> str:
    """Pydantic's English messages in the user's language: which field is said by the form."""
    kind = error.get("type", "")
    if kind == "missing":
        return str(_("This field is required."))
    if kind.startswith(("decimal", "int", "float")):
        return str(_("Enter a number."))
    if kind.startswith("datetime"):
        return str(_("Enter a date and time."))
    if kind.startswith(("greater", "less")):
        return str(_("This value is out of range."))
    return str(_("This value is not valid."))


def validate(action: str, data: dict):
    """The action's schema applied to ``data``; a failure says which field and why, in the user's language."""
    from pydantic import ValidationError as PydanticError

    from aftersales.core.errors import ValidationFailed

    try:
        return ACTION_DATA[action].model_validate(data)
    except PydanticError as exc:
        fields = {".".join(str(p) for p in e["loc"]): _pydantic_message(e) for e in exc.errors()}
        raise ValidationFailed(str(_("Nothing was changed.")), fields=fields) from None


def perform(user, order_id: int, action: str, version: int, note: str, data: dict):
    """Validate ``data`` with the action's schema and call ``order_<action>``; raise the service's errors."""
    payload = validate(action, data)
    service = getattr(services, f"order_{action}")
    return service(actor=user, order_id=order_id, version=version, note=note, **_service_kwargs(action, payload))


# "Recorded" is also the queue's column of the time an order was received (受理时间); the event is the act (受理).
EVENT_LABELS = {"create": pgettext_lazy("event", "Recorded"), "attach": _("File added"),
                "promise_change": _("Promised time changed"),  # workflow.PROMISE_CHANGE
                "anonymise": _("Retention period over: personal data removed")}  # retention.policy.ANONYMISE


def label_of(action: str) -> str:
    """The table's label of an action, also for the timeline's events (which name actions by code)."""
    from aftersales.service import workflow

    t = workflow.TRANSITIONS_BY_ACTION.get(action)
    return str(t.label if t else EVENT_LABELS.get(action, action))
