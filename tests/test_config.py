"""Rule tables kept per process (core/config.py): a copy is used only while the stamp it was read
under is still the stored one, so an edit by another process, a watched model's save and a
rolled-back edit are all seen at the next use."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from aftersales.core import config
from aftersales.sla.models import SlaPolicy
from aftersales.sla.services import current_setup
from aftersales.warranty.models import WarrantyPolicy
from aftersales.warranty.services import policy_current

pytestmark = pytest.mark.django_db


def counting_loader():
    calls = []

    def load():
        calls.append(1)
        return object()

    return load, calls


def stored_token() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM core_configstamp WHERE id = 1")
        return cursor.fetchone()[0]


def test_a_copy_is_reused_until_another_process_changes_the_stamp():
    load, calls = counting_loader()
    first = config.cached("test.copy", load)
    assert config.cached("test.copy", load) is first and len(calls) == 1
    # What another process's edit leaves behind: only the stored token moves, this process's
    # memory is untouched.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_configstamp SET token = 'another-process' WHERE id = 1")
    second = config.cached("test.copy", load)
    assert second is not first and len(calls) == 2
    assert config.cached("test.copy", load) is second


def test_saving_a_watched_rule_moves_the_stamp_and_the_next_order_write_sees_it():
    before = stored_token()
    rules_before = {r.id for r in current_setup().rules}
    policy = SlaPolicy.objects.create(name="测试：加急回访", target="callback", amount=1, unit="hours")
    assert stored_token() != before
    assert policy.pk in {r.id for r in current_setup().rules} - rules_before
    policy.delete()
    assert policy.pk not in {r.id for r in current_setup().rules}


def test_a_rolled_back_edit_does_not_leave_its_copy_current():
    base = policy_current()
    with transaction.atomic():
        newer = WarrantyPolicy.objects.create(name=base.name, version=base.version + 1, data=base.data,
                                              effective_from=base.effective_from)
        assert policy_current().pk == newer.pk  # read inside the edit's transaction
        transaction.set_rollback(True)
    # The stored token is the old one again; the copy read under the rolled-back token is not used.
    assert policy_current().pk == base.pk


def test_without_the_stamp_row_nothing_is_kept():
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_configstamp")
    load, calls = counting_loader()
    config.cached("test.nostamp", load)
    config.cached("test.nostamp", load)
    assert len(calls) == 2
    config.changed()  # puts the row back
    config.cached("test.nostamp", load)
    config.cached("test.nostamp", load)
    assert len(calls) == 3
