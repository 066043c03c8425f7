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
    # FTS5 has one index for all kinds, so the kind is a token of the match. PostgreSQL has a GIN
    # index per kind: there the token would only add the longest posting list of the kind to
    # every match and mislead the planner (it counts the kind twice, as a token and a column).
    kind = [] if postgres else ["(" + either.join(term(Term(kind_token(k))) for k in kinds) + ")"]
    scope = ["(" + either.join(term(Term(org_token(o))) for o in orgs) + ")"] if orgs else []
    if require_all:
        parts = ["(" + either.join(term(t) for t in group) + ")" for group in groups]
    else:
        parts = ["(" + either.join(dict.fromkeys(term(t) for group in groups for t in group)) + ")"]
    return both.join([*kind, *scope, *parts])


# PostgreSQL: how a kind's newest matches are found (see _pg_newest).
PROBE_ROWS = 2_000
WALK_ROWS = 20_000


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
    if orgs is not None and not orgs:
        return []
    where, params = [], []
    if orgs is not None:
        marks = ", ".join(["%s"] * len(orgs))
        where.append(f"(d.org_a IN ({marks}) OR d.org_b IN ({marks}))")
        params += list(orgs) * 2
    if statuses is not None:
        where.append(f"d.status IN ({', '.join(['%s'] * len(statuses)) or 'NULL'})")
        params += list(statuses)
    if category:
        # Categories are space-separated codes; padding makes "tractor" not match "tractors".
        where.append("(' ' || d.category || ' ') LIKE %s")
        params.append(f"% {category} %")
    postgres = connection.vendor == "postgresql"
    expression = _expression(groups, kinds, require_all, postgres, orgs)
    with connection.cursor() as cursor:
        if postgres:
            hits = []
            for kind in kinds:
                # The organizations are tokens of the expression too (GIN applies them); status
                # and category only the walk can test.
                hits += _pg_newest(cursor, kind, expression, where, params, limit, rank,
                                   gin_blind=statuses is not None or bool(category), orgs=orgs)
            if len(kinds) > 1:
                hits.sort(key=lambda h: h.object_id, reverse=True)
            return hits[:limit]
        # Newest first, the engine's rank as a column: FTS5 walks its doclists in rowid order and
        # stops after ``limit`` rows, while ordering by rank would score every match (tens of
        # thousands for a common symptom over a million orders). The caller ranks these
        # candidates (selectors._score). bm25() is lower for better matches; negated so both
        # engines say "higher is better".
        where = ["d.kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")", *where]
        sql = (
            f"SELECT {_COLUMNS}, {f'-bm25({FTS_TABLE})' if rank else '0'} AS rank FROM {FTS_TABLE} "
            f"JOIN {_TABLE} d ON d.id = {FTS_TABLE}.rowid "
            f"WHERE {FTS_TABLE} MATCH %s AND {' AND '.join(where)} ORDER BY {FTS_TABLE}.rowid DESC LIMIT %s"
        )
        cursor.execute(sql, [expression, *params, limit])
        return [Hit(*row) for row in cursor.fetchall()]


_COLUMNS = "d.kind, d.object_id, d.title, d.body, d.tokens, d.boost, d.category, d.status"
_TABLE = SearchDocument._meta.db_table


def _pg_newest(cursor, kind: str, expression: str, where: list[str], params: list, limit: int, rank: bool,
               gin_blind: bool = False, orgs: Sequence[int] | None = None) -> list[Hit]:
    """The newest ``limit`` matches of one kind on PostgreSQL, at a bounded cost whatever the words.

    Two ways to find them, each cheap where the other is ruinous:
    - walking the kind's documents newest first on the (kind, object_id) index and testing each
      (``ts_match_vq``, which the GIN index cannot serve, so the planner cannot swap it): the cost
      grows with the rows walked, i.e. ``limit`` / how common the matches are. A common symptom
      fills ``limit`` within a few hundred rows; words no document of the kind holds (a symptom
      among customers) walk them all.
    - the kind's partial GIN index: the cost grows with the number of documents holding the
      words (each posting and each such row is read before the newest are kept, and the status
      and category filters are tested only on the rows, ``gin_blind``). Nothing for absent or
      rare words; most of a second for 拖拉机 over a million orders.
    The planner picks between them from estimates that are far off here (its statistics cover
    all kinds at once, and a word common among orders is absent among customers), so we decide:
    walk the newest PROBE_ROWS, estimate both costs from what they held, and walk on (WALK_ROWS
    at a time, deciding again after each) while walking is the cheaper, else let GIN find the
    older matches.

    With ``orgs`` (a partner) the walk goes over the partner's own documents only, on the
    (kind, org, object_id) indexes: how many orders the rest of the network holds costs it
    nothing (walking the whole network's documents for a partner holding 3% of them took seconds
    at 10,000,000 orders).
    """
    query = "to_tsquery('simple', %s)"
    rank_sql = f"ts_rank_cd(d.tsv, {query})" if rank else "0"
    rank_params = [expression] if rank else []
    filters = "".join(f" AND {w}" for w in where)
    # The object_id of the n-th newest document of the kind below a bound: a walk window's end.
    edge = (f"SELECT (SELECT e.object_id FROM {_TABLE} e WHERE e.kind = '{kind}' AND e.object_id < %s "
            f"ORDER BY e.object_id DESC OFFSET %s LIMIT 1)")
    edge_params = lambda upper, offset: [upper, offset]  # noqa: E731
    if orgs:
        # The window's end: the highest of each (organization, column) stream's n-th newest, so
        # the window holds at most n documents of each stream; None only when every stream ends.
        streams = [(column, org) for org in orgs for column in ("org_a", "org_b")]
        edge = "SELECT " + (f"GREATEST({', '.join(['(%s)'] * len(streams))})" % tuple(
            f"SELECT e.object_id FROM {_TABLE} e WHERE e.kind = '{kind}' AND e.{column} = %s "
            "AND e.object_id < %s ORDER BY e.object_id DESC OFFSET %s LIMIT 1" for column, _org in streams))
        edge_params = lambda upper, offset: [v for _c, org in streams for v in (org, upper, offset)]  # noqa: E731
    window_sql = f"d.kind = '{kind}' AND d.object_id < %s AND d.object_id > %s AND ts_match_vq(d.tsv, {query})"
    hits: list[Hit] = []
    upper = 2**63 - 1  # the walk's next start: the documents below it are not seen yet
    window = PROBE_ROWS
    walked = matched = word_total = 0
    while True:
        cursor.execute(edge, edge_params(upper, window - 1))
        end = cursor.fetchone()[0]  # None: the window reaches the kind's oldest document
        bounds = [upper, -1 if end is None else end, expression]
        cursor.execute(
            f"SELECT {_COLUMNS}, {rank_sql} AS rank FROM {_TABLE} d WHERE {window_sql}{filters} "
            f"ORDER BY d.object_id DESC LIMIT %s",
            [*rank_params, *bounds, *params, limit - len(hits)],
        )
        rows = cursor.fetchall()
        hits += [Hit(*row) for row in rows]
        if len(hits) >= limit or end is None:
            return hits
        # Costs of the rest in rows walked (a GIN match costs about three: posting, heap, sort),
        # from the share of matches among all the rows walked so far (one window can be a run of
        # alike documents); object ids are dense enough to estimate the rows left from them.
        word_matches = len(rows)
        if gin_blind:
            cursor.execute(f"SELECT count(*) FROM {_TABLE} d WHERE {window_sql}", bounds)
            word_matches = cursor.fetchone()[0]
        walked, matched, word_total = walked + window, matched + len(rows), word_total + word_matches
        left = end * window / max(upper - end, 1) if upper < 2**63 - 1 else end * window / max(_top(cursor, kind) - end, 1)
        walk_cost = (limit - len(hits)) * walked / matched if matched else float("inf")
        gin_cost = 3 * word_total / walked * left
        upper = end + 1
        if walk_cost > gin_cost:
            break
        window = WALK_ROWS
    # Rare words: the GIN index finds the older matches. ``object_id + 0`` keeps the planner
    # from serving the range or the order from the (kind, object_id) index instead.
    cursor.execute(
        f"SELECT {_COLUMNS}, {rank_sql} AS rank FROM {_TABLE} d "
        f"WHERE d.kind = '{kind}' AND d.object_id + 0 < %s AND d.tsv @@ {query}{filters} "
        f"ORDER BY d.object_id + 0 DESC LIMIT %s",
        [*rank_params, upper, expression, *params, limit - len(hits)],
    )
    return hits + [Hit(*row) for row in cursor.fetchall()]


def _top(cursor, kind: str) -> int:
    cursor.execute(f"SELECT max(object_id) FROM {_TABLE} WHERE kind = '{kind}'")
    return cursor.fetchone()[0] or 0
