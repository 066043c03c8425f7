import importlib

import pytest
from django.apps import apps

from aftersales.accounts.models import User


@pytest.fixture(autouse=True)
def sla_defaults(db):
    """The default policies of the data migration (a flush by a transactional test removes them)."""
    importlib.import_module("aftersales.sla.migrations.0002_defaults").ensure_defaults(apps, None)


@pytest.fixture
def phones(net):
    """Every persona reachable by SMS, with a number of its own."""
    for i, user in enumerate(User.objects.order_by("pk")):
        User.objects.filter(pk=user.pk).update(phone=f"+86139{i:08d}")
