"""技术资料库 in the web pages: a hotline technician writes a draft and submits it, an engineer
publishes it, everyone then reads it; the article page shows every step, part, attachment, version
and the orders it solved; pinyin initials find titles and symptoms."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.knowledge import services, text
from aftersales.knowledge.models import Article, ArticleStatus
from aftersales.knowledge.selectors import search
from aftersales.knowledge.views import parse_part
from tests.service.helpers import png_bytes, shandong_farmer
from tests.support import make_model
from tests.web.test_pages import record

pytestmark = pytest.mark.django_db

FORM = {
    "title": "发动机冒黑烟", "symptom": "拖拉机发动机冒黑烟，动力不足", "cause": "空气滤清器堵塞",
    "solution_steps": "看排气颜色\n拆下空滤滤芯\n清理或更换滤芯", "parts": "LX-2201 空气滤芯 1\n密封圈",
    "tags": "黑烟，空滤", "product_models": "LX904", "categories": ["tractor"], "component": "",
}


def test_parts_lines_become_part_rows():
    assert parse_part("LX-1105 喷油嘴 2") == {"part_number": "LX-1105", "name": "喷油嘴", "quantity": "2"}
    assert parse_part("密封圈") == {"part_number": "", "name": "密封圈", "quantity": 1}
    assert parse_part("LX-1105") == {"part_number": "LX-1105", "name": "", "quantity": 1}


def test_hotline_writes_submits_engineer_publishes_and_everyone_reads(client, net):
    make_model()
    client.force_login(net.hotline_tech)
    assert "新建文章" in client.get(reverse("web:knowledge")).content.decode()
    resp = client.post(reverse("web:article-new"), FORM)
    assert resp.status_code == 302
    article = Article.objects.get(title="发动机冒黑烟")
    assert article.status == ArticleStatus.DRAFT and article.author == net.hotline_tech
    assert article.solution_steps == ["看排气颜色", "拆下空滤滤芯", "清理或更换滤芯"]
    assert article.parts == [{"part_number": "LX-2201", "name": "空气滤芯", "quantity": "1"},
                             {"part_number": "", "name": "密封圈", "quantity": 1}]
    assert article.tags == ["黑烟", "空滤"] and article.categories == ["tractor"]
    # Not published: an agency does not see it, not even by its address.
    client.force_login(net.agency_tech)
    assert client.get(reverse("web:article", args=[article.pk])).status_code == 404

    client.force_login(net.hotline_tech)
    html = client.get(reverse("web:article", args=[article.pk])).content.decode()
    assert 'id="article-submit"' in html and 'id="article-publish"' not in html
    client.post(reverse("web:article-act", args=[article.pk, "submit"]), {"version": article.version})
    article.refresh_from_db()
    assert article.status == ArticleStatus.REVIEW
    # The hotline may not publish; the refusal changes nothing.
    client.post(reverse("web:article-act", args=[article.pk, "publish"]), {"version": article.version})
    article.refresh_from_db()
    assert article.status == ArticleStatus.REVIEW

    client.force_login(net.engineer)
    html = client.get(reverse("web:article", args=[article.pk])).content.decode()
    assert 'id="article-publish"' in html
    client.post(reverse("web:article-act", args=[article.pk, "publish"]), {"version": article.version})
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED and article.published_at

    client.force_login(net.agency_tech)
    html = client.get(reverse("web:article", args=[article.pk])).content.decode()
    for piece in ("发动机冒黑烟", "空气滤清器堵塞", "拆下空滤滤芯", "LX-2201", "空气滤芯", "已发布"):
        assert piece in html, piece
    assert html.count("<li>") >= 3 and 'id="edit-article"' not in html


def test_a_failed_save_keeps_what_was_typed(client, net):
    client.force_login(net.engineer)
    resp = client.post(reverse("web:article-new"), {**FORM, "title": "", "product_models": "NOPE-1"})
    html = resp.content.decode()
    assert resp.status_code == 200 and not Article.objects.exists()
    assert "拖拉机发动机冒黑烟，动力不足" in html and "清理或更换滤芯" in html and "NOPE-1" in html
    assert "此字段为必填项" in html or "必填" in html


def test_an_edit_is_a_new_version_and_a_stale_edit_keeps_the_typing(client, net):
    make_model()
    article = services.article_create(actor=net.engineer, data=services.ArticleInput(title="液压提升器不升", symptom="提升器不升"))
    client.force_login(net.engineer)
    form = client.get(reverse("web:article-edit", args=[article.pk])).content.decode()
    assert "液压提升器不升" in form
    resp = client.post(reverse("web:article-edit", args=[article.pk]),
                       {**FORM, "title": "液压提升器不升", "version": article.version})
    assert resp.status_code == 302
    article.refresh_from_db()
    assert article.version == 2 and article.symptom == FORM["symptom"]
    resp = client.post(reverse("web:article-edit", args=[article.pk]),
                       {**FORM, "title": "过期的修改", "version": 1})
    assert resp.status_code == 200 and "过期的修改" in resp.content.decode()
    article.refresh_from_db()
    assert article.title == "液压提升器不升"
    html = client.get(reverse("web:article", args=[article.pk])).content.decode()
    assert "版本 2" in html and "版本 1" in html


def test_the_article_page_shows_attachments_related_orders_in_fixed_queries(client, net):
    customer, machine = shandong_farmer()
    article = services.article_create(actor=net.engineer, data=services.ArticleInput(
        title="发动机冒黑烟", symptom="冒黑烟", solution_steps=["清理空滤"]))
    article = services.article_publish(actor=net.engineer, article_id=article.pk, version=article.version)
    photo = io.BytesIO(png_bytes())
    photo.name = "filter.png"
    client.force_login(net.engineer)
    client.post(reverse("web:article-attach", args=[article.pk]), {"file": photo})
    attachment = article.attachments.get()
    order = record(net, customer, machine, symptom="冒黑烟")
    services.article_record_use(actor=net.agent, article_id=article.pk, order_id=order.pk)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("web:article", args=[article.pk])).content.decode()
    assert order.number in html and f"/knowledge/{article.pk}/files/{attachment.pk}" in html
    assert client.get(reverse("web:article-file", args=[article.pk, attachment.pk])).status_code == 200
    # session, user, roles, the article, attachments, versions, uses + orders: not one per row.
    assert len(ctx.captured_queries) <= 10
    # Another agency sees the article but not the order it solved elsewhere.
    client.force_login(net.other_agency_tech)
    html = client.get(reverse("web:article", args=[article.pk])).content.decode()
    assert "发动机冒黑烟" in html and order.number not in html


def test_pinyin_initials_find_article_titles_and_symptoms(net):
    article = services.article_create(actor=net.engineer, data=services.ArticleInput(
        title="发动机冒黑烟", symptom="拖拉机启动困难，排气管冒黑烟"))
    services.article_publish(actor=net.engineer, article_id=article.pk, version=article.version)
    for q in ("fdjmhy", "fadongjimaoheiyan", "fdjm", "qdkn"):
        assert [h["id"] for h in search(net.agent, q, kinds=["article"])["article"]] == [article.pk], q
    assert search(net.agent, "xyzq", kinds=["article"])["article"] == []
    assert "fdjmhy" in text.phrase_tokens("发动机冒黑烟")


def test_search_results_and_suggestions_open_the_article(client, net):
    article = services.article_create(actor=net.engineer, data=services.ArticleInput(title="发动机冒黑烟", symptom="冒黑烟"))
    services.article_publish(actor=net.engineer, article_id=article.pk, version=article.version)
    client.force_login(net.agent)
    html = client.get(reverse("web:search"), {"q": "fdjmhy"}).content.decode()
    assert f'href="/knowledge/{article.pk}/"' in html
    html = client.get(reverse("web:desk-suggest"), {"symptom": "发动机冒黑烟"}, HTTP_HX_REQUEST="true").content.decode()
    assert f'href="/knowledge/{article.pk}/"' in html


def test_the_article_list_reads_a_fixed_number_of_queries(client, net):
    for i in range(2):
        services.article_create(actor=net.engineer, data=services.ArticleInput(title=f"故障{i}", symptom="冒黑烟"))
    client.force_login(net.engineer)
    with CaptureQueriesContext(connection) as first:
        assert "故障1" in client.get(reverse("web:knowledge")).content.decode()
    for i in range(2, 6):
        services.article_create(actor=net.engineer, data=services.ArticleInput(title=f"故障{i}", symptom="冒黑烟"))
    with CaptureQueriesContext(connection) as second:
        html = client.get(reverse("web:knowledge"), {"status": "draft"}).content.decode()
    assert "故障5" in html and len(second.captured_queries) == len(first.captured_queries) <= 6  # 6: the bell's unread count
