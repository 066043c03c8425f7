"""The knowledge base and the search over HTTP. Every write is a service call; every read a selector."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftersales.core.files import download_response
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from aftersales.api.errors import COMMON_ERRORS, ErrorOut
from aftersales.core.errors import NotFound
from aftersales.knowledge import selectors, services
from aftersales.core.types import DbId, DbInt  # ids and counts the database can hold (else 422)

router = Router(tags=["knowledge and search"])
WRITE_ERRORS = {**COMMON_ERRORS, 409: ErrorOut}


class ArticleIn(Schema):
    title: str
    symptom: str
    cause: str = ""
    solution_steps: list[str] = []
    parts: list[dict[str, Any]] = []
    tags: list[str] = []
    product_models: list[str] = []
    categories: list[str] = []
    component: str = ""


class ArticleUpdateIn(ArticleIn):
    version: int


class VersionIn(Schema):
    version: int


class ProposeIn(Schema):
    order_id: int


class SolvedIn(Schema):
    order_id: int


class AttachmentOut(Schema):
    id: int
    original_name: str
    content_type: str
    size: int
    uploaded_at: datetime


class ArticleOut(Schema):
    id: int
    title: str
    status: str
    version: int
    symptom: str
    cause: str
    solution_steps: list[str]
    parts: list[dict[str, Any]]
    tags: list[str]
    product_models: list[str]
    categories: list[str]
    component: str
    author_id: int
    source_order_id: int | None
    useful_count: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    attachments: list[AttachmentOut] = []

    @staticmethod
    def resolve_attachments(obj):
        return list(obj.attachments.all())


class VersionOut(Schema):
    number: int
    action: str
    status: str
    data: dict[str, Any]
    edited_by_id: int
    edited_at: datetime


class HitOut(Schema):
    kind: str
    id: int
    title: str
    title_html: str
    title_highlights: list[list[int]]
    snippet_html: str
    score: float
    status: str
    category: str


class SearchOut(Schema):
    q: str
    results: dict[str, list[HitOut]]


class SuggestOut(Schema):
    articles: list[HitOut]
    orders: list[HitOut]


class SolvedOut(Schema):
    article_id: int
    order_id: int
    recorded: bool
    useful_count: int


@router.get("/search", response={200: SearchOut, **COMMON_ERRORS}, summary="Search everything")
def search(request, q: str = "", kinds: str = "", limit: DbInt = 5):
    """Articles, orders, customers and machines, grouped by kind, best first; only what you may see.
    A phone fragment matches customers and orders by their last digits only where you may read the
    full number (else the whole number); phone look-ups are rate-limited (429)."""
    from aftersales.registry.api import lookup_throttle

    lookup_throttle(request, q)
    wanted = [k for k in kinds.split(",") if k] or None
    return {"q": q, "results": selectors.search(request.user, q, kinds=wanted, limit=limit)}


@router.get("/search/suggest", response={200: SuggestOut, **COMMON_ERRORS}, summary="Suggest articles for a symptom")
def suggest(request, symptom: str = "", category: str = "", limit: DbInt = 5):
    return selectors.suggest(request.user, symptom=symptom, category=category, limit=max(1, min(limit, 20)))


@router.get("/knowledge/articles", response={200: list[ArticleOut], **COMMON_ERRORS}, summary="List articles")
def article_list(request, status: str = "", category: str = "", component: str = ""):
    qs = selectors.article_list(request.user, status=status, category=category, component=component)
    return list(qs.prefetch_related("attachments")[:200])


@router.post("/knowledge/articles", response={201: ArticleOut, **WRITE_ERRORS}, summary="Write an article (draft)")
def article_create(request, payload: ArticleIn):
    article = services.article_create(actor=request.user, data=services.input_from(payload.dict()))
    return Status(201, article)


@router.post("/knowledge/articles/propose", response={201: ArticleOut, **WRITE_ERRORS},
             summary="Propose an article from a solved order")
def article_propose(request, payload: ProposeIn):
    return Status(201, services.article_propose_from_order(actor=request.user, order_id=payload.order_id))


@router.get("/knowledge/articles/{article_id}", response={200: ArticleOut, **COMMON_ERRORS}, summary="One article")
def article_detail(request, article_id: DbId):
    return selectors.article_get(request.user, article_id)


@router.put("/knowledge/articles/{article_id}", response={200: ArticleOut, **WRITE_ERRORS}, summary="Edit (a new version)")
def article_update(request, article_id: DbId, payload: ArticleUpdateIn):
    data = payload.dict()
    return services.article_update(actor=request.user, article_id=article_id, version=data.pop("version"),
                                   data=services.input_from(data))


@router.get("/knowledge/articles/{article_id}/versions", response={200: list[VersionOut], **COMMON_ERRORS},
            summary="Every version with who and when")
def article_versions(request, article_id: DbId):
    return list(selectors.article_get(request.user, article_id).versions.order_by("number", "id"))


def _transition(name: str, service, summary: str):
    @router.post(f"/knowledge/articles/{{article_id}}/{name}", response={200: ArticleOut, **WRITE_ERRORS},
                 summary=summary, operation_id=f"knowledge_article_{name}")
    def handler(request, article_id: DbId, payload: VersionIn):
        return service(actor=request.user, article_id=article_id, version=payload.version)
    return handler


_transition("submit", services.article_submit, "Send a draft for review")
_transition("publish", services.article_publish, "Publish to the whole network")
_transition("archive", services.article_archive, "Archive (out of search)")


@router.post("/knowledge/articles/{article_id}/solved", response={200: SolvedOut, 201: SolvedOut, **WRITE_ERRORS},
             summary="Record that this article solved an order")
def article_solved(request, article_id: DbId, payload: SolvedIn):
    _, created = services.article_record_use(actor=request.user, article_id=article_id, order_id=payload.order_id)
    body = {"article_id": article_id, "order_id": payload.order_id, "recorded": created,
            "useful_count": selectors.article_get(request.user, article_id).useful_count}
    return Status(201 if created else 200, body)


@router.post("/knowledge/articles/{article_id}/attachments", response={201: AttachmentOut, **WRITE_ERRORS},
             summary="Attach a photo or a PDF manual")
def article_attach(request, article_id: DbId, file: File[UploadedFile]):
    return Status(201, services.article_attach(actor=request.user, article_id=article_id, upload=file))


@router.get("/knowledge/articles/{article_id}/attachments/{attachment_id}", response={**COMMON_ERRORS},
            summary="Download an attachment")
def article_attachment_download(request, article_id: DbId, attachment_id: DbId):
    article = selectors.article_get(request.user, article_id)
    attachment = article.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("Attachment not found."))
    return download_response(attachment)
