"""Demo service orders: every flow of the seed, stopped at every status, made by calling the same
services the API calls (so the demo data has passed every rule and has a complete timeline).

Called by ``aftersales demo`` (the ``aftersales.demo`` app) as ``build_orders(rng, count, network, stdout)`` inside
its transaction.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

from django.utils import timezone

from aftersales.core.errors import Conflict
from aftersales.notify.models import OutboxMessage
from aftersales.registry.models import Customer, Machine, MachineStatus
from aftersales.service import services as s
from aftersales.service import demo_history
from aftersales.service.models import OrderStatus, OrderType, ServiceMode, ServiceOrder

# Share of the demo's repairs that went the whole way (rated and closed): the year behind the open ones.
FINISHED_SHARE = 0.7
# The repair path in order; a repair order stops after a random number of these steps.
REPAIR_STEPS = ("forward", "callback", "diagnose", "confirm_mode", "dispatch", "accept", "assign", "tech_accept",
                "schedule", "start", "record_service", "check_out", "confirm", "rate")

SCENARIOS = (  # (name, weight)
    ("repair", 50), ("consultation", 10), ("consultation_forwarded", 3), ("phone_fix", 8), ("escalation", 5),
    ("rejected", 3), ("cancelled", 4), ("exchange", 3), ("return", 2), ("complaint", 6), ("low_rating", 3),
)

# What farmers say about each kind of machine, and what they were doing: no transplanter faults on
# a tractor, no ploughing with a combine.
SYMPTOMS = {
    "tractor": ("发动机冒黑烟，动力不足", "启动困难，需要多次打火", "液压提升无力，旋耕机提不起来", "离合器打滑",
                "前轮轴承异响", "变速箱挂挡困难", "水温过高，开锅", "漏机油", "仪表盘不亮", "转向沉重"),
    "combine_harvester": ("割台搅龙堵塞", "脱粒滚筒异响", "过桥链条断了", "粮仓卸粮搅龙不转", "发动机冒黑烟，动力不足",
                          "籽粒破碎多", "清选筛堵塞，含杂多", "行走无力，爬不上坡", "液压油温过高"),
    "rice_transplanter": ("插秧机取苗不齐", "漏插严重", "秧针打秧", "插植臂不动作", "发动机启动困难", "行走轮打滑陷车"),
    "diesel_engine_single": ("启动困难，需要多次摇车", "冒黑烟，动力不足", "水箱开锅", "漏机油", "有敲缸声"),
    "diesel_engine_multi": ("冒黑烟，动力不足", "启动困难", "机油压力低报警", "水温过高", "涡轮增压器漏油"),
    "implement": ("犁铧磨损严重", "旋耕刀轴异响", "液压翻转不到位", "齿轮箱漏油"),
    "other": ("喷头堵塞，雾化不好", "喷杆折叠不到位", "药泵压力上不去"),
}
CROPS = {  # (crop, operation) pairs that fit the category
    "tractor": (("", "犁地"), ("", "旋耕"), ("玉米", "播种"), ("小麦", "播种"), ("", "运输")),
    "combine_harvester": (("小麦", "收获"), ("水稻", "收获"), ("玉米", "收获"), ("大豆", "收获")),
    "rice_transplanter": (("水稻", "插秧"),),
    "diesel_engine_single": (("", "抽水灌溉"), ("", "配套动力")),
    "diesel_engine_multi": (("", "配套动力"),),
    "implement": (("", "犁地"), ("", "旋耕")),
    "other": (("小麦", "植保"), ("玉米", "植保"), ("棉花", "植保")),
}
QUESTIONS = (("LX904 配几铧犁合适？", "推荐 3 铧犁，黏土地用 2 铧。"),
             ("收割机割台能换大豆割台吗？", "可以，选配大豆挠性割台，经销商可订。"),
             ("保养周期多长？", "每 250 小时更换机油和机滤，500 小时更换燃油滤清器。"))


class _Demo:
    def __init__(self, rng: random.Random, network) -> None:
        self.rng, self.net = rng, network
        u = network.users
        self.agent, self.coordinator, self.hotline = u["agent"], u["coordinator"], u["hotline"]
        self.dispatcher, self.engineer, self.supervisor = u["dispatcher"], u["engineer"], u["supervisor"]
        self.techs: dict[int, list] = {}
        for tech in network.technicians:
            self.techs.setdefault(tech.organization_id, []).append(tech)
        self.machines = list(Machine.objects.filter(owner__isnull=False, status=MachineStatus.IN_SERVICE)
                             .select_related("owner", "model").order_by("pk"))
        rng.shuffle(self.machines)
        self.customers = list(Customer.objects.order_by("pk")[:500])
        self.used = 0

    def act(self, fn, order, user, **kw):
        return fn(actor=user, order_id=order.pk, version=order.version, **kw)

    def next_machine(self) -> tuple[Machine, str]:
        machine = self.machines[self.used % len(self.machines)]
        # Past the first round every machine has an order already: say why this is a new one.
        reason = "" if self.used < len(self.machines) else "演示：同一台机器的另一故障"
        self.used += 1
        return machine, reason

    def intake(self, order_type=OrderType.REPAIR, **kw):
        machine, reason = self.next_machine()
        category = machine.model.category if machine.model.category in SYMPTOMS else "other"
        crop, operation = self.rng.choice(CROPS[category])
        data = s.OrderInput(
            order_type=order_type, customer_id=machine.owner_id, machine_id=machine.pk,
            symptom=self.rng.choice(SYMPTOMS[category]), crop=crop, operation=operation,
            field_location=f"{machine.owner.county}{machine.owner.township}", duplicate_reason=reason,
            urgency=self.rng.choice(("normal", "normal", "urgent", "critical")), **kw,
        )
        try:
            return s.order_create(actor=self.agent, data=data).order, machine
        except Conflict as exc:
            if exc.code != "duplicate_order":
                raise
            # The same farmer called about another machine with a similar fault: the agent decides.
            data = dataclasses.replace(data, duplicate_reason="演示：另一台机器的故障")
            return s.order_create(actor=self.agent, data=data).order, machine

    def repair(self, stop: int, *, rate: int | None = None):
        order, machine = self.intake()
        mode = order.service_mode if order.service_mode in (ServiceMode.ON_SITE, ServiceMode.CARRY_IN, ServiceMode.PAID) \
            else ServiceMode.ON_SITE
        if self.rng.random() < 0.15:
            mode = ServiceMode.MAIL_IN
        org = self.net.provider_for(machine.owner.province, machine.owner.city, machine.owner.county)
        tech = self.rng.choice(self.techs.get(org.pk) or self.techs[self.net.repair_center.pk])
        if tech.organization_id != org.pk:
            org = tech.organization
        now = timezone.now()
        for step in REPAIR_STEPS[:stop]:
            if step == "forward":
                order = self.act(s.order_forward, order, self.coordinator, hotline_technician_id=self.hotline.pk)
            elif step == "callback":
                order = self.act(s.order_callback, order, self.hotline)
            elif step == "diagnose":
                order = self.act(s.order_diagnose, order, self.hotline, steps=["电话询问故障现象", "指导客户检查油路"])
            elif step == "confirm_mode":
                order = self.act(s.order_confirm_mode, order, self.hotline, service_mode=mode,
                                 reason="" if mode == order.proposed_mode else "热线技术员判断")
            elif step == "dispatch":
                order = self.act(s.order_dispatch, order, self.dispatcher, organization_id=org.pk,
                                 outside_coverage_reason="跨区支援（演示数据）",
                                 promised_at=now + timedelta(hours=self.rng.choice((6, 12, 24, 48))))
            elif step == "accept":
                order = self.act(s.order_accept, order, tech)
            elif step == "assign":
                order = self.act(s.order_assign, order, tech, technician_id=tech.pk)
            elif step == "tech_accept":
                order = self.act(s.order_tech_accept, order, tech)
                if mode == ServiceMode.PAID:
                    order = self.act(s.order_quote, order, tech, reason="超出三包期", items=[
                        {"kind": "part", "part_number": "KT-1000428", "description": "燃油滤清器", "quantity": 1, "unit_price": "68"},
                        {"kind": "labour", "description": "工时", "quantity": 2, "unit_price": "80"}])
                    order = self.act(s.order_quote_accept, order, tech)
            elif step == "schedule":
                # Any future time will do here: demo_history.py moves the appointment into working hours.
                order = self.act(s.order_schedule, order, tech, appointment_at=now + timedelta(hours=self.rng.randint(2, 48)))
            elif step == "start":
                if mode in (ServiceMode.ON_SITE, ServiceMode.PAID):
                    order = self.act(s.order_check_in, order, tech)
                else:
                    order = self.act(s.order_receive, order, tech, inbound_tracking="SF%010d" % self.rng.randrange(10**10))
            elif step == "record_service":
                order = self.act(s.order_record_service, order, tech, fault_found=order.symptom, cause="使用磨损",
                                 solution="检修并更换损坏件", labour_hours="1.5",
                                 parts=[s.PartInput(part_number="KT-%06d" % self.rng.randrange(10**6), quantity=1,
                                                    warranty=mode != ServiceMode.PAID)])
            elif step == "check_out":
                order = self.act(s.order_check_out, order, tech,
                                 outbound_tracking="SF%010d" % self.rng.randrange(10**10) if mode == ServiceMode.MAIL_IN else "")
            elif step == "confirm":
                code = OutboxMessage.objects.filter(order=order, template="confirmation_code").latest("id").context["code"]
                order = self.act(s.order_confirm, order, tech, code=code)
            elif step == "rate":
                score = rate or self.rng.choice((5, 5, 5, 4, 4, 3))
                order = self.act(s.order_rate, order, self.agent, score=score, comment="服务及时" if score > 2 else "等了太久")
        return order, tech

    def build(self, scenario: str) -> None:
        rng = self.rng
        if scenario == "repair":
            # Most repairs of a year are finished; the rest stop at every step on the way.
            self.repair(len(REPAIR_STEPS) if rng.random() < FINISHED_SHARE else rng.randint(0, len(REPAIR_STEPS) - 1))
        elif scenario in ("consultation", "consultation_forwarded"):
            question, answer = rng.choice(QUESTIONS)
            customer = rng.choice(self.customers)
            order = s.order_create(actor=self.agent, data=s.OrderInput(
                order_type=OrderType.CONSULTATION, customer_id=customer.pk, symptom=question,
                answer=answer if scenario == "consultation" else "")).order
            if scenario == "consultation_forwarded":
                self.act(s.order_forward, order, self.coordinator, hotline_technician_id=self.hotline.pk)
        elif scenario == "phone_fix":
            order, _tech = self.repair(2)
            self.act(s.order_solve_by_phone, order, self.hotline, solution="电话指导客户检查调整后恢复正常")
        elif scenario == "escalation":
            order, tech = self.repair(REPAIR_STEPS.index("start") + 1)
            order = self.act(s.order_escalate, order, tech, problem=f"{order.symptom}，按常规检修后仍未排除", tried="检查油路、电路和相关部件，更换了易损件")
            if rng.random() < 0.5:
                self.act(s.order_answer_escalation, order, self.engineer, outcome=rng.choice(("guidance", "quality_issue")),
                         answer="按技术通报检查相关总成，必要时整体更换并寄回旧件分析")
        elif scenario == "rejected":
            order, tech = self.repair(REPAIR_STEPS.index("dispatch") + 1)
            order = self.act(s.order_reject, order, tech, reason="技术员外出抢修，无法接单")
            if rng.random() < 0.6:
                # Dispatched again, to the repair centre: the ping-pong the process map shows as a deviation.
                self.act(s.order_dispatch, order, self.dispatcher, organization_id=self.net.repair_center.pk,
                         outside_coverage_reason="原服务站无法接单，转维修中心（演示数据）",
                         promised_at=timezone.now() + timedelta(hours=24))
        elif scenario == "cancelled":
            order, _tech = self.repair(rng.randint(0, 4))
            self.act(s.order_cancel, order, self.agent, reason="客户已自行修好")
        elif scenario in ("exchange", "return"):
            order, machine = self.intake(OrderType.RETURN_EXCHANGE, return_kind=scenario)
            stage = rng.randint(0, 3)
            if stage == 1:
                self.act(s.order_reject_return, order, self.engineer, reason="不符合三包退换条件")
            elif stage >= 2:
                # The technical centre's special approval (特批) where the engine found no right to it.
                order = self.act(s.order_approve_return, order, self.engineer, reason="主要部件多次修理仍故障",
                                 override=not order.return_request.eligible)
                if stage == 3 and scenario == "exchange":
                    self.act(s.order_complete_exchange, order, self.engineer,
                             new_serial_number=f"{machine.serial_number}-X")
                elif stage == 3:
                    self.act(s.order_record_refund, order, self.engineer, refund_amount="68000")
        elif scenario == "complaint":
            about, _tech = self.repair(len(REPAIR_STEPS) - 1)
            order = s.order_create(actor=self.agent, data=s.OrderInput(
                order_type=OrderType.COMPLAINT, customer_id=about.customer_id, symptom="维修人员迟到，态度差",
                about_order_id=about.pk, complaint_category=rng.choice(("attitude", "delay", "quality")),
                complaint_severity=rng.choice(("low", "medium", "high")))).order
            stage = rng.choice((0, 1, 2, 3, 3, 3))
            if stage >= 1:
                order = self.act(s.order_investigate, order, self.supervisor)
            if stage >= 2:
                order = self.act(s.order_resolve, order, self.supervisor, resolution="对服务站通报批评，免收本次费用")
            if stage >= 3:
                self.act(s.order_customer_accept, order, self.supervisor)
        elif scenario == "low_rating":
            self.repair(len(REPAIR_STEPS), rate=rng.choice((1, 2)))


def build_orders(rng: random.Random, count: int, network, stdout) -> None:
    demo = _Demo(rng, network)
    if not demo.machines or not count:
        stdout.write("service orders: 0 (no machines with owners)")
        return
    names, weights = zip(*SCENARIOS)
    # The timeline draws from its own generator: a change to how times are drawn does not change
    # which orders are built.
    history = demo_history.History(random.Random(rng.random()), now=timezone.now())
    last_id = ServiceOrder.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for i in range(count):
        demo.build(rng.choices(names, weights)[0])
        # The scenario's orders were made just now, step after step: spread them over the year.
        made = list(ServiceOrder.objects.filter(id__gt=last_id).order_by("id"))
        if made:
            history.place(made)
            last_id = made[-1].pk
    history.finish()
    made = {status: 0 for status in OrderStatus.values}
    for status in ServiceOrder.objects.values_list("status", flat=True):
        made[status] += 1
    stdout.write(f"service orders: {sum(made.values())} ("
                 + ", ".join(f"{k} {v}" for k, v in made.items() if v) + ")")
