"""Conduct and cases (违规处理与表扬): the phrases found in what staff write on orders, the conduct
cases they and the complaints of 失礼 / 乱收费 open, and each step of a case — propose, approve or
reject (the superior), the statement, the appeal and its decision. One function per action, each
in one audited transaction; split from services.py by what it holds."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import User
from aftersales.core.audit import audited
from aftersales.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from aftersales.standards import engine, policies, selectors
from aftersales.standards.models import (
    COMMENDATION_MEASURES,
    VIOLATION_MEASURES,
    Case,
    CaseEvent,
    CaseKind,
    CaseSource,
    CaseStatus,
    PhraseHit,
)

TEXT_LIMIT = 5000
from aftersales.standards.services import TEXT_LIMIT, _too_long, catalogue_ensure


# --- conduct: the service language (文明用语) ---------------------------------------------------

def conduct_check(text: str) -> list[engine.Hit]:
    """The phrases a text holds (nothing is recorded: the hint shown while writing)."""
    return engine.find_phrases(text, selectors.catalogue_data().get("forbidden_phrases", []))


# The texts of an order's events that go to or are about the customer, by the event's data key.
CHECKED_KEYS = ("summary", "answer", "solution", "fault_found", "cause", "resolution", "findings", "reason")


def conduct_record(*, person, text: str, where: str, order=None) -> list[PhraseHit]:
    """Texts saved although they hold a forbidden phrase: each hit is counted, and the first hit of
    a save opens a conduct case (不准对用户失礼) for the person's superior to approve."""
    hits = conduct_check(text)
    if not hits or person is None or not getattr(person, "pk", None):
        return []
    plain = "".join(ch for ch in text if not ch.isspace())
    now = timezone.now()
    rows = PhraseHit.objects.bulk_create([
        PhraseHit(person=person, order=order, where=where[:30], phrase=h.phrase[:60], kind=h.kind,
                  excerpt=h.excerpt(plain)[:200], at=now) for h in hits])
    first = rows[0]
    four_nos = dict(selectors.rules(selectors.catalogue_data()))
    rule = hits[0].rule or "4N-2"
    _case_create(actor=None, kind=CaseKind.VIOLATION, source=CaseSource.PHRASE, person=person, rule=rule,
                 rule_text=four_nos.get(rule, ""), measure="verbal_warning",
                 description=_("Wrote “%(phrase)s” to or about a customer: %(excerpt)s") % {
                     "phrase": first.phrase, "excerpt": first.excerpt},
                 order=order, phrase_hit=first)
    return rows


# Complaint categories that are conduct: 失礼 (staff attitude) and 乱收费 (charges), 四不准 2 and 4.
CONDUCT_COMPLAINTS = {"attitude": "4N-2", "charges": "4N-4"}


def on_order_changed(order, events) -> None:
    """The service app's hook (inside the order's transaction): texts written on the order are
    checked against the forbidden phrases, and a new complaint of 失礼 or 乱收费 opens a conduct
    case against the person it is about."""
    for event in events:
        if event.actor_id is not None:
            texts = [event.note] + [str(event.data.get(k, "")) for k in CHECKED_KEYS if isinstance(event.data, dict)]
            text = "\n".join(t for t in texts if t)
            if text:
                conduct_record(person=event.actor, text=text, where=event.action, order=order)
        if event.action == "create" and order.order_type == "complaint":
            complaint_conduct_case(order)
        if event.action == "rate" and isinstance(event.data, dict) and event.data.get("score") == 5:
            rating_commendation(order)


def complaint_conduct_case(order) -> Case | None:
    """A complaint of 失礼 or 乱收费 about an order opens a conduct case against the technician who
    served it (or the hotline technician, or its first-contact owner). A complaint naming no order
    names no person: the supervisor opens the case by hand."""
    complaint = getattr(order, "complaint", None)
    if complaint is None or complaint.category not in CONDUCT_COMPLAINTS or complaint.about_order_id is None:
        return None
    about = complaint.about_order
    person = about.assigned_technician or about.hotline_technician or about.owner
    rule = CONDUCT_COMPLAINTS[complaint.category]
    rules = dict(selectors.rules(selectors.catalogue_data()))
    try:
        with transaction.atomic():
            return _case_create(
                actor=None, kind=CaseKind.VIOLATION, source=CaseSource.COMPLAINT, person=person, rule=rule,
                rule_text=rules.get(rule, ""), measure="verbal_warning", order=about, complaint_order=order,
                description=_("Complaint %(number)s (%(category)s): %(symptom)s") % {
                    "number": order.number, "category": complaint.get_category_display(), "symptom": order.symptom[:300]})
    except IntegrityError:
        return None  # this complaint's case exists already


def rating_commendation(order) -> Case | None:
    """及时表扬: a five-star rating with words of praise proposes a commendation of the technician
    who served the order, for the superior to approve."""
    rating = getattr(order, "rating", None)
    person = order.assigned_technician
    if rating is None or person is None or not (rating.comment or "").strip():
        return None
    return _case_create(actor=None, kind=CaseKind.COMMENDATION, source=CaseSource.RATING, person=person, rule="",
                        rule_text="", measure="praise", order=order,
                        description=_("Rated 5 of 5 on %(number)s: %(comment)s") % {
                            "number": order.number, "comment": rating.comment[:300]})


# --- cases: violations and commendations (违规处理与表扬) ----------------------------------------

def _number(case: Case) -> None:
    prefix = "WG" if case.kind == CaseKind.VIOLATION else "BY"
    case.number = f"{prefix}{timezone.localtime(case.proposed_at):%Y}-{case.pk:05d}"
    Case.objects.filter(pk=case.pk).update(number=case.number)


def _event(case: Case, *, actor, action: str, from_status: str = "", text: str = "") -> None:
    CaseEvent.objects.create(case=case, at=timezone.now(), actor=actor, action=action, from_status=from_status,
                             to_status=case.status, text=text)


def _case_create(*, actor, kind: str, source: str, person, rule: str, rule_text: str, measure: str, description: str,
                 points: int = 0, fine: Decimal = Decimal("0"), order=None, complaint_order=None, inspection=None,
                 phrase_hit=None) -> Case:
    case = Case.objects.create(
        kind=kind, source=source, person=person, organization_id=person.organization_id, rule=rule,
        rule_text=rule_text[:300], catalogue=catalogue_ensure(), description=description, measure=measure,
        points=points, fine=fine, proposed_by=actor, proposed_at=timezone.now(), order=order,
        complaint_order=complaint_order, inspection=inspection, phrase_hit=phrase_hit)
    _number(case)
    _event(case, actor=actor, action="proposed", text=description)
    _notify_superiors(case)
    return case


def _notify_superiors(case: Case) -> None:
    from aftersales.notify.inbox import inbox_add_many

    from aftersales.accounts.models import RoleCode

    superiors = set(User.objects.filter(organization_id=case.organization_id, is_active=True,
                                        roles__code=RoleCode.SUPERVISOR).values_list("pk", flat=True))
    superiors |= set(case.person.teams.values_list("leader_id", flat=True))
    superiors.discard(case.person_id)
    inbox_add_many((uid, None, "standards_case", {"number": case.number, "person": str(case.person),
                                                  "path": f"/standards/cases/{case.pk}/"}) for uid in superiors)


def case_propose(*, actor, kind: str, person_id: int, measure: str, description: str, rule: str = "",
                 points: int = 0, fine="0", order_id: int | None = None, inspection_id: int | None = None,
                 complaint_order_id: int | None = None) -> Case:
    """A superior records a violation or a commendation; a second superior (or an administrator)
    approves it."""
    errors: dict = {}
    person = User.objects.select_related("organization").filter(pk=person_id, is_active=True).first()
    if person is None or not policies.is_superior_of(actor, person):
        raise NotFound(_("Person not found."))
    if kind not in CaseKind.values:
        errors["kind"] = ", ".join(CaseKind.values)
    allowed = VIOLATION_MEASURES if kind == CaseKind.VIOLATION else COMMENDATION_MEASURES
    if measure not in allowed:
        errors["measure"] = _("One of: %(list)s") % {"list": ", ".join(allowed)}
    if not description.strip():
        errors["description"] = _("This field is required.")
    _too_long(errors, "description", description, TEXT_LIMIT)
    rules = dict(selectors.rules(selectors.catalogue_data()))
    if kind == CaseKind.VIOLATION and rule not in rules:
        errors["rule"] = _("Name a rule of the standards or of the 四不准.")
    if rule and rule not in rules:
        errors["rule"] = _("Unknown rule.")
    try:
        fine = Decimal(str(fine or "0"))
        if fine < 0 or fine > Decimal("100000") or fine.as_tuple().exponent < -2:
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):  # TypeError: Infinity's exponent is "F"
        errors["fine"] = _("An amount from 0 to 100000 yuan with at most two decimals.")
    if not isinstance(points, int) or not -100 <= points <= 100:
        errors["points"] = _("A whole number from -100 to 100.")
    from aftersales.service import selectors as order_selectors

    order = complaint = inspection = None
    if order_id is not None:
        order = order_selectors.order_queryset_plain(actor).filter(pk=order_id).first()
        if order is None:
            errors["order_id"] = _("Unknown order.")
    if complaint_order_id is not None:
        complaint = order_selectors.order_queryset_plain(actor).filter(pk=complaint_order_id,
                                                                       order_type="complaint").first()
        if complaint is None:
            errors["complaint_order_id"] = _("Unknown complaint.")
    if inspection_id is not None:
        inspection = selectors.inspection_queryset(actor).filter(pk=inspection_id, person=person).first()
        if inspection is None:
            errors["inspection_id"] = _("Unknown inspection of this person.")
    if errors:
        raise ValidationFailed(_("The case was not saved."), fields=errors)
    try:
        with audited(actor):
            return _case_create(actor=actor, kind=kind, source=CaseSource.INSPECTION if inspection else CaseSource.MANUAL,
                                person=person, rule=rule, rule_text=rules.get(rule, ""), measure=measure,
                                description=description.strip(), points=points, fine=fine, order=order,
                                complaint_order=complaint, inspection=inspection)
    except IntegrityError:
        raise Conflict(_("This complaint has a conduct case already."), code="duplicate_case") from None


# action -> (statuses it starts from, status it leads to, who: superior | person, text required)
CASE_ACTIONS: dict[str, tuple[tuple[str, ...], str, str, bool]] = {
    "approve": ((CaseStatus.PROPOSED,), CaseStatus.APPROVED, "superior", False),
    "reject": ((CaseStatus.PROPOSED,), CaseStatus.REJECTED, "superior", True),
    "state": ((CaseStatus.PROPOSED, CaseStatus.APPROVED), "", "person", True),
    "appeal": ((CaseStatus.APPROVED,), CaseStatus.APPEALED, "person", True),
    "uphold": ((CaseStatus.APPEALED,), CaseStatus.UPHELD, "superior", True),
    "revoke": ((CaseStatus.APPEALED,), CaseStatus.REVOKED, "superior", True),
}


def case_allowed_actions(actor, case: Case) -> list[str]:
    out = []
    for name, (sources, _target, who, _required) in CASE_ACTIONS.items():
        if case.status not in sources:
            continue
        if name == "appeal" and case.kind != CaseKind.VIOLATION:
            continue
        if who == "person" and actor.pk == case.person_id:
            out.append(name)
        elif who == "superior" and _may_decide(actor, case):
            out.append(name)
    return out


def _may_decide(actor, case: Case) -> bool:
    """业务操作审批: a superior of the person who did not propose the case decides it; an
    administrator may decide any. An appeal is decided by someone other than the first approver."""
    if not policies.is_superior_of(actor, case.person):
        return False
    if policies.is_administrator(actor):
        return True
    if case.status == CaseStatus.PROPOSED:
        return case.proposed_by_id != actor.pk
    if case.status == CaseStatus.APPEALED:
        return case.decided_by_id != actor.pk
    return True


def case_act(*, actor, case_id: int, version: int, action: str, text: str = "") -> Case:
    if action not in CASE_ACTIONS:
        raise ValidationFailed(_("Unknown action."), fields={"action": ", ".join(CASE_ACTIONS)})
    sources, target, who, required = CASE_ACTIONS[action]
    text = (text or "").strip()
    if required and not text:
        raise ValidationFailed(_("Nothing was changed."), fields={"text": _("This field is required.")})
    if len(text) > TEXT_LIMIT:
        raise ValidationFailed(_("Nothing was changed."), fields={"text": _("At most %(n)s characters.") % {"n": TEXT_LIMIT}})
    with audited(actor):
        case = selectors.case_queryset(actor).select_for_update(of=("self",)).filter(pk=case_id).first()
        if case is None:
            raise NotFound(_("Case not found."))
        if case.version != version:
            raise Conflict(_("The case was changed by someone else; reload it and decide again."), code="stale_version")
        if action not in case_allowed_actions(actor, case):
            raise Forbidden(_("You may not %(action)s this case now.") % {"action": action})
        from_status = case.status
        now = timezone.now()
        if action in ("approve", "reject"):
            case.decided_by, case.decided_at, case.decision_note = actor, now, text[:500]
        elif action == "state":
            case.statement = text
        elif action == "appeal":
            case.appeal = text
        elif action in ("uphold", "revoke"):
            case.appeal_decision = text[:500]
        if target:
            case.status = target
        case.version += 1
        case.save()
        _event(case, actor=actor, action=action, from_status=from_status, text=text)
    return case
