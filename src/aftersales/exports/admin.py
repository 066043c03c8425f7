from django.contrib import admin

from aftersales.exports.models import ExportFile


@admin.register(ExportFile)
class ExportFileAdmin(admin.ModelAdmin):
    """Read-only: the rows are written by the export services and the worker."""

    list_display = ("created_at", "user", "path", "status", "rows", "finished_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in ExportFile._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
