from django.contrib import admin

from aftersales.quality.models import Campaign, QualityIssue, QualityRule


@admin.register(QualityRule)
class QualityRuleAdmin(admin.ModelAdmin):
    """The thresholds of the batch alarm: a save adds a row (the newest is in force), so every issue
    keeps the rule it was raised under."""

    list_display = ("id", "window_days", "min_failures", "p_value", "min_ratio", "serial_prefix_length", "created_at")

    def save_model(self, request, obj, form, change):
        obj.pk = None  # never change a rule an issue points to
        super().save_model(request, obj, form, False)


@admin.register(QualityIssue)
class QualityIssueAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "status", "model", "component", "batch", "failures", "detected_at")
    list_filter = ("status", "source")
    readonly_fields = [f.name for f in QualityIssue._meta.fields]

    def has_add_permission(self, request):
        return False  # issues are raised by the scan or reported through the API and pages


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("title", "issue", "status", "started_at", "finished_at")
    readonly_fields = [f.name for f in Campaign._meta.fields]

    def has_add_permission(self, request):
        return False
