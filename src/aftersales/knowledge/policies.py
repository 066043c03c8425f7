"""Who may write, review and read knowledge articles. Pure questions about a user and an article."""

from __future__ import annotations

from aftersales.accounts.models import RoleCode
from aftersales.accounts.policies import is_administrator
from aftersales.knowledge.models import ArticleStatus


def is_engineer(user) -> bool:
    """Technical engineers keep the knowledge base (技术中心是技术核心)."""
    return bool(user.is_authenticated and (is_administrator(user) or user.has_role(RoleCode.TECHNICAL_ENGINEER)))


def may_create_article(user) -> bool:
    """Engineers, and the hotline technicians who solve faults by phone every day: theirs start
    as drafts that an engineer reviews and publishes."""
    return is_engineer(user) or bool(user.is_authenticated and user.has_role(RoleCode.HOTLINE_TECHNICIAN))


def may_edit_article(user, article) -> bool:
    """Engineers edit any article; an author edits their own until it is published."""
    if is_engineer(user):
        return True
    return article.author_id == user.pk and article.status in (ArticleStatus.DRAFT, ArticleStatus.REVIEW)


def may_take(user, article, action: str) -> bool:
    if action == "submit":
        return may_edit_article(user, article)
    return is_engineer(user)


def may_propose_article(user) -> bool:
    """Hotline technicians turn a solved order into a proposal for the engineers to review."""
    return bool(user.is_authenticated and (is_engineer(user) or user.has_role(RoleCode.HOTLINE_TECHNICIAN)))


def may_record_use(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role_codes())
