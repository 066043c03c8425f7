from django.contrib import admin

from django.utils.translation import gettext_lazy as _

from aftersales.portal.models import LoginCode
from aftersales.registry.policies import mask_phone


@admin.register(LoginCode)
class LoginCodeAdmin(admin.ModelAdmin):
    """Read-only: who asked for a code and whether it was used (only its hash is stored)."""

    list_display = ("masked_phone", "created_at", "expires_at", "failures", "used_at")
    readonly_fields = ("masked_phone", "created_at", "expires_at", "failures", "used_at")
    exclude = ("code_hash", "phone")

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        # Masked like every number shown without a reason (registry.policies.phone_for).
        return mask_phone(obj.phone)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
