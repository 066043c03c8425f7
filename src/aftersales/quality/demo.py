"""The demo's planted batch problem (批量问题), so the quality alarm shows something true on `make run`.

One production batch of the tractor model with the most machines in the demo (the serial number
without its last group, "LX904-2025") gets a cluster of repairs of its hydraulic lift (液压提升器)
in the last four months, and one machine of another batch of the same model the same repair (the
baseline of comparable machines is not zero, so the alarm is not a first-failure artefact). Every
order goes through the real services (intake, dispatch, check-in, service record with the
component, check-out, the customer's confirmation, the rating) and is then moved to a believable
time like the rest of the demo. The worker's daily scan (or `aftersales quality scan`) then raises
the alarm and opens the quality issue in the technical centre's queue.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from django.utils import timezone

from aftersales.notify.models import OutboxMessage
from aftersales.quality.engine import batch_of
from aftersales.registry.models import Machine, MachineStatus
from aftersales.service import demo_history, hooks
from aftersales.service import services as s
from aftersales.service.models import OrderStatus, ServiceMode, ServiceOrder
from aftersales.service.services.intake import _next_number

COMPONENT = "hydraulic_lift"
SYMPTOM = "液压提升无力，旋耕机提不起来"
FAILURES = 6  # in the planted batch; one more on another batch of the model
RECENT_DAYS = 120


def _target(machines: list[Machine]) -> tuple[list[Machine], list[Machine]]:
    """(the batch's machines, the model's other machines) of the tractor model with most machines."""
    by_model: dict[int, list[Machine]] = defaultdict(list)
    for m in machines:
        if m.model.category == "tractor" and COMPONENT in (m.model.main_components or ()):
            by_model[m.model_id].append(m)
    if not by_model:
        return [], []
    model_machines = max(by_model.values(), key=len)
    batches: dict[str, list[Machine]] = defaultdict(list)
    for m in model_machines:
        batches[batch_of(m.serial_number)].append(m)
    # The largest batch that still leaves at least as many machines of other batches to compare with.
    fair = [b for b in batches.values() if len(b) * 2 <= len(model_machines)] or list(batches.values())
    batch = max(fair, key=len)
    return batch, [m for m in model_machines if m not in batch]


def _repair(net, rng: random.Random, machine: Machine) -> ServiceOrder:
    u = net.users
    agent, coordinator, hotline, dispatcher = u["agent"], u["coordinator"], u["hotline"], u["dispatcher"]
    org = net.provider_for(machine.owner.province, machine.owner.city, machine.owner.county)
    techs = [t for t in net.technicians if t.organization_id == org.pk] or [
        t for t in net.technicians if t.organization_id == net.repair_center.pk]
    tech = rng.choice(techs)
    org = tech.organization
    order = s.order_create(actor=agent, data=s.OrderInput(
        order_type="repair", customer_id=machine.owner_id, machine_id=machine.pk, symptom=SYMPTOM, crop="小麦",
        operation="旋耕", field_location=f"{machine.owner.county}{machine.owner.township}",
        duplicate_reason="演示：液压提升器批量故障")).order

    def act(fn, user, **kw):
        return fn(actor=user, order_id=order.pk, version=order.version, **kw)

    order = act(s.order_forward, coordinator, hotline_technician_id=hotline.pk)
    order = act(s.order_callback, hotline)
    order = act(s.order_diagnose, hotline, steps=["询问提升器动作情况", "指导客户检查液压油位"])
    order = act(s.order_confirm_mode, hotline, service_mode=ServiceMode.ON_SITE,
                reason="" if order.proposed_mode == ServiceMode.ON_SITE else "需上门检修提升器")
    now = timezone.now()
    order = act(s.order_dispatch, dispatcher, organization_id=org.pk, outside_coverage_reason="跨区支援（演示数据）",
                promised_at=now + timedelta(hours=24))
    order = act(s.order_accept, tech)
    order = act(s.order_assign, tech, technician_id=tech.pk)
    order = act(s.order_tech_accept, tech)
    order = act(s.order_schedule, tech, appointment_at=now + timedelta(hours=rng.randint(2, 24)))
    order = act(s.order_check_in, tech)
    order = act(s.order_record_service, tech, fault_found="提升油缸内泄，提升无力", cause="油缸密封圈早期失效",
                solution="更换提升油缸密封圈，补充液压油", labour_hours="3", component=COMPONENT,
                parts=[s.PartInput(part_number="KT-LS-2204", name="提升油缸密封圈", quantity=1, warranty=True,
                                   component=COMPONENT)])
    order = act(s.order_check_out, tech)
    code = OutboxMessage.objects.filter(order=order, template="confirmation_code").latest("id").context["code"]
    order = act(s.order_confirm, tech, code=code)
    # 3 or 4: a rating of 2 or lower would open a complaint, another order this builder does not place.
    return act(s.order_rate, agent, score=rng.choice((3, 4)), comment="提升器又坏了，耽误农时")


def build(*, network, rng: random.Random, stdout) -> None:
    machines = list(Machine.objects.filter(status=MachineStatus.IN_SERVICE, owner__isnull=False)
                    .select_related("owner", "model").order_by("pk"))
    batch, others = _target(machines)
    if len(batch) < 3 or not others:
        stdout.write("quality: no batch large enough to plant a problem in")
        return
    victims = rng.sample(batch, min(FAILURES, len(batch))) + [rng.choice(others)]
    history = demo_history.History(random.Random(rng.random()), now=timezone.now())
    # A recent cluster: the failures came in the last months, as a bad batch of seals shows itself.
    history.days, history.weights = history.days[:RECENT_DAYS], history.weights[:RECENT_DAYS]
    made = []
    for machine in victims:
        order = _repair(network, rng, machine)
        history.place([order])
        made.append(ServiceOrder.objects.get(pk=order.pk))
    for order in made:
        # Numbered by the day it was received, after that day's other orders.
        ServiceOrder.objects.filter(pk=order.pk).update(number=_next_number(timezone.localdate(order.created_at)))
        hooks.order_changed(order, [])
    closed = sum(1 for o in made if o.status == OrderStatus.CLOSED)
    stdout.write(f"quality: {len(made) - 1} {COMPONENT} repairs planted in batch "
                 f"{batch_of(batch[0].serial_number)} ({len(batch)} machines), 1 in another batch; {closed} closed")
