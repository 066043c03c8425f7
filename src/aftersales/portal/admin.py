from django.contrib import admin

from aftersales.portal.models import LoginCode


@admin.register(LoginCode)
class LoginCodeAdmin(admin.ModelAdmin):
    """Read-only: whether a customer's code was sent, used or spent by wrong tries. Found by the
    phone (search), never listed with it: numbers are shown only through the phone rule."""

    list_display = ("id", "created_at", "expires_at", "failures", "used_at")
    readonly_fields = ("created_at", "expires_at", "failures", "used_at")
    fields = readonly_fields
    search_fields = ("=phone",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
