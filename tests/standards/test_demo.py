"""The standards' demo: a month the scorecards can be read from."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from aftersales.demo.build import build_demo
from aftersales.standards import demo, scorecards
from aftersales.standards.models import Case, Certificate

pytestmark = pytest.mark.django_db


def test_a_month_of_briefings_inspections_cases_and_praise():
    result = build_demo(seed=7, customers=5, machines=5, today=timezone.localdate())
    built = demo.build(network=result.network, rng=random.Random(7))
    assert built["briefings"] >= 40 and built["inspections"] >= 12
    assert set(Case.objects.values_list("status", flat=True)) == {"approved", "revoked", "proposed"}
    assert Certificate.objects.filter(category="tractor").count() == 3
    supervisor = result.network.users["supervisor"]
    today = timezone.localdate()
    # The month most of the demo's month falls in (on the 1st, this month holds one day of it).
    days = [today - timezone.timedelta(days=n) for n in range(31)]
    month = demo.busiest_month([d for d in days if d.weekday() < 6])
    cards = {c.person.username: c for c in scorecards.person_cards(supervisor, month)}
    hotline = cards["hotline"]
    assert hotline.inspections >= 1 and hotline.team == "热线早班"
    assert {c.team for c in cards.values()} >= {"热线早班", "济南服务班"}
    # the agent was late three times in that month: flagged there
    agent = next(c for c in scorecards.person_cards(supervisor, month) if c.person.username == "agent")
    assert agent.late >= 3 and "attendance" in agent.flags
