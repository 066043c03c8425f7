from django.contrib import admin

from aftersales.ops.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("worker_id", "hostname", "pid", "started_at", "seen_at", "stopped")
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False
