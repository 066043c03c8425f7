from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import ValidationFailed
from aftersales.core.phones import normalize_phone, phone_kind
from aftersales.registry.models import (
    Customer,
    CustomerPhone,
    HoursReading,
    Machine,
    MachineExchange,
    PhoneReveal,
    ProductModel,
)
from aftersales.registry.services import _reversed_national


class CustomerPhoneForm(forms.ModelForm):
    class Meta:
        model = CustomerPhone
        fields = ("number", "is_primary")

    def clean_number(self):
        try:
            return normalize_phone(self.cleaned_data["number"])
        except ValidationFailed as exc:
            raise forms.ValidationError(list(exc.fields.values()) or [exc.message]) from None

    def save(self, commit=True):
        phone = super().save(commit=False)
        phone.kind = phone_kind(phone.number)
        phone.reversed_digits = _reversed_national(phone.number)
        if commit:
            phone.save()
        return phone


class CustomerPhoneInline(admin.TabularInline):
    model = CustomerPhone
    form = CustomerPhoneForm
    extra = 1


class MachineInline(admin.TabularInline):
    model = Machine
    fk_name = "owner"
    fields = ("serial_number", "model", "invoice_date", "delivery_date", "status")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "customer_class", "province", "city", "county", "primary_phone", "updated_at")
    list_filter = ("customer_class", "province")
    search_fields = ("name", "phones__number", "machines__serial_number")
    autocomplete_fields = ("registered_by",)
    inlines = [CustomerPhoneInline, MachineInline]
    fieldsets = (
        (None, {"fields": ("name", "customer_class", "registered_by")}),
        (_("Address"), {"fields": (("province", "city", "county"), ("township", "village"), "address")}),
        (_("Notes"), {"fields": ("notes",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("phones")

    @admin.display(description=_("phone"))
    def primary_phone(self, obj):
        phones = list(obj.phones.all())
        return str(phones[0]) if phones else ""


@admin.register(ProductModel)
class ProductModelAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "category", "rated_power_kw", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("code", "name")


class MachineForm(forms.ModelForm):
    class Meta:
        model = Machine
        fields = "__all__"

    def clean_serial_number(self):
        return self.cleaned_data["serial_number"].strip().upper()

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        for key in ("invoice_date", "delivery_date"):
            value = data.get(key)
            if value and value > today:
                self.add_error(key, _("The date is in the future."))
        return data


class HoursReadingInline(admin.TabularInline):
    model = HoursReading
    extra = 0
    fields = ("read_on", "hours", "source")


class ExchangeInline(admin.TabularInline):
    model = MachineExchange
    fk_name = "machine"
    extra = 0
    autocomplete_fields = ("replacement",)


@admin.register(Machine)
class MachineAdmin(admin.ModelAdmin):
    form = MachineForm
    list_display = ("serial_number", "model", "owner", "invoice_date", "delivery_date", "status")
    list_filter = ("status", "model__category")
    search_fields = ("serial_number", "engine_number", "owner__name", "model__code")
    autocomplete_fields = ("model", "owner", "selling_dealer", "registered_by")
    list_select_related = ("model", "owner")
    inlines = [HoursReadingInline, ExchangeInline]
    date_hierarchy = "invoice_date"
    actions = ["print_qr_labels"]

    @admin.action(description=_("Print QR labels for the plates"))
    def print_qr_labels(self, request, queryset):
        # The portal's label sheet (portal.labels), for the machines ticked here.
        from django.shortcuts import redirect
        from django.urls import reverse

        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True)[:200])
        return redirect(f"{reverse('machine-labels')}?ids={ids}")


@admin.register(PhoneReveal)
class PhoneRevealAdmin(admin.ModelAdmin):
    """号码查看记录: an audit trail, so read-only even here."""

    list_display = ("at", "user", "organization", "customer", "order_id", "reason", "purpose")
    list_filter = ("reason", "organization")
    list_select_related = ("user", "organization", "customer")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
