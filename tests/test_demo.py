"""`aftersales demo`: the network a new user explores, deterministic per seed, valid by the archive's own rules."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

import aftersales.demo.build as demo
from aftersales.accounts.models import Organization, OrganizationKind, RoleCode, Skill, User
from aftersales.core.choices import ProductCategory
from aftersales.demo import names
from aftersales.demo.build import DEMO_PASSWORD, build_demo
from aftersales.core.phones import MOBILE, normalize_phone, phone_kind
from aftersales.registry.models import Customer, CustomerClass, CustomerPhone, Machine, ProductModel

pytestmark = pytest.mark.django_db

K = OrganizationKind


class _Rollback(Exception):
    pass


def _build(seed=2026, customers=30, machines=40):
    return build_demo(seed=seed, customers=customers, machines=machines, today=timezone.localdate())


def _digest() -> str:
    """Everything a person would notice differing between two runs; no ids, which depend on the database."""
    rows = [
        *Customer.objects.order_by("pk").values_list(
            "name", "customer_class", "province", "city", "county", "township", "village", "address", "notes"),
        *CustomerPhone.objects.order_by("pk").values_list("customer__name", "number", "is_primary"),
        *Machine.objects.order_by("pk").values_list(
            "serial_number", "engine_number", "model__code", "owner__name", "invoice_date", "delivery_date",
            "selling_dealer__code", "registered_by__code"),
        *User.objects.order_by("username").values_list("username", "phone", "organization__code"),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _digest_of_run(seed: int) -> str:
    # Each run is rolled back so the next one starts from an empty database, as a fresh install would.
    try:
        with transaction.atomic():
            _build(seed=seed)
            digest = _digest()
            raise _Rollback
    except _Rollback:
        pass
    assert not Organization.objects.exists() and not Customer.objects.exists()
    return digest


def test_same_seed_gives_the_same_data_and_another_seed_does_not():
    first = _digest_of_run(11)
    assert _digest_of_run(11) == first
    assert _digest_of_run(12) != first


def test_network_has_every_kind_of_organization_with_its_area():
    net = _build(customers=0, machines=0).network
    kinds = Counter(Organization.objects.values_list("kind", flat=True))
    assert kinds[K.SERVICE_CENTER] == kinds[K.TECHNICAL_CENTER] == kinds[K.REPAIR_CENTER] == 1
    assert kinds[K.DIRECT_BRANCH] == 3 and kinds[K.AUTHORIZED_AGENCY] == 4 and 2 <= kinds[K.DEALER] <= 3
    assert net.service_center.province == "广东省" and net.service_center.city == "广州市"

    rc = net.repair_center
    assert [(a.province, a.city, a.county) for a in rc.coverage.all()] == [("广东省", "", "")]
    branches = net.of_kind(K.DIRECT_BRANCH)
    assert {b.city for b in branches} == {"郑州市", "济南市", "哈尔滨市"}
    for branch in branches:
        assert [(a.province, a.city) for a in branch.coverage.all()] == [(branch.province, "")]
    agencies = net.of_kind(K.AUTHORIZED_AGENCY)
    assert len({a.province for a in agencies}) == 4
    for agency in agencies:
        areas = list(agency.coverage.all())
        # A partial area: cities or counties of its province, never the whole province.
        assert areas and all(a.province == agency.province and a.city for a in areas)

    # The most specific area wins; outside every area the repair center answers (it supports all regions).
    assert net.provider_for("河南省", "周口市", "太康县").code == "BR-HA"
    assert net.provider_for("河北省", "衡水市", "深州市").code == "AG-HE"
    assert net.provider_for("河北省", "衡水市", "景县").code == "RC"


def test_one_user_per_role_and_a_technician_in_every_service_provider():
    net = _build(customers=0, machines=0).network
    # One person per role at the maker's centres; the branches' station managers and the dealers'
    # clerks hold some of the same roles in their own organizations.
    centres = User.objects.filter(organization__kind__in=[K.SERVICE_CENTER, K.TECHNICAL_CENTER, K.REPAIR_CENTER])
    holders = Counter(code for user in centres for code in user.role_codes())
    for role in RoleCode.values:
        if role != RoleCode.FIELD_TECHNICIAN:
            assert holders[role] == 1, role

    providers = [o for o in net.orgs.values() if o.kind in (K.REPAIR_CENTER, K.DIRECT_BRANCH, K.AUTHORIZED_AGENCY)]
    techs = User.objects.filter(roles__code=RoleCode.FIELD_TECHNICIAN)
    assert {t.organization.code for t in techs} == {o.code for o in providers}
    for tech in techs:
        assert Skill.objects.filter(user=tech).exists(), tech.username
        assert tech.home_province == tech.organization.province and tech.home_city and tech.home_county

    assert User.objects.get(username="agent").employee_no == "8001"
    manager = User.objects.get(username="manager_sd")  # 站长
    assert manager.organization.kind == K.DIRECT_BRANCH
    assert manager.role_codes() == {RoleCode.REPAIR_COORDINATOR, RoleCode.FIELD_TECHNICIAN}
    assert User.objects.get(username="dealer_zk").organization.kind == K.DEALER
    assert User.objects.get(username="engineer").organization.kind == K.TECHNICAL_CENTER
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.has_role(RoleCode.ADMINISTRATOR)
    assert not User.objects.exclude(username="admin").filter(is_superuser=True).exists()
    # Chinese display names, not the login names.
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", u.display_name) for u in User.objects.all())


def test_every_demo_user_logs_in_with_the_demo_password():
    _build(customers=0, machines=0)
    usernames = list(User.objects.values_list("username", flat=True))
    assert len(usernames) >= 15
    for username in usernames:
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None, username
    assert authenticate(username="agent", password="demo12345") is None


def test_product_line_covers_every_category_and_tractors_have_power():
    _build(customers=0, machines=0)
    models = list(ProductModel.objects.all())
    assert {m.category for m in models} == set(ProductCategory.values)
    tractors = [m for m in models if m.category == ProductCategory.TRACTOR]
    assert all(m.rated_power_kw and m.rated_power_kw > 0 for m in tractors)
    # Both sides of the 18 kW line, where the warranty periods differ.
    assert any(m.rated_power_kw <= 18 for m in tractors) and any(m.rated_power_kw > 18 for m in tractors)
    for model in models:
        assert model.main_components and model.wear_parts, model.code
        assert set(model.main_components).isdisjoint(model.wear_parts), model.code


def test_model_part_lists_speak_the_warranty_engines_language():
    # The engine takes a model's lists instead of the regime's, matching fault components literally:
    # a part the regime does not call "main" would silently lose its longer period.
    from aftersales.warranty.policy import default_regime

    regime_main = default_regime().main_parts.by_category
    _build(customers=0, machines=0)
    for model in ProductModel.objects.all():
        assert set(model.main_components) <= set(regime_main[model.category]), model.code
        assert all(part in names.PART_LABELS_ZH for part in (*model.main_components, *model.wear_parts)), model.code


def test_customers_have_valid_unique_mobiles_and_real_places():
    _build(customers=120, machines=0)
    numbers = list(CustomerPhone.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    for number in numbers:
        assert normalize_phone(number) == number and phone_kind(number) == MOBILE, number
    per_customer = Counter(CustomerPhone.objects.values_list("customer_id", flat=True))
    assert set(per_customer.values()) == {1, 2} and len(per_customer) == 120
    assert CustomerPhone.objects.filter(is_primary=True).count() == 120

    classes = Counter(Customer.objects.values_list("customer_class", flat=True))
    assert classes[CustomerClass.FARMER] > classes[CustomerClass.KEY_ACCOUNT] > 0
    for c in Customer.objects.all():
        assert c.county in names.PROVINCES[c.province][c.city], c.region
        assert c.township[-1] in "镇乡" and c.village.endswith("村")


def test_a_mobile_number_is_never_handed_out_twice():
    import random

    first = names.mobile(random.Random(1), set())
    # The same draw again, with the first number already taken, must move on to another number.
    taken = {first}
    assert names.mobile(random.Random(1), taken) != first and len(taken) == 2


def test_machines_are_sold_in_the_past_and_their_serials_are_unique():
    today = timezone.localdate()
    _build(customers=60, machines=150)
    machines = list(Machine.objects.select_related("model", "owner"))
    assert len({m.serial_number for m in machines}) == 150
    invoiced = [m for m in machines if m.invoice_date]
    assert len(invoiced) >= 140
    assert all(m.invoice_date <= today for m in invoiced)
    assert all(m.delivery_date is None or m.invoice_date is None or m.invoice_date <= m.delivery_date <= today
               for m in machines)
    # Spread over about three years, so the demo shows machines in and out of warranty.
    ages = [(today - m.invoice_date).days for m in invoiced]
    assert min(ages) < 180 and max(ages) > 2 * 365 and max(ages) <= 3 * 365
    assert any(m.delivery_date and m.delivery_date > m.invoice_date for m in invoiced)
    assert Machine.objects.filter(selling_dealer__kind=K.DEALER).exists()

    for m in machines:
        assert re.fullmatch(rf"{re.escape(m.model.code)}-20\d\d-\d{{6}}", m.serial_number), m.serial_number
        assert int(m.serial_number.split("-")[-2]) <= today.year
        # No rice transplanters on the wheat and cotton plains.
        if m.model.category == ProductCategory.RICE_TRANSPLANTER:
            assert m.owner.province in names.RICE_PROVINCES, m.owner.region
    # While machines last every customer owns one: a customer without a machine rarely calls.
    assert Customer.objects.filter(machines__isnull=True).count() == 0


def test_command_prints_the_logins_and_then_if_empty_leaves_the_data_alone():
    out = StringIO()
    call_command("demo", "--customers", "5", "--machines", "6", "--seed", "3", "--orders", "0", stdout=out)
    text = out.getvalue()
    for username in ("admin", "agent", "dispatcher", "tech_xj"):
        assert re.search(rf"^\s+{username}\s+\S+\s+\S+\s+{DEMO_PASSWORD}$", text, re.M), username
    assert "http://" in text and "orders:" not in text
    counts = (Organization.objects.count(), User.objects.count(), Customer.objects.count(), Machine.objects.count())
    assert counts[2:] == (5, 6)

    again = StringIO()
    call_command("demo", "--if-empty", "--seed", "4", stdout=again)
    assert again.getvalue().strip() == "demo data already present"
    with pytest.raises(CommandError, match="--if-empty"):
        call_command("demo", "--seed", "4", stdout=StringIO())
    assert (Organization.objects.count(), User.objects.count(), Customer.objects.count(), Machine.objects.count()) == counts


def test_a_failure_late_in_the_run_leaves_nothing_behind(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(demo, "build_machines", broken)
    with pytest.raises(RuntimeError):
        call_command("demo", "--customers", "3", "--machines", "3", stdout=StringIO())
    # Half a demo would make the next `make run` (--if-empty) think the demo is there.
    assert not Organization.objects.exists() and not User.objects.exists() and not Customer.objects.exists()


def test_the_command_calls_the_service_builder_with_the_network_and_a_seeded_rng(monkeypatch):
    from aftersales.service import demo as service_demo

    calls = []

    def build_orders(rng, count, network, stdout):
        calls.append((rng.random(), count, network.service_center.code, network.users["dispatcher"].pk))
        stdout.write("orders: built")

    monkeypatch.setattr(service_demo, "build_orders", build_orders)
    out = StringIO()
    call_command("demo", "--customers", "2", "--machines", "2", "--orders", "9", "--seed", "5", stdout=out)
    assert "orders: built" in out.getvalue()
    [(draw, count, center, dispatcher_pk)] = calls
    assert count == 9 and center == "SC" and dispatcher_pk == User.objects.get(username="dispatcher").pk
    assert draw == demo.stage_rng(5, "orders").random()


def test_core_depends_on_nothing_of_the_demo():
    # Issue 14: the demo sits above the apps; core (and every domain app) must not import it.
    import pathlib

    import aftersales

    root = pathlib.Path(aftersales.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.glob("*/**/*.py")
                 if p.parts[len(root.parts)] != "demo" and re.search(r"^\s*(from|import) aftersales\.demo\b", p.read_text(encoding="utf-8"), re.M)]
    assert offenders == []
    assert not (root / "core" / "demo").exists()


def test_invoice_dates_follow_the_reference_day_not_the_clock():
    # A run given an earlier "today" must not date anything after it.
    reference = timezone.localdate() - timedelta(days=400)
    build_demo(seed=1, customers=10, machines=30, today=reference)
    latest = max(d for d in Machine.objects.values_list("invoice_date", flat=True) if d)
    assert latest <= reference


# --- the year of orders -----------------------------------------------------------------------

def _local_minutes(at) -> int:
    local = timezone.localtime(at)
    return local.hour * 60 + local.minute


def test_history_times_are_working_hours_daytime_appointments_and_deterministic():
    import random
    from datetime import datetime

    from aftersales.service.demo_history import History

    now = timezone.make_aware(datetime(2026, 11, 30, 3, 20))  # the demo may be loaded at night
    draws = []
    for _ in range(2):
        h = History(random.Random(7), now=now)
        draws.append([h.received_on(h.history_day()) for _ in range(300)] + [h.recent_start() for _ in range(100)]
                     + [h.appointment_after(now - timedelta(hours=i)) for i in range(100)])
    assert draws[0] == draws[1]
    received, appointments = draws[0][:400], draws[0][400:]
    assert all(8 * 60 <= _local_minutes(t) < 21 * 60 + 30 for t in received)
    assert all(t < now for t in received)
    assert all(8 * 60 <= _local_minutes(t) <= 17 * 60 + 30 for t in appointments)
    months = Counter(timezone.localtime(t).month for t in received[:300])
    # 夏收 and 秋收 are the peaks; winter is quiet.
    assert months[6] > 2 * months[1] and months[10] > 2 * months[12] and months[9] > 2 * months[2]


def test_demo_orders_make_a_believable_year():
    from aftersales.service.demo import SYMPTOMS
    from aftersales.service.models import OPEN_STATUSES, OrderEvent, ServiceOrder
    from aftersales.sla.models import SlaClock

    started = timezone.now()
    out = StringIO()
    call_command("demo", "--customers", "60", "--machines", "80", "--orders", "70", "--seed", "11", stdout=out)
    now = timezone.now()
    orders = list(ServiceOrder.objects.select_related("machine__model").prefetch_related("events"))
    closed = [o for o in orders if o.status not in OPEN_STATUSES]
    assert len({timezone.localtime(o.created_at).strftime("%Y-%m") for o in closed}) >= 6
    assert all(o.created_at >= started - timedelta(days=366) for o in orders)
    for o in orders:
        assert 8 * 60 <= _local_minutes(o.created_at) < 21 * 60 + 30, (o.number, timezone.localtime(o.created_at))
        assert o.number.startswith(f"FW{timezone.localtime(o.created_at):%Y%m%d}-"), o.number
        if o.promised_at:
            assert o.promised_at > o.created_at, o.number
        if o.appointment_at:
            assert 8 * 60 <= _local_minutes(o.appointment_at) <= 17 * 60 + 30, o.number
        times = [e.at for e in sorted(o.events.all(), key=lambda e: e.seq)]
        assert times == sorted(times) and times[0] == o.created_at and times[-1] <= now, o.number
        if o.machine_id and o.order_type == "repair":
            assert o.symptom in SYMPTOMS[o.machine.model.category], (o.symptom, o.machine.model.category)
    # Open orders are recent; the finished ones are the year behind them.
    assert all(o.created_at > now - timedelta(days=30) for o in orders if o.status in OPEN_STATUSES and o.order_type == "repair")
    assert not OrderEvent.objects.filter(at__gt=now).exists()
    states = set(SlaClock.objects.values_list("state", flat=True))
    assert {"running", "met", "breached"} <= states
    assert SlaClock.objects.filter(state="running", due_at__lt=now).exists()  # overdue
    # At risk when the demo was loaded (a warning window can be a few minutes long: it may be over by now).
    warned = re.search(r"(\d+) orders moved into warning, (\d+) into breach", out.getvalue())
    assert warned and int(warned[1]) > 0 and int(warned[2]) > 0, out.getvalue()
    # The planted batch problem: the first scan raises its alarm (quality/demo.py).
    from aftersales.quality.services import quality_scan

    assert "hydraulic_lift repairs planted" in out.getvalue(), out.getvalue()
    assert quality_scan().alarms >= 1
    # The planted suspicious claims (parts/demo.py): the automatic checks flag them for the reviewer,
    # the same part claimed twice for one machine among them (a repeat pump repair, every run).
    from aftersales.parts.models import Claim

    submitted = list(Claim.objects.filter(status="submitted").select_related("order"))
    twice = [c for c in submitted if "duplicate_part" in c.flags]
    assert len(twice) == 2 and len({c.order.machine_id for c in twice}) == 1, [c.flags for c in submitted]
    assert any("filed_late" in c.flags for c in submitted)
    assert re.search(r"\((\d+) flagged for review\)", out.getvalue()) and int(
        re.search(r"\((\d+) flagged for review\)", out.getvalue())[1]) >= 3
