"""Pagination shared by the routers: ``page`` (from 1) and ``page_size`` (1 to 100, 25 by default).
A page size out of range is a 422 naming ``page_size``, never silently cut to the maximum."""

from __future__ import annotations

import binascii
from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

from aftersales.core.errors import ValidationFailed

MAX_PAGE_SIZE = 100


class Pages(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=10**9, description="Page number, from 1 (page 2**62 made an OFFSET no 64-bit integer holds).")
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE,
                                      description=f"Rows per page, 1 to {MAX_PAGE_SIZE} (default 25).")

    def __init__(self, page_size: int = 25, **kwargs):
        super().__init__(page_size=page_size, max_page_size=MAX_PAGE_SIZE, **kwargs)


class LazyPage:
    """A sliceable view of a queryset that converts rows as the paginator takes its page."""

    def __init__(self, qs, convert):
        self.qs, self.convert = qs, convert

    def count(self) -> int:
        return self.qs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        rows = self.qs[item]
        return [self.convert(r) for r in rows] if isinstance(item, slice) else self.convert(rows)


# How far a list's ``count`` counts. Counting every match of a filter was a COUNT(*) over millions of
# rows on each request (7.6 s for the unfiltered order list at 8,000,000 orders); counting stops here.
COUNT_LIMIT = 10_000


def bounded_count(qs, limit: int | None = None) -> int:
    """Rows of ``qs``, read up to ``limit`` (COUNT_LIMIT) + 1: more than ``limit`` means "more than
    ``limit``". ``values`` drops the select_related joins, which a count does not need."""
    limit = COUNT_LIMIT if limit is None else limit
    return qs.order_by().values("pk")[:limit + 1].count()


def _cursor_error(message: str) -> ValidationFailed:
    return ValidationFailed(_("The request has invalid fields."), fields={"cursor": message})


def encode_cursor(created_at: datetime, pk: int) -> str:
    return urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor continues after; a cursor that is not one of ours is a 422."""
    try:
        created, pk = urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split("|")
        created_at, pk = datetime.fromisoformat(created), int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise _cursor_error(_("Not a cursor of this list; use the next link as given.")) from None
    if created_at.tzinfo is None or not 0 < pk < 2**63:
        raise _cursor_error(_("Not a cursor of this list; use the next link as given."))
    return created_at, pk


class NewestFirstPages(Pages):
    """Pages of a list ordered newest first by (created_at, id), for lists that grow into millions
    (the service orders). Either ``page`` numbers as everywhere, or ``cursor``: the ``next`` link of
    each answer continues right after its last row, by key rather than by offset, so a page costs
    the same at any depth and orders recorded meanwhile (which are newer) neither shift nor repeat
    rows. ``count`` counts up to COUNT_LIMIT; ``count_exact`` is false when there are more."""

    class Input(Pages.Input):
        cursor: str = Field("", max_length=100, description=(
            "Continue after the last row of a previous answer: pass its `next` link (or just its cursor). "
            "Not with `page`."))

    class Output(Schema):
        items: list[Any]
        count: int = Field(description=f"Matching rows, counted up to {COUNT_LIMIT:,}.")
        count_exact: bool = Field(description=f"False: more than {COUNT_LIMIT:,} rows match; `count` is the limit.")
        next: str | None = Field(description="The next page (a cursor link), null on the last page.")

    def paginate_queryset(self, queryset, pagination, request, **params):
        page_size = self._get_page_size(pagination.page_size)
        lazy = queryset if isinstance(queryset, LazyPage) else LazyPage(queryset, lambda row: row)
        qs = lazy.qs
        if pagination.cursor:
            if pagination.page != 1:
                raise ValidationFailed(_("The request has invalid fields."),
                                       fields={"page": _("Give either a page or a cursor, not both.")})
            created_at, pk = decode_cursor(pagination.cursor)
            # The first condition alone bounds the (…, created_at, id) index range; the second
            # drops the rows of the same instant already given.
            qs = qs.filter(Q(created_at__lte=created_at) & (Q(created_at__lt=created_at) | Q(pk__lt=pk)))
            rows = list(qs[:page_size + 1])
        else:
            offset = (pagination.page - 1) * page_size
            rows = list(qs[offset:offset + page_size + 1])
        more, rows = len(rows) > page_size, rows[:page_size]
        count, limit = bounded_count(lazy.qs), COUNT_LIMIT
        link = None
        if more:
            query = request.GET.copy()
            query.pop("page", None)
            query["cursor"] = encode_cursor(rows[-1].created_at, rows[-1].pk)
            link = f"{request.path}?{query.urlencode()}"
        return {"items": [lazy.convert(r) for r in rows], "count": min(count, limit),
                "count_exact": count <= limit, "next": link}
