from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("After-sales service administration")
admin.site.site_title = _("After-sales service")
admin.site.index_title = _("Administration")


from aftersales.core.models import ThrottleCounter  # noqa: E402


@admin.register(ThrottleCounter)
class ThrottleCounterAdmin(admin.ModelAdmin):
    """Login lockouts and look-up counters (core.throttle). Deleting a row, or the action below,
    lifts that lockout at once; `aftersales unlock USER` does the same from the command line."""

    list_display = ("key", "count", "last_at", "locked_until")
    search_fields = ("key",)
    ordering = ("-last_at",)
    readonly_fields = ("key", "count", "window_start", "last_at", "locked_until")
    actions = ["clear_selected"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Clear the selected lockouts"), permissions=["delete"])
    def clear_selected(self, request, queryset):
        cleared = queryset.delete()[0]
        self.message_user(request, _("%(count)d lockouts cleared.") % {"count": cleared})
