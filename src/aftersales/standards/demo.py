"""The standards' demo: a month of morning briefings with roll call, weekly appearance checks, a few
conduct cases (approved, appealed, waiting) and praise, a course with certificates, so that the
scorecards show something true. Everything goes through the services; only the dates are moved
back afterwards (a service stamps "now"), as the service demo does with its history."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from aftersales.standards import cases, services
from aftersales.standards.models import Briefing, Case, CaseEvent, Inspection, Presence

FEMALE = {"agent", "coordinator"}  # 李晓燕, 陈丽娟: the women's appearance items apply


def _at(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def busiest_month(days) -> "date":
    """The month most of the demo's days fall in: the agent's three late mornings go there, so its
    scorecard shows the flag."""
    from collections import Counter

    return Counter(d.replace(day=1) for d in days).most_common(1)[0][0]


def build(*, network, today=None, rng: random.Random | None = None) -> dict:
    rng = rng or random.Random("standards")
    today = today or timezone.localdate()
    users = network.users
    admin, supervisor = users["admin"], users["supervisor"]
    services.catalogue_ensure()
    sc, sd = network.orgs["SC"], network.orgs["BR-SD"]
    hotline_team = services.team_create(actor=admin, organization_id=sc.pk, name="热线早班",
                                        leader_id=users["coordinator"].pk,
                                        member_ids=[users[u].pk for u in ("agent", "hotline", "dispatcher")])
    branch_team = services.team_create(actor=admin, organization_id=sd.pk, name="济南服务班", shift="早班",
                                       leader_id=users["manager_sd"].pk, member_ids=[users["tech_sd"].pk])

    # A month of working days: the agent is late three times (flagged), the rest mostly present.
    days = [today - timedelta(days=n) for n in range(30, -1, -1) if (today - timedelta(days=n)).weekday() < 6]
    late_days = set(rng.sample([d for d in days if d.replace(day=1) == busiest_month(days)], 3))
    briefings = 0
    for day in days:
        for team, leader in ((hotline_team, users["coordinator"]), (branch_team, users["manager_sd"])):
            b = services.briefing_open(actor=leader, team_id=team.pk, day=day,
                                       topics=rng.choice(["当天事情当天办", "例会时不得接打私人电话", "首问负责，不推诿",
                                                          "铃响三声内接听", "雨季抢修准备"]))
            for member in team.members.all():
                status = Presence.PRESENT
                if member.username == "agent" and day in late_days:
                    status = Presence.LATE
                elif rng.random() < 0.04:
                    status = rng.choice([Presence.LEAVE, Presence.ABSENT])
                services.attendance_mark(actor=leader, briefing_id=b.pk, person_id=member.pk, status=status)
            Briefing.objects.filter(pk=b.pk).update(opened_at=_at(day, 8))
            briefings += 1

    # Weekly appearance checks by the supervisor; the hotline technician's shoes fail twice.
    inspections = 0
    for week, day in enumerate(days[::6]):
        for name in ("agent", "hotline", "dispatcher"):
            gender = "female" if name in FEMALE else "male"
            items = services.selectors.checklist(services.catalogue_ensure().data, gender=gender)
            fail = {"M-SHOES"} if name == "hotline" and week in (1, 3) else (
                {rng.choice(items)["code"]} if rng.random() < 0.2 else set())
            results = {i["code"]: {"result": "fail" if i["code"] in fail else "pass",
                                   "note": "鞋面有灰尘" if i["code"] == "M-SHOES" and i["code"] in fail else ""}
                       for i in items}
            i = services.inspection_record(actor=supervisor, person_id=users[name].pk, gender=gender, results=results)
            Inspection.objects.filter(pk=i.pk).update(at=_at(day, 8, 30))
            if day < today - timedelta(days=2):
                Inspection.objects.filter(pk=i.pk).update(acknowledged_at=_at(day, 9))
            inspections += 1

    # Cases: one approved, one appealed and revoked, one waiting; two commendations.
    c1 = cases.case_propose(actor=supervisor, kind="violation", person_id=users["dispatcher"].pk, rule="S-SAMEDAY",
                               measure="verbal_warning", description="派工单隔夜未处理，客户二次来电催促")
    cases.case_act(actor=admin, case_id=c1.pk, version=1, action="approve", text="口头警告")
    c2 = cases.case_propose(actor=supervisor, kind="violation", person_id=users["agent"].pk, rule="B-PHONE",
                               measure="verbal_warning", description="例会时接打私人电话")
    cases.case_act(actor=admin, case_id=c2.pk, version=1, action="approve")
    cases.case_act(actor=users["agent"], case_id=c2.pk, version=2, action="appeal", text="是客户回电，不是私人电话")
    cases.case_act(actor=supervisor, case_id=c2.pk, version=3, action="revoke", text="核实为客户回电")
    cases.case_propose(actor=supervisor, kind="violation", person_id=users["hotline"].pk, rule="M-SHOES",
                          measure="verbal_warning", description="两次检查鞋面不洁")
    p1 = cases.case_propose(actor=supervisor, kind="commendation", person_id=users["tech_sd"].pk, measure="reward",
                               description="麦收期间连夜抢修联合收割机，客户送锦旗", fine="500")
    cases.case_act(actor=admin, case_id=p1.pk, version=1, action="approve")
    p2 = cases.case_propose(actor=supervisor, kind="commendation", person_id=users["hotline"].pk, measure="praise",
                               description="电话指导客户排除液压故障，获五星评价")
    cases.case_act(actor=admin, case_id=p2.pk, version=1, action="approve")
    for n, case in enumerate(Case.objects.order_by("pk")):
        when = _at(today - timedelta(days=20 - 4 * n), 10)
        Case.objects.filter(pk=case.pk).update(proposed_at=when)
        CaseEvent.objects.filter(case=case).update(at=when)

    course = services.course_create(
        actor=admin, title="热线接听服务规范", post="call_agent", pass_mark=80, valid_months=12,
        material="铃响三声内接听；问候“您好，开拓机械公司客服 xxx号为您服务”；严禁推诿（“不归我们管”）、敷衍（“不大清楚”）。",
        questions=[{"q": "电话铃响几声内必须接听？", "options": ["三声", "五声", "十声"], "answer": 0},
                   {"q": "结束通话时应当？", "options": ["马上挂断", "让客户先挂断"], "answer": 1},
                   {"q": "客户问到不归本岗位的问题，应当？", "options": ["说“不归我们管”", "转接并说明"], "answer": 1}])
    tractor = services.course_create(actor=admin, title="拖拉机维修上岗培训", post="field_technician",
                                     category="tractor", pass_mark=80, valid_months=24)
    for name in ("agent", "hotline"):
        services.certificate_grant(actor=admin, person_id=users[name].pk, course_id=course.pk,
                                   issued_on=today - timedelta(days=200))
    for name in ("tech_sd", "tech_ha", "tech_rc"):
        services.certificate_grant(actor=admin, person_id=users[name].pk, course_id=tractor.pk,
                                   issued_on=today - timedelta(days=100))
    return {"briefings": briefings, "inspections": inspections, "cases": Case.objects.count()}
