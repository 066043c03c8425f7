"""Pagination helpers shared by the routers."""

from __future__ import annotations


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
