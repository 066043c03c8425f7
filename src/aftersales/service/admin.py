from django.contrib import admin

from aftersales.service.models import (
    Attachment,
    Complaint,
    Escalation,
    OrderEvent,
    Quote,
    ReturnRequest,
    ServiceOrder,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderEventInline(ReadOnlyInline):
    """The timeline, read-only: changes go through the services, which write their own events."""

    model = OrderEvent
    fields = ("seq", "at", "actor", "actor_org", "action", "from_status", "to_status", "data", "note")
    readonly_fields = fields
    ordering = ("seq",)


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("kind", "original_name", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields


@admin.register(ServiceOrder)
class ServiceOrderAdmin(admin.ModelAdmin):
    list_display = ("number", "order_type", "status", "service_level", "service_mode", "customer", "assigned_org", "created_at")
    list_filter = ("status", "order_type", "service_level", "service_mode", "channel")
    search_fields = ("number",)
    date_hierarchy = "created_at"
    inlines = [OrderEventInline, AttachmentInline]
    raw_id_fields = ("customer", "machine", "owner", "hotline_technician", "assigned_technician", "duplicate_of", "related_order")
    exclude = ("confirmation_code_hash",)

    def get_readonly_fields(self, request, obj=None):
        # Status, version and people change only through actions, so the timeline stays complete.
        return [f.name for f in ServiceOrder._meta.concrete_fields if f.name != "confirmation_code_hash"]

    def has_delete_permission(self, request, obj=None):
        return False


class NoDeleteAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


for model in (Escalation, Complaint, ReturnRequest, Quote):
    admin.site.register(model, NoDeleteAdmin)
