from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.choices import ProductCategory
from aftersales.core.models import TimeStamped


class OrganizationKind(models.TextChoices):
    SERVICE_CENTER = "service_center", _("Service center")
    TECHNICAL_CENTER = "technical_center", _("Technical center")
    REPAIR_CENTER = "repair_center", _("Repair center")
    DIRECT_BRANCH = "direct_branch", _("Direct branch")
    AUTHORIZED_AGENCY = "authorized_agency", _("Authorized agency")
    DEALER = "dealer", _("Dealer")


# The maker's own centres serve and support every region (seed: 维修中心 "能够支持各地的服务请求");
# their people see the whole network. Branches, agencies and dealers see their own part of it.
NETWORK_WIDE_KINDS = frozenset(
    {OrganizationKind.SERVICE_CENTER, OrganizationKind.TECHNICAL_CENTER, OrganizationKind.REPAIR_CENTER}
)
# Where a repair coordinator may dispatch service (维修中心、直营分店、授权维修机构).
SERVICE_PROVIDER_KINDS = frozenset(
    {OrganizationKind.REPAIR_CENTER, OrganizationKind.DIRECT_BRANCH, OrganizationKind.AUTHORIZED_AGENCY}
)


class Organization(TimeStamped):
    """服务网络机构: one node of the service network (服务中心, 技术中心, 维修中心, 直营分店, 授权维修机构, 代理商)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganizationKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    province = models.CharField(_("province"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    county = models.CharField(_("county"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_network_wide(self) -> bool:
        return self.kind in NETWORK_WIDE_KINDS


class Coverage(models.Model):
    """服务区域: a region an organization serves. Blank city or county means the whole province or city."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.CASCADE, related_name="coverage"
    )
    province = models.CharField(_("province"), max_length=20)
    city = models.CharField(_("city"), max_length=30, blank=True)
    county = models.CharField(_("county"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("coverage area")
        verbose_name_plural = _("coverage areas")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "province", "city", "county"], name="coverage_unique_per_org"
            ),
            # A county without its city would match counties of the same name in other cities.
            models.CheckConstraint(
                condition=~models.Q(city="", county__gt=""), name="coverage_county_needs_city"
            ),
        ]
        indexes = [models.Index(fields=["province", "city", "county"], name="coverage_region_idx")]

    def __str__(self) -> str:
        return "".join(part for part in (self.province, self.city, self.county) if part)


class RoleCode(models.TextChoices):
    CALL_AGENT = "call_agent", _("Call agent")
    INFORMATION_COORDINATOR = "information_coordinator", _("Information coordinator")
    HOTLINE_TECHNICIAN = "hotline_technician", _("Hotline technician")
    REPAIR_COORDINATOR = "repair_coordinator", _("Repair coordinator")
    FIELD_TECHNICIAN = "field_technician", _("Field technician")
    TECHNICAL_ENGINEER = "technical_engineer", _("Technical engineer")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMINISTRATOR = "administrator", _("Administrator")


class Role(models.Model):
    """岗位角色: 话务代表, 信息协调员, 热线技术员, 维修协调员, 维修人员, 技术工程师, 督查, 管理员.

    A table rather than a list on the user so that "technicians of this organization" is one
    indexed join on SQLite and PostgreSQL alike.
    """

    code = models.CharField(_("code"), max_length=32, primary_key=True, choices=RoleCode.choices)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["code"]

    def __str__(self) -> str:
        return str(RoleCode(self.code).label)


class AftersalesUserManager(UserManager):
    pass


class User(AbstractUser):
    """用户: a person of the service network. Belongs to one organization, holds one or more roles."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
        help_text=_("Every user except the first administrator belongs to one organization."),
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="users")
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    employee_no = models.CharField(
        _("employee number"), max_length=20, blank=True, help_text=_("Said in the greeting: 客服 xxx 号为您服务")
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    home_province = models.CharField(_("home province"), max_length=20, blank=True)
    home_city = models.CharField(_("home city"), max_length=30, blank=True)
    home_county = models.CharField(_("home county"), max_length=30, blank=True)

    objects = AftersalesUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def role_codes(self) -> frozenset[str]:
        """The user's roles, read once per request object (views and policies ask often)."""
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            if "roles" in getattr(self, "_prefetched_objects_cache", {}):
                cached = frozenset(r.code for r in self.roles.all())
            else:
                cached = frozenset(self.roles.values_list("code", flat=True))
            self._role_codes = cached
        return cached

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes() & set(codes))


class Skill(models.Model):
    """技能: a product category a technician can service."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="skills")
    category = models.CharField(_("product category"), max_length=32, choices=ProductCategory.choices)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="skill_unique_per_user")]

    def __str__(self) -> str:
        return self.get_category_display()


class ApiToken(models.Model):
    """个人接口令牌: a personal API token. Only a hash is kept; the key is shown once at creation."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=60)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

