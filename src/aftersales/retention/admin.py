from django.contrib import admin

from aftersales.retention.models import RetentionRun


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    """Read-only: the record of what left the database is not edited by hand."""

    list_display = ("started_at", "finished_at", "actor", "counts")
    readonly_fields = ("started_at", "finished_at", "actor", "counts", "policy")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
