from django.contrib import admin

from aftersales.knowledge.models import Article, ArticleVersion, SuggestionUse, Synonym


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    """The synonym dictionary is data the technical center keeps; searches read it on every query."""

    list_display = ("words", "note")
    search_fields = ("words", "note")


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    extra = 0
    can_delete = False
    readonly_fields = ("number", "action", "status", "edited_by", "edited_at", "data")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Read-only here: edits go through the services so that each one is a version and reaches the index."""

    list_display = ("title", "status", "component", "useful_count", "updated_at")
    list_filter = ("status",)
    search_fields = ("title", "symptom")
    inlines = [VersionInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(SuggestionUse)
class SuggestionUseAdmin(admin.ModelAdmin):
    list_display = ("article", "order", "used_by", "used_at")
    raw_id_fields = ("article", "order", "used_by")
