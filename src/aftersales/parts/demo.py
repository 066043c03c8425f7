"""The parts demo: a catalogue, stock in the centre, the branches, the agencies and the vans, a few
requisitions in flight, old parts back and inspected, last month's settlements, and planted
suspicious claims the automatic checks flag. Runs after the service orders (it needs completed
warranty orders, whose claims the parts hook drafted as they completed). A few hundred rows: fast."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from aftersales.accounts.models import OrganizationKind as K, RoleCode as R, User
from aftersales.core.errors import DomainError
from aftersales.parts import claims, returns, services
from aftersales.parts.models import (
    Claim,
    ClaimRate,
    ClaimStatus,
    GeoPoint,
    OldPart,
    Part,
    PartPrice,
    Requisition,
    StandardHours,
    Warehouse,
    WarehouseKind,
)

# (number, 中文名, English, component, cost, customer price, partner price, wear, serial, return)
CATALOGUE = [
    ("1000428205", "燃油滤清器", "Fuel filter", "filter_element", "35", "48", "38", True, False, False),
    ("1000588583", "机油滤清器", "Oil filter", "filter_element", "28", "39", "30", True, False, False),
    ("V-BELT-B1600", "B型三角带", "V-belt B1600", "belt", "42", "60", "46", True, False, False),
    ("4110001", "喷油泵总成", "Injection pump assembly", "fuel_injection_pump", "1200", "1680", "1350", False, False, True),
    ("4110002", "喷油器", "Injector nozzle", "injector_nozzle", "160", "230", "180", True, False, False),
    ("LX-GB-904", "变速箱总成", "Gearbox assembly", "gearbox", "9800", "13800", "11000", False, True, True),
    ("LX-HL-01", "提升器总成", "Hydraulic lift assembly", "hydraulic_lift", "2600", "3600", "2900", False, False, True),
    ("LX-CD-350", "离合器从动盘", "Clutch disc", "clutch_disc", "210", "300", "240", True, False, False),
    ("GH-TD-60", "脱粒滚筒纹杆", "Rasp bar", "rasp_bar", "85", "120", "95", False, False, True),
    ("GH-KS-76", "割刀动刀片", "Knife section", "knife_section", "6", "9", "7", True, False, False),
    ("TB-CH-01", "涡轮增压器", "Turbocharger", "turbocharger", "1900", "2700", "2150", False, False, True),
    ("SEAL-KIT-1", "油封修理包", "Seal kit", "seal", "55", "80", "62", True, False, False),
]
# Rough centres of the demo's provinces (WGS-84); customers are scattered around their organization.
PLACES = {"广东省": (23.13, 113.26), "河南省": (34.75, 113.62), "山东省": (36.65, 117.12), "黑龙江省": (45.80, 126.53),
          "河北省": (38.04, 114.51), "安徽省": (32.89, 115.81), "江苏省": (33.35, 120.16), "新疆维吾尔自治区": (44.01, 87.30)}


def _d(x) -> Decimal:
    return Decimal(str(x))


def build(*, network, stdout=None) -> dict:
    rng = random.Random(17)
    today = timezone.localdate()
    desk = next(u for u in network.users.values() if u.organization_id == network.service_center.pk
                and R.REPAIR_COORDINATOR in network.roles[u.username])
    supervisor = next(u for u in network.users.values() if R.SUPERVISOR in network.roles[u.username])
    engineer = next(u for u in network.users.values() if R.TECHNICAL_ENGINEER in network.roles[u.username])

    parts = []
    for number, zh, en, comp, cost, cust, partner, wear, serial, ret in CATALOGUE:
        p = Part.objects.create(number=number, name_zh=zh, name_en=en, component=comp, standard_cost=_d(cost),
                                wear_part=wear, serial_tracked=serial, return_required=ret)
        PartPrice.objects.create(part=p, audience="customer", price=_d(cust), valid_from=today.replace(month=1, day=1))
        for level in (K.DIRECT_BRANCH, K.AUTHORIZED_AGENCY):
            PartPrice.objects.create(part=p, audience="partner", level=level, valid_from=today.replace(month=1, day=1),
                                     price=_d(partner) if level == K.AUTHORIZED_AGENCY else _d(cost))
        parts.append(p)
    # The filter's old number, superseded: kept in the catalogue, no longer stocked.
    Part.objects.create(number="1000428200", name_zh="燃油滤清器（旧型号）", name_en="Fuel filter (old)",
                                     component="filter_element", wear_part=True, standard_cost=_d(33),
                                     superseded_by=parts[0], is_active=False)
    ClaimRate.objects.create(province="", labour_per_hour=_d("60.00"), travel_per_km=_d("1.50"), filing_days=30,
                             valid_from=today.replace(year=today.year - 2))
    ClaimRate.objects.create(province="新疆维吾尔自治区", labour_per_hour=_d("75.00"), travel_per_km=_d("2.00"),
                             filing_days=45, valid_from=today.replace(year=today.year - 2))
    for comp, action, hours in (("fuel_injection_pump", "replaced", "2.5"), ("gearbox", "replaced", "8"),
                                ("hydraulic_lift", "replaced", "4"), ("rasp_bar", "replaced", "3"),
                                ("turbocharger", "replaced", "3"), ("whole_machine", "repaired", "1.5"),
                                ("filter_element", "replaced", "0.5"), ("belt", "replaced", "0.5")):
        StandardHours.objects.create(component=comp, action=action, hours=_d(hours))

    # Warehouses: the centre, every branch and agency, and a van per field technician.
    centre = Warehouse.objects.create(code="CW-GZ", name="开拓机械中心库", kind=WarehouseKind.CENTRE,
                                      organization=network.service_center)
    stores = [Warehouse.objects.create(code=f"WH-{o.code}", name=f"{o.name}库",
                                       kind=WarehouseKind.BRANCH if o.kind == K.DIRECT_BRANCH else WarehouseKind.AGENCY,
                                       organization=o)
              for o in network.orgs.values() if o.kind in (K.DIRECT_BRANCH, K.AUTHORIZED_AGENCY)]
    techs = [u for u in network.technicians if u.organization.kind in (K.DIRECT_BRANCH, K.AUTHORIZED_AGENCY)]
    vans = {t.pk: services.van_ensure(technician=t) for t in techs}
    for p in parts:
        if p.serial_tracked:
            for i in range(4):
                services.stock_receive(actor=desk, warehouse_id=centre.pk, part_id=p.pk, quantity=1,
                                       unit_cost=p.standard_cost, serial=f"GB{today:%y}{i + 1:05d}")
        else:
            services.stock_receive(actor=desk, warehouse_id=centre.pk, part_id=p.pk, quantity=rng.randint(90, 140),
                                   unit_cost=p.standard_cost, tracking_number="厂发%06d" % rng.randrange(10**6))
        services.reorder_set(actor=desk, warehouse_id=centre.pk, part_id=p.pk, reorder_point=10 if not p.serial_tracked
                             else 2, reorder_quantity=30 if not p.serial_tracked else 4)
    for store in stores:
        for p in parts[:8]:
            if p.serial_tracked:
                continue
            services.stock_transfer(actor=desk, from_warehouse_id=centre.pk, to_warehouse_id=store.pk, part_id=p.pk,
                                    quantity=rng.randint(6, 10), tracking_number="SF%010d" % rng.randrange(10**10))
            services.reorder_set(actor=desk, warehouse_id=store.pk, part_id=p.pk, reorder_point=3, reorder_quantity=5)
    for t in techs:
        store = next(s for s in stores if s.organization_id == t.organization_id)
        for p in (parts[0], parts[1], parts[2]):
            services.stock_transfer(actor=desk, from_warehouse_id=store.pk, to_warehouse_id=vans[t.pk].pk, part_id=p.pk,
                                    quantity=1)

    # Requisitions in flight: asked, approved, shipped; and one received.
    made = []
    for i, t in enumerate(techs[:4]):
        req = services.requisition_create(actor=t, lines=[services.LineInput(part_id=parts[(3, 4, 6, 8)[i]].pk, quantity=1),
                                                          services.LineInput(part_id=parts[0].pk, quantity=2)],
                                          note="补充车载库存")
        if i >= 1:
            req = services.requisition_approve(actor=desk, requisition_id=req.pk, version=req.version,
                                               approved={req.lines.order_by("id").last().pk: 1})
        if i >= 2:
            req = services.requisition_ship(actor=desk, requisition_id=req.pk, version=req.version,
                                            tracking_number="SF%010d" % rng.randrange(10**10))
        if i >= 3:
            req = services.requisition_receive(actor=t, requisition_id=req.pk, version=req.version)
        made.append(req)
    Requisition.objects.filter(pk__in=[r.pk for r in made]).update(created_at=F("created_at") - timedelta(days=2))

    # Coordinates: each organization, and its customers scattered 5-60 km around it.
    for org in network.orgs.values():
        lat, lon = PLACES.get(org.province, PLACES["广东省"])
        GeoPoint.objects.create(organization=org, lat=_d(round(lat, 6)), lon=_d(round(lon, 6)))

    # Claims: the hook drafted one per completed warranty order when it completed; the demo's history
    # then moved the orders back in time, so the claims follow their orders.
    drafts = list(Claim.objects.select_related("order", "order__customer", "organization"))
    for claim in drafts:
        lat, lon = PLACES.get(claim.organization.province, PLACES["广东省"])
        if not GeoPoint.objects.filter(customer_id=claim.order.customer_id).exists():
            GeoPoint.objects.create(customer_id=claim.order.customer_id, lat=_d(round(lat + rng.uniform(-0.4, 0.4), 6)),
                                    lon=_d(round(lon + rng.uniform(-0.4, 0.4), 6)))
    from aftersales.service.models import ServiceRecord

    ServiceRecord.objects.filter(order__claim__isnull=False, hours_meter=None).update(hours_meter=Decimal("512.0"))
    for claim in drafts:
        order = claim.order
        claim.completed_at = order.completed_at or claim.completed_at
        claim.created_at = claim.completed_at
        lines, km = claims._lines_for(order)
        claim.lines.all().delete()
        for ln in lines:
            ln.claim = claim
        travel = claims._travel_line(claim, km)
        from aftersales.parts.models import ClaimLine

        ClaimLine.objects.bulk_create(lines + ([travel] if travel else []))
        claim.computed_km = claim.claimed_km = km
        claims._totals(claim)
        claim.save()

    # Old parts: a replaced pump on a few claims, back and inspected (one not returned, one misuse).
    pump = parts[3]
    first_of = timezone.localdate().replace(day=1)
    last_month_start = (first_of - timedelta(days=1)).replace(day=1)
    aware = lambda d: timezone.make_aware(timezone.datetime.combine(d, timezone.datetime.min.time())) + timedelta(hours=10)  # noqa: E731
    last_month = [c for c in drafts if last_month_start <= timezone.localdate(c.completed_at) < first_of]
    this_month = [c for c in drafts if timezone.localdate(c.completed_at) >= first_of]
    # This month's first three wait for review with their verdicts (fault confirmed, not returned, misuse).
    verdicts = ["confirmed_fault", "not_returned", "misuse", "confirmed_fault", "confirmed_fault"]
    for i, claim in enumerate((this_month[:3] + last_month)[:5]):
        OldPart.objects.create(order=claim.order, organization=claim.organization, part=pump, quantity=1,
                               tag=f"{claim.order.number}-J1", created_at=claim.completed_at)
    by_org: dict[int, list] = {}
    for old in OldPart.objects.filter(status="awaiting").select_related("organization"):
        by_org.setdefault(old.organization_id, []).append(old)
    technician_of = {c.order_id: c.order.assigned_technician for c in drafts}
    inspected = 0
    for org_id, rows in by_org.items():
        shipper = technician_of.get(rows[0].order_id) or desk
        batch = returns.old_parts_ship(actor=shipper, old_part_ids=[r.pk for r in rows],
                                        tracking_number="YT%010d" % rng.randrange(10**10))
        returns.batch_receive(actor=engineer, batch_id=batch.pk)
        for r in rows:
            verdict = verdicts[inspected % len(verdicts)]
            returns.old_part_inspect(actor=engineer, old_part_id=r.pk, verdict=verdict,
                                      note="" if verdict == "confirmed_fault" else "柱塞表面有异物划伤，属使用不当" if verdict == "misuse" else "")
            inspected += 1

    # Last month's claims: filed, reviewed (one adjusted, one rejected), settled per organization;
    # the older ones paid; this month's filed and waiting for review, with the planted suspicious ones.
    def file(claim, when, km=None):
        claim.refresh_from_db()
        c = claims.claim_submit(actor=supervisor, claim_id=claim.pk, version=claim.version, claimed_km=km)
        Claim.objects.filter(pk=c.pk).update(submitted_at=when)
        c.refresh_from_db()
        c.flags = claims.claim_checks(c)
        Claim.objects.filter(pk=c.pk).update(flags=c.flags)
        return c

    def review(c, when, i):
        c.refresh_from_db()
        hard = set(c.flags) - claims.SOFT_FLAGS
        if hard and i % 2:
            c = claims.claim_review(actor=supervisor, claim_id=c.pk, version=c.version, decision="reject",
                                    reason="旧件鉴定不属三包责任" if "part_rejected" in hard else "旧件未返回")
        elif i % 7 == 3 and c.lines.exists():
            ln = c.lines.order_by("-amount").first()
            c = claims.claim_review(actor=supervisor, claim_id=c.pk, version=c.version, decision="adjust",
                                    reason="工时按标准工时核减", amounts={ln.pk: (ln.amount * Decimal("0.8")).quantize(Decimal("0.01"))})
        else:
            c = claims.claim_review(actor=supervisor, claim_id=c.pk, version=c.version, decision="approve",
                                    reason="核对无误" if hard else "")
        Claim.objects.filter(pk=c.pk).update(reviewed_at=when)

    drafts.sort(key=lambda c: c.completed_at)
    older = [c for c in drafts if timezone.localdate(c.completed_at) < last_month_start]
    late = older[:1]  # nobody claimed it at the time: filed today, long after the deadline
    for i, claim in enumerate(older[1:][-20:] + last_month):
        done = timezone.localdate(claim.completed_at)
        c = file(claim, aware(done + timedelta(days=rng.randint(1, 6))))
        # Reviewed about a week after filing; last month's claims within last month, so that month settles.
        reviewed = done + timedelta(days=8)
        if claim in last_month:
            reviewed = min(max(reviewed, last_month_start), first_of - timedelta(days=1))
        review(c, aware(reviewed), i)
    settled = 0
    for month in sorted({timezone.localdate(c.reviewed_at).replace(day=1) for c in Claim.objects.exclude(reviewed_at=None)}):
        for org_id in sorted(set(Claim.objects.filter(settlement=None).exclude(reviewed_at=None)
                                 .values_list("organization_id", flat=True))):
            if not Claim.objects.filter(organization_id=org_id, settlement=None, reviewed_at__date__gte=month,
                                        reviewed_at__date__lt=claims.month_bounds(month)[1]).exists():
                continue
            s = claims.settlement_issue(actor=supervisor, organization_id=org_id, month=month)
            settled += 1
            if month < last_month_start or settled % 2:
                partner = User.objects.filter(organization_id=org_id, is_active=True).first()
                claims.settlement_confirm(actor=partner, settlement_id=s.pk)
                if month < last_month_start:
                    claims.settlement_pay(actor=supervisor, settlement_id=s.pk, payment_reference=f"BANK-{month:%Y%m}-{org_id}")

    # This month's claims are filed and wait for review; the planted suspicious ones among them.
    from aftersales.service.models import OrderEvent

    with_km = [c for c in this_month if c.computed_km]
    plain = [c for c in this_month if c not in with_km[:2]]
    if with_km:  # 虚报里程: three times the road distance
        file(with_km[0], timezone.now(), km=with_km[0].computed_km * 3 + 40)
    if len(with_km) > 1:  # 签到位置与客户相距甚远: the check-in position is 200 km away
        far = with_km[1]
        point = GeoPoint.objects.get(customer_id=far.order.customer_id)
        event = OrderEvent.objects.filter(order=far.order, action="check_in").order_by("-seq").first()
        if event is not None:
            OrderEvent.objects.filter(pk=event.pk).update(
                note=f"位置 {point.lat + Decimal('1.8'):.5f}, {point.lon:.5f}（精度 30 米）")
        file(far, timezone.now())
    if plain:  # 缺少小时计读数和照片
        ServiceRecord.objects.filter(order=plain[0].order).update(hours_meter=None)
    # 同一机器短期内重复索赔同一备件: the pump on two claims of one machine. The demo's orders seldom hold
    # such a pair (orders are not rewritten to make one: an order's machine, customer and symptom belong
    # together), so the pump "fails again" on the machine of one of this month's claims: a repeat repair
    # through the same services as any order, whose claim the hook drafts as it completes.
    # Only claims not yet filed can take the line: the others were reviewed as they were.
    drafted = set(Claim.objects.filter(status=ClaimStatus.DRAFT).values_list("pk", flat=True))
    by_machine: dict[int, list] = {}
    for c in drafts:
        if c.order.machine_id and c.pk in drafted:
            by_machine.setdefault(c.order.machine_id, []).append(c)
    pair = next((cs[-2:] for cs in by_machine.values() if len(cs) > 1
                 and cs[-1].completed_at - cs[-2].completed_at < claims.DUPLICATE_WINDOW), None)
    from aftersales.parts.models import ClaimLine

    if pair is None:
        # One of this month's claims not planted already; early in a month, an older draft.
        planted = {c.pk for c in with_km[:2] + plain[:1] + late}
        pool = [c for c in reversed(this_month)] + [c for c in reversed(drafts) if c not in this_month]
        earlier = next((c for c in pool if c.pk not in planted and c.pk in drafted and c.order.machine_id), None)
        repeat = _repeat_pump_repair(earlier, pump, network, desk=desk, centre=centre) if earlier is not None else None
        if repeat is not None:
            pair = [earlier]
            this_month.extend([repeat] + ([earlier] if earlier not in this_month else []))
        elif earlier is None:
            # On the first days of a month no claim is left unfiled (last month's were reviewed as they
            # were): the pump then fails twice after the latest repair, and the two repeat repairs'
            # claims are the pair.
            # A machine whose organization has no technician certified for its category cannot be
            # assigned (staff standards): that attempt is rolled back and the next latest is tried.
            for latest in [c for c in reversed(drafts) if c.pk not in planted and c.order.machine_id][:12]:
                try:
                    with transaction.atomic():
                        first = _repeat_pump_repair(latest, pump, network, desk=desk, centre=centre)
                        second = _repeat_pump_repair(first, pump, network, desk=desk, centre=centre) if first else None
                        if second is None:
                            raise DomainError("no repeat repair on this machine")
                except DomainError:
                    continue
                pair = [first, second]
                this_month.extend(pair)
                break
    if pair is not None:
        for c in pair:
            if c.status == ClaimStatus.DRAFT and not c.lines.filter(part=pump).exists():
                ClaimLine.objects.create(claim=c, kind="part", part=pump, description=f"{pump.number} {pump.name_zh}",
                                         quantity=1, unit_price=_d("1350.00"), amount=_d("1350.00"))
                claims._totals(c)
                c.save()
    for c in this_month:
        c.refresh_from_db()
        if c.status == ClaimStatus.DRAFT:
            file(c, timezone.now())
    for claim in late:
        file(claim, timezone.now())
    flagged = sum(1 for c in Claim.objects.filter(status=ClaimStatus.SUBMITTED) if set(c.flags) - claims.SOFT_FLAGS)
    if stdout is not None:
        stdout.write(f"Parts: {len(parts)} part numbers, {Warehouse.objects.count()} warehouses, {len(made)} requisitions, "
                     f"{OldPart.objects.count()} old parts, {Claim.objects.count()} claims ({flagged} flagged for review), "
                     f"{settled} settlements")
    return {"claims": Claim.objects.count(), "flagged": flagged, "settlements": settled}


def _repeat_pump_repair(earlier: Claim, pump: Part, network, *, desk, centre):
    """The injection pump replaced again on the machine of ``earlier`` (返修): the order goes from the
    hotline to the same organization's technician and through the field services, the record names
    the catalogue's pump (issued from the partner's stock) and the customer confirms. Its claim, or
    None when the flow cannot run (no technician left at that organization)."""
    from aftersales.service import demo as service_demo
    from aftersales.service import services as s
    from aftersales.notify.models import OutboxMessage

    machine = earlier.order.machine
    run = service_demo._Demo(random.Random(170), network)
    run.machines, run.used = [machine], 1  # this machine, with the reason for a second order on it
    steps = service_demo.REPAIR_STEPS
    order, tech = run.repair(stop=steps.index("record_service"))
    if order.assigned_technician_id is None or order.service_mode == "paid":
        return None
    # The pump comes from the centre to the technician's van (his organization may keep no stock).
    van = services.van_ensure(technician=tech)
    services.stock_transfer(actor=desk, from_warehouse_id=centre.pk, to_warehouse_id=van.pk, part_id=pump.pk, quantity=1,
                            tracking_number="SF%010d" % run.rng.randrange(10**10))
    order = run.act(s.order_record_service, order, tech, fault_found="喷油泵再次漏油，供油不足", cause="柱塞偶件磨损",
                    solution="更换喷油泵总成", labour_hours="2.5", hours_meter="640.0",
                    component="fuel_injection_pump", parts=[s.PartInput(
                        part_number=pump.number, quantity=1, component="fuel_injection_pump", action="replaced")])
    order = run.act(s.order_check_out, order, tech, outbound_tracking="SF%010d" % run.rng.randrange(10**10)
                    if order.service_mode == "mail_in" else "")
    code = OutboxMessage.objects.filter(order=order, template="confirmation_code").latest("id").context["code"]
    order = run.act(s.order_confirm, order, tech, code=code)
    _into_the_past(order, after=earlier.completed_at)
    claim = Claim.objects.filter(order=order).select_related("order").first()
    if claim is not None:
        claim.completed_at = claim.created_at = claim.order.completed_at
        claim.save(update_fields=["completed_at", "created_at"])
    return claim


def _into_the_past(order, *, after) -> None:
    """The repeat repair happened in the days after the earlier one, in working hours like every demo
    order (demo_history's rules), numbered from the day it was received."""
    from aftersales.service import demo_history, hooks
    from aftersales.service.models import OrderNumberSequence, ServiceOrder

    history = demo_history.History(random.Random(171), now=timezone.now())
    events = list(order.events.order_by("seq"))
    old = [e.at for e in events]
    day = min(timezone.localdate(after) + timedelta(days=3), history.today - timedelta(days=2))
    new, appointment = history.steps(events, history.received_on(max(day, timezone.localdate(after))))
    while new[-1] > history.now - timedelta(minutes=1):
        new = [t - timedelta(days=1) for t in new]
        appointment = appointment - timedelta(days=1) if appointment else None
    history._apply(order, events, old, new, appointment)
    received = timezone.localdate(new[0])
    seq, _ = OrderNumberSequence.objects.get_or_create(day=received, defaults={"last": 0})
    seq.last += 1
    seq.save(update_fields=["last"])
    ServiceOrder.objects.filter(pk=order.pk).update(number=f"FW{received:%Y%m%d}-{seq.last:05d}")
    order.refresh_from_db()
    hooks.order_changed(order, [])
