from django.contrib import admin

from aftersales.calls.models import AgentExtension, Call, CallbackTask, PhoneSystem


@admin.register(PhoneSystem)
class PhoneSystemAdmin(admin.ModelAdmin):
    """Integrations are created with `aftersales cti integration` (it prints the token and secret once)."""

    list_display = ("name", "organization", "token_prefix", "is_active", "created_at")
    readonly_fields = ("token_prefix",)
    fields = ("name", "organization", "token_prefix", "is_active")

    def has_add_permission(self, request):
        return False


@admin.register(AgentExtension)
class AgentExtensionAdmin(admin.ModelAdmin):
    list_display = ("extension", "user", "organization")
    search_fields = ("extension", "user__username")


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("call_id", "state", "outcome", "extension", "agent", "rang_at", "answered_at", "ended_at")
    list_filter = ("state", "outcome")
    readonly_fields = [f.name for f in Call._meta.fields]


@admin.register(CallbackTask)
class CallbackTaskAdmin(admin.ModelAdmin):
    list_display = ("id", "state", "started_at", "due_at", "done_at", "done_by")
    list_filter = ("state",)
    readonly_fields = [f.name for f in CallbackTask._meta.fields]
