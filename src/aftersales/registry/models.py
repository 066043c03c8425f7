from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.choices import ProductCategory
from aftersales.core.models import TimeStamped


class CustomerClass(models.TextChoices):
    """客户分类: decides the service level at intake (大客户 are served first)."""

    KEY_ACCOUNT = "key_account", _("Key account")
    FARMER = "farmer", _("Farmer")
    DEALER = "dealer", _("Dealer")
    OTHER = "other", _("Other")


class Customer(TimeStamped):
    """客户档案: a customer of the maker, found by any of their phone numbers."""

    name = models.CharField(_("name"), max_length=100, db_index=True)
    customer_class = models.CharField(
        _("customer class"), max_length=20, choices=CustomerClass.choices, default=CustomerClass.FARMER
    )
    province = models.CharField(_("province"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    county = models.CharField(_("county"), max_length=30, blank=True)
    township = models.CharField(_("township"), max_length=30, blank=True)
    village = models.CharField(_("village"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True, help_text=_("Street, house, landmark"))
    notes = models.TextField(_("notes"), blank=True)
    registered_by = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_customers",
        help_text=_("The organization that recorded this customer; a partner sees the customers it recorded."),
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(fields=["province", "city", "county"], name="customer_region_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def region(self) -> str:
        return "".join(p for p in (self.province, self.city, self.county, self.township, self.village) if p)


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    LANDLINE = "landline", _("Landline")


class CustomerPhone(models.Model):
    """客户电话: one of a customer's numbers, stored in E.164 so every spelling finds the same customer."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=PhoneKind.choices, default=PhoneKind.MOBILE)
    is_primary = models.BooleanField(_("primary"), default=False)
    # The national digits reversed, so "last four digits" is an indexed prefix lookup.
    reversed_digits = models.CharField(max_length=20, db_index=True, editable=False)

    class Meta:
        verbose_name = _("customer phone")
        verbose_name_plural = _("customer phones")
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        from aftersales.core.phones import display_phone

        return display_phone(self.number)


class ProductModel(TimeStamped):
    """产品型号: a product model with its category, power, main parts and wear parts."""

    code = models.CharField(_("model code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("product category"), max_length=32, choices=ProductCategory.choices)
    rated_power_kw = models.DecimalField(
        _("rated power (kW)"), max_digits=7, decimal_places=2, null=True, blank=True,
        help_text=_("Required for tractors: the warranty period differs above and below 18 kW."),
    )
    main_components = models.JSONField(_("main components"), default=list, blank=True)
    wear_parts = models.JSONField(_("wear parts"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product model")
        verbose_name_plural = _("product models")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(category=ProductCategory.TRACTOR) | models.Q(rated_power_kw__gt=0),
                name="tractor_needs_power",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MachineStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("In service")
    EXCHANGED = "exchanged", _("Exchanged")
    RETURNED = "returned", _("Returned")
    SCRAPPED = "scrapped", _("Scrapped")


class Machine(TimeStamped):
    """设备档案: one machine, known by its serial number (出厂编号)."""

    serial_number = models.CharField(_("serial number"), max_length=40, unique=True)
    engine_number = models.CharField(_("engine number"), max_length=40, blank=True, db_index=True)
    model = models.ForeignKey(ProductModel, verbose_name=_("product model"), on_delete=models.PROTECT, related_name="machines")
    owner = models.ForeignKey(
        Customer, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="machines", null=True, blank=True
    )
    selling_dealer = models.ForeignKey(
        "accounts.Organization", verbose_name=_("selling dealer"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="sold_machines",
    )
    invoice_date = models.DateField(_("invoice date"), null=True, blank=True)
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=MachineStatus.choices, default=MachineStatus.IN_SERVICE)
    registered_by = models.ForeignKey(
        "accounts.Organization", verbose_name=_("registered by"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="registered_machines",
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("machine")
        verbose_name_plural = _("machines")

    def __str__(self) -> str:
        return self.serial_number

    @property
    def warranty_start(self):
        dates = [d for d in (self.invoice_date, self.delivery_date) if d]
        return max(dates) if dates else None


class HoursReading(models.Model):
    """小时表读数: an hour-meter reading, from a service visit or a customer's call."""

    machine = models.ForeignKey(Machine, verbose_name=_("machine"), on_delete=models.CASCADE, related_name="hours_readings")
    hours = models.DecimalField(_("hours"), max_digits=9, decimal_places=1)
    read_on = models.DateField(_("read on"))
    source = models.CharField(_("source"), max_length=40, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True,
                              help_text=_("Why a reading beyond what the meter can run is right"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        verbose_name = _("hour-meter reading")
        verbose_name_plural = _("hour-meter readings")
        ordering = ["-read_on", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(hours__gte=0), name="hours_not_negative")]


class ExchangeKind(models.TextChoices):
    EXCHANGE = "exchange", _("Exchange")
    RETURN = "return", _("Return")


class MachineExchange(models.Model):
    """退换机记录: a machine exchanged for a new one (the warranty restarts) or returned for a refund."""

    machine = models.ForeignKey(Machine, verbose_name=_("machine"), on_delete=models.PROTECT, related_name="exchanges_out")
    replacement = models.ForeignKey(
        Machine, verbose_name=_("replacement machine"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="exchanges_in",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ExchangeKind.choices)
    happened_on = models.DateField(_("date"))
    reason = models.TextField(_("reason"), blank=True)
    refund_amount = models.DecimalField(_("refund amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    # The fault that led to it (a component code and its seriousness): the replacement machine's
    # warranty history starts with this exchange, and the same fault recurring gives a return.
    component = models.CharField(_("component"), max_length=40, default="whole_machine")
    serious = models.BooleanField(_("serious fault"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("exchange or return")
        verbose_name_plural = _("exchanges and returns")
        ordering = ["-happened_on"]


class RevealReason(models.TextChoices):
    """Why a partner was shown a customer's full number (the rule in registry/policies.py)."""

    REGISTERED = "registered", _("Registered the customer")
    SERVES_OPEN_ORDER = "serves_open_order", _("Serves an open order of the customer")
    RECORDED_ORDER = "recorded_order", _("Recorded the order (dealer)")


class PhoneReveal(models.Model):
    """号码查看记录: a partner user was shown a customer's full phone number. Customer data is
    confidential (信息安全); supervisors list and export these rows to check who read which number.
    Written by ``registry.services.phone_reveal_record`` whenever the phone rule answers "full" for
    a user outside the maker's own centres."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("accounts.Organization", verbose_name=_("organization"), on_delete=models.PROTECT,
                                     null=True, related_name="+")
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+")
    order_id = models.BigIntegerField(_("order"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=30, choices=RevealReason.choices)
    purpose = models.CharField(_("where"), max_length=60, blank=True,
                               help_text=_("The page or API answer that showed the number"))

    class Meta:
        verbose_name = _("phone number reveal")
        verbose_name_plural = _("phone number reveals")
        ordering = ["-at", "-id"]
