"""Knowledge suggestions on the workbenches: while the agent types the symptom on the call desk,
on the order page for the technicians with "this solved it", and the header search over every
kind, through Django's test client."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from aftersales.knowledge import documents
from aftersales.knowledge import services as knowledge
from aftersales.knowledge.models import SuggestionUse
from aftersales.service import services
from aftersales.service.models import ServiceOrder
from tests.service.helpers import shandong_farmer
from tests.support import make_customer, make_machine

pytestmark = pytest.mark.django_db

SMOKE = knowledge.ArticleInput(
    title="发动机冒黑烟", symptom="拖拉机冒黑烟，犁地没劲", cause="空气滤清器堵塞",
    solution_steps=["检查空气滤清器", "清理滤芯", "检查喷油器", "更换喷油嘴"], categories=["tractor"])
LIFT = knowledge.ArticleInput(title="液压提升器不升", symptom="旋耕机提不起来", solution_steps=["检查液压油油面"],
                              categories=["tractor"])


def publish(net, data):
    article = knowledge.article_create(actor=net.engineer, data=data)
    return knowledge.article_publish(actor=net.engineer, article_id=article.pk, version=article.version)


def record(net, customer, machine, symptom="拖拉机启动困难，冒黑烟"):
    data = services.OrderInput(order_type="repair", customer_id=customer.pk, machine_id=machine.pk, crop="小麦",
                               operation="犁地", symptom=symptom, urgency="urgent", duplicate_reason="又一次")
    return services.order_create(actor=net.agent, data=data).order


def solved_by(order, org):
    # The field flow to completion is covered by the service tests; here only the end state matters.
    ServiceOrder.objects.filter(pk=order.pk).update(status="completed", assigned_org=org)
    documents.on_order_changed(ServiceOrder.objects.get(pk=order.pk), [])


@pytest.fixture
def smoke(net):
    publish(net, LIFT)
    return publish(net, SMOKE)


def suggest(client, user, symptom, machine=""):
    client.force_login(user)
    resp = client.get(reverse("web:desk-suggest"), {"symptom": symptom, "machine": machine}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    return resp.content.decode()


def test_typing_the_farmers_words_suggests_the_article(client, net, smoke):
    _, machine = shandong_farmer()
    html = suggest(client, net.agent, "拖拉机冒黑烟", machine.pk)
    assert "<mark>冒黑烟</mark>" in html and "检查空气滤清器" in html and "检查喷油器" in html
    assert "更换喷油嘴" not in html  # only the first steps
    # The other tractor article may follow (it shares 拖拉机), never before the one about 冒黑烟.
    assert html.index("<mark>冒黑烟</mark>") < html.find("液压提升器") or "液压提升器" not in html
    assert "<html" not in html
    assert "This solved it" not in html and "这个解决了问题" not in html  # no order yet at intake
    assert suggest(client, net.agent, "冒", machine.pk).strip() == ""
    assert suggest(client, net.agent, "   ", machine.pk).strip() == ""


def test_the_desk_textarea_asks_for_suggestions_with_the_machine(client, net, smoke):
    customer, _ = shandong_farmer()
    client.force_login(net.agent)
    html = client.get(reverse("web:desk"), {"customer": customer.pk}).content.decode()
    assert f'hx-get="{reverse("web:desk-suggest")}"' in html and 'hx-trigger="input changed delay:400ms"' in html
    assert "[name=machine]" in html and 'id="suggestions"' in html


def test_similar_orders_stay_within_the_agency(client, net, smoke):
    customer, machine = shandong_farmer()
    other = make_customer("孙满仓", "13611112222", province="黑龙江省", city="佳木斯市")
    theirs = record(net, other, make_machine("LX904-HL-0002", other), symptom="拖拉机冒黑烟，没劲")
    ours = record(net, customer, machine, symptom="拖拉机冒黑烟，拉不动")
    solved_by(theirs, net.agency_heilongjiang)
    solved_by(ours, net.agency_shandong)

    seen_by_agent = suggest(client, net.agent, "拖拉机冒黑烟", machine.pk)
    assert theirs.number in seen_by_agent and ours.number in seen_by_agent
    seen_by_agency = suggest(client, net.agency_tech, "拖拉机冒黑烟", machine.pk)
    assert ours.number in seen_by_agency and theirs.number not in seen_by_agency
    assert "<mark>冒黑烟</mark>" in seen_by_agency  # the article is for the whole network


def test_this_solved_it_records_the_use_once(client, net, smoke):
    customer, machine = shandong_farmer()
    order = record(net, customer, machine)
    client.force_login(net.agent)
    assert "order-suggestions" not in client.get(reverse("web:order", args=[order.pk])).content.decode()

    client.force_login(net.hotline_tech)
    html = client.get(reverse("web:order", args=[order.pk])).content.decode()
    url = reverse("web:order-solved", args=[order.pk, smoke.pk])
    assert "order-suggestions" in html and f'action="{url}"' in html
    resp = client.post(url, follow=True)
    assert resp.status_code == 200 and "msg-success" in resp.content.decode()
    client.post(url)
    assert SuggestionUse.objects.filter(article=smoke, order=order).count() == 1
    smoke.refresh_from_db()
    assert smoke.useful_count == 1
    # An agency that cannot see the order cannot record against it.
    client.force_login(net.other_agency_tech)
    assert client.post(url).status_code == 404
    assert SuggestionUse.objects.count() == 1


def test_header_search_groups_every_kind_and_escapes_all_but_the_marks(client, net, smoke):
    customer, machine = shandong_farmer()
    order = record(net, customer, machine)
    make_customer("<b>冒黑烟</b>", "13800001111")
    client.force_login(net.agent)
    html = client.get(reverse("web:search"), {"q": "冒黑烟"}).content.decode()
    for kind in ("article", "order", "customer", "machine"):
        assert f'id="results-{kind}"' in html
    assert "发动机<mark>冒黑烟</mark>" in html and reverse("web:order", args=[order.pk]) in html
    assert "&lt;b&gt;<mark>冒黑烟</mark>&lt;/b&gt;" in html and "<b>冒黑烟" not in html


def test_suggestions_keep_a_bounded_number_of_queries(client, net, smoke, django_assert_max_num_queries):
    customer, machine = shandong_farmer()
    for i in range(4):
        solved_by(record(net, customer, machine, symptom=f"拖拉机冒黑烟 第{i}次"), net.agency_shandong)
    client.force_login(net.agent)
    url = reverse("web:desk-suggest")
    # 20, plus on PostgreSQL one probe per search (4) that picks between the GIN index and a newest-first walk.
    with django_assert_max_num_queries(24 if connection.vendor == "postgresql" else 20):
        html = client.get(url, {"symptom": "拖拉机冒黑烟", "machine": machine.pk}).content.decode()
    assert html.count("suggestion small") == 3
    client.force_login(net.hotline_tech)
    # The order page: its actions, clocks, timeline, suggestions, and since issues 16 and 17 the order's
    # calls and parts requisitions (one query each).
    with django_assert_max_num_queries(57):
        assert client.get(reverse("web:order", args=[record(net, customer, machine).pk])).status_code == 200
