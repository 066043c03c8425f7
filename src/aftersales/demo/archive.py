"""The demo archive: 开拓's product line, its customers and their machines.

Everything is written through ``registry.services`` so the demo data passes the same validation
as data an agent types in. The random choices come only from the ``rng`` passed in, and every
date from the ``today`` passed in, so the same seed on the same day gives the same archive.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from django.db import transaction

from aftersales.accounts.models import OrganizationKind
from aftersales.core.choices import ProductCategory
from aftersales.demo import names
from aftersales.demo.network import DemoNetwork
from aftersales.registry import services as registry
from aftersales.registry.models import Customer, CustomerClass, CustomerPhone, Machine, ProductModel

C = ProductCategory
Progress = Callable[[int], None] | None

# The regime's lists, per category; a model drops what it does not have (a walking tractor has no
# front drive axle), because a model's own list replaces the category default in the warranty engine.
_TRACTOR_MAIN = ("engine_block", "cylinder_head", "crankshaft", "camshaft", "fuel_injection_pump",
                 "clutch_housing", "gearbox", "rear_axle", "front_drive_axle", "hydraulic_lift", "frame")
_TRACTOR_WEAR = ("belt", "filter_element", "clutch_disc", "brake_lining", "injector_nozzle", "piston_ring",
                 "seal", "bulb", "fuse", "tyre")
_COMBINE_MAIN = ("engine_block", "cylinder_head", "crankshaft", "camshaft", "fuel_injection_pump", "gearbox",
                 "drive_axle", "threshing_drum", "header_frame", "hydraulic_pump", "frame")
_COMBINE_WEAR = ("belt", "chain", "knife_section", "guard_finger", "rasp_bar", "filter_element", "seal",
                 "bulb", "fuse")
_DIESEL_MAIN = ("engine_block", "cylinder_head", "crankshaft", "camshaft", "connecting_rod",
                "fuel_injection_pump", "flywheel")
_DIESEL_WEAR = ("belt", "filter_element", "injector_nozzle", "piston_ring", "gasket", "seal")


@dataclass(frozen=True)
class ModelSpec:
    code: str
    name: str
    category: str
    power_kw: str | None
    main: tuple[str, ...]
    wear: tuple[str, ...]
    engine: str  # engine type stamped into the engine number; blank for machines without one
    weight: int  # share of the machines sold
    needs_crop: str = ""  # sold only where this crop is grown (no transplanters in Hebei)


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("LX904", "开拓LX904轮式拖拉机", C.TRACTOR, "66.2", _TRACTOR_MAIN, _TRACTOR_WEAR, "YTR4105", 14),
    ModelSpec("LX1004", "开拓LX1004轮式拖拉机", C.TRACTOR, "73.5", _TRACTOR_MAIN, _TRACTOR_WEAR, "YTR4108", 8),
    ModelSpec("SK504", "开拓SK504轮式拖拉机", C.TRACTOR, "36.8", _TRACTOR_MAIN, _TRACTOR_WEAR, "KT4D37", 10),
    ModelSpec("SK354", "开拓SK354轮式拖拉机", C.TRACTOR, "25.7", _TRACTOR_MAIN, _TRACTOR_WEAR, "KT3D26", 10),
    # At or below 18 kW: the small-tractor warranty periods apply.
    ModelSpec("SF151", "开拓SF151手扶拖拉机", C.TRACTOR, "12", _TRACTOR_MAIN[:7] + ("frame",),
              ("belt", "filter_element", "clutch_disc", "injector_nozzle", "piston_ring", "seal", "tyre"), "ZS1105", 8),
    ModelSpec("4LZ-6", "开拓4LZ-6自走轮式谷物联合收割机", C.COMBINE_HARVESTER, "103", _COMBINE_MAIN, _COMBINE_WEAR,
              "YC6J", 8),
    ModelSpec("4LZ-4.0Z", "开拓4LZ-4.0Z履带式水稻联合收割机", C.COMBINE_HARVESTER, "65", _COMBINE_MAIN,
              _COMBINE_WEAR + ("rubber_track",), "4DW93", 5, needs_crop="水稻"),
    ModelSpec("4YZ-3", "开拓4YZ-3自走式玉米收获机", C.COMBINE_HARVESTER, "95", _COMBINE_MAIN, _COMBINE_WEAR,
              "YC4D", 5, needs_crop="玉米"),
    ModelSpec("2ZGQ-6", "开拓2ZGQ-6高速插秧机", C.RICE_TRANSPLANTER, "14.7",
              ("engine_block", "crankshaft", "gearbox", "transplanting_gearbox", "seedling_feed_mechanism",
               "hydraulic_lift", "frame"),
              ("planting_claw", "belt", "float_plate", "spark_plug", "filter_element", "seal", "bulb", "fuse"),
              "GX390", 5, needs_crop="水稻"),
    ModelSpec("2ZS-4", "开拓2ZS-4手扶式插秧机", C.RICE_TRANSPLANTER, "2.9",
              ("engine_block", "crankshaft", "gearbox", "transplanting_gearbox", "seedling_feed_mechanism", "frame"),
              ("planting_claw", "belt", "float_plate", "spark_plug", "filter_element", "seal"),
              "GX120", 3, needs_crop="水稻"),
    ModelSpec("S195", "开拓S195单缸柴油机", C.DIESEL_ENGINE_SINGLE, "8.8", _DIESEL_MAIN, _DIESEL_WEAR, "S195", 7),
    ModelSpec("ZS1115", "开拓ZS1115单缸柴油机", C.DIESEL_ENGINE_SINGLE, "16.2", _DIESEL_MAIN, _DIESEL_WEAR,
              "ZS1115", 5),
    ModelSpec("4L88", "开拓4L88四缸柴油机", C.DIESEL_ENGINE_MULTI, "36.8", _DIESEL_MAIN + ("turbocharger",),
              _DIESEL_WEAR, "4L88", 4),
    ModelSpec("1LF-435", "开拓1LF-435液压翻转犁", C.IMPLEMENT, None, ("frame",),
              ("share", "bearing", "seal"), "", 4),
    ModelSpec("1GQN-230", "开拓1GQN-230旋耕机", C.IMPLEMENT, None, ("frame", "gearbox", "rotor_shaft"),
              ("blade", "bearing", "seal", "chain"), "", 6),
    ModelSpec("3WP-700", "开拓3WP-700悬挂式喷杆喷雾机", C.OTHER, None, ("frame",),
              ("nozzle", "filter_element", "seal", "belt"), "", 3),
)

# Where the demo's customers live: most where 开拓 has its own branches, fewer where agencies serve.
PROVINCE_WEIGHTS = {
    "河南省": 20, "山东省": 18, "黑龙江省": 16, "广东省": 10,
    "河北省": 9, "安徽省": 9, "江苏省": 9, "新疆维吾尔自治区": 9,
}
# Inside an agency's province most customers are in its area: that is why the agency was signed.
_COVERED_BOOST = 3

_CLASS_WEIGHTS = ((CustomerClass.FARMER, 86), (CustomerClass.KEY_ACCOUNT, 11), (CustomerClass.DEALER, 3))


@transaction.atomic
def build_product_models() -> dict[str, ProductModel]:
    return {
        spec.code: registry.product_model_create(
            code=spec.code, name=spec.name, category=spec.category, rated_power_kw=spec.power_kw,
            main_components=spec.main, wear_parts=spec.wear,
        )
        for spec in MODELS
    }


class _Weighted:
    """A fixed population drawn by cumulative weight: one bisect per draw, fine at 100 000 rows."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum = list(accumulate(weights))

    def draw(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


def _regions(network: DemoNetwork) -> _Weighted:
    items, weights = [], []
    for province, cities in names.PROVINCES.items():
        entries = [(province, city, county) for city, counties in cities.items() for county in counties]
        boosts = [
            _COVERED_BOOST if network.provider_for(*entry).kind == OrganizationKind.AUTHORIZED_AGENCY else 1
            for entry in entries
        ]
        total = sum(boosts)
        items.extend(entries)
        weights.extend(PROVINCE_WEIGHTS[province] * b / total for b in boosts)
    return _Weighted(items, weights)


def _customer_name(rng: random.Random, cls: str, province: str, county: str, firms: set[str]) -> str:
    if cls == CustomerClass.FARMER:
        return names.person_name(rng, province=province)
    # Two co-operatives of one name in one county would make the agent's name search ambiguous;
    # a few tries keep them apart (farmers, like real ones, may share a name).
    for _ in range(5):
        name = _firm_name(rng, cls, province, county)
        if name not in firms:
            break
    firms.add(name)
    return name


def _firm_name(rng: random.Random, cls: str, province: str, county: str) -> str:
    stem = names.place_stem(county)
    word = rng.choice(names.FIRM_WORDS)
    if cls == CustomerClass.KEY_ACCOUNT:
        forms = [f"{stem}{word}农机专业合作社", f"{stem}{word}种植专业合作社", f"{stem}{word}农业发展有限公司",
                 f"{names.person_name(rng, province=province, female=False)}家庭农场"]
        if province == "黑龙江省":
            forms.append(f"{stem}{word}现代农机合作社")
        return rng.choice(forms)
    return rng.choice((f"{stem}{word}农机经销部", f"{stem}{word}农机销售有限公司", f"{stem}{word}农机配件门市"))


def _taken_phones() -> set[str]:
    # The demo refuses a database with a network in it, but customers may have been imported
    # before; a clash would abort the whole run on the last row.
    return {n[3:] for n in CustomerPhone.objects.filter(number__startswith="+86").values_list("number", flat=True)}


@transaction.atomic
def build_customers(
    *, rng: random.Random, count: int, network: DemoNetwork, progress: Progress = None
) -> list[Customer]:
    regions = _regions(network)
    classes = _Weighted([c for c, _ in _CLASS_WEIGHTS], [w for _, w in _CLASS_WEIGHTS])
    taken = _taken_phones()
    firms: set[str] = set()
    customers = []
    for _ in range(count):
        province, city, county = regions.draw(rng)
        cls = classes.draw(rng)
        name = _customer_name(rng, cls, province, county, firms)
        two_phones = rng.random() < (0.5 if cls == CustomerClass.KEY_ACCOUNT else 0.25)
        phones = [names.mobile(rng, taken) for _ in range(2 if two_phones else 1)]
        township, village = names.township(rng), names.village(rng, province)
        if cls == CustomerClass.FARMER:
            address = f"{rng.randint(1, 12)}组{rng.randint(1, 86)}号"
            notes = names.farming(rng, province)
        else:
            address = rng.choice(("村委会东侧", "村口北 300 米", "省道旁农机大院", "乡政府对面", "粮站西侧"))
            contact = names.person_name(rng, province=province)
            notes = (names.farming(rng, province, scale="key_account") if cls == CustomerClass.KEY_ACCOUNT
                     else "经销开拓拖拉机、收割机及配件。") + f"联系人：{contact}。"
        # Most customers were first recorded by the hotline; some by the branch or agency that
        # met them, which is also what lets a partner see its own customers.
        provider = network.provider_for(province, city, county)
        recorder = network.service_center
        if provider.kind != OrganizationKind.REPAIR_CENTER and rng.random() < 0.35:
            recorder = provider
        customers.append(
            registry.customer_create(
                data=registry.CustomerInput(
                    name=name, phones=phones, customer_class=cls, province=province, city=city, county=county,
                    township=township, village=village, address=address, notes=notes,
                ),
                registered_by=recorder,
            )
        )
        if progress:
            progress(1)
    return customers


def _sale_date(rng: random.Random, today: date) -> date:
    # Sales grew over the three years, so recent invoices outnumber old ones. Counted back from
    # ``today`` only: the archive rightly rejects an invoice dated in the future.
    return today - timedelta(days=int(rng.triangular(0, 3 * 365, 120)))


@transaction.atomic
def build_machines(
    *, rng: random.Random, count: int, customers: list[Customer], models: dict[str, ProductModel],
    network: DemoNetwork, today: date, progress: Progress = None,
) -> list[Machine]:
    if not customers:
        return []
    # Every customer owns at least one machine while they last; after that key accounts buy more.
    owners = customers[:]
    rng.shuffle(owners)
    class_weight = {CustomerClass.KEY_ACCOUNT: 6, CustomerClass.DEALER: 0.2}
    more_owners = _Weighted(customers, [class_weight.get(c.customer_class, 1) for c in customers])
    specs_by_province = {
        province: _Weighted(
            [s for s in MODELS if not s.needs_crop or s.needs_crop in crops],
            [s.weight for s in MODELS if not s.needs_crop or s.needs_crop in crops],
        )
        for province, crops in names.CROPS.items()
    }
    sellers: dict[str, list] = {}
    for dealer in network.of_kind(OrganizationKind.DEALER):
        sellers.setdefault(dealer.province, []).append(dealer)
    taken_serials = set(Machine.objects.values_list("serial_number", flat=True))
    serial_seq: dict[tuple[str, int], int] = {}
    engine_seq: dict[tuple[str, int], int] = {}

    machines = []
    for i in range(count):
        owner = owners[i] if i < len(owners) else more_owners.draw(rng)
        spec = specs_by_province[owner.province].draw(rng)
        invoice = _sale_date(rng, today)
        roll = rng.random()
        if roll < 0.6:
            delivery = invoice
        elif roll < 0.85:
            # Delivered later (waiting for the dealer's truck, or for the season): the warranty
            # starts on the later date, which is what makes these worth having in a demo.
            delivery = min(invoice + timedelta(days=rng.randint(1, 25)), today)
        else:
            delivery = None
        notes = ""
        if rng.random() < 0.02:
            invoice, notes = None, "客户发票遗失，待补开证明。"
        made = (invoice or delivery or today).year
        if invoice and invoice.month <= 3 and rng.random() < 0.5:
            made -= 1  # built in the winter for the spring season
        serial = _next_serial(rng, serial_seq, taken_serials, spec.code, made)
        engine_no = _next_engine_no(rng, engine_seq, spec.engine, made) if spec.engine else ""

        seller = None
        sale = rng.random()
        provider = network.provider_for(owner.province, owner.city, owner.county)
        if sellers.get(owner.province) and sale < 0.45:
            seller = rng.choice(sellers[owner.province])
        elif sale < 0.6 and provider.kind != OrganizationKind.REPAIR_CENTER:
            seller = provider
        machines.append(
            registry.machine_create(
                data=registry.MachineInput(
                    serial_number=serial, model_code=models[spec.code].code, owner_id=owner.pk,
                    engine_number=engine_no, invoice_date=invoice, delivery_date=delivery,
                    selling_dealer_id=seller.pk if seller else None, notes=notes,
                ),
                registered_by=seller or network.service_center,
            )
        )
        if progress:
            progress(1)
    return machines


def _next_serial(rng, seq: dict, taken: set[str], code: str, year: int) -> str:
    while True:
        # Gaps between numbers: the rest of a year's production went to customers not in the demo.
        n = seq.get((code, year), rng.randint(100, 900)) + rng.randint(1, 25)
        seq[(code, year)] = n
        serial = f"{code}-{year}-{n:06d}"
        if serial not in taken:
            taken.add(serial)
            return serial


def _next_engine_no(rng, seq: dict, engine: str, year: int) -> str:
    n = seq.get((engine, year), rng.randint(1000, 9000)) + rng.randint(1, 40)
    seq[(engine, year)] = n
    return f"{engine}-{year % 100:02d}{'ABCDEFGH'[n // 100000 % 8]}{n % 100000:05d}"
