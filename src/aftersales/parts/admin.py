"""The catalogue, price lists, warehouses and rates are kept by administrators here; stock never is:
balances and movements are read-only (every movement goes through parts.services)."""

from django.contrib import admin

from aftersales.parts.models import ClaimRate, GeoPoint, Part, PartPrice, StandardHours, StockBalance, StockMove, Warehouse


class PriceInline(admin.TabularInline):
    model = PartPrice
    extra = 1


@admin.register(Part)
class PartAdmin(admin.ModelAdmin):
    list_display = ("number", "name_zh", "name_en", "component", "wear_part", "serial_tracked", "return_required",
                    "superseded_by", "is_active")
    search_fields = ("number", "name_zh", "name_en")
    list_filter = ("wear_part", "serial_tracked", "return_required", "is_active")
    filter_horizontal = ("models_fitted",)
    inlines = [PriceInline]


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "organization", "technician", "is_active")
    list_filter = ("kind",)


admin.site.register(ClaimRate)
admin.site.register(StandardHours)
admin.site.register(GeoPoint)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockMove)
class StockMoveAdmin(ReadOnly):
    list_display = ("at", "warehouse", "part", "kind", "quantity", "serial", "tracking_number", "order")
    list_filter = ("kind",)


@admin.register(StockBalance)
class StockBalanceAdmin(ReadOnly):
    list_display = ("warehouse", "part", "quantity", "reorder_point", "reorder_quantity")
