"""The demo data set: 开拓机械's service network, its people, product line, customers and machines.

``build_demo`` is what ``aftersales demo`` runs before it calls the demo builders of the service,
SLA and knowledge apps. This app sits above all of them, so that none (and ``core`` least of all)
depends on the demo. Each stage draws from its own ``random.Random``
seeded from the run's seed and the stage name, so the same seed always gives the same data, and a
change to one stage (one more demo user, more customers) does not reshuffle the stages after it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.hashers import make_password
from django.db import transaction

from aftersales.demo.archive import build_customers, build_machines, build_product_models
from aftersales.demo.network import DEMO_PASSWORD, DemoNetwork, build_network
from aftersales.registry.models import Customer, Machine, ProductModel

__all__ = ["DEMO_PASSWORD", "DemoNetwork", "DemoResult", "build_demo", "stage_rng"]


@dataclass
class DemoResult:
    network: DemoNetwork
    models: dict[str, ProductModel]
    customers: list[Customer]
    machines: list[Machine]


def stage_rng(seed: int, stage: str) -> random.Random:
    # A str seed is hashed with SHA-512 by random.Random: stable across runs and Python versions.
    return random.Random(f"{seed}/{stage}")


@transaction.atomic
def build_demo(
    *, seed: int, customers: int, machines: int, today: date,
    progress: Callable[[int], None] | None = None, report: Callable[[str], None] | None = None,
) -> DemoResult:
    """Build everything but the orders, in one transaction: an interrupted run leaves nothing, so
    ``--if-empty`` (which looks for any organization) never mistakes half a demo for a whole one."""
    say = report or (lambda _msg: None)
    # Hashed once at run time: the hasher is the one configured (argon2 live, MD5 under tests).
    password_hash = make_password(DEMO_PASSWORD)
    network = build_network(rng=stage_rng(seed, "network"), password_hash=password_hash)
    say(f"service network: {len(network.orgs)} organizations, {len(network.users)} users")
    models = build_product_models()
    say(f"product models: {len(models)}")
    customer_rows = build_customers(rng=stage_rng(seed, "customers"), count=customers, network=network, progress=progress)
    say(f"customers: {len(customer_rows)}")
    machine_rows = build_machines(
        rng=stage_rng(seed, "machines"), count=machines, customers=customer_rows, models=models,
        network=network, today=today, progress=progress,
    )
    say(f"machines: {len(machine_rows)}")
    return DemoResult(network=network, models=models, customers=customer_rows, machines=machine_rows)
