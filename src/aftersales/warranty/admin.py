import json

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from aftersales.core import config
from aftersales.core.errors import ValidationFailed
from aftersales.warranty import services
from aftersales.warranty.models import WarrantyPolicy


class PolicyForm(forms.ModelForm):
    note = forms.CharField(label=_("change note"), max_length=200, required=True)

    class Meta:
        model = WarrantyPolicy
        fields = ("effective_from", "is_active", "note", "data")
        widgets = {"data": forms.Textarea(attrs={"rows": 30, "cols": 100, "style": "font-family: monospace"})}

    def clean_data(self):
        data = self.cleaned_data["data"]
        if isinstance(data, str):
            data = json.loads(data)
        probe = {**data, "name": self.instance.name or data.get("name", ""), "version": max(self.instance.version or 1, 1)}
        if self.cleaned_data.get("effective_from"):
            probe["effective_from"] = self.cleaned_data["effective_from"].isoformat()
        try:
            services.policy_validate(probe)
        except ValidationFailed as exc:
            raise forms.ValidationError("; ".join(f"{k}: {v}" for k, v in exc.fields.items())) from None
        return data


@admin.register(WarrantyPolicy)
class WarrantyPolicyAdmin(admin.ModelAdmin):
    """Saving a change stores a new version; the version that was edited stays as it was."""

    form = PolicyForm
    list_display = ("name", "version", "effective_from", "is_active", "note", "created_by", "created_at")
    list_filter = ("name", "is_active")
    readonly_fields = ("name", "version", "created_by", "created_at")

    def has_add_permission(self, request):
        return False  # new versions come from editing an existing one

    def has_delete_permission(self, request, obj=None):
        return False  # evaluations cite versions; they are kept

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        only_active_changed = set(form.changed_data) <= {"is_active", "note"}
        if only_active_changed:
            WarrantyPolicy.objects.filter(pk=obj.pk).update(is_active=obj.is_active)
            config.changed()  # update() sends no signal; every process must drop its copy
            return
        base = WarrantyPolicy.objects.get(pk=obj.pk)
        new = services.policy_create_version(
            base=base, data=form.cleaned_data["data"], effective_from=obj.effective_from,
            note=form.cleaned_data["note"], user=request.user,
        )
        obj.pk, obj.version = new.pk, new.version
        messages.info(request, _("Saved as version %(v)s; version %(old)s is kept unchanged.") % {"v": new.version, "old": base.version})
