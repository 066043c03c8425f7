"""Pagination helpers shared by the routers."""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination


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


class PageNumbers(PageNumberPagination):
    """ninja's page numbers with a page the database can reach: page 2**62 made an OFFSET no
    64-bit integer holds (a 500); past the bound it is a 422 naming ``page``."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=10**9)
        page_size: int | None = Field(None, ge=1, le=1000)
