"""Promise 8 and finding L of issue 12: partner writes follow the policy in docs/architecture.md.
Hour-meter readings by hand only from an organization that may edit the machine (a serving
partner records the meter in its service record), an outlier needs a reason; partners edit only
the customers they registered; users without a role write nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from aftersales.registry.models import Customer, HoursReading, Machine
from tests.security.trust import dispatched_to_agency, sold_by_agency
from tests.support import make_customer, make_machine, make_user

pytestmark = pytest.mark.django_db


def test_a_partner_posts_no_reading_on_a_machine_it_may_not_edit(net, api):
    owner = make_customer("王秀英", "18369332971", province="山东省", city="潍坊市", county="寿光市")
    machine = make_machine("LX904-HOURS-0001", owner)  # the hotline's machine
    order = dispatched_to_agency(net, owner, machine)
    reading = {"hours": "99999", "read_on": date.today().isoformat()}
    status, body = api.post(f"/machines/{machine.pk}/hours", reading, token=net.token(net.agency_tech))
    assert status == 403, body
    assert not HoursReading.objects.exists()
    assert order.assigned_org_id == net.agency_shandong.pk  # serving the order, and still refused


def test_an_outlier_reading_needs_a_reason(net, api):
    owner = make_customer("钱多多", "13500003333", registered_by=net.agency_shandong, province="山东省", city="潍坊市")
    machine = make_machine("LX904-HOURS-0002", owner, registered_by=net.agency_shandong,
                           invoice=date.today() - timedelta(days=10))
    token = net.token(net.agency_tech)
    today = date.today().isoformat()
    status, body = api.post(f"/machines/{machine.pk}/hours", {"hours": "99999", "read_on": today}, token=token)
    assert status == 422 and body["errors"][0]["field"] == "hours"
    assert api.post(f"/machines/{machine.pk}/hours", {"hours": "120", "read_on": today}, token=token)[0] == 201
    status, body = api.post(f"/machines/{machine.pk}/hours", {"hours": "900", "read_on": today,
                                                              "reason": "换装二手仪表，读数为旧表累计"}, token=token)
    assert status == 201, body
    assert list(HoursReading.objects.order_by("id").values_list("hours", "reason")) == [
        (120, ""), (900, "换装二手仪表，读数为旧表累计")]


def test_serving_an_order_is_no_licence_to_rewrite_the_customer(net, api):
    owner, machine = sold_by_agency(net)
    dispatched_to_agency(net, owner, machine)
    body = {"name": "改名", "phones": ["18369332971"]}
    status, answer = api.put(f"/customers/{owner.pk}", body, token=net.token(net.agency_tech))
    assert status == 403, answer
    assert Customer.objects.get(pk=owner.pk).name == "王秀英"
    # A customer the agency registered itself it keeps.
    mine = make_customer("赵六", "13600004444", registered_by=net.agency_shandong, province="山东省", city="潍坊市")
    assert api.put(f"/customers/{mine.pk}", {"name": "赵六六", "phones": ["13600004444"]},
                   token=net.token(net.agency_tech))[0] == 200


def test_a_user_without_a_role_writes_nothing(net, api):
    idle = make_user("agency-idle", net.agency_shandong)
    token = net.token(idle)
    assert api.post("/customers", {"name": "无名", "phones": ["13600005555"]}, token=token)[0] == 403
    assert api.post("/machines", {"serial_number": "LX904-IDLE-0001", "model_code": "LX904"}, token=token)[0] == 403
    mine = make_customer("赵七", "13600006666", registered_by=net.agency_shandong, province="山东省", city="潍坊市")
    assert api.put(f"/customers/{mine.pk}", {"name": "改", "phones": ["13600006666"]}, token=token)[0] == 403
    machine = make_machine("LX904-IDLE-0002", mine, registered_by=net.agency_shandong)
    assert api.post(f"/machines/{machine.pk}/hours", {"hours": "1", "read_on": date.today().isoformat()},
                    token=token)[0] == 403
    assert Customer.objects.filter(name="无名").count() == 0 and not Machine.objects.filter(serial_number="LX904-IDLE-0001")
