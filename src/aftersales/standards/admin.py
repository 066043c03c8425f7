from django.contrib import admin

from aftersales.standards.models import Case, Catalogue, Certificate, Course, Inspection, Team


@admin.register(Catalogue)
class CatalogueAdmin(admin.ModelAdmin):
    """Versions are read here; a new version is saved through the API (catalogue_publish), so an
    inspection's version is never changed under it."""

    list_display = ("version", "name", "note", "created_at", "created_by")
    readonly_fields = [f.name for f in Catalogue._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "shift", "starts_at", "leader")
    filter_horizontal = ("members",)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "post", "category", "pass_mark", "valid_months")


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ("at", "person", "workplace", "inspector", "score", "catalogue")
    readonly_fields = [f.name for f in Inspection._meta.fields]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("number", "kind", "person", "measure", "status", "proposed_at")
    list_filter = ("kind", "status", "source")
    readonly_fields = [f.name for f in Case._meta.fields]

    def has_add_permission(self, request):
        return False  # cases go through approval: the API and the pages


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ("person", "course", "category", "issued_on", "expires_on")
