"""Every write of the knowledge base: one function per action, each in one transaction with its
version row and its index update."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.choices import ProductCategory
from aftersales.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from aftersales.knowledge import documents, policies
from aftersales.knowledge.models import Article, ArticleAttachment, ArticleStatus, ArticleVersion, SuggestionUse
from aftersales.knowledge.selectors import article_queryset
from aftersales.warranty.parts import known_part

CONTENT_FIELDS = ("title", "symptom", "cause", "solution_steps", "parts", "tags", "product_models", "categories", "component")
# Which status each action starts from and where it leads.
TRANSITIONS = {
    "submit": ({ArticleStatus.DRAFT}, ArticleStatus.REVIEW),
    "publish": ({ArticleStatus.DRAFT, ArticleStatus.REVIEW}, ArticleStatus.PUBLISHED),
    "archive": ({ArticleStatus.DRAFT, ArticleStatus.REVIEW, ArticleStatus.PUBLISHED}, ArticleStatus.ARCHIVED),
}


@dataclass(frozen=True)
class ArticleInput:
    title: str
    symptom: str
    cause: str = ""
    solution_steps: list[str] = field(default_factory=list)
    parts: list[dict] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    product_models: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    component: str = ""


def _text(value, limit: int | None = None) -> str:
    value = str(value or "").strip()
    return value[:limit] if limit else value


def _clean_parts(parts, errors: dict) -> list[dict]:
    cleaned = []
    for i, part in enumerate(parts or []):
        if isinstance(part, str):
            part = {"name": part}
        if not isinstance(part, dict) or not (_text(part.get("name")) or _text(part.get("part_number"))):
            errors[f"parts[{i}]"] = _("Give a part number or a name.")
            continue
        cleaned.append({"part_number": _text(part.get("part_number"), 40), "name": _text(part.get("name"), 100),
                        "quantity": part.get("quantity") or 1})
    return cleaned


def _validate(data: ArticleInput) -> dict:
    from aftersales.registry.models import ProductModel

    errors: dict[str, str] = {}
    title, symptom = _text(data.title, 200), _text(data.symptom)
    if not title:
        errors["title"] = _("This field is required.")
    if not symptom:
        errors["symptom"] = _("This field is required.")
    categories = list(dict.fromkeys(_text(c) for c in data.categories or [] if _text(c)))
    for c in categories:
        if c not in ProductCategory.values:
            errors["categories"] = _("Unknown product category %(category)s.") % {"category": c}
    codes = list(dict.fromkeys(_text(c).upper() for c in data.product_models or [] if _text(c)))
    unknown = set(codes) - set(ProductModel.objects.filter(code__in=codes).values_list("code", flat=True))
    if unknown:
        errors["product_models"] = _("Unknown product model %(code)s.") % {"code": ", ".join(sorted(unknown))}
    component = _text(data.component, 40)
    if component and component != "whole_machine" and not known_part(component):
        errors["component"] = _("Unknown component %(code)s.") % {"code": component}
    parts = _clean_parts(data.parts, errors)
    if errors:
        raise ValidationFailed(_("The article was not saved."), fields=errors)
    return dict(
        title=title, symptom=symptom, cause=_text(data.cause),
        solution_steps=[_text(s) for s in data.solution_steps or [] if _text(s)], parts=parts,
        tags=list(dict.fromkeys(_text(t, 30) for t in data.tags or [] if _text(t))),
        product_models=codes, categories=categories, component=component,
    )


def _snapshot(article: Article) -> dict:
    return {name: getattr(article, name) for name in CONTENT_FIELDS}


def _record(article: Article, actor, action: str) -> None:
    ArticleVersion.objects.create(article=article, number=article.version, action=action, status=article.status,
                                  data=_snapshot(article), edited_by=actor, edited_at=timezone.now())
    documents.index_article(article)


def article_create(*, actor, data: ArticleInput) -> Article:
    if not policies.may_create_article(actor):
        raise Forbidden(_("Only technical engineers and hotline technicians write knowledge articles."))
    fields = _validate(data)
    with transaction.atomic():
        article = Article.objects.create(author=actor, **fields)
        _record(article, actor, "create")
    return article


def _lock(actor, article_id: int, version: int | None) -> Article:
    try:
        article = article_queryset(actor).select_for_update(of=("self",)).get(pk=article_id)
    except Article.DoesNotExist:
        raise NotFound(_("Article not found.")) from None
    if version is not None and article.version != version:
        raise Conflict(_("The article was changed by someone else; reload it."), code="stale_version")
    return article


def article_update(*, actor, article_id: int, version: int, data: ArticleInput) -> Article:
    """An edit is a new version; the old content stays in ArticleVersion."""
    fields = _validate(data)
    with transaction.atomic():
        article = _lock(actor, article_id, None)
        if not policies.may_edit_article(actor, article):
            raise Forbidden(_("You may not edit this article."))
        if article.version != version:
            raise Conflict(_("The article was changed by someone else; reload it."), code="stale_version")
        if article.status == ArticleStatus.ARCHIVED:
            raise Conflict(_("An archived article cannot be edited."), code="invalid_transition")
        for name, value in fields.items():
            setattr(article, name, value)
        article.version += 1
        article.save()
        _record(article, actor, "update")
    return article


def _transition(actor, article_id: int, version: int, action: str) -> Article:
    sources, target = TRANSITIONS[action]
    with transaction.atomic():
        article = _lock(actor, article_id, None)
        if not policies.may_take(actor, article, action):
            raise Forbidden(_("You may not do this with the article."))
        if article.version != version:
            raise Conflict(_("The article was changed by someone else; reload it."), code="stale_version")
        if article.status not in sources:
            raise Conflict(_("Not possible from status %(status)s.") % {"status": article.get_status_display()},
                           code="invalid_transition")
        article.status = target
        article.version += 1
        if target == ArticleStatus.PUBLISHED:
            article.published_at = timezone.now()
        article.save()
        _record(article, actor, action)
    return article


def article_submit(*, actor, article_id: int, version: int) -> Article:
    """Draft -> review: ask an engineer to check it."""
    return _transition(actor, article_id, version, "submit")


def article_publish(*, actor, article_id: int, version: int) -> Article:
    """Visible to the whole network, agencies included."""
    return _transition(actor, article_id, version, "publish")


def article_archive(*, actor, article_id: int, version: int) -> Article:
    """Out of search and suggestions; the versions stay."""
    return _transition(actor, article_id, version, "archive")


def article_propose_from_order(*, actor, order_id: int) -> Article:
    """A hotline technician turns a solved order into an article for an engineer to review,
    prefilled from its service record (or the phone solution)."""
    from aftersales.service.selectors import order_get

    if not policies.may_propose_article(actor):
        raise Forbidden(_("Only hotline technicians and engineers propose articles."))
    order = order_get(actor, order_id)
    record = documents.service_record_of(order)
    if record is None and not order.answer:
        raise Conflict(_("The order has no service record or phone solution yet."), code="not_solved")
    model = order.machine.model if order.machine else None
    if record is not None:
        steps = [*(str(s) for s in record.diagnosis_steps or []), record.solution]
        parts = [{"part_number": p.part_number, "name": p.name, "quantity": str(p.quantity)} for p in record.parts.all()]
        fault, cause = record.fault_found, record.cause
        component = "" if record.component == "whole_machine" else record.component
    else:
        steps, parts, fault, cause, component = [*(str(s) for s in order.diagnosis or []), order.answer], [], "", "", ""
    symptom = order.symptom or fault
    data = ArticleInput(
        title=(fault or symptom)[:60] or order.number, symptom=symptom, cause=cause, solution_steps=steps, parts=parts,
        product_models=[model.code] if model else [], categories=[model.category] if model else [], component=component,
    )
    fields = _validate(data)
    with transaction.atomic():
        article = Article.objects.create(author=actor, status=ArticleStatus.REVIEW, source_order=order, **fields)
        _record(article, actor, "propose")
    return article


def article_attach(*, actor, article_id: int, upload) -> ArticleAttachment:
    """A photo or a PDF manual, checked by its first bytes exactly as order attachments are."""
    from aftersales.service.services import MAX_ATTACHMENT_BYTES, sniff_content_type

    size = getattr(upload, "size", 0) or 0
    error = None
    if size > MAX_ATTACHMENT_BYTES:
        error = _("The file is larger than 10 MB.")
    elif size == 0:
        error = _("The file is empty.")
    sniffed = None
    if error is None:
        upload.seek(0)
        sniffed = sniff_content_type(upload.read(16))
        upload.seek(0)
        if sniffed is None:
            error = _("Only JPEG, PNG or WebP images and PDF documents are accepted.")
    with transaction.atomic():
        article = _lock(actor, article_id, None)
        if not policies.may_edit_article(actor, article):
            raise Forbidden(_("You may not edit this article."))
        if error:
            raise ValidationFailed(_("The file was not stored."), fields={"file": error})
        content_type, extension = sniffed
        name = _text(getattr(upload, "name", ""), 200).replace("/", "_").replace("\\", "_")
        attachment = ArticleAttachment(article=article, token=uuid.uuid4().hex, extension=extension, original_name=name,
                                       content_type=content_type, size=size, uploaded_by=actor)
        attachment.file.save("upload", upload, save=False)
        attachment.save()
    return attachment


def article_record_use(*, actor, article_id: int, order_id: int) -> tuple[SuggestionUse, bool]:
    """This article solved this order. Recorded once per pair; the article's usefulness count
    (and its search boost) grows with each distinct order."""
    from aftersales.knowledge.selectors import article_get
    from aftersales.service.selectors import order_get

    if not policies.may_record_use(actor):
        raise Forbidden(_("You may not record this."))
    article = article_get(actor, article_id)
    order = order_get(actor, order_id)
    with transaction.atomic():
        existing = SuggestionUse.objects.filter(article=article, order=order).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                use = SuggestionUse.objects.create(article=article, order=order, used_by=actor)
        except IntegrityError:
            return SuggestionUse.objects.get(article=article, order=order), False
        Article.objects.filter(pk=article.pk).update(useful_count=F("useful_count") + 1)
        article.refresh_from_db()
        documents.index_article(article)
    return use, True


def input_from(data: dict) -> ArticleInput:
    names = set(asdict(ArticleInput(title="", symptom="")))
    return ArticleInput(**{k: v for k, v in data.items() if k in names})
