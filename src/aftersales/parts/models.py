"""备件 and 三包索赔: the parts catalogue, where every part is (a ledger of movements), requisitions,
old parts coming back to the technical centre, and what the maker owes each partner for warranty work.

Money is Decimal (2 places, yuan); quantities are Decimal (litres of oil are parts too)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

QTY = {"max_digits": 12, "decimal_places": 2}
MONEY = {"max_digits": 14, "decimal_places": 2}


class Part(models.Model):
    """备件目录: one part number. ``component`` is the warranty component code it belongs to, so a
    part's warranty class (wear / main / general) follows the machine's policy."""

    number = models.CharField(_("part number"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=10, default="件")
    component = models.CharField(_("component"), max_length=40, default="whole_machine")
    models_fitted = models.ManyToManyField("registry.ProductModel", verbose_name=_("fits models"), blank=True,
                                           related_name="parts")
    wear_part = models.BooleanField(_("wear part"), default=False)
    serial_tracked = models.BooleanField(_("serial-tracked"), default=False)
    return_required = models.BooleanField(_("old part must come back"), default=False)
    superseded_by = models.ForeignKey("self", verbose_name=_("superseded by"), on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="supersedes")
    standard_cost = models.DecimalField(_("standard cost"), **MONEY, default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name_zh}"

    def label(self, language: str = "zh-hans") -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name_zh


class PriceAudience(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    PARTNER = "partner", _("Partner")


class PartPrice(models.Model):
    """价格表: one price of a part for an audience (a customer class, or a partner level, i.e. the
    organization kind) over a validity period. A blank level is the audience's general price."""

    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="prices")
    audience = models.CharField(_("audience"), max_length=10, choices=PriceAudience.choices)
    level = models.CharField(_("customer type or partner level"), max_length=32, blank=True)
    price = models.DecimalField(_("price"), **MONEY)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("part price")
        verbose_name_plural = _("part prices")
        ordering = ["part", "audience", "level", "-valid_from"]
        constraints = [models.CheckConstraint(condition=models.Q(price__gte=0), name="part_price_not_negative")]


class WarehouseKind(models.TextChoices):
    CENTRE = "centre", _("Central warehouse")
    BRANCH = "branch", _("Branch warehouse")
    AGENCY = "agency", _("Agency warehouse")
    VAN = "van", _("Service van")


class Warehouse(models.Model):
    """仓库: the centre's, each branch's and agency's, and each technician's van."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=WarehouseKind.choices)
    organization = models.ForeignKey("accounts.Organization", verbose_name=_("organization"), on_delete=models.PROTECT,
                                     related_name="warehouses")
    technician = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("technician"), on_delete=models.PROTECT,
                                      null=True, blank=True, related_name="van")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class MoveKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    ISSUE = "issue", _("Issue to an order")
    RETURN = "return", _("Return from an order")
    ADJUSTMENT = "adjustment", _("Adjustment")
    STOCKTAKE = "stocktake", _("Stocktake")


class StockMove(models.Model):
    """库存台账: one movement, signed (+ in, − out). The ledger is the truth: a balance is the sum of
    its warehouse's and part's lines; rows are never updated or deleted."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="moves")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="moves")
    kind = models.CharField(_("kind"), max_length=14, choices=MoveKind.choices)
    quantity = models.DecimalField(_("quantity"), **QTY)
    unit_cost = models.DecimalField(_("unit cost"), **MONEY, default=0)
    serial = models.CharField(_("serial number"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    order = models.ForeignKey("service.ServiceOrder", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="stock_moves")
    requisition = models.ForeignKey("Requisition", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="moves")
    counterpart = models.ForeignKey(Warehouse, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["warehouse", "part"], name="parts_move_wh_part_idx"),
                   models.Index(fields=["order"], name="parts_move_order_idx")]
        constraints = [models.CheckConstraint(condition=~models.Q(quantity=0), name="stock_move_not_zero")]


class StockBalance(models.Model):
    """The cached balance of one part in one warehouse, written in the same transaction as its
    movement under a row lock; the check constraint is the last line against a negative stock.
    ``aftersales parts check-ledger`` compares it with the ledger."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="balances")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="balances")
    quantity = models.DecimalField(_("on hand"), **QTY, default=0)
    reorder_point = models.DecimalField(_("reorder point"), **QTY, default=0)
    reorder_quantity = models.DecimalField(_("reorder quantity"), **QTY, default=0)

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "part"], name="stock_balance_one_per_part"),
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="stock_balance_never_negative"),
        ]


class SerialUnit(models.Model):
    """A serial-tracked part (engine, gearbox): where this very unit is now, or the order it went into."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="units")
    serial = models.CharField(_("serial number"), max_length=60)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, null=True, blank=True, related_name="units")
    order = models.ForeignKey("service.ServiceOrder", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    in_transit = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["part", "serial"], name="serial_unit_once")]


class RequisitionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    SHIPPED = "shipped", _("Shipped")
    RECEIVED = "received", _("Received")
    REJECTED = "rejected", _("Rejected")


class Requisition(models.Model):
    """备件申请: a technician or branch asks for parts (for an order or for stock); the centre
    approves (perhaps less), ships with a tracking number, and the receiver confirms."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=RequisitionStatus.choices,
                              default=RequisitionStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="requisitions")
    to_warehouse = models.ForeignKey(Warehouse, verbose_name=_("deliver to"), on_delete=models.PROTECT,
                                     related_name="requisitions_in")
    from_warehouse = models.ForeignKey(Warehouse, verbose_name=_("ship from"), on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="requisitions_out")
    order = models.ForeignKey("service.ServiceOrder", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="requisitions")
    note = models.CharField(_("note"), max_length=300, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    clock_paused = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("requested at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("parts requisition")
        verbose_name_plural = _("parts requisitions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def waiting_days(self) -> int:
        """Calendar days the order waited for these parts (三包: the period is extended by them)."""
        if self.order_id is None:
            return 0
        from django.utils import timezone

        end = self.received_at or timezone.now()
        return max(0, (timezone.localdate(end) - timezone.localdate(self.created_at)).days)


class RequisitionLine(models.Model):
    requisition = models.ForeignKey(Requisition, on_delete=models.CASCADE, related_name="lines")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("requested"), **QTY)
    approved = models.DecimalField(_("approved"), **QTY, null=True, blank=True)
    serials = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="requisition_line_positive")]


class Verdict(models.TextChoices):
    CONFIRMED_FAULT = "confirmed_fault", _("Fault confirmed")
    MISUSE = "misuse", _("Misuse")
    NO_FAULT_FOUND = "no_fault_found", _("No fault found")
    NOT_RETURNED = "not_returned", _("Not returned")


class OldPartStatus(models.TextChoices):
    AWAITING = "awaiting", _("To be returned")
    SHIPPED = "shipped", _("Shipped back")
    RECEIVED = "received", _("Received")
    INSPECTED = "inspected", _("Inspected")


class ReturnBatch(models.Model):
    """旧件返回批次: old parts of one organization sent back together with one tracking number."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    tracking_number = models.CharField(_("tracking number"), max_length=60)
    shipped_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    shipped_at = models.DateTimeField(_("shipped at"))
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        ordering = ["-shipped_at"]


class OldPart(models.Model):
    """旧件: a replaced warranty part tagged to its order, to come back to the technical centre."""

    order = models.ForeignKey("service.ServiceOrder", on_delete=models.PROTECT, related_name="old_parts")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QTY)
    serial = models.CharField(_("serial number"), max_length=60, blank=True)
    tag = models.CharField(_("tag"), max_length=40, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=OldPartStatus.choices, default=OldPartStatus.AWAITING)
    batch = models.ForeignKey(ReturnBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="parts")
    verdict = models.CharField(_("verdict"), max_length=16, choices=Verdict.choices, blank=True)
    inspection_note = models.CharField(_("inspection note"), max_length=300, blank=True)
    inspected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    inspected_at = models.DateTimeField(_("inspected at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("old part")
        verbose_name_plural = _("old parts")
        ordering = ["-created_at", "-id"]


class GeoPoint(models.Model):
    """Coordinates (WGS-84) of an organization's base or a customer's place, for the travel distance of
    a claim. The archive keeps addresses as names only; these rows are what the distance is computed on."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE, null=True, blank=True,
                                        related_name="geo_point")
    customer = models.OneToOneField("registry.Customer", on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="geo_point")
    lat = models.DecimalField(max_digits=9, decimal_places=6)
    lon = models.DecimalField(max_digits=9, decimal_places=6)


class ClaimRate(models.Model):
    """Rates of a region (province; blank: everywhere else) from a date: labour per standard hour,
    travel per kilometre, and the days a partner has to file a claim after completion."""

    province = models.CharField(_("province"), max_length=20, blank=True)
    labour_per_hour = models.DecimalField(_("labour rate per hour"), **MONEY)
    travel_per_km = models.DecimalField(_("travel rate per km"), **MONEY)
    filing_days = models.PositiveIntegerField(_("days to file a claim"), default=30)
    valid_from = models.DateField(_("valid from"))

    class Meta:
        verbose_name = _("claim rate")
        verbose_name_plural = _("claim rates")
        ordering = ["province", "-valid_from"]


class StandardHours(models.Model):
    """标准工时: the hours paid for a repair code (component code × repaired/replaced)."""

    component = models.CharField(_("component"), max_length=40)
    action = models.CharField(_("repaired or replaced"), max_length=10)
    hours = models.DecimalField(_("standard hours"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("standard hours")
        verbose_name_plural = _("standard hours")
        constraints = [models.UniqueConstraint(fields=["component", "action"], name="standard_hours_once")]


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    ADJUSTED = "adjusted", _("Approved with adjustment")
    REJECTED = "rejected", _("Rejected")
    SETTLED = "settled", _("In a settlement")
    PAID = "paid", _("Paid")


LOCKED_CLAIM_STATUSES = frozenset({ClaimStatus.SETTLED, ClaimStatus.PAID})


class Claim(models.Model):
    """三包索赔单: what the maker owes the serving organization for one completed warranty order."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    order = models.OneToOneField("service.ServiceOrder", on_delete=models.PROTECT, related_name="claim")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(_("status"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT)
    parts_amount = models.DecimalField(_("parts"), **MONEY, default=0)
    labour_amount = models.DecimalField(_("labour"), **MONEY, default=0)
    travel_amount = models.DecimalField(_("travel"), **MONEY, default=0)
    total = models.DecimalField(_("claimed"), **MONEY, default=0)
    approved_total = models.DecimalField(_("approved"), **MONEY, null=True, blank=True)
    claimed_km = models.DecimalField(_("claimed distance (km)"), max_digits=8, decimal_places=1, null=True, blank=True)
    computed_km = models.DecimalField(_("computed distance (km)"), max_digits=8, decimal_places=1, null=True,
                                      blank=True)
    flags = models.JSONField(_("automatic checks"), default=list, blank=True)
    review_reason = models.CharField(_("review reason"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    settlement = models.ForeignKey("Settlement", on_delete=models.PROTECT, null=True, blank=True, related_name="claims")
    completed_at = models.DateTimeField(_("order completed at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("warranty claim")
        verbose_name_plural = _("warranty claims")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "status"], name="parts_claim_org_status_idx")]

    def __str__(self) -> str:
        return self.number


class ClaimLineKind(models.TextChoices):
    PART = "part", _("Part")
    LABOUR = "labour", _("Labour")
    TRAVEL = "travel", _("Travel")


class ClaimLine(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("kind"), max_length=8, choices=ClaimLineKind.choices)
    part = models.ForeignKey(Part, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), **QTY)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    amount = models.DecimalField(_("amount"), **MONEY)
    approved_amount = models.DecimalField(_("approved amount"), **MONEY, null=True, blank=True)

    class Meta:
        ordering = ["id"]


class SettlementStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    CONFIRMED = "confirmed", _("Confirmed by the partner")
    PAID = "paid", _("Paid")


class Settlement(models.Model):
    """月度结算单: one organization's reviewed claims of one month, which the partner confirms line by line."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="settlements")
    month = models.DateField(_("month"))
    status = models.CharField(_("status"), max_length=10, choices=SettlementStatus.choices,
                              default=SettlementStatus.ISSUED)
    total = models.DecimalField(_("total"), **MONEY, default=0)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("settlement statement")
        verbose_name_plural = _("settlement statements")
        ordering = ["-month", "organization"]
        constraints = [models.UniqueConstraint(fields=["organization", "month"], name="settlement_once_a_month")]


class PartsCounter(models.Model):
    """Daily counters for the numbers of requisitions, claims, batches and settlements."""

    prefix = models.CharField(max_length=8)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="parts_counter_once")]
