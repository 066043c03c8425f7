"""The order list at archive scale (issue 19): ``count`` counts up to a limit, and the ``next`` link
continues by cursor, so pages neither shift nor repeat while orders are recorded, and a partner's
cursor never opens another organization's orders."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from aftersales.api import pagination
from aftersales.service.models import ServiceOrder
from tests.service.helpers import create, repair_body, shandong_farmer


def _copies(template: ServiceOrder, n: int, *, start: int, at, **fields) -> list[ServiceOrder]:
    """``n`` rows like ``template`` (as bench/scale.py copies them), created at ``at(i)``."""
    rows = []
    for i in range(n):
        row = ServiceOrder.objects.get(pk=template.pk)
        row.pk, row.number, row.tracking_token = None, f"Z{start + i:012d}", None
        for name, value in fields.items():
            setattr(row, name, value)
        rows.append(row)
    created = ServiceOrder.objects.bulk_create(rows)
    for i, row in enumerate(created):
        # created_at is auto_now_add: set afterwards, as an archive's dates are.
        ServiceOrder.objects.filter(pk=row.pk).update(created_at=at(i))
    return created


@pytest.fixture
def archive(net, api):
    owner, machine = shandong_farmer()
    code, body = create(api, net, repair_body(owner, machine))
    assert code == 201
    template = ServiceOrder.objects.get(pk=body["id"])
    now = timezone.now()
    # Five orders share each instant: the cursor must separate them by id.
    _copies(template, 30, start=1, at=lambda i: now - timedelta(days=1 + i // 5))
    _copies(template, 6, start=100, at=lambda i: now - timedelta(hours=i + 1),
            assigned_org=net.agency_shandong, status="dispatched")
    return template


def _walk(api, token, **params) -> tuple[list[int], list[dict]]:
    ids, answers = [], []
    code, page = api.get("/orders", token=token, **params)
    while True:
        assert code == 200, page
        answers.append(page)
        ids += [o["id"] for o in page["items"]]
        if page["next"] is None:
            return ids, answers
        url = urlsplit(page["next"])
        assert url.path == "/api/v1/orders"
        code, page = api.get("/orders", token=token, **{k: v[0] for k, v in parse_qs(url.query).items()})


def _newest_first(qs) -> list[int]:
    return list(qs.order_by("-created_at", "-id").values_list("pk", flat=True))


def test_next_links_walk_every_order_once_newest_first(net, api, archive):
    ids, answers = _walk(api, net.token(net.supervisor), page_size=7)
    assert ids == _newest_first(ServiceOrder.objects.all()) and len(ids) == 37
    assert [len(a["items"]) for a in answers] == [7, 7, 7, 7, 7, 2]
    assert all(a["count"] == 37 and a["count_exact"] for a in answers)
    # Filters travel in the link.
    closed = ServiceOrder.objects.filter(status="dispatched")
    ids, answers = _walk(api, net.token(net.supervisor), page_size=4, status="dispatched")
    assert ids == _newest_first(closed) and all("status=dispatched" in a["next"] for a in answers[:-1])


def test_pages_do_not_shift_when_orders_are_recorded_between_them(net, api, archive):
    token = net.token(net.supervisor)
    before = _newest_first(ServiceOrder.objects.all())
    code, first = api.get("/orders", token=token, page_size=10)
    assert code == 200 and [o["id"] for o in first["items"]] == before[:10]
    # Two new orders arrive: with page numbers, page 2 would now repeat two rows of page 1.
    for i in range(2):
        owner, machine = shandong_farmer(phone=f"1391234000{i}", serial=f"LX904-SD-010{i}")
        assert create(api, net, repair_body(owner, machine))[0] == 201
    query = {k: v[0] for k, v in parse_qs(urlsplit(first["next"]).query).items()}
    code, second = api.get("/orders", token=token, **query)
    assert code == 200 and [o["id"] for o in second["items"]] == before[10:20]
    assert second["count"] == 39
    # The same cursor gives the same page again.
    assert [o["id"] for o in api.get("/orders", token=token, **query)[1]["items"]] == before[10:20]


def test_page_numbers_still_work(net, api, archive):
    token = net.token(net.supervisor)
    expected = _newest_first(ServiceOrder.objects.all())
    code, page = api.get("/orders", token=token, page=2, page_size=10)
    assert code == 200 and [o["id"] for o in page["items"]] == expected[10:20]
    # Its next link continues after its own last row.
    query = {k: v[0] for k, v in parse_qs(urlsplit(page["next"]).query).items()}
    assert "page" not in query
    assert [o["id"] for o in api.get("/orders", token=token, **query)[1]["items"]] == expected[20:30]
    assert api.get("/orders", token=token, page=4, page_size=10)[1]["next"] is None


def test_count_stops_at_the_limit(net, api, archive, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 20)
    token = net.token(net.supervisor)
    code, page = api.get("/orders", token=token, page_size=5)
    assert code == 200 and page["count"] == 20 and page["count_exact"] is False
    code, page = api.get("/orders", token=token, status="dispatched")
    assert code == 200 and page["count"] == 6 and page["count_exact"] is True
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 37)
    assert api.get("/orders", token=token)[1]["count_exact"] is True


def test_a_partner_follows_cursors_within_its_own_orders(net, api, archive):
    mine = _newest_first(ServiceOrder.objects.filter(assigned_org=net.agency_shandong))
    ids, _answers = _walk(api, net.token(net.agency_tech), page_size=4)
    assert ids == mine and len(mine) == 6
    # The supervisor's cursor (pointing among orders the agency does not serve) opens nothing more.
    code, page = api.get("/orders", token=net.token(net.supervisor), page_size=3)
    query = {k: v[0] for k, v in parse_qs(urlsplit(page["next"]).query).items()}
    ids, _answers = _walk(api, net.token(net.other_agency_tech), **query)
    assert ids == []


@pytest.mark.parametrize("cursor", ["nonsense", "bm90IGEgY3Vyc29y", "MjAyNi0wMS0wMVQwMDowMDowMHw5", "x" * 101])
def test_a_cursor_not_of_this_list_is_a_422_naming_it(net, api, archive, cursor):
    code, body = api.get("/orders", token=net.token(net.supervisor), cursor=cursor)
    assert code == 422 and "cursor" in str(body), body


def test_cursor_and_page_together_is_a_422_naming_page(net, api, archive):
    token = net.token(net.supervisor)
    nxt = api.get("/orders", token=token, page_size=5)[1]["next"]
    cursor = parse_qs(urlsplit(nxt).query)["cursor"][0]
    code, body = api.get("/orders", token=token, cursor=cursor, page=2)
    assert code == 422 and "page" in str(body), body
