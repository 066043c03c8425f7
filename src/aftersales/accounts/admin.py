from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.models import ApiToken, Coverage, Organization, Skill, User


class CoverageInline(admin.TabularInline):
    model = Coverage
    extra = 1


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "province", "city", "contact_name", "contact_phone", "is_active")
    list_filter = ("kind", "is_active", "province")
    search_fields = ("code", "name", "contact_name", "contact_phone")
    autocomplete_fields = ("parent",)
    inlines = [CoverageInline]


class SkillInline(admin.TabularInline):
    model = Skill
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "employee_no", "organization", "is_active", "is_staff")
    list_filter = ("organization__kind", "roles", "is_active", "is_staff")
    search_fields = ("username", "display_name", "employee_no", "phone", "organization__name")
    autocomplete_fields = ("organization",)
    filter_horizontal = ("roles", "groups", "user_permissions")
    inlines = [SkillInline]
    fieldsets = BaseUserAdmin.fieldsets + (
        (
            _("Service network"),
            {
                "fields": (
                    "organization",
                    "roles",
                    "display_name",
                    "employee_no",
                    "phone",
                    ("home_province", "home_city", "home_county"),
                )
            },
        ),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + ((_("Service network"), {"fields": ("organization", "roles")}),)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    search_fields = ("name", "user__username", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    autocomplete_fields = ("user",)

    def has_add_permission(self, request):
        # Keys are shown once when made; the admin cannot show them, so tokens are created in the
        # API (POST /api/v1/tokens) or with `aftersales token create`.
        return False
