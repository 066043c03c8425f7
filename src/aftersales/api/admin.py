"""What only the administrator could do in the Django admin, as API (管理接口): the service network
(organizations, coverage areas, users with roles and skills), the SLA policies and busy seasons,
warranty policy versions, and a look at the holiday calendar and the audit log.

Administrators only (403 for anyone else). Every change is one audited write (core/audit.py:
who, what, when, each field before and after), readable at ``GET /admin/audit``."""


from datetime import date, datetime
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from aftersales.accounts import services as account_services
from aftersales.accounts.models import (
    Coverage,
    Organization,
    OrganizationKind,
    RoleCode,
    User,
)
from aftersales.accounts.policies import is_administrator
from aftersales.api.errors import COMMON_ERRORS, ErrorOut
from aftersales.api.pagination import LazyPage, Pages
from aftersales.core import calendar
from aftersales.core.audit import (
    AUDITED,
    audited,
    clean_or_refuse,
    delete_audited,
    save_audited,
)
from aftersales.core.choices import ProductCategory
from aftersales.core.errors import Forbidden, NotFound, ValidationFailed
from aftersales.core.types import DbInt
from aftersales.sla.models import Basis, BusySeason, Season, SlaPolicy, Target, Unit
from aftersales.warranty import services as warranty_services
from aftersales.warranty.models import WarrantyPolicy

router = Router(tags=["administration (管理)"])
WRITE_ERRORS = {**COMMON_ERRORS, 409: ErrorOut}


def _admin(request) -> None:
    if not is_administrator(request.user):
        raise Forbidden(_("Only an administrator may do this."))


def _get(model, pk: int, message: str):
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise NotFound(message)
    return obj


def _choice(errors: dict, name: str, value, choices) -> None:
    values = value if isinstance(value, list) else [value]
    unknown = [v for v in values if v not in choices.values]
    if unknown:
        errors[name] = _("Unknown value %(value)s; pick from: %(choices)s.") % {
            "value": str(unknown[0])[:40], "choices": ", ".join(choices.values)}


def _refuse_if(errors: dict) -> None:
    if errors:
        raise ValidationFailed(_("Nothing was changed."), fields=errors)


# --- organizations and coverage (服务网络) ----------------------------------------------------

class OrganizationIn(Schema):
    code: str = Field(..., min_length=1, max_length=32, examples=["AG-HN-ZK"])
    name: str = Field(..., min_length=1, max_length=100, examples=["周口丰收农机维修站"])
    kind: str = Field(..., examples=["authorized_agency"], description="One of the organization kinds.")
    parent_id: int | None = None
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    province: str = Field("", max_length=20, examples=["河南省"])
    city: str = Field("", max_length=30, examples=["周口市"])
    county: str = Field("", max_length=30)
    address: str = Field("", max_length=200)
    is_active: bool = True


class CoverageIn(Schema):
    province: str = Field(..., min_length=1, max_length=20, examples=["河南省"])
    city: str = Field("", max_length=30, description="Empty: the whole province.", examples=["周口市"])
    county: str = Field("", max_length=30, description="Empty: the whole city.")


class CoverageOut(CoverageIn):
    id: int
    organization_id: int


class AdminOrganizationOut(OrganizationIn):
    id: int
    coverage: list[CoverageOut]


def _org_out(org) -> dict:
    return {"id": org.pk, "code": org.code, "name": org.name, "kind": org.kind, "parent_id": org.parent_id,
            "contact_name": org.contact_name, "contact_phone": org.contact_phone, "province": org.province,
            "city": org.city, "county": org.county, "address": org.address, "is_active": org.is_active,
            "coverage": [{"id": c.pk, "organization_id": c.organization_id, "province": c.province, "city": c.city,
                          "county": c.county} for c in org.coverage.all()]}


def _org_values(payload: OrganizationIn) -> dict:
    errors: dict = {}
    _choice(errors, "kind", payload.kind, OrganizationKind)
    if payload.parent_id is not None and not Organization.objects.filter(pk=payload.parent_id).exists():
        errors["parent_id"] = _("No such organization.")
    _refuse_if(errors)
    return payload.dict()


@router.get("/organizations", response={200: list[AdminOrganizationOut], **COMMON_ERRORS},
            summary="Organizations with their coverage / 服务机构及服务区域")
@paginate(Pages)
def admin_organizations(request, kind: str = "", active: bool | None = None):
    _admin(request)
    qs = Organization.objects.prefetch_related("coverage").order_by("code")
    if kind:
        qs = qs.filter(kind=kind)
    if active is not None:
        qs = qs.filter(is_active=active)
    return LazyPage(qs, _org_out)


@router.post("/organizations", response={201: AdminOrganizationOut, **WRITE_ERRORS},
             summary="Add an organization / 新增服务机构")
def admin_organization_create(request, payload: OrganizationIn):
    _admin(request)
    org = save_audited(actor=request.user, instance=Organization(), values=_org_values(payload))
    return Status(201, _org_out(org))


@router.put("/organizations/{org_id}", response={200: AdminOrganizationOut, **WRITE_ERRORS},
            summary="Change an organization / 修改服务机构")
def admin_organization_update(request, org_id: DbInt, payload: OrganizationIn):
    """Deactivate with ``is_active: false``: an organization with orders is never deleted."""
    _admin(request)
    org = _get(Organization, org_id, _("Organization not found."))
    if payload.parent_id == org.pk:
        raise ValidationFailed(_("Nothing was changed."), fields={"parent_id": _("An organization cannot be its own parent.")})
    return _org_out(save_audited(actor=request.user, instance=org, values=_org_values(payload)))


@router.post("/organizations/{org_id}/coverage", response={201: CoverageOut, **WRITE_ERRORS},
             summary="Add a coverage area / 新增服务区域")
def admin_coverage_create(request, org_id: DbInt, payload: CoverageIn):
    _admin(request)
    org = _get(Organization, org_id, _("Organization not found."))
    area = save_audited(actor=request.user, instance=Coverage(organization=org), values=payload.dict())
    return Status(201, {"id": area.pk, "organization_id": org.pk, **payload.dict()})


@router.delete("/coverage/{coverage_id}", response={204: None, **WRITE_ERRORS}, summary="Remove a coverage area / 删除服务区域")
def admin_coverage_delete(request, coverage_id: DbInt):
    _admin(request)
    delete_audited(actor=request.user, instance=_get(Coverage, coverage_id, _("Coverage area not found.")))
    return Status(204, None)


# --- users, roles and skills ------------------------------------------------------------------

class UserIn(Schema):
    username: str = Field(..., min_length=1, max_length=150, examples=["zk_tech_01"])
    display_name: str = Field("", max_length=50, examples=["周口维修站 张师傅"])
    employee_no: str = Field("", max_length=20)
    phone: str = Field("", max_length=20)
    organization_id: int | None = None
    roles: list[str] = Field([], description="Role codes.", examples=[["field_technician"]])
    skills: list[str] = Field([], description="Product categories the technician can serve.", examples=[["tractor"]])
    home_province: str = Field("", max_length=20)
    home_city: str = Field("", max_length=30)
    home_county: str = Field("", max_length=30)
    is_active: bool = True
    password: str = Field("", max_length=128, description="Required for a new user; leave empty to keep it.")


class AdminUserOut(Schema):
    id: int
    username: str
    display_name: str
    employee_no: str
    phone: str
    organization_id: int | None
    roles: list[str]
    skills: list[str]
    home_province: str
    home_city: str
    home_county: str
    is_active: bool


def _user_out(user) -> dict:
    return {"id": user.pk, "username": user.username, "display_name": user.display_name,
            "employee_no": user.employee_no, "phone": user.phone, "organization_id": user.organization_id,
            "roles": sorted(r.code for r in user.roles.all()), "skills": sorted(s.category for s in user.skills.all()),
            "home_province": user.home_province, "home_city": user.home_city, "home_county": user.home_county,
            "is_active": user.is_active}


def _user_save(request, user: User, payload: UserIn) -> User:
    errors: dict = {}
    _choice(errors, "roles", payload.roles, RoleCode)
    _choice(errors, "skills", payload.skills, ProductCategory)
    if payload.organization_id is not None and not Organization.objects.filter(pk=payload.organization_id).exists():
        errors["organization_id"] = _("No such organization.")
    if user.pk is None and not payload.password:
        errors["password"] = _("This field is required.")
    if payload.password:
        from django.contrib.auth.password_validation import validate_password
        from django.core.exceptions import ValidationError as DjangoValidationError

        try:
            validate_password(payload.password, user)
        except DjangoValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    if user.pk is not None and user.pk == request.user.pk and (not payload.is_active or RoleCode.ADMINISTRATOR not in payload.roles) \
            and not user.is_superuser:
        errors["roles"] = _("You cannot remove your own administrator role or deactivate yourself.")
    _refuse_if(errors)
    values = payload.dict(exclude={"roles", "skills", "password"})
    for name, value in values.items():
        setattr(user, name, value)
    if payload.password:
        user.set_password(payload.password)
    clean_or_refuse(user, exclude=["password"])
    with audited(request.user):
        user.save()
        account_services.user_set_roles(user=user, roles=payload.roles, skills=payload.skills)
    return user


@router.get("/users", response={200: list[AdminUserOut], **COMMON_ERRORS}, summary="Users / 用户")
@paginate(Pages)
def admin_users(request, organization_id: DbInt | None = None, role: str = ""):
    _admin(request)
    qs = User.objects.prefetch_related("roles", "skills").order_by("id")
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    if role:
        qs = qs.filter(roles__code=role)
    return LazyPage(qs, _user_out)


@router.post("/users", response={201: AdminUserOut, **WRITE_ERRORS}, summary="Add a user / 新增用户")
def admin_user_create(request, payload: UserIn):
    _admin(request)
    return Status(201, _user_out(_user_save(request, User(), payload)))


@router.put("/users/{user_id}", response={200: AdminUserOut, **WRITE_ERRORS},
            summary="Change a user, their roles and skills / 修改用户、角色与技能")
def admin_user_update(request, user_id: DbInt, payload: UserIn):
    """Deactivate with ``is_active: false``; users are never deleted (the timeline names them)."""
    _admin(request)
    user = _get(User, user_id, _("User not found."))
    return _user_out(_user_save(request, user, payload))


# --- SLA policies and busy seasons (服务时限与农忙) ------------------------------------------

class SlaPolicyIn(Schema):
    name: str = Field(..., min_length=1, max_length=100, examples=["农忙上门 4 小时"])
    target: str = Field(..., examples=["on_site"])
    amount: int = Field(..., ge=1, le=100000, examples=[4])
    unit: str = Field("hours", examples=["hours"])
    basis: str = Field("working", examples=["working"])
    order_types: list[str] = []
    service_levels: list[str] = []
    service_modes: list[str] = []
    provinces: list[str] = []
    season: str = "any"
    warranty_only: bool = False
    is_active: bool = True


class SlaPolicyOut(SlaPolicyIn):
    id: int
    updated_at: datetime


def _sla_values(payload: SlaPolicyIn) -> dict:
    from aftersales.service.models import OrderType, ServiceLevel, ServiceMode

    errors: dict = {}
    _choice(errors, "target", payload.target, Target)
    _choice(errors, "unit", payload.unit, Unit)
    _choice(errors, "basis", payload.basis, Basis)
    _choice(errors, "season", payload.season, Season)
    _choice(errors, "order_types", payload.order_types, OrderType)
    _choice(errors, "service_levels", payload.service_levels, ServiceLevel)
    _choice(errors, "service_modes", payload.service_modes, ServiceMode)
    _refuse_if(errors)
    return payload.dict()


@router.get("/sla-policies", response={200: list[SlaPolicyOut], **COMMON_ERRORS}, summary="SLA policies / 服务时限标准")
def admin_sla_policies(request):
    _admin(request)
    return list(SlaPolicy.objects.order_by("target", "id"))


@router.post("/sla-policies", response={201: SlaPolicyOut, **WRITE_ERRORS}, summary="Add an SLA policy / 新增时限标准")
def admin_sla_policy_create(request, payload: SlaPolicyIn):
    _admin(request)
    return Status(201, save_audited(actor=request.user, instance=SlaPolicy(), values=_sla_values(payload)))


@router.put("/sla-policies/{policy_id}", response={200: SlaPolicyOut, **WRITE_ERRORS},
            summary="Change an SLA policy / 修改时限标准")
def admin_sla_policy_update(request, policy_id: DbInt, payload: SlaPolicyIn):
    """Applies to clocks started from now on; running clocks keep the target they started with."""
    _admin(request)
    policy = _get(SlaPolicy, policy_id, _("SLA policy not found."))
    return save_audited(actor=request.user, instance=policy, values=_sla_values(payload))


class BusySeasonIn(Schema):
    name: str = Field(..., min_length=1, max_length=60, examples=["三夏麦收"])
    start: str = Field(..., pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", examples=["05-25"],
                       description="MM-DD")
    end: str = Field(..., pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", examples=["06-20"],
                     description="MM-DD; before start: the season runs over the new year.")
    provinces: list[str] = Field([], examples=[["河南省", "山东省"]])
    crop: str = Field("", max_length=40, examples=["小麦"])
    is_active: bool = True


class BusySeasonOut(BusySeasonIn):
    id: int


@router.get("/busy-seasons", response={200: list[BusySeasonOut], **COMMON_ERRORS}, summary="Busy seasons / 农忙时节")
def admin_busy_seasons(request):
    _admin(request)
    return list(BusySeason.objects.order_by("start", "id"))


@router.post("/busy-seasons", response={201: BusySeasonOut, **WRITE_ERRORS}, summary="Add a busy season / 新增农忙时节")
def admin_busy_season_create(request, payload: BusySeasonIn):
    _admin(request)
    return Status(201, save_audited(actor=request.user, instance=BusySeason(), values=payload.dict()))


@router.put("/busy-seasons/{season_id}", response={200: BusySeasonOut, **WRITE_ERRORS},
            summary="Change a busy season / 修改农忙时节")
def admin_busy_season_update(request, season_id: DbInt, payload: BusySeasonIn):
    _admin(request)
    season = _get(BusySeason, season_id, _("Busy season not found."))
    return save_audited(actor=request.user, instance=season, values=payload.dict())


@router.delete("/busy-seasons/{season_id}", response={204: None, **WRITE_ERRORS},
               summary="Remove a busy season / 删除农忙时节")
def admin_busy_season_delete(request, season_id: DbInt):
    _admin(request)
    delete_audited(actor=request.user, instance=_get(BusySeason, season_id, _("Busy season not found.")))
    return Status(204, None)


# --- warranty policy versions (三包政策) and the holiday calendar -----------------------------

class WarrantyPolicyOut(Schema):
    id: int
    name: str
    version: int
    effective_from: date
    is_active: bool
    note: str
    created_at: datetime
    created_by_id: int | None
    data: dict[str, Any]


class WarrantyVersionIn(Schema):
    effective_from: date
    note: str = Field(..., min_length=1, max_length=200, examples=["2027 年起主要部件三包期延长至 2 年"])
    data: dict[str, Any] = Field(..., description="The whole rule set (as GET answers it); saved as the next version.")


@router.get("/warranty-policies", response={200: list[WarrantyPolicyOut], **COMMON_ERRORS},
            summary="Warranty policy versions / 三包政策版本")
def admin_warranty_policies(request):
    _admin(request)
    return list(WarrantyPolicy.objects.order_by("name", "-version"))


@router.post("/warranty-policies/{policy_id}/versions", response={201: WarrantyPolicyOut, **WRITE_ERRORS},
             summary="Save a new version of a warranty policy / 保存三包政策新版本")
def admin_warranty_version_create(request, policy_id: DbInt, payload: WarrantyVersionIn):
    """Versions are never edited: the change becomes the next version of the same name, and every
    evaluation keeps naming the version it used. Invalid rules are a 422 naming the rule."""
    _admin(request)
    base = _get(WarrantyPolicy, policy_id, _("Warranty policy not found."))
    try:
        with audited(request.user):
            policy = warranty_services.policy_create_version(base=base, data=payload.data,
                                                             effective_from=payload.effective_from,
                                                             note=payload.note, user=request.user)
    except ValidationFailed as exc:
        exc.fields = {k if k.startswith("data") else f"data.{k}": v for k, v in exc.fields.items()}
        raise
    return Status(201, policy)


class HolidayYearOut(Schema):
    year: int
    source: str
    rest_days: list[date] = Field(description="Statutory holidays (法定节假日).")
    working_days: list[date] = Field(description="Weekend days that are working days (调休上班).")


@router.get("/holidays", response={200: list[HolidayYearOut], **COMMON_ERRORS},
            summary="Holiday calendar / 节假日安排")
def admin_holidays(request):
    """The calendar the SLA clocks and warranty dates use, per year with its source (the State
    Council's notice). Read only here: the data file ships with each release."""
    _admin(request)
    rest, work = calendar.statutory_holidays(), calendar.adjusted_workdays()
    return [{"year": year, "source": str(source), "rest_days": sorted(d for d in rest if d.year == year),
             "working_days": sorted(d for d in work if d.year == year)}
            for year, source in sorted(calendar.years_covered().items())]


# --- the audit log ----------------------------------------------------------------------------

class AuditOut(Schema):
    id: int
    at: datetime
    actor_id: int | None
    actor: str | None
    model: str
    object_id: str
    object_repr: str
    action: str = Field(description="create, update or delete")
    changes: dict[str, Any] = Field(description="Each changed field: [before, after].")


_ACTIONS = {LogEntry.Action.CREATE: "create", LogEntry.Action.UPDATE: "update", LogEntry.Action.DELETE: "delete"}


def _audit_out(entry) -> dict:
    return {"id": entry.pk, "at": entry.timestamp, "actor_id": entry.actor_id,
            "actor": str(entry.actor) if entry.actor_id else None,
            "model": f"{entry.content_type.app_label}.{entry.content_type.model}", "object_id": str(entry.object_pk),
            "object_repr": entry.object_repr, "action": _ACTIONS.get(entry.action, "access"),
            "changes": entry.changes_dict if isinstance(entry.changes_dict, dict) else {}}


@router.get("/audit", response={200: list[AuditOut], **COMMON_ERRORS}, summary="Audit log / 变更记录")
@paginate(Pages)
def admin_audit(request, model: str = "", object_id: str = "", actor_id: DbInt | None = None):
    """Who changed what and when, newest first. ``model`` as ``app.model`` (e.g. ``accounts.coverage``)."""
    _admin(request)
    qs = LogEntry.objects.select_related("content_type", "actor").order_by("-timestamp", "-id")
    if model:
        known = {label.lower() for label in AUDITED}
        if model.lower() not in known:
            raise ValidationFailed(_("The request has invalid fields."), fields={"model": _(
                "Unknown value %(value)s; pick from: %(choices)s.") % {"value": model[:40],
                                                                      "choices": ", ".join(sorted(known))}})
        app_label, name = model.lower().split(".")
        qs = qs.filter(content_type=ContentType.objects.get_by_natural_key(app_label, name))
    if object_id:
        qs = qs.filter(object_pk=object_id)
    if actor_id is not None:
        qs = qs.filter(actor_id=actor_id)
    return LazyPage(qs, _audit_out)


