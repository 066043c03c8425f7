"""月度考核表: one month's scorecard per person and per organization, built from what the system
already records: orders (taken, served, ratings, complaints), first-contact ownership, inspections,
the roll call, conduct cases and praise, phrase hits and certificates. Read through the actor: a
person sees their own card, a superior the cards of the people they manage."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from aftersales.accounts.models import User
from aftersales.standards import engine, policies, selectors
from aftersales.standards.models import Case, CaseKind, CaseStatus, Certificate, Inspection, PhraseHit

# A case counts once its measure stands: approved, or its appeal dismissed.
STANDING = (CaseStatus.APPROVED, CaseStatus.APPEALED, CaseStatus.UPHELD)


@dataclass
class Card:
    person: User
    team: str = ""
    orders_taken: int = 0
    orders_served: int = 0
    rating: float | None = None
    complaints: int = 0
    owned_closed: int = 0
    owned_followed: int = 0
    inspections: int = 0
    inspection_score: float | None = None
    present: int = 0
    late: int = 0
    absent: int = 0
    leave: int = 0
    violations: int = 0
    points: int = 0
    commendations: int = 0
    phrase_hits: int = 0
    certificates: int = 0
    score: float = 0.0
    rank: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def follow_up_rate(self) -> float | None:
        return round(self.owned_followed / self.owned_closed, 3) if self.owned_closed else None


def composite(card: Card) -> float:
    """The month's score out of 100 (higher is better): the inspection average (100 with none),
    less 5 per late or absent mark, 10 per standing violation and 2 per phrase hit, plus 5 per
    commendation and 2 per rating point above 3; within 0..100."""
    base = card.inspection_score if card.inspection_score is not None else 100.0
    value = (base - 5 * (card.late + card.absent) - 10 * card.violations - 2 * card.phrase_hits
             + 5 * card.commendations + (2 * (card.rating - 3) if card.rating is not None else 0))
    return round(max(0.0, min(100.0, value)), 1)


def _bounds(month: date) -> tuple[datetime, datetime]:
    first, nxt = selectors.month_bounds(month)
    return (timezone.make_aware(datetime.combine(first, time.min)),
            timezone.make_aware(datetime.combine(nxt, time.min)))


def people_in_scope(actor):
    """The actor and everyone they manage."""
    q = policies.managed_people_q(actor)
    qs = User.objects.filter(is_active=True, organization__isnull=False).select_related("organization")
    if q is not None:
        qs = qs.filter(q | Q(pk=actor.pk))
    return qs.distinct().order_by("organization__code", "username")


def person_cards(actor, month: date, *, person_id: int | None = None) -> list[Card]:
    """One card per person in scope (or the one person asked for), ranked inside each team; a
    constant number of queries whatever the number of people."""
    from aftersales.service.models import Complaint, Rating, ServiceOrder

    people = list(people_in_scope(actor) if person_id is None else [selectors.person_get(actor, person_id)])
    ids = [p.pk for p in people]
    start, end = _bounds(month)
    cards = {p.pk: Card(person=p) for p in people}

    for pid, n in (ServiceOrder.objects.filter(owner_id__in=ids, created_at__gte=start, created_at__lt=end)
                   .values_list("owner_id").annotate(n=Count("pk"))):
        cards[pid].orders_taken = n
    for pid, n in (ServiceOrder.objects.filter(assigned_technician_id__in=ids, completed_at__gte=start,
                                               completed_at__lt=end)
                   .values_list("assigned_technician_id").annotate(n=Count("pk"))):
        cards[pid].orders_served = n
    for pid, avg in (Rating.objects.filter(order__assigned_technician_id__in=ids, recorded_at__gte=start,
                                           recorded_at__lt=end)
                     .values_list("order__assigned_technician_id").annotate(a=Avg("score"))):
        cards[pid].rating = round(float(avg), 2)
    for pid, n in (Complaint.objects.filter(about_order__assigned_technician_id__in=ids, order__created_at__gte=start,
                                            order__created_at__lt=end)
                   .values_list("about_order__assigned_technician_id").annotate(n=Count("pk"))):
        cards[pid].complaints = n
    for pid, m in selectors.ownership_measures(ids, month).items():
        cards[pid].owned_closed, cards[pid].owned_followed = m["closed"], m["followed"]
    for pid, n, avg in (Inspection.objects.filter(person_id__in=ids, at__gte=start, at__lt=end)
                        .values_list("person_id").annotate(n=Count("pk"), a=Avg("score"))):
        cards[pid].inspections, cards[pid].inspection_score = n, round(float(avg), 1)
    for pid, counts in selectors.attendance_of_month(ids, month).items():
        c = cards[pid]
        c.present, c.late, c.absent, c.leave = counts["present"], counts["late"], counts["absent"], counts["leave"]
    for pid, kind, n, points in (Case.objects.filter(person_id__in=ids, status__in=STANDING, proposed_at__gte=start,
                                                     proposed_at__lt=end)
                                 .values_list("person_id", "kind").annotate(n=Count("pk"), p=Sum("points"))):
        if kind == CaseKind.VIOLATION:
            cards[pid].violations, cards[pid].points = n, cards[pid].points - (points or 0)
        else:
            cards[pid].commendations, cards[pid].points = n, cards[pid].points + (points or 0)
    for pid, n in (PhraseHit.objects.filter(person_id__in=ids, at__gte=start, at__lt=end)
                   .values_list("person_id").annotate(n=Count("pk"))):
        cards[pid].phrase_hits = n
    month_end = selectors.month_bounds(month)[1]
    for pid, n in (Certificate.objects.filter(person_id__in=ids, issued_on__lt=month_end, expires_on__gte=month_end)
                   .values_list("person_id").annotate(n=Count("pk"))):
        cards[pid].certificates = n
    from aftersales.standards.models import Team

    team_of: dict[int, str] = {}
    for team_name, member_id in Team.objects.filter(members__in=ids).values_list("name", "members"):
        team_of.setdefault(member_id, team_name)
    out = list(cards.values())
    for c in out:
        c.team = team_of.get(c.person.pk, "")
        c.score = composite(c)
        if engine.attendance_flag(["late"] * c.late + ["absent"] * c.absent):
            c.flags.append("attendance")
    by_team: dict[str, list[Card]] = defaultdict(list)
    for c in out:
        by_team[c.team or f"org:{c.person.organization_id}"].append(c)
    for members in by_team.values():
        for rank, c in enumerate(sorted(members, key=lambda c: -c.score), start=1):
            c.rank = rank
    return sorted(out, key=lambda c: (c.team or "~", c.rank, c.person.username))


def organization_cards(actor, month: date, cards: list[Card] | None = None) -> list[dict]:
    """Per organization: the statistics centre's order measures (intake, rating, complaint rate,
    first-time fix) of the orders assigned to it, and its people's standards figures summed."""
    from aftersales.stats import engine as stats_engine
    from aftersales.stats import selectors as stats_selectors

    cards = person_cards(actor, month) if cards is None else cards
    start, end = _bounds(month)
    kpis = stats_engine.kpis(stats_selectors.traces(actor, start=start, end=end, group_by="organization"))
    orgs: dict[int, dict] = {}
    for c in cards:
        org = c.person.organization
        row = orgs.setdefault(org.pk, {"organization": org, "people": 0, "inspection_scores": [], "late_absent": 0,
                                       "violations": 0, "commendations": 0, "phrase_hits": 0, "score_sum": 0.0})
        row["people"] += 1
        row["late_absent"] += c.late + c.absent
        row["violations"] += c.violations
        row["commendations"] += c.commendations
        row["phrase_hits"] += c.phrase_hits
        row["score_sum"] += c.score
        if c.inspection_score is not None:
            row["inspection_scores"].append(c.inspection_score)
    out = []
    for row in orgs.values():
        figures = kpis.get(row["organization"].name, {})
        scores = row.pop("inspection_scores")
        out.append({**row, "inspection_score": round(sum(scores) / len(scores), 1) if scores else None,
                    "score": round(row.pop("score_sum") / row["people"], 1) if row["people"] else None,
                    "intake": int(figures["intake"].value) if "intake" in figures else 0,
                    "rating": figures["rating"].value if "rating" in figures else None,
                    "complaint_rate": figures["complaint_rate"].value if "complaint_rate" in figures else None,
                    "first_time_fix_rate": figures["first_time_fix_rate"].value if "first_time_fix_rate" in figures else None})
    return sorted(out, key=lambda r: -(r["score"] or 0))


def month_of(value: str | None) -> date:
    """'2026-05' -> 2026-05-01; anything else: this month (Asia/Shanghai)."""
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return timezone.localdate().replace(day=1)



