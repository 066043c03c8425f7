"""Issue 15's "Done when", walked on the demo `make run` loads (smaller, same builder): the supervisor
opens /stats/ and sees the year, drills into a slow hop of the process map, opens the planted batch
problem's quality issue and starts a campaign; the technical centre finds it in its queue; the weekly
report lands in the outbox once. Each step through the same pages and worker functions a person and
`aftersales worker` use."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from aftersales.accounts.models import User
from aftersales.notify.models import OutboxMessage
from aftersales.quality.models import Campaign, CampaignTarget, QualityIssue
from aftersales.quality.services import quality_scan_if_due
from aftersales.service.models import ServiceOrder
from aftersales.stats.services import reports_send

pytestmark = pytest.mark.django_db


def test_the_issues_walk_on_the_demo(client):
    out = StringIO()
    call_command("demo", "--customers", "60", "--machines", "80", "--orders", "70", "--seed", "11", stdout=out)
    planted = re.search(r"repairs planted in batch (\S+)", out.getvalue())
    assert planted, out.getvalue()
    supervisor, engineer = User.objects.get(username="supervisor"), User.objects.get(username="engineer")

    # 1. the year's service in numbers and charts (the page's "last 12 months" link), from the aggregates
    client.force_login(supervisor)
    today = timezone.localdate()
    year = {"date_from": (today - timedelta(days=364)).isoformat(), "date_to": today.isoformat(),
            "group_by": "organization"}
    assert "近 12 个月" in client.get("/stats/").content.decode()
    resp = client.get("/stats/", year)
    assert resp.status_code == 200 and resp.context["from_aggregates"] is True
    in_year = ServiceOrder.objects.filter(created_at__date__gte=today - timedelta(days=364)).count()
    assert resp.context["orders"] >= in_year - 5 and resp.context["orders"] >= 60  # days are Shanghai's
    # A column per month that had orders: the demo's 70 orders over 365 days (13 calendar months on the
    # 1st of a month) can leave a month or two without one.
    assert len(resp.context["chart_data"]["intake"]["values"]) >= 10
    assert len(resp.context["rows"]) >= 3  # the serving organizations

    # 2. a slow hop of the process map opens the orders that waited there
    slow = next(e for e in resp.context["pm_slowest"] if e["link"])
    drill = client.get("/stats/orders/" + slow["link"])
    assert drill.status_code == 200 and drill.context["total"] >= 1
    numbers = [r["order"].number for r in drill.context["rows"]]
    assert numbers and all(n in drill.content.decode() for n in numbers[:5])

    # 3. the worker's daily scan raises the planted batch's alarm; the supervisor opens it and starts a campaign
    assert quality_scan_if_due().opened >= 1
    issue = QualityIssue.objects.get(batch=planted[1])
    assert issue.number in client.get("/quality/").content.decode()
    assert client.get(f"/quality/{issue.pk}/").status_code == 200
    resp = client.post(f"/quality/{issue.pk}/campaign", {"title": "液压提升器批次检查", "instructions": "检查提升器油路"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    campaign = Campaign.objects.get(issue=issue)
    assert CampaignTarget.objects.filter(campaign=campaign).exists()

    # 4. the technical centre sees the issue in its queue
    client.force_login(engineer)
    html = client.get("/queue/").content.decode()
    assert 'id="h-quality"' in html and issue.number in html

    # 5. the supervisor subscribes to the weekly report; the worker queues it once
    supervisor.email = "supervisor@example.cn"
    supervisor.save(update_fields=["email"])
    client.force_login(supervisor)
    assert client.post("/stats/subscribe", {"frequencies": ["weekly"]}).status_code == 302
    later = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=7)
    assert reports_send(now=later) == 1
    assert reports_send(now=later) == 0
    mails = OutboxMessage.objects.filter(template="stats_report_weekly", recipient="supervisor@example.cn")
    assert mails.count() == 1 and mails.get().context["intake"] >= 1
