"""The queue's status tabs count each status only up to a cap and then say "more than" (an exact
count would read the whole open set on every page); the counts stay within what the user may see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aftersales.accounts.models import RoleCode
from aftersales.service import selectors, services
from aftersales.service.models import OrderStatus, ServiceOrder
from aftersales.web import views
from tests.service.helpers import shandong_farmer
from tests.support import make_user

pytestmark = pytest.mark.django_db


def record_orders(net, count: int) -> list[ServiceOrder]:
    customer, machine = shandong_farmer()
    return [
        services.order_create(actor=net.agent, data=services.OrderInput(
            order_type="repair", customer_id=customer.pk, machine_id=machine.pk, crop="小麦", operation="犁地",
            symptom=f"拖拉机启动困难 {i}", urgency="urgent", duplicate_reason=f"第{i}次")).order
        for i in range(count)
    ]


def test_a_tab_counts_up_to_the_cap_and_then_says_more(client, net, monkeypatch):
    record_orders(net, 5)
    client.force_login(net.info_coordinator)  # acts on new orders
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    html = client.get(reverse("web:queue")).content.decode()
    assert '新建<span class="count">3+</span>' in html and '待我处理<span class="count">3+</span>' in html
    assert html.count('class="num" href="/orders/') == 5  # the list itself is not capped

    monkeypatch.setattr(views, "COUNT_CAP", 5)
    html = client.get(reverse("web:queue")).content.decode()
    assert '新建<span class="count">5</span>' in html and '待我处理<span class="count">5</span>' in html


def test_counts_stay_within_the_users_scope(net):
    first, second, _third = record_orders(net, 3)
    ServiceOrder.objects.filter(pk=first.pk).update(status=OrderStatus.DISPATCHED, assigned_org=net.agency_shandong)
    ServiceOrder.objects.filter(pk=second.pk).update(status=OrderStatus.DISPATCHED, assigned_org=net.agency_heilongjiang)
    statuses = [OrderStatus.NEW, OrderStatus.DISPATCHED, OrderStatus.CLOSED]

    assert selectors.order_status_counts(net.repair_coordinator, statuses, cap=100) == {"new": 1, "dispatched": 2}
    assert selectors.order_status_counts(net.agency_tech, statuses, cap=100) == {"dispatched": 1}
    assert selectors.order_status_counts(net.repair_coordinator, statuses, cap=1) == {"new": 1, "dispatched": 2}
    loner = make_user("loner", None, RoleCode.FIELD_TECHNICIAN)
    assert selectors.order_status_counts(loner, statuses, cap=100) == {}


def test_a_partner_sees_its_own_counts_on_the_queue_page(client, net):
    first, _second = record_orders(net, 2)
    ServiceOrder.objects.filter(pk=first.pk).update(status=OrderStatus.DISPATCHED, assigned_org=net.agency_shandong)
    client.force_login(net.agency_tech)
    html = client.get(reverse("web:queue")).content.decode()
    assert '已派工<span class="count">1</span>' in html and "新建<span" not in html
    assert first.number in html
