"""The technical knowledge base (技术资料库) and the search index over articles, orders, customers
and machines. States change only in services.py; nothing here has logic in ``save()``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import StoredFile


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Article(models.Model):
    """故障知识: one fault with its symptom, cause and solution, written by the technical center."""

    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=1)
    # Model codes and categories as lists: one fault often hits a whole family of models.
    product_models = models.JSONField(_("product models"), default=list, blank=True)
    categories = models.JSONField(_("product categories"), default=list, blank=True)
    component = models.CharField(_("component"), max_length=40, blank=True, help_text=_("A code of warranty/data/parts.json"))
    symptom = models.TextField(_("fault symptom"))
    cause = models.TextField(_("cause"), blank=True)
    solution_steps = models.JSONField(_("solution steps"), default=list, blank=True)
    parts = models.JSONField(_("parts"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    source_order = models.ForeignKey(
        "service.ServiceOrder", verbose_name=_("proposed from order"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    useful_count = models.PositiveIntegerField(_("times it solved an order"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="article_status_idx")]

    def __str__(self) -> str:
        return self.title


class ArticleVersion(models.Model):
    """知识版本: the article as it was after one edit, with who made it and when. Append-only."""

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    action = models.CharField(_("action"), max_length=20)
    status = models.CharField(_("status"), max_length=10, choices=ArticleStatus.choices)
    data = models.JSONField(_("content"))
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("edited by"), on_delete=models.PROTECT, related_name="+")
    edited_at = models.DateTimeField(_("edited at"))

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "number", "id"]


def article_attachment_path(instance: ArticleAttachment, filename: str) -> str:
    # Never the client's name: it could carry a path or an executable extension.
    return f"knowledge/{instance.article_id}/{instance.token}{instance.extension}"


class ArticleAttachment(StoredFile):
    """知识附件: a photo or a PDF manual of an article, stored through Django's storage."""

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("file"), upload_to=article_attachment_path, max_length=200)

    class Meta:
        verbose_name = _("article attachment")
        verbose_name_plural = _("article attachments")
        ordering = ["article", "id"]


class SuggestionUse(models.Model):
    """建议采纳: an article that solved an order; counts towards the article's usefulness."""

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="uses")
    order = models.ForeignKey("service.ServiceOrder", verbose_name=_("service order"), on_delete=models.PROTECT, related_name="+")
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    used_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("suggestion use")
        verbose_name_plural = _("suggestion uses")
        constraints = [models.UniqueConstraint(fields=["article", "order"], name="suggestion_use_once")]


class Synonym(models.Model):
    """同义词: words agents and farmers use for the same thing (收割机 / 联合收获机, 拖拉机 / 铁牛).
    A query word from the group also finds the others."""

    words = models.CharField(_("words"), max_length=300, help_text=_("Equivalent words separated by spaces or commas"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonym groups")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.words

    def word_list(self) -> list[str]:
        return [w for w in self.words.replace("，", " ").replace(",", " ").replace("、", " ").split() if w]


class DocumentKind(models.TextChoices):
    ARTICLE = "article", _("Knowledge article")
    ORDER = "order", _("Service order")
    CUSTOMER = "customer", _("Customer")
    MACHINE = "machine", _("Machine")


class SearchDocument(models.Model):
    """检索文档: one searchable object as the index sees it. ``tokens`` is the segmented text
    (jieba words, model codes, pinyin of names, reversed phone digits, serial numbers) joined by
    spaces; SQLite's FTS5 table and PostgreSQL's tsvector column are both built from it (see
    migration 0002 and index.py).

    ``org_a``/``org_b`` are the organizations whose people see the object without a network-wide
    view (an order's assigned and owning organization, a customer's or machine's registering
    organization and selling dealer): partners' queries filter on them before ranking; the app's
    selectors still decide every hit.
    """

    kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    object_id = models.PositiveBigIntegerField()
    org_a = models.PositiveBigIntegerField(null=True, blank=True)
    org_b = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=24, blank=True)
    category = models.CharField(max_length=200, blank=True, help_text=_("Product categories, space-separated"))
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    tokens = models.TextField()
    boost = models.FloatField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_unique")]
        indexes = [
            # A partner's order search walks only the documents of its organization, newest first
            # (index._pg_newest): with the object id in the key each is an ordered range.
            models.Index(fields=["kind", "org_a", "object_id"], name="searchdoc_org_a_newest_idx"),
            models.Index(fields=["kind", "org_b", "object_id"], name="searchdoc_org_b_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"
