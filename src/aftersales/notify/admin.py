from django.contrib import admin

from aftersales.notify.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "template", "status", "attempts", "created_at", "available_at")
    list_filter = ("status", "channel", "template")
    # The recipient is a customer's phone: not listed, not searchable from the changelist.
    readonly_fields = ("channel", "recipient", "template", "context", "order", "created_at", "attempts", "last_error")
    raw_id_fields = ("order",)

    def has_delete_permission(self, request, obj=None):
        return False
