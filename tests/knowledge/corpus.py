"""Loads tests/knowledge/data/corpus.json: articles through the knowledge services, customers
and machines through the registry services (their hooks index them), orders written directly
(intake through the API would take most of the suite's time) and then indexed by a rebuild."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aftersales.knowledge import documents, services
from aftersales.service.models import ServiceOrder, ServiceRecord
from tests.support import Network, make_customer, make_machine, make_model

DATA = Path(__file__).parent / "data"
CATEGORIES = {"LX904": "tractor", "LX1004": "tractor", "SK504": "tractor", "SK354": "tractor",
              "4LZ-6": "combine_harvester", "4LZ-4.0Z": "combine_harvester", "4YZ-3": "combine_harvester",
              "2ZGQ-6": "rice_transplanter", "2ZS-4": "rice_transplanter", "S195": "diesel_engine_single",
              "ZS1115": "diesel_engine_single", "4L88": "diesel_engine_multi", "1GQN-230": "implement", "3WP-700": "other"}


@dataclass
class Corpus:
    ids: dict[tuple[str, str], int]

    def id(self, kind: str, key: str) -> int:
        return self.ids[(kind, key)]

    def key(self, kind: str, object_id: int) -> str:
        return next((k for (kd, k), v in self.ids.items() if kd == kind and v == object_id), f"#{object_id}")


def load(net: Network) -> Corpus:
    data = json.loads((DATA / "corpus.json").read_text("utf-8"))
    ids: dict[tuple[str, str], int] = {}
    models = {code: make_model(code=code, name=f"开拓{code}", category=cat, power="50" if cat == "tractor" else None)
              for code, cat in CATEGORIES.items()}
    for a in data["articles"]:
        article = services.article_create(actor=net.engineer, data=services.ArticleInput(
            title=a["title"], symptom=a["symptom"], cause=a["cause"], solution_steps=a["steps"], tags=a["tags"],
            product_models=a["models"], categories=a["categories"], component=a["component"]))
        services.article_publish(actor=net.engineer, article_id=article.pk, version=article.version)
        ids[("article", a["key"])] = article.pk
    customers = {}
    for c in data["customers"]:
        customers[c["key"]] = make_customer(c["name"], c["phone"], province="山东省", city="潍坊市")
        ids[("customer", c["key"])] = customers[c["key"]].pk
    machines = {}
    for m in data["machines"]:
        machines[m["serial"]] = make_machine(m["serial"], customers[m["owner"]], model=models[m["model"]])
        ids[("machine", m["serial"])] = machines[m["serial"]].pk
    agencies = {"heilongjiang": net.agency_heilongjiang, "shandong": net.agency_shandong}
    for i, o in enumerate(data["orders"]):
        customer, machine = customers[o["customer"]], machines[o["serial"]]
        agency = agencies.get(o["agency"])
        order = ServiceOrder.objects.create(
            number=f"FW20261101-{i + 1:05d}", order_type="repair", customer=customer,
            contact_phone=customer.phones.first().number, machine=machine, symptom=o["symptom"], service_level="standard",
            owning_org=net.service_center, owner=net.agent, assigned_org=agency,
            status="completed" if o["solved"] else ("dispatched" if agency else "new"),
        )
        if o["solved"]:
            ServiceRecord.objects.create(order=order, technician=net.hotline_tech, fault_found=o["symptom"],
                                         solution=o["solution"])
        ids[("order", o["key"])] = order.pk
    documents.rebuild()
    return Corpus(ids)


def queries() -> list[dict]:
    return json.loads((DATA / "queries.json").read_text("utf-8"))["queries"]
