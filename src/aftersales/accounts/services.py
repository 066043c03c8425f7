"""Writes to the service network: tokens, roles, the login throttle."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import ApiToken, Role, RoleCode, Skill, User
from aftersales.core import throttle
from aftersales.core.choices import ProductCategory
from aftersales.core.errors import ValidationFailed

TOKEN_PREFIX = "as_"


# The token's user's role codes joined by commas (codes hold no comma), as one column of the token
# read: every API call asks the roles for its policies, and this saves it a statement. Hand-written
# because the ORM's aggregate subquery costs more to compile than the statement it saves;
# tests/security/test_token_roles.py pins the result on both databases.
_ROLE_CODES_SQL = {
    "postgresql": "SELECT STRING_AGG(r.role_id, ',') FROM accounts_user_roles r WHERE r.user_id = accounts_apitoken.user_id",
    "sqlite": "SELECT GROUP_CONCAT(r.role_id) FROM accounts_user_roles r WHERE r.user_id = accounts_apitoken.user_id",
}


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
    # The user's roles come with the token (every API call asks them, for the policies): one
    # statement instead of two on every request.
    token = (
        ApiToken.objects.select_related("user", "user__organization")
        .annotate(role_codes=RawSQL(_ROLE_CODES_SQL[connection.vendor], (), output_field=CharField()))
        .filter(key_hash=_hash_key(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.expires_at and token.expires_at <= now) or not token.user.is_active:
        return None
    token.user._role_codes = frozenset(code for code in (token.role_codes or "").split(",") if code)
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
# Lockouts per (username, client address) with growing delays, counted in the shared throttle
# (core.throttle): a wrong password typed from one desk does not lock the same user out everywhere,
# and an attacker who sprays passwords from one address locks only that address.

def _login_key(username: str, address: str) -> str:
    return throttle.key("login", username.strip(), address)


def _address_key(address: str) -> str:
    return throttle.key("login-address", address)


def login_locked_for(*, username: str, address: str = "") -> int:
    """Seconds this username may not log in from this address (0: it may try)."""
    return max(throttle.locked(_login_key(username, address)), throttle.locked(_address_key(address)) if address else 0)


def login_is_throttled(*, username: str, address: str = "") -> bool:
    return login_locked_for(username=username, address=address) > 0


def login_failure_record(*, username: str, address: str = "") -> None:
    throttle.fail(_login_key(username, address), free=settings.LOGIN_FAILURE_LIMIT,
                  base=settings.LOGIN_LOCKOUT_BASE_SECONDS, cap=settings.LOGIN_LOCKOUT_MAX_SECONDS,
                  forget=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    if address:
        throttle.fail(_address_key(address), free=settings.LOGIN_ADDRESS_FAILURE_LIMIT,
                      base=settings.LOGIN_LOCKOUT_BASE_SECONDS, cap=settings.LOGIN_LOCKOUT_MAX_SECONDS,
                      forget=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_success_record(*, username: str, address: str = "") -> None:
    throttle.reset(_login_key(username, address))


def login_lockout_clear(*, username: str = "", address: str = "") -> int:
    """An administrator lifts lockouts: a user's (from every address, or from one), or everything
    locked from an address. Returns how many counters were cleared."""
    username, address = username.strip(), address.strip()
    if not username and not address:
        raise ValidationFailed(_("Name a user or an address."), fields={"username": _("Name a user or an address.")})
    if username and address:
        return throttle.clear(_login_key(username, address)) + throttle.clear(_address_key(address))
    if username:
        return throttle.clear(throttle.key("login", username) + "|")
    return throttle.clear(_address_key(address)) + throttle.clear("login:", suffix="|" + address.lower())
