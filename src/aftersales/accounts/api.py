from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from aftersales.accounts import selectors, services
from aftersales.accounts.models import ApiToken
from aftersales.api.errors import COMMON_ERRORS
from aftersales.core.errors import NotFound
from aftersales.core.types import DbId  # ids the database can hold (else 422)

router = Router(tags=["service network"])


class OrganizationOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    kind_display: str
    parent_id: int | None
    province: str
    city: str
    county: str
    contact_name: str
    contact_phone: str
    is_active: bool


def _org_out(org) -> dict:
    return {
        "id": org.id, "code": org.code, "name": org.name, "kind": org.kind, "kind_display": org.get_kind_display(),
        "parent_id": org.parent_id, "province": org.province, "city": org.city, "county": org.county,
        "contact_name": org.contact_name, "contact_phone": org.contact_phone, "is_active": org.is_active,
    }


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    employee_no: str
    organization_id: int | None
    organization_name: str | None
    roles: list[str]
    is_active: bool


def _user_out(user) -> dict:
    return {
        "id": user.id, "username": user.username, "display_name": str(user), "employee_no": user.employee_no,
        "organization_id": user.organization_id,
        "organization_name": user.organization.name if user.organization_id else None,
        "roles": sorted(user.role_codes()), "is_active": user.is_active,
    }


@router.get("/me", response={200: UserOut, **COMMON_ERRORS}, summary="The current user")
def me(request):
    return _user_out(request.user)


@router.get("/organizations", response={200: list[OrganizationOut], **COMMON_ERRORS})
def organizations(request, kind: str | None = None):
    qs = selectors.organization_queryset(request.user)
    if kind:
        qs = qs.filter(kind=kind)
    return [_org_out(o) for o in qs]


@router.get("/organizations/{org_id}", response={200: OrganizationOut, **COMMON_ERRORS})
def organization(request, org_id: DbId):
    org = selectors.organization_queryset(request.user).filter(pk=org_id).first()
    if org is None:
        raise NotFound(_("Organization not found."))
    return _org_out(org)


@router.get("/users", response={200: list[UserOut], **COMMON_ERRORS})
def users(request, organization_id: DbId | None = None, role: str | None = None):
    qs = selectors.user_queryset(request.user)
    if organization_id:
        qs = qs.filter(organization_id=organization_id)
    if role:
        qs = qs.filter(roles__code=role)
    return [_user_out(u) for u in qs.order_by("id")[:500]]


@router.get("/users/{user_id}", response={200: UserOut, **COMMON_ERRORS})
def user_detail(request, user_id: DbId):
    return _user_out(selectors.user_get(request.user, pk=user_id))


class TokenIn(Schema):
    name: str
    expires_at: datetime | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    key: str


@router.get("/tokens", response={200: list[TokenOut], **COMMON_ERRORS}, summary="My API tokens")
def tokens(request):
    return list(ApiToken.objects.filter(user=request.user).order_by("-id"))


@router.post("/tokens", response={201: TokenCreatedOut, **COMMON_ERRORS}, summary="Create a personal API token (the key is shown once)")
def token_create(request, payload: TokenIn):
    token, key = services.api_token_create(user=request.user, name=payload.name, expires_at=payload.expires_at)
    token.key = key
    return Status(201, token)


@router.delete("/tokens/{token_id}", response={204: None, **COMMON_ERRORS}, summary="Revoke one of my tokens")
def token_revoke(request, token_id: DbId):
    token = ApiToken.objects.filter(pk=token_id, user=request.user).first()
    if token is None:
        raise NotFound(_("Token not found."))
    services.api_token_revoke(token=token)
    return Status(204, None)
