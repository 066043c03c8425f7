"""Writes to the service network: tokens, roles, the login throttle."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import ApiToken, Organization, Role, RoleCode, Skill, User
from aftersales.core import throttle
from aftersales.core.choices import ProductCategory
from aftersales.core.errors import ValidationFailed
from aftersales.core.rawrows import Columns

TOKEN_PREFIX = "as_"


# The token's user's role codes joined by commas (codes hold no comma), as one column of the token
# read: every API call asks the roles for its policies, and this saves it a statement.
_ROLE_CODES_SQL = {
    "postgresql": "SELECT STRING_AGG(r.role_id, ',') FROM accounts_user_roles r WHERE r.user_id = t.user_id",
    "sqlite": "SELECT GROUP_CONCAT(r.role_id) FROM accounts_user_roles r WHERE r.user_id = t.user_id",
}
_token_reads: dict[str, tuple] = {}


def _token_read(conn) -> tuple:
    """The token, its user, the user's organization and the user's role codes in one statement,
    written once per database and process. Hand-written (issue 14): every API request runs it, and
    the ORM's select_related of three tables with the roles' subquery cost more to compile than
    the statement took to run (about a sixth of a create's CPU). The columns come from the models
    (core.rawrows), so a new field is read too; tests/security/test_token_roles.py pins the result
    on both databases."""
    if conn.vendor not in _token_reads:
        qn = conn.ops.quote_name
        cols = [Columns(ApiToken, "t", conn), Columns(User, "u", conn), Columns(Organization, "o", conn)]
        sql = (f"SELECT {', '.join(c.sql for c in cols)}, ({_ROLE_CODES_SQL[conn.vendor]}) "
               f"FROM {qn(ApiToken._meta.db_table)} t "
               f"INNER JOIN {qn(User._meta.db_table)} u ON u.{qn(User._meta.pk.column)} = t.{qn('user_id')} "
               f"LEFT OUTER JOIN {qn(Organization._meta.db_table)} o "
               f"ON o.{qn(Organization._meta.pk.column)} = u.{qn(User._meta.get_field('organization').column)} "
               f"WHERE t.{qn('key_hash')} = %s AND t.{qn('revoked_at')} IS NULL")
        _token_reads[conn.vendor] = (sql, cols)
    return _token_reads[conn.vendor]


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
    alias = router.db_for_read(ApiToken)
    conn = connections[alias]
    sql, (token_cols, user_cols, org_cols) = _token_read(conn)
    with conn.cursor() as cursor:
        cursor.execute(sql, [_hash_key(key)])
        row = cursor.fetchone()  # key_hash is unique: one row or none
    token = None
    if row is not None:
        a, b = len(token_cols), len(token_cols) + len(user_cols)
        token = token_cols.instance(row[:a], alias, conn)
        user = user_cols.instance(row[a:b], alias, conn)
        org = org_cols.instance(row[b:-1], alias, conn) if user.organization_id is not None else None
        User._meta.get_field("organization").set_cached_value(user, org)
        ApiToken._meta.get_field("user").set_cached_value(token, user)
        token.role_codes = row[-1]
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
