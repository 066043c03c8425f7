"""The one interface to the full-text index, whatever the database.

``SearchDocument`` rows hold the tokens; SQLite keeps an FTS5 table over them (external content,
kept in step by triggers) and PostgreSQL a stored ``to_tsvector('simple', tokens)`` column with a
GIN index (migration 0002). Callers see the same three functions and the same rows back; only the
match expression and the rank function (bm25 / ts_rank_cd) differ, and the final order is decided
in Python (selectors.search) from the matched terms, so both databases rank alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection

from aftersales.knowledge.models import DocumentKind, SearchDocument
from aftersales.knowledge.text import Term

FTS_TABLE = "knowledge_fts"
_UPDATE_FIELDS = ["org_a", "org_b", "status", "category", "title", "body", "tokens", "boost", "updated_at"]


@dataclass
class Hit:
    kind: str
    object_id: int
    title: str
    body: str
    tokens: str
    boost: float
    category: str
    status: str
    rank: float


def index_upsert(docs: Iterable[SearchDocument], *, batch_size: int = 1000) -> int:
    """Insert or replace documents by (kind, object_id), in bulk."""
    docs = list(docs)
    if docs:
        SearchDocument.objects.bulk_create(
            docs, batch_size=batch_size, update_conflicts=True,
            unique_fields=["kind", "object_id"], update_fields=_UPDATE_FIELDS,
        )
    return len(docs)


def index_delete(kind: str, object_ids: Sequence[int] | None = None) -> int:
    """Forget documents of a kind (all of them when ``object_ids`` is None)."""
    qs = SearchDocument.objects.filter(kind=kind)
    if object_ids is not None:
        qs = qs.filter(object_id__in=list(object_ids))
    return qs.delete()[0]


def kind_token(kind: str) -> str:
    """Every document's first token names its kind, so the engine narrows to one kind before it
    ranks (ranking is the expensive part: it touches every matching row)."""
    return "kind" + kind


def org_token(org_id: int) -> str:
    """An organization whose people see the document without a network-wide view (orders only)."""
    return f"org{org_id}"


def _expression(groups: Sequence[Sequence[Term]], kinds: Sequence[str], require_all: bool, postgres: bool,
                orgs: Sequence[int] | None = None) -> str:
    # Tokens are [0-9a-z] and CJK only (text._keep), so quoting cannot be broken out of.
    if postgres:
        term = lambda t: f"'{t.text}'" + (":*" if t.prefix else "")  # noqa: E731
        either, both = " | ", " & "
    else:
        term = lambda t: f'"{t.text}"' + ("*" if t.prefix else "")  # noqa: E731
        either, both = " OR ", " AND "
    kind = "(" + either.join(term(Term(kind_token(k))) for k in kinds) + ")"
    scope = ["(" + either.join(term(Term(org_token(o))) for o in orgs) + ")"] if orgs else []
    if require_all:
        parts = ["(" + either.join(term(t) for t in group) + ")" for group in groups]
    else:
        parts = ["(" + either.join(dict.fromkeys(term(t) for group in groups for t in group)) + ")"]
    return both.join([kind, *scope, *parts])


def index_query(groups: Sequence[Sequence[Term]], kinds: Sequence[str], limit: int, *, require_all: bool = False,
                rank: bool = True, orgs: Sequence[int] | None = None, statuses: Sequence[str] | None = None, category: str = "") -> list[Hit]:
    """The newest ``limit`` documents of ``kinds`` holding a term of every group (``require_all``)
    or of any group, each with the engine's rank (bm25 on SQLite, ts_rank_cd on PostgreSQL).

    ``rank``: compute the engine's rank (bm25's term statistics walk each term's whole posting
    list, which costs more than the match itself for common words); 0 otherwise.
    ``orgs``: only documents whose org_a or org_b is one of them (a partner's orders);
    ``statuses``: only these statuses; ``category``: only documents of this product category.
    """
    groups = [g for g in groups if g]
    if not groups or not kinds or limit <= 0:
        return []
    # Kinds are our own constants (DocumentKind); written literally so that PostgreSQL's planner
    # can choose the kind's partial GIN index.
    kinds = [k for k in kinds if k in DocumentKind.values]
    if not kinds:
        return []
    where = ["d.kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"]
    params: list = []
    if orgs is not None:
        marks = ", ".join(["%s"] * len(orgs)) or "NULL"
        where.append(f"(d.org_a IN ({marks}) OR d.org_b IN ({marks}))")
        params += list(orgs) * 2
    if statuses is not None:
        where.append(f"d.status IN ({', '.join(['%s'] * len(statuses)) or 'NULL'})")
        params += list(statuses)
    if category:
        # Categories are space-separated codes; padding makes "tractor" not match "tractors".
        where.append("(' ' || d.category || ' ') LIKE %s")
        params.append(f"% {category} %")
    if orgs is not None and not orgs:
        return []
    columns = "d.kind, d.object_id, d.title, d.body, d.tokens, d.boost, d.category, d.status"
    table = SearchDocument._meta.db_table
    postgres = connection.vendor == "postgresql"
    expression = _expression(groups, kinds, require_all, postgres, orgs)
    with connection.cursor() as cursor:
        # Newest first, the engine's rank as a column: walking ids stops after ``limit`` rows,
        # while ordering by rank would score every match (tens of thousands for a common symptom
        # over a million orders). The caller ranks these candidates (selectors._score).
        if postgres:
            sql = (
                f"SELECT {columns}, {'ts_rank_cd(d.tsv, q)' if rank else '0'} AS rank FROM {table} d, to_tsquery('simple', %s) q "
                f"WHERE d.tsv @@ q AND {' AND '.join(where)} ORDER BY d.id DESC LIMIT %s"
            )
        else:
            # bm25() is lower for better matches; negated so both engines say "higher is better".
            sql = (
                f"SELECT {columns}, {f'-bm25({FTS_TABLE})' if rank else '0'} AS rank FROM {FTS_TABLE} "
                f"JOIN {table} d ON d.id = {FTS_TABLE}.rowid "
                f"WHERE {FTS_TABLE} MATCH %s AND {' AND '.join(where)} ORDER BY {FTS_TABLE}.rowid DESC LIMIT %s"
            )
        cursor.execute(sql, [expression, *params, limit])
        return [Hit(*row) for row in cursor.fetchall()]
