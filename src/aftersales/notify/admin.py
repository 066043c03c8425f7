from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from aftersales.notify.models import OutboxMessage, WebhookSubscriber
from aftersales.notify.services import outbox_resend


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "template", "status", "attempts", "created_at", "available_at", "sent_at", "last_error")
    list_filter = ("status", "channel", "template")
    # The recipient is a customer's phone: not listed, not searchable from the changelist.
    readonly_fields = ("channel", "recipient", "template", "context", "order", "created_at", "attempts", "last_error",
                       "status", "available_at", "sent_at")
    raw_id_fields = ("order",)
    actions = ["resend"]

    @admin.action(description=_("Send again"))
    def resend(self, request, queryset):
        count = outbox_resend(ids=queryset.values_list("pk", flat=True))
        self.message_user(request, ngettext("%(n)d message queued again.", "%(n)d messages queued again.", count)
                          % {"n": count}, messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookSubscriber)
class WebhookSubscriberAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "events", "is_active", "created_at")
    list_filter = ("is_active",)
