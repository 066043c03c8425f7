"""Pagination shared by the routers: ``page`` (from 1) and ``page_size`` (1 to 100, 25 by default).
A page size out of range is a 422 naming ``page_size``, never silently cut to the maximum."""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

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
