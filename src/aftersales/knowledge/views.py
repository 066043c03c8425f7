"""技术资料库 in the web: the article page (every step, part, attachment, version and the orders it
solved), the list, and the forms with which engineers and hotline technicians write articles and
move them through review to published. Reads go through knowledge.selectors, writes through
knowledge.services; a failed save shows the form again with what was typed."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.core.choices import ProductCategory
from aftersales.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from aftersales.knowledge import policies, selectors, services
from aftersales.knowledge.models import ArticleStatus
from aftersales.warranty.parts import part_label, part_labels

PAGE_SIZE = 50
ACTIONS = {"submit": services.article_submit, "publish": services.article_publish, "archive": services.article_archive}
_SPLIT = re.compile(r"[\s,，、;；]+")


def _error_text(exc: DomainError) -> str:
    details = "；".join(exc.fields.values())
    return f"{exc.message} {details}".strip() if details else exc.message


def _get(user, pk: int):
    try:
        return selectors.article_get(user, pk)
    except NotFound:
        raise Http404(_("Article not found.")) from None


# --- the form ------------------------------------------------------------------------------

def parse_part(line: str) -> dict:
    """One line of the parts box: "LX-1105 喷油嘴 2" -> part number, name, quantity. A line without
    a part number (no Latin letter or digit in its first word) is a name only."""
    words = line.split()
    quantity = 1
    if len(words) > 1 and re.fullmatch(r"\d+(\.\d+)?", words[-1]):
        quantity = words.pop()
    if len(words) > 1 and re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z\-_/.]*", words[0]):
        return {"part_number": words[0], "name": " ".join(words[1:]), "quantity": quantity}
    if len(words) == 1 and re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z\-_/.]*\d[0-9A-Za-z\-_/.]*", words[0]):
        return {"part_number": words[0], "name": "", "quantity": quantity}
    return {"part_number": "", "name": " ".join(words), "quantity": quantity}


def part_line(part) -> str:
    if not isinstance(part, dict):
        return str(part)
    quantity = str(part.get("quantity") or "")
    return " ".join(p for p in (part.get("part_number", ""), part.get("name", ""), "" if quantity in ("", "1") else quantity) if p)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def input_from_post(post) -> services.ArticleInput:
    return services.ArticleInput(
        title=post.get("title", ""), symptom=post.get("symptom", ""), cause=post.get("cause", ""),
        solution_steps=_lines(post.get("solution_steps", "")),
        parts=[parse_part(line) for line in _lines(post.get("parts", ""))],
        tags=[w for w in _SPLIT.split(post.get("tags", "")) if w],
        product_models=[w for w in _SPLIT.split(post.get("product_models", "")) if w],
        categories=post.getlist("categories"), component=post.get("component", ""),
    )


def _form_values(article=None, post=None) -> dict:
    if post is not None:
        return {name: post.get(name, "") for name in ("title", "symptom", "cause", "solution_steps", "parts", "tags",
                                                      "product_models", "component")} | {"categories": post.getlist("categories")}
    if article is None:
        return {"categories": []}
    return {
        "title": article.title, "symptom": article.symptom, "cause": article.cause,
        "solution_steps": "\n".join(str(s) for s in article.solution_steps or []),
        "parts": "\n".join(part_line(p) for p in article.parts or []),
        "tags": " ".join(article.tags or []), "product_models": " ".join(article.product_models or []),
        "categories": list(article.categories or []), "component": article.component,
    }


def _form_context(values: dict, errors: dict | None = None, article=None) -> dict:
    return {
        "values": values, "errors": errors or {}, "article": article,
        "categories": ProductCategory.choices,
        "components": sorted(((code, part_label(code)) for code in part_labels()), key=lambda c: c[0]),
    }


# --- pages ------------------------------------------------------------------------------------

@login_required
@require_GET
def article_list(request):
    user = request.user
    status = request.GET.get("status", "")
    status = status if status in ArticleStatus.values else ""
    articles = list(selectors.article_list(user, status=status)[:PAGE_SIZE])
    statuses = ArticleStatus.choices if policies.is_engineer(user) or policies.may_create_article(user) else []
    return render(request, "knowledge/list.html", {
        "articles": articles, "status": status, "statuses": statuses,
        "may_create": policies.may_create_article(user),
    })


@login_required
@require_GET
def article_page(request, pk: int):
    user = request.user
    article = _get(user, pk)
    actions = [name for name, (sources, _target) in services.TRANSITIONS.items()
               if article.status in sources and policies.may_take(user, article, name)]
    return render(request, "knowledge/article.html", {
        "article": article,
        "component_label": part_label(article.component) if article.component else "",
        "category_labels": [dict(ProductCategory.choices).get(c, c) for c in article.categories or []],
        "attachments": list(selectors.article_attachments(user, article)),
        "versions": list(selectors.article_versions(user, article)),
        "related_orders": selectors.article_related_orders(user, article),
        "actions": actions,
        "may_edit": policies.may_edit_article(user, article) and article.status != ArticleStatus.ARCHIVED,
    })


@login_required
@require_http_methods(["GET", "POST"])
def article_new(request):
    user = request.user
    if not policies.may_create_article(user):
        raise Http404(_("Article not found."))
    if request.method == "POST":
        try:
            article = services.article_create(actor=user, data=input_from_post(request.POST))
        except ValidationFailed as exc:
            messages.error(request, exc.message)
            return render(request, "knowledge/form.html", _form_context(_form_values(post=request.POST), exc.fields))
        except DomainError as exc:
            messages.error(request, _error_text(exc))
            return render(request, "knowledge/form.html", _form_context(_form_values(post=request.POST)))
        messages.success(request, _("The article was saved as a draft."))
        return redirect("web:article", article.pk)
    return render(request, "knowledge/form.html", _form_context(_form_values()))


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request, pk: int):
    user = request.user
    article = _get(user, pk)
    if not policies.may_edit_article(user, article):
        raise Http404(_("Article not found."))
    if request.method == "POST":
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = 0
        try:
            article = services.article_update(actor=user, article_id=article.pk, version=version,
                                              data=input_from_post(request.POST))
        except ValidationFailed as exc:
            messages.error(request, exc.message)
            return render(request, "knowledge/form.html", _form_context(_form_values(post=request.POST), exc.fields, article))
        except DomainError as exc:
            # A stale version keeps the typing too: the editor compares and saves again.
            messages.error(request, _error_text(exc))
            return render(request, "knowledge/form.html", _form_context(_form_values(post=request.POST), None, _get(user, pk)))
        messages.success(request, _("Saved as version %(version)s.") % {"version": article.version})
        return redirect("web:article", article.pk)
    return render(request, "knowledge/form.html", _form_context(_form_values(article), None, article))


@login_required
@require_POST
def article_act(request, pk: int, action: str):
    user = request.user
    article = _get(user, pk)
    if action not in ACTIONS:
        raise Http404(_("Unknown action."))
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    try:
        article = ACTIONS[action](actor=user, article_id=article.pk, version=version)
    except Conflict as exc:
        messages.warning(request, exc.message)
        return redirect("web:article", pk)
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        return redirect("web:article", pk)
    messages.success(request, _("The article is now: %(status)s.") % {"status": article.get_status_display()})
    if not selectors.article_queryset(user).filter(pk=pk).exists():
        return redirect("web:knowledge")
    return redirect("web:article", pk)


@login_required
@require_POST
def article_attach(request, pk: int):
    article = _get(request.user, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file first."))
        return redirect("web:article", article.pk)
    try:
        services.article_attach(actor=request.user, article_id=article.pk, upload=upload)
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The file was stored."))
    return redirect("web:article", article.pk)


@login_required
@require_GET
def article_file(request, pk: int, attachment_id: int):
    article = _get(request.user, pk)
    try:
        attachment = selectors.article_attachment_get(request.user, article, attachment_id)
    except NotFound:
        raise Http404 from None
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response
