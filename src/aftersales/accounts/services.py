"""Writes to the service network: tokens, roles, the login throttle."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import ApiToken, LoginFailure, Role, RoleCode, Skill, User
from aftersales.core.choices import ProductCategory
from aftersales.core.errors import ValidationFailed

TOKEN_PREFIX = "as_"


def _hash_key(key: str) -> str:
    # The key is 32 random bytes, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user: User, name: str, expires_at=None) -> tuple[ApiToken, str]:
    """Create a personal API token. Returns the row and the plain key, which is never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A token needs a name."), fields={"name": _("This field is required.")})
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:60], prefix=key[:10], key_hash=_hash_key(key), expires_at=expires_at)
    return token, key


def api_token_authenticate(key: str) -> User | None:
    """The active user behind a token key, or None. Marks the token used (at most once a minute)."""
    if not key or not key.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user", "user__organization")
        .filter(key_hash=_hash_key(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.expires_at and token.expires_at <= now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def roles_ensure() -> None:
    """Make sure every role code has its row (the data migration does this; tests and demo call it too)."""
    Role.objects.bulk_create([Role(code=c) for c in RoleCode.values], ignore_conflicts=True)


@transaction.atomic
def user_set_roles(*, user: User, roles: list[str], skills: list[str] | None = None) -> None:
    unknown = sorted(set(roles) - set(RoleCode.values))
    if unknown:
        raise ValidationFailed(_("Unknown role."), fields={"roles": ", ".join(unknown)})
    unknown = sorted(set(skills or ()) - set(ProductCategory.values))
    if unknown:
        raise ValidationFailed(_("Unknown product category."), fields={"skills": ", ".join(unknown)})
    user.roles.set(Role.objects.filter(code__in=roles))
    if skills is not None:
        Skill.objects.filter(user=user).exclude(category__in=skills).delete()
        have = set(Skill.objects.filter(user=user).values_list("category", flat=True))
        Skill.objects.bulk_create([Skill(user=user, category=c) for c in skills if c not in have])
    user._role_codes = None


# --- login throttle -------------------------------------------------------------------------

def _window_start():
    return timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_is_throttled(*, username: str, address: str = "") -> bool:
    """Too many recent failures for this username, or from this address (password spraying)."""
    since = _window_start()
    limit = settings.LOGIN_FAILURE_LIMIT
    recent = LoginFailure.objects.filter(at__gte=since)
    if recent.filter(username=username.lower()).count() >= limit:
        return True
    # An address may try several accounts (a shared office), but not without end.
    return bool(address) and recent.filter(address=address).count() >= limit * 4


def login_failure_record(*, username: str, address: str = "") -> None:
    LoginFailure.objects.create(username=username.lower()[:150], address=address[:64], at=timezone.now())
    # Keep the table small: rows older than the window no longer count.
    LoginFailure.objects.filter(at__lt=_window_start() - timedelta(hours=1)).delete()


def login_success_record(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()
