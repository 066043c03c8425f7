from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from aftersales.sla.models import BusySeason, EscalationLevel, SlaClock, SlaPolicy, WorkingHours
from aftersales.sla.services import clocks_recompute


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "target", "amount", "unit", "basis", "season", "provinces", "service_modes", "is_active")
    list_filter = ("target", "basis", "season", "is_active")
    actions = ["recompute"]

    @admin.action(description=_("Recompute the clocks of open orders"))
    def recompute(self, request, queryset):
        count = clocks_recompute()
        self.message_user(request, _("Clocks of %(n)d open orders recomputed.") % {"n": count}, messages.SUCCESS)


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ("__str__", "weekends", "holidays", "busy_every_day")
    raw_id_fields = ("organization",)


@admin.register(BusySeason)
class BusySeasonAdmin(admin.ModelAdmin):
    list_display = ("name", "start", "end", "provinces", "crop", "is_active")


@admin.register(EscalationLevel)
class EscalationLevelAdmin(admin.ModelAdmin):
    list_display = ("level", "after_minutes", "role", "scope", "is_active")


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin):
    """Read-only: clocks are derived from the orders' events."""

    list_display = ("order", "target", "state", "outcome", "started_at", "due_at", "warned_at", "breach_noticed_at",
                    "escalation_level")
    list_filter = ("target", "state", "outcome", "escalation_level")
    raw_id_fields = ("order", "holder_org", "holder_user")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
