from django.contrib import admin

from aftersales.visits.models import Season, VisitAnswer, VisitQuestion, VisitTask


@admin.register(VisitQuestion)
class VisitQuestionAdmin(admin.ModelAdmin):
    """The scripted questionnaire: the service center edits it here."""

    list_display = ("text", "answer_type", "kinds", "is_satisfaction", "position", "is_active")
    list_editable = ("position", "is_active")
    list_filter = ("answer_type", "is_active")


@admin.register(Season)
class SeasonAdmin(admin.ModelAdmin):
    """农忙季节历: the pre-season checks are timed by these rows."""

    list_display = ("province", "name", "start_month", "start_day", "end_month", "end_day", "categories", "lead_days",
                    "is_active")
    list_filter = ("province", "is_active")


class AnswerInline(admin.TabularInline):
    model = VisitAnswer
    extra = 0
    can_delete = False
    readonly_fields = ("question_text", "answer_type", "score", "yes", "text")
    exclude = ("question",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(VisitTask)
class VisitTaskAdmin(admin.ModelAdmin):
    """Read-only here: outcomes are recorded on the worklist or through the API (visits.services)."""

    list_display = ("id", "kind", "customer", "due_on", "status", "attempts", "score")
    list_filter = ("kind", "status", "due_on")
    list_select_related = ("customer",)
    inlines = [AnswerInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
