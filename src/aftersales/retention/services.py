"""The purge: every rule of the policy over the rows past their time, in batches.

Each batch is its own transaction (a purge of millions of rows never holds one long transaction or
one huge lock), and the run's record is updated after each batch, so what is in the database and
what the record says stay together even when the run is interrupted; the next run resumes (the
rules only see what they have not handled yet).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aftersales.retention.models import RetentionRun
from aftersales.retention.policy import RULES, Rule, cutoff

logger = logging.getLogger("aftersales.retention")
EVERY = timedelta(days=1)


@dataclass
class PurgeResult:
    applied: bool
    counts: dict[str, int] = field(default_factory=dict)
    cutoffs: dict[str, str | None] = field(default_factory=dict)
    run: RetentionRun | None = None


def _policy(now: datetime) -> dict:
    return {"retention_years": settings.RETENTION_YEARS,
            **{rule.name: {"days": rule.days(), "action": rule.action,
                           "cutoff": c.isoformat() if (c := cutoff(rule, now)) else None} for rule in RULES}}


def _rules(only: list[str] | None) -> list[Rule]:
    if only:
        unknown = set(only) - {r.name for r in RULES}
        if unknown:
            raise ValueError(f"unknown retention rule(s): {', '.join(sorted(unknown))}")
    return [r for r in RULES if not only or r.name in only]


def retention_purge(*, apply: bool = False, actor: str = "", batch: int = 1000, now: datetime | None = None,
                    only: list[str] | None = None) -> PurgeResult:
    """What the policy removes as of ``now``. Without ``apply`` only counted (nothing changes, nothing
    is recorded); with it, done in batches of ``batch`` rows and recorded in a RetentionRun."""
    now = now or timezone.now()
    rules = _rules(only)
    result = PurgeResult(applied=apply)
    for rule in rules:
        c = cutoff(rule, now)
        result.cutoffs[rule.name] = c.isoformat() if c else None
    if not apply:
        for rule in rules:
            c = cutoff(rule, now)
            result.counts[rule.name] = rule.candidates(c).count() if c else 0
        return result
    run = RetentionRun.objects.create(started_at=now, actor=actor or "?", policy=_policy(now),
                                      counts={r.name: 0 for r in rules})
    result.run = run
    context = {"now": now, "run_id": run.pk}
    for rule in rules:
        c = cutoff(rule, now)
        result.counts[rule.name] = 0
        if c is None:
            continue
        after = None
        while True:
            ids = rule.candidates(c)
            if after is not None:
                ids = ids.filter(pk__gt=after)
            ids = list(ids[:batch])
            if not ids:
                break
            with transaction.atomic():
                done = rule.apply(ids, context)
                result.counts[rule.name] += done
                RetentionRun.objects.filter(pk=run.pk).update(counts=result.counts)
            after = ids[-1]
        logger.info("retention %s: %s %d rows older than %s", rule.name, rule.action, result.counts[rule.name], c)
    run.counts = result.counts
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    return result


def retention_purge_if_due(*, now: datetime | None = None) -> PurgeResult | None:
    """The worker's daily purge: runs when the last one started a day ago or more (one query otherwise).
    Two workers that ask at the same moment both run it; the second finds (almost) nothing left."""
    now = now or timezone.now()
    if not settings.RETENTION_PURGE_DAILY:
        return None
    last = RetentionRun.objects.filter(actor="worker").order_by("-started_at").values_list("started_at", flat=True).first()
    if last is not None and now - last < EVERY:
        return None
    return retention_purge(apply=True, actor="worker", now=now)
