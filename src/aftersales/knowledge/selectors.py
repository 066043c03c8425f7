"""Scoped reads of articles, and the one search over articles, orders, customers and machines.

Search runs the index query per kind, decides matches and order in Python from the matched query
terms (so SQLite and PostgreSQL answer alike), and keeps only what the user's selectors let them
see: ``article_queryset``, ``service.selectors.order_queryset``, ``registry.selectors.
customer_queryset`` and ``machine_queryset``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from aftersales.accounts.policies import sees_whole_network
from aftersales.core.errors import NotFound
from aftersales.knowledge import index, policies, text
from aftersales.knowledge.models import Article, ArticleStatus, DocumentKind, Synonym

KINDS = tuple(DocumentKind.values)
SOLVED_ORDER_STATUSES = ("completed", "closed")
# How many index candidates are re-ranked per kind. Generous, so that the final order depends on
# the matched terms rather than on the engine's own rank (which differs between databases).
CANDIDATES = 200
# Partners see customers and machines through their orders too, which the index's organization
# columns cannot express: more candidates are read and the registry's selectors filter them.
PARTNER_CANDIDATES = 500


def article_queryset(user) -> QuerySet[Article]:
    """Published articles are for the whole network, agencies included; drafts, proposals and the
    archive for the engineers and each article's author."""
    qs = Article.objects.select_related("author")
    if not user.is_authenticated:
        return qs.none()
    if policies.is_engineer(user):
        return qs
    return qs.filter(Q(status=ArticleStatus.PUBLISHED) | Q(author_id=user.pk))


def article_get(user, pk: int) -> Article:
    try:
        return article_queryset(user).get(pk=pk)
    except Article.DoesNotExist:
        raise NotFound(_("Article not found.")) from None


def article_list(user, *, status: str = "", category: str = "", component: str = "") -> QuerySet[Article]:
    qs = article_queryset(user)
    if status:
        qs = qs.filter(status__in=[s for s in status.split(",") if s])
    if component:
        qs = qs.filter(component=component)
    if category:
        # JSON list membership, portable across SQLite and PostgreSQL.
        qs = qs.filter(categories__icontains=f'"{category}"')
    return qs.order_by("-updated_at", "-id")


def article_versions(user, article: Article) -> QuerySet:
    """The article's versions, newest first (the article itself was read through article_get)."""
    return article.versions.select_related("edited_by").order_by("-number", "-id")


def article_attachments(user, article: Article) -> QuerySet:
    return article.attachments.order_by("id")


def article_attachment_get(user, article: Article, pk: int):
    attachment = article.attachments.filter(pk=pk).first()
    if attachment is None:
        raise NotFound(_("Attachment not found."))
    return attachment


def article_related_orders(user, article: Article, *, limit: int = 20) -> list:
    """The orders this article solved, and the order it was proposed from, that the user may see
    (another organization's orders stay out, as everywhere)."""
    from aftersales.knowledge.models import SuggestionUse
    from aftersales.service.selectors import order_queryset_plain

    visible = order_queryset_plain(user)
    ids = list(SuggestionUse.objects.filter(article=article, order__in=visible)
               .order_by("-used_at", "-id").values_list("order_id", flat=True)[:limit])
    if article.source_order_id and article.source_order_id not in ids:
        ids.insert(0, article.source_order_id)
    rows = {o.pk: o for o in visible.filter(pk__in=ids).select_related("customer").only(
        "number", "status", "symptom", "created_at", "customer__name")}
    return [rows[i] for i in ids if i in rows]


def synonym_map() -> dict[str, list[str]]:
    """Each word of a synonym group -> the other words of its groups. Read per search: the table
    is small and editable in the admin, and every worker must see an edit at once."""
    mapping: dict[str, list[str]] = {}
    groups = [row.word_list() for row in Synonym.objects.all()]
    for words in groups:
        words = [text.normalize(w) for w in words]
        text.add_words(words)
        for word in words:
            mapping.setdefault(word, [])
            mapping[word] += [w for w in words if w != word and w not in mapping[word]]
    return mapping


_taught = False


def _parse(q: str) -> text.Query:
    global _taught
    if not _taught:
        # Once per process: the model codes and names (a model added later is learnt at the next
        # reindex or restart; until then its code is searched as a prefix, which finds the same).
        from aftersales.knowledge.documents import teach_model_words

        teach_model_words()
        _taught = True
    return text.parse_query(q[:200], synonym_map())


@dataclass
class _Scored:
    hit: index.Hit
    score: float
    terms: list[str]


def _score(query: text.Query, hits: Sequence[index.Hit]) -> list[_Scored]:
    top_rank = max((h.rank for h in hits), default=0) or 1.0
    scored = []
    for hit in hits:
        matched = text.doc_matches(query, set(hit.tokens.split()))
        if len(matched) < query.required:
            continue
        title = text.normalize(hit.title)
        score = 0.0
        for group, term in matched:
            score += group.weight * term.share
            if not term.prefix and term.text in title:
                score += group.weight * 0.5
        # The engine's rank only separates near ties (it differs between engines).
        score += hit.boost + 0.5 * max(hit.rank, 0) / top_rank
        scored.append(_Scored(hit, round(score, 6), [t.text for _, t in matched]))
    scored.sort(key=lambda s: (-s.score, -s.hit.object_id))
    return scored


def _visible_ids(user, kind: str, ids: list[int]) -> set[int]:
    from aftersales.registry.selectors import customer_queryset, machine_queryset
    from aftersales.service.selectors import order_queryset_plain

    querysets = {
        DocumentKind.ARTICLE: lambda: article_queryset(user),
        DocumentKind.ORDER: lambda: order_queryset_plain(user),
        DocumentKind.CUSTOMER: lambda: customer_queryset(user),
        DocumentKind.MACHINE: lambda: machine_queryset(user),
    }
    return set(querysets[kind]().filter(pk__in=ids).order_by().values_list("pk", flat=True))


def highlight(value: str, words: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """``value`` HTML-escaped with each occurrence of ``words`` in ``<mark>``, and the spans."""
    lowered = text.normalize(value)
    if len(lowered) != len(value):
        lowered = value.lower()
    spans: list[tuple[int, int]] = []
    for word in sorted({w for w in words if w}, key=len, reverse=True):
        start = lowered.find(word)
        while start != -1:
            end = start + len(word)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = lowered.find(word, end)
    spans.sort()
    out, pos = [], 0
    for start, end in spans:
        out += [html.escape(value[pos:start]), "<mark>", html.escape(value[start:end]), "</mark>"]
        pos = end
    out.append(html.escape(value[pos:]))
    return "".join(out), spans


def _snippet(body: str, words: Sequence[str], width: int = 80) -> str:
    lowered = body.lower()
    first = min((i for i in (lowered.find(w) for w in words if w) if i >= 0), default=0)
    start = max(0, first - width // 4)
    piece = body[start:start + width].replace("\n", " ")
    return ("…" if start else "") + highlight(piece, words)[0] + ("…" if start + width < len(body) else "")


def _display_words(query: text.Query, matched: list[str]) -> list[str]:
    # Index tokens such as reversed phone digits (p8765...) are not in the text; the query's own
    # words and the matched plain words are.
    words = [text.normalize(w) for w in query.highlights]
    words += [m for m in matched if not (m.startswith("p") and m[1:].isdigit())]
    return [w for w in words if len(w) > 1]


def _result(kind: str, scored: _Scored, query: text.Query) -> dict:
    words = _display_words(query, scored.terms)
    title_html, spans = highlight(scored.hit.title, words)
    return {
        "kind": kind, "id": scored.hit.object_id, "title": scored.hit.title, "title_html": title_html,
        "title_highlights": [list(s) for s in spans], "snippet_html": _snippet(scored.hit.body, words),
        "score": scored.score, "status": scored.hit.status, "category": scored.hit.category,
        "matched": scored.terms,
    }


def _kind_results(user, kind: str, query: text.Query, limit: int, *, category: str = "",
                  statuses: Sequence[str] | None = None) -> list[dict]:
    orgs = None
    candidates = CANDIDATES
    network = sees_whole_network(user)
    if kind == DocumentKind.ARTICLE and statuses is None and not policies.is_engineer(user):
        statuses = [ArticleStatus.PUBLISHED]
    if not network and kind == DocumentKind.ORDER:
        orgs = [user.organization_id] if user.organization_id else []
    elif not network and kind in (DocumentKind.CUSTOMER, DocumentKind.MACHINE):
        candidates = PARTNER_CANDIDATES
    groups = [g.terms for g in query.groups]
    filters = dict(orgs=orgs, statuses=statuses, category=category)
    # Documents holding every group first: fewer rows for the engine to rank, and the best ones.
    # Only when they are too few does the wider "enough groups" query run.
    # The engine's rank separates near ties among articles; for the big kinds its term statistics
    # cost more than it adds (their order is the matched words, then recency).
    hits = index.index_query(groups, [kind], candidates, require_all=True, rank=kind == DocumentKind.ARTICLE, **filters)
    results = _visible_results(user, kind, query, hits, limit)
    if len(results) < limit and len(groups) > 1:
        seen = {h.object_id for h in hits}
        wider = index.index_query(groups, [kind], candidates, require_all=False, rank=False, **filters)
        results = _visible_results(user, kind, query, hits + [h for h in wider if h.object_id not in seen], limit)
    return results


def _phone_matchable_ids(user, kind: str, query: text.Query, ids: list[int]) -> set[int] | None:
    """For a phone query (digits only): the hits a phone fragment may match for ``user``, by the
    one phone rule (registry/policies.py). A user who may not read a customer's full number finds
    it by the whole number only, so a masked number cannot be recovered digit by digit. None:
    no restriction (not a phone query, or the kind holds no phones)."""
    if kind not in (DocumentKind.CUSTOMER, DocumentKind.ORDER) or not query.highlights:
        return None
    digits = query.highlights[0]
    if len(query.groups) != 1 or not digits.isdigit():
        return None
    if kind == DocumentKind.CUSTOMER:
        from aftersales.registry.selectors import customer_phone_q, customer_queryset

        cond = customer_phone_q(user, digits)
        qs = customer_queryset(user)
    else:
        from aftersales.service.selectors import order_phone_q, order_queryset_plain

        cond = order_phone_q(user, digits)
        qs = order_queryset_plain(user)
    if cond is None:
        return set()
    return set(qs.filter(cond).filter(pk__in=ids).order_by().values_list("pk", flat=True).distinct())


def _matched_by_phone_only(terms: list[str]) -> bool:
    return bool(terms) and all(t.startswith("p") and t[1:].isdigit() for t in terms)


def _visible_results(user, kind: str, query: text.Query, hits: list[index.Hit], limit: int) -> list[dict]:
    scored = _score(query, hits)
    visible = _visible_ids(user, kind, [s.hit.object_id for s in scored])
    phone_hits = [s.hit.object_id for s in scored if s.hit.object_id in visible and _matched_by_phone_only(s.terms)]
    if phone_hits and not sees_whole_network(user):
        allowed = _phone_matchable_ids(user, kind, query, phone_hits)
        if allowed is not None:
            visible -= set(phone_hits) - allowed
    return [_result(kind, s, query) for s in scored if s.hit.object_id in visible][:limit]


def search(user, q: str, *, kinds: Sequence[str] | None = None, limit: int = 5, category: str = "") -> dict[str, list[dict]]:
    """Knowledge articles, orders, customers and machines matching ``q``, grouped by kind, best
    first, only what ``user`` may see, with the matched words marked (HTML-escaped)."""
    kinds = [k for k in (kinds or KINDS) if k in KINDS]
    results: dict[str, list[dict]] = {k: [] for k in kinds}
    if not user.is_authenticated or not (q or "").strip():
        return results
    query = _parse(q)
    if not query.groups:
        return results
    limit = max(1, min(limit, 50))
    for kind in kinds:
        results[kind] = _kind_results(user, kind, query, limit, category=category)
    return results


def suggest(user, *, symptom: str, category: str = "", limit: int = 5) -> dict[str, list[dict]]:
    """While a symptom is typed: the top articles and similar solved orders of the same product
    category (articles of any category fill up when the category has too few)."""
    if not user.is_authenticated or not (symptom or "").strip():
        return {"articles": [], "orders": []}
    query = _parse(symptom)
    if not query.groups:
        return {"articles": [], "orders": []}
    articles = _kind_results(user, DocumentKind.ARTICLE, query, limit, category=category)
    if category and len(articles) < limit:
        seen = {a["id"] for a in articles}
        articles += [a for a in _kind_results(user, DocumentKind.ARTICLE, query, limit) if a["id"] not in seen]
    orders = _kind_results(user, DocumentKind.ORDER, query, limit, category=category, statuses=SOLVED_ORDER_STATUSES)
    return {"articles": articles[:limit], "orders": orders}
