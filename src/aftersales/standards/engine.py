"""Pure rules of the standards, free of Django and of "now": the score of a checklist, the phrases
a text holds, the attendance flag. Facts in, answer out; tests feed them tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

LATE_OR_ABSENT_LIMIT = 3  # a person late or absent three times in a month is flagged


def checklist_score(lines: Iterable[tuple[int, str]]) -> Decimal:
    """(weight, result) pairs -> 0..100, weighted; items not applicable do not count. A checklist
    with nothing applicable scores 100 (nothing was found wrong)."""
    counted = [(w, r) for w, r in lines if r in ("pass", "fail")]
    total = sum(w for w, _ in counted)
    if not total:
        return Decimal("100.0")
    passed = sum(w for w, r in counted if r == "pass")
    return (Decimal(passed * 100) / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Hit:
    phrase: str
    kind: str
    rule: str
    start: int

    def excerpt(self, text: str, width: int = 30) -> str:
        a = max(0, self.start - width)
        return text[a:self.start + len(self.phrase) + width]


def _normal(text: str) -> str:
    # Writers type half- and full-width forms and spaces inside phrases; compare without them.
    return "".join(ch for ch in text if not ch.isspace())


def find_phrases(text: str, phrases: Iterable[dict]) -> list[Hit]:
    """Every forbidden or brush-off phrase the text holds, once each, in the order they appear.
    A longer phrase hides the shorter one inside it (不归我们管 is one hit, not also 不归我管's)."""
    plain = _normal(text or "")
    if not plain:
        return []
    found: list[Hit] = []
    taken: list[tuple[int, int]] = []
    for p in sorted(phrases, key=lambda p: -len(_normal(p["phrase"]))):
        needle = _normal(p["phrase"])
        at = plain.find(needle) if needle else -1
        if at < 0 or any(a <= at < b for a, b in taken):
            continue
        taken.append((at, at + len(needle)))
        found.append(Hit(p["phrase"], p.get("kind", "brush_off"), p.get("rule", ""), at))
    return sorted(found, key=lambda h: h.start)


def attendance_flag(marks: Iterable[str]) -> bool:
    return sum(1 for m in marks if m in ("late", "absent")) >= LATE_OR_ABSENT_LIMIT
