"""The call desk through Django's test client: a caller who is not in the archive is registered
with their machine in the same save, Enter in the caller search takes the call, duplicates are
caught and shown only as far as the user may see them, a refused save keeps everything typed and
the looked-up caller, and another machine never keeps the previous machine's purchase date."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from aftersales.registry.models import Customer, Machine
from aftersales.service.models import ServiceOrder
from tests.service.helpers import shandong_farmer
from tests.support import make_machine, make_model

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalogue(db):
    return make_model()

NEW_CALLER = {
    "customer": "new", "c_name": "王秋生", "c_phone": "137 0000 1234", "c_class": "farmer",
    "c_province": "河南省", "c_city": "周口市", "c_county": "商水县", "c_township": "练集镇", "c_village": "王庄村",
    "machine": "new", "m_model_code": "LX904", "m_serial_number": "lx904-ha-0099", "m_engine_number": "yc4-778",
    "m_invoice_date": "2026-05-10", "m_delivery_date": "2026-05-12",
    "order_type": "repair", "crop": "玉米", "operation": "播种", "urgency": "normal",
    "symptom": "发动机冒黑烟，动力不足",
}


def test_enter_with_an_unknown_number_opens_a_new_caller_with_the_number_filled(client, net):
    client.force_login(net.agent)
    html = client.get(reverse("web:desk-form"), {"take": "137 0000 1234"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="c_name"' in html and 'value="137 0000 1234"' in html
    assert 'name="m_serial_number"' in html  # a new caller brings a new machine form
    assert 'tabindex' not in html


def test_enter_with_one_match_takes_that_caller(client, net):
    customer, machine = shandong_farmer()
    client.force_login(net.agent)
    html = client.get(reverse("web:desk-form"), {"take": "5678"}, HTTP_HX_REQUEST="true").content.decode()
    assert f'name="customer" value="{customer.pk}"' in html and machine.serial_number in html


def test_a_new_caller_and_machine_are_registered_with_the_order(client, net):
    client.force_login(net.agent)
    resp = client.post(reverse("web:desk-intake"), NEW_CALLER)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    order = ServiceOrder.objects.get()
    customer, machine = order.customer, order.machine
    assert (customer.name, customer.township, customer.village) == ("王秋生", "练集镇", "王庄村")
    assert [p.number for p in customer.phones.all()] == ["+8613700001234"]
    assert (machine.serial_number, machine.engine_number, machine.owner_id) == ("LX904-HA-0099", "YC4-778", customer.pk)
    assert machine.invoice_date == date(2026, 5, 10) and order.contact_phone == "+8613700001234"
    assert order.purchase_date == machine.warranty_start


def test_a_refused_save_keeps_every_typed_field_and_creates_nothing(client, net):
    client.force_login(net.agent)
    body = {**NEW_CALLER, "m_model_code": "", "c_phone2": "0394-5432118", "field_location": "王庄村北地"}
    resp = client.post(reverse("web:desk-intake"), body)
    html = resp.content.decode()
    assert resp.status_code == 422
    assert not Customer.objects.exists() and not Machine.objects.exists() and not ServiceOrder.objects.exists()
    for value in ("王秋生", "137 0000 1234", "0394-5432118", "练集镇", "王庄村", "lx904-ha-0099", "yc4-778",
                  "2026-05-10", "玉米", "播种", "王庄村北地", "发动机冒黑烟，动力不足"):
        assert value in html, value
    assert 'value="LX904" selected' not in html  # the model was not chosen and is not invented


def test_a_refused_save_keeps_the_looked_up_caller(client, net):
    customer, machine = shandong_farmer()
    client.force_login(net.agent)
    resp = client.post(reverse("web:desk-intake"), {"customer": customer.pk, "machine": machine.pk, "q": "5678",
                                                    "order_type": "repair", "crop": "小麦", "symptom": ""})
    html = resp.content.decode()
    assert resp.status_code == 422
    assert 'value="5678"' in html  # the search as typed
    assert html.count(machine.serial_number) >= 2  # in the caller card on the left and in the form
    assert 'value="小麦"' in html


def test_a_taken_number_or_serial_is_caught_before_saving(client, net):
    customer, machine = shandong_farmer()
    client.force_login(net.agent)
    html = client.get(reverse("web:desk-check"), {"field": "c_phone", "c_phone": "139-1234-5678"}).content.decode()
    assert customer.name in html and f"customer={customer.pk}" in html
    html = client.get(reverse("web:desk-check"), {"field": "m_serial_number",
                                                  "m_serial_number": machine.serial_number.lower()}).content.decode()
    assert customer.name in html
    resp = client.post(reverse("web:desk-intake"), {**NEW_CALLER, "c_phone": "13912345678"})
    assert resp.status_code == 422 and customer.name in resp.content.decode()
    assert ServiceOrder.objects.count() == 0 and Customer.objects.count() == 1


def test_another_organizations_customer_is_not_named(client, net):
    customer, machine = shandong_farmer()  # recorded by the maker: a dealer does not see them
    client.force_login(net.dealer_clerk)
    html = client.get(reverse("web:desk-check"), {"field": "c_phone", "c_phone": "13912345678"}).content.decode()
    assert "另一单位" in html or "another organization" in html
    assert customer.name not in html and str(customer.pk) not in html
    html = client.get(reverse("web:desk-check"), {"field": "m_serial_number",
                                                  "m_serial_number": machine.serial_number}).content.decode()
    assert customer.name not in html and "data-duplicate" in html


def test_another_machine_brings_its_own_purchase_date(client, net):
    customer, first = shandong_farmer()
    second = make_machine("LX904-SD-0002", customer, model=first.model, invoice=date(2025, 9, 20))
    client.force_login(net.agent)
    typed = "2025-03-01"
    html = client.get(reverse("web:desk-form"), {"customer": customer.pk, "machine": second.pk,
                                                 "purchase_date": typed, "purchase_for": str(first.pk)}).content.decode()
    assert typed not in html
    assert 'name="purchase_date" value="2025-09-20"' in html
    # The date typed for the machine still chosen is kept.
    html = client.get(reverse("web:desk-form"), {"customer": customer.pk, "machine": first.pk,
                                                 "purchase_date": typed, "purchase_for": str(first.pk)}).content.decode()
    assert f'name="purchase_date" value="{typed}"' in html


def test_several_matches_leave_the_choice_to_the_agent(client, net):
    shandong_farmer()
    shandong_farmer(phone="13912340000", serial="LX904-SD-0002")
    client.force_login(net.agent)
    html = client.get(reverse("web:desk-form"), {"take": "刘大壮"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="pick-caller"' in html and "intake-form" not in html


def test_no_caller_found_offers_to_register_one(client, net):
    client.force_login(net.agent)
    html = client.get(reverse("web:desk-lookup"), {"q": "13700001234"}, HTTP_HX_REQUEST="true").content.decode()
    assert "没有找到客户。" in html and 'id="register-caller"' in html and "take=13700001234" in html


def test_the_english_desk_has_english_words_and_punctuation(client, net):
    customer, machine = shandong_farmer()
    client.force_login(net.agent)
    client.post(reverse("set_language"), {"language": "en", "next": "/desk/"})
    html = client.get(reverse("web:desk"), {"customer": customer.pk}).content.decode()
    assert "Save the order" in html and "Register a new machine" in html
    assert "(Enter)" in html and "Warranty: " in html
    assert "（" not in html and "：" not in html
