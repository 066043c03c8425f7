"""The knowledge base through its services and API, and the search's scoping, freshness and format."""

import io

import pytest

from aftersales.knowledge.models import Article, SearchDocument, SuggestionUse
from aftersales.knowledge.selectors import search
from tests.service.helpers import Actor, create, png_bytes, repair_body, shandong_farmer
from tests.support import make_customer, make_machine

pytestmark = pytest.mark.django_db

ARTICLE = {"title": "液压提升器不升", "symptom": "旋耕机提不起来，提升器不升", "cause": "液压油不足",
           "solution_steps": ["检查液压油油面", "清洗滤网"], "categories": ["tractor"], "product_models": ["LX904"],
           "component": "hydraulic_lift", "tags": ["液压"]}


def _ids(results, kind):
    return [hit["id"] for hit in results[kind]]


def _dispatch(api, net, order_id, org):
    Actor(api, net, net.info_coordinator).ok(order_id, "forward", hotline_technician_id=net.hotline_tech.pk)
    tech = Actor(api, net, net.hotline_tech)
    tech.ok(order_id, "callback")
    tech.ok(order_id, "confirm_mode", service_mode="on_site")
    Actor(api, net, net.repair_coordinator).ok(order_id, "dispatch", organization_id=org.pk,
                                               outside_coverage_reason="跨区支援")  # ignored inside the coverage


def test_agency_never_sees_another_agencys_orders(net, api):
    customer, machine = shandong_farmer()
    _, to_hl = create(api, net, repair_body(customer, machine, symptom="收割机割台堵塞，过桥堵草"))
    _dispatch(api, net, to_hl["id"], net.agency_heilongjiang)
    other = make_customer("孙满仓", "13611112222", province="山东省", city="潍坊市", county="寿光市")
    second = make_machine("LX904-SD-0999", other)
    _, to_sd = create(api, net, repair_body(other, second, symptom="割台堵塞，麦子送不进去"))
    _dispatch(api, net, to_sd["id"], net.agency_shandong)

    assert set(_ids(search(net.agent, "割台堵塞", kinds=["order"]), "order")) == {to_hl["id"], to_sd["id"]}
    assert _ids(search(net.other_agency_tech, "割台堵塞", kinds=["order"]), "order") == [to_hl["id"]]
    assert _ids(search(net.agency_tech, "割台堵塞", kinds=["order"]), "order") == [to_sd["id"]]
    # Nor by the other order's number, phone or customer.
    assert search(net.agency_tech, to_hl["number"], kinds=["order"])["order"] == []
    assert search(net.agency_tech, "5678", kinds=["order", "customer"]) == {"order": [], "customer": []}


def test_the_index_follows_orders_and_customers_in_the_same_transaction(net, api):
    customer, machine = shandong_farmer()
    _, order = create(api, net, repair_body(customer, machine, symptom="插秧机漏插严重"))
    assert _ids(search(net.agent, "漏插", kinds=["order"]), "order") == [order["id"]]
    from aftersales.registry import services as registry

    registry.customer_update(customer=customer, data=registry.CustomerInput(name="欧阳大壮", phones=["13912345678"]))
    assert _ids(search(net.agent, "oydz", kinds=["customer"]), "customer") == [customer.pk]
    assert _ids(search(net.agent, "欧阳大壮 漏插", kinds=["order"]), "order") == [order["id"]]
    assert search(net.agent, "刘大壮", kinds=["customer"])["customer"] == []


def test_a_failing_save_leaves_the_index_untouched(net):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        make_customer("钱多多", "13755556666")
        raise RuntimeError("rolled back")
    assert not SearchDocument.objects.filter(kind="customer").exists()


def test_article_lifecycle_keeps_every_version(net, api):
    from tests.support import make_model

    make_model()
    token = net.token(net.engineer)
    status, art = api.post("/knowledge/articles", ARTICLE, token=token)
    assert status == 201 and art["status"] == "draft"
    # A draft is for engineers and its author only.
    assert api.get(f"/knowledge/articles/{art['id']}", token=net.token(net.agency_tech))[0] == 404
    assert search(net.agency_tech, "提升器不升", kinds=["article"])["article"] == []
    status, edited = api.put(f"/knowledge/articles/{art['id']}", {**ARTICLE, "cause": "液压泵磨损", "version": 1}, token=token)
    assert status == 200 and edited["version"] == 2
    assert api.put(f"/knowledge/articles/{art['id']}", {**ARTICLE, "version": 1}, token=token)[1]["code"] == "stale_version"
    # Another user cannot even see the draft to publish it.
    assert api.post(f"/knowledge/articles/{art['id']}/publish", {"version": 2}, token=net.token(net.agent))[0] == 404
    status, published = api.post(f"/knowledge/articles/{art['id']}/publish", {"version": 2}, token=token)
    assert status == 200 and published["status"] == "published"
    hits = search(net.agency_tech, "LX904 液压", kinds=["article"])["article"]
    assert [h["id"] for h in hits] == [art["id"]]
    assert "<mark>液压</mark>" in hits[0]["title_html"] and hits[0]["title_highlights"][0] == [0, 2]
    _, versions = api.get(f"/knowledge/articles/{art['id']}/versions", token=token)
    assert [(v["number"], v["action"], v["edited_by_id"]) for v in versions] == [
        (1, "create", net.engineer.pk), (2, "update", net.engineer.pk), (3, "publish", net.engineer.pk)]
    assert versions[0]["data"]["cause"] == "液压油不足" and versions[1]["data"]["cause"] == "液压泵磨损"
    api.post(f"/knowledge/articles/{art['id']}/archive", {"version": 3}, token=token)
    assert search(net.agent, "提升器不升", kinds=["article"])["article"] == []


def test_article_validation_and_attachments(net, api):
    token = net.token(net.engineer)
    status, body = api.post("/knowledge/articles", {**ARTICLE, "component": "warp_drive", "product_models": ["NOPE"]}, token=token)
    assert status == 422 and {e["field"] for e in body["errors"]} >= {"component", "product_models"}
    assert api.post("/knowledge/articles", {**ARTICLE, "product_models": []}, token=net.token(net.agent))[0] == 403
    _, art = api.post("/knowledge/articles", {**ARTICLE, "product_models": []}, token=token)

    def upload(content, name):
        f = io.BytesIO(content)
        f.name = name
        return api.client.post(f"/api/v1/knowledge/articles/{art['id']}/attachments", data={"file": f},
                               HTTP_AUTHORIZATION=f"Bearer {token}")

    assert upload(b"%PDF-1.4 manual", "手册.pdf").status_code == 201
    assert upload(png_bytes(), "photo.png").json()["content_type"] == "image/png"
    bad = upload(b"MZ\x90\x00 not a pdf", "manual.pdf")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "file"
    assert Article.objects.get(pk=art["id"]).attachments.count() == 2


def test_hotline_proposes_from_a_solved_order_and_suggestions_record_use(net, api):
    customer, machine = shandong_farmer()
    _, order = create(api, net, repair_body(customer, machine, symptom="拖拉机冒黑烟，犁地拉不动"))
    Actor(api, net, net.info_coordinator).ok(order["id"], "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(order["id"], "callback")
    assert api.post("/knowledge/articles/propose", {"order_id": order["id"]}, token=net.token(net.hotline_tech))[0] == 409
    hotline.ok(order["id"], "solve_by_phone", solution="清理空气滤清器滤芯后黑烟消失", steps=["看排气颜色", "拆空滤"])
    status, proposal = api.post("/knowledge/articles/propose", {"order_id": order["id"]}, token=net.token(net.hotline_tech))
    assert status == 201 and proposal["status"] == "review" and proposal["source_order_id"] == order["id"]
    assert proposal["symptom"] == "拖拉机冒黑烟，犁地拉不动" and proposal["solution_steps"][-1] == "清理空气滤清器滤芯后黑烟消失"
    assert proposal["product_models"] == ["LX904"] and proposal["categories"] == ["tractor"]
    assert api.post("/knowledge/articles/propose", {"order_id": order["id"]}, token=net.token(net.agency_tech))[0] == 403
    # The author sees the proposal but only an engineer publishes it.
    assert api.post(f"/knowledge/articles/{proposal['id']}/publish", {"version": 1}, token=net.token(net.hotline_tech))[0] == 403
    engineer = net.token(net.engineer)
    api.post(f"/knowledge/articles/{proposal['id']}/publish", {"version": 1}, token=engineer)

    status, suggestions = api.get("/search/suggest", token=net.token(net.agent), symptom="发动机冒黑烟没劲", category="tractor")
    assert status == 200 and suggestions["articles"][0]["id"] == proposal["id"]
    assert suggestions["orders"][0]["id"] == order["id"]
    solved = f"/knowledge/articles/{proposal['id']}/solved"
    assert api.post(solved, {"order_id": order["id"]}, token=net.token(net.agent)) == (
        201, {"article_id": proposal["id"], "order_id": order["id"], "recorded": True, "useful_count": 1})
    assert api.post(solved, {"order_id": order["id"]}, token=net.token(net.agent))[1]["useful_count"] == 1
    assert SuggestionUse.objects.count() == 1
    # The other agency cannot record against an order it cannot see.
    assert api.post(solved, {"order_id": order["id"]}, token=net.token(net.other_agency_tech))[0] == 404


def test_search_endpoint_groups_by_kind_and_escapes_html(net, api):
    customer = make_customer("张三", "13912345678")
    make_machine("LX904-SD-0001", customer)
    status, body = api.get("/search", token=net.token(net.agent), q="zs")
    assert status == 200 and set(body["results"]) == {"article", "order", "customer", "machine"}
    assert [h["id"] for h in body["results"]["customer"]] == [customer.pk]
    status, body = api.get("/search", token=net.token(net.agent), q="LX904-SD", kinds="machine")
    assert list(body["results"]) == ["machine"] and body["results"]["machine"][0]["title_html"].startswith("<mark>LX904-SD</mark>")
    evil = make_customer("<b>张</b>三", "13800001111")
    hit = {h["id"]: h for h in search(net.agent, "zs", kinds=["customer"])["customer"]}
    assert set(hit) == {customer.pk, evil.pk}
    assert hit[evil.pk]["title_html"] == "&lt;b&gt;张&lt;/b&gt;三"
    assert api.get("/search", q="zs")[0] == 401


def test_reindex_rebuilds_from_scratch_and_synonyms_are_data(net):
    from io import StringIO

    from django.core.management import call_command

    from aftersales.knowledge.models import Synonym

    customer = make_customer("张三", "13912345678")
    make_machine("LX904-SD-0001", customer)
    SearchDocument.objects.all().delete()
    assert search(net.agent, "zs", kinds=["customer"])["customer"] == []
    out = StringIO()
    call_command("reindex", stdout=out)
    assert "Indexed 2 documents" in out.getvalue()
    assert [h["id"] for h in search(net.agent, "zs", kinds=["customer"])["customer"]] == [customer.pk]
    # A word the dictionary does not know finds nothing until an engineer adds it to a group.
    assert search(net.agent, "小四轮", kinds=["machine"])["machine"] == []
    Synonym.objects.create(words="拖拉机 小四轮")
    assert [h["id"] for h in search(net.agent, "小四轮", kinds=["machine"])["machine"]] == [customer.machines.get().pk]
