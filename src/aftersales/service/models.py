"""Service orders (任务单) and what hangs off them: the timeline, the service record, quotes,
escalations, complaints, return/exchange requests, ratings and attachments.

Status changes happen only in services.py through the transition table in workflow.py; nothing
here has business logic in ``save()``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections, models, router
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from aftersales.core.models import StoredFile, TimeStamped
from aftersales.core.rawrows import children
from aftersales.core.choices import ServiceLevel  # re-exported: the SLA rules share its codes


class OrderType(models.TextChoices):
    REPAIR = "repair", _("Repair")
    CONSULTATION = "consultation", _("Consultation")
    COMPLAINT = "complaint", _("Complaint")
    RETURN_EXCHANGE = "return_exchange", _("Return / exchange")


class Channel(models.TextChoices):
    """How the request reached us (受理渠道): one entry for every request, the channel recorded."""

    PHONE = "phone", _("Phone")
    FAX = "fax", _("Fax")
    EMAIL = "email", _("E-mail")
    PORTAL = "portal", _("Customer portal")
    API = "api", _("API")
    VISIT = "visit", _("Return visit")
    CAMPAIGN = "campaign", _("Campaign")




class ServiceMode(models.TextChoices):
    """The codes are the warranty engine's (warranty.policy.SERVICE_MODES)."""

    ON_SITE = "on_site", _("On-site")
    CARRY_IN = "carry_in", _("Carry-in")
    MAIL_IN = "mail_in", _("Mail-in")
    PAID = "paid", _("Paid service")
    PHONE = "phone", _("Phone answer")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent (busy season)")
    CRITICAL = "critical", _("Critical (machine stopped in the field)")


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    FORWARDED = "forwarded", _("Forwarded")
    DIAGNOSING = "diagnosing", _("Diagnosing")
    AWAITING_DISPATCH = "awaiting_dispatch", _("Awaiting dispatch")
    DISPATCHED = "dispatched", _("Dispatched")
    # One English word, two meanings: the order's "accepted" (已接单) is not the quote's (客户已接受).
    ACCEPTED = "accepted", pgettext_lazy("order status", "Accepted")
    ASSIGNED = "assigned", _("Assigned")
    TECH_ACCEPTED = "tech_accepted", _("Accepted by technician")
    SCHEDULED = "scheduled", _("Scheduled")
    # An order being served (服务中), not a machine in use (在用, registry.MachineStatus).
    IN_SERVICE = "in_service", pgettext_lazy("order status", "In service")
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting confirmation")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")
    ESCALATED = "escalated", _("Escalated")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    INVESTIGATING = "investigating", _("Investigating")
    CANCELLED = "cancelled", _("Cancelled")


# Badge colours (Bootstrap names) kept next to the choices so every page shows a status alike.
STATUS_COLOURS: dict[str, str] = {
    OrderStatus.NEW: "secondary",
    OrderStatus.FORWARDED: "info",
    OrderStatus.DIAGNOSING: "info",
    OrderStatus.AWAITING_DISPATCH: "warning",
    OrderStatus.DISPATCHED: "primary",
    OrderStatus.ACCEPTED: "primary",
    OrderStatus.ASSIGNED: "primary",
    OrderStatus.TECH_ACCEPTED: "primary",
    OrderStatus.SCHEDULED: "primary",
    OrderStatus.IN_SERVICE: "primary",
    OrderStatus.AWAITING_CONFIRMATION: "warning",
    OrderStatus.COMPLETED: "success",
    OrderStatus.CLOSED: "dark",
    OrderStatus.ESCALATED: "danger",
    OrderStatus.AWAITING_APPROVAL: "warning",
    OrderStatus.INVESTIGATING: "danger",
    OrderStatus.CANCELLED: "light",
}

FINAL_STATUSES = frozenset({OrderStatus.CLOSED, OrderStatus.CANCELLED})
# Completed still counts as open work for load and visibility: the rating call is due.
OPEN_STATUSES = frozenset(s for s in OrderStatus.values if s not in FINAL_STATUSES)


class WarrantyRemedy(models.TextChoices):
    """What the 三包 engine says the user is owed now (warranty.engine.REMEDIES), in the 2010
    regime's order: repair, then main-part replacement, then exchange, then return."""

    NONE = "none", _("No free remedy (paid service)")
    REPAIR = "repair", _("Free repair")
    MAIN_PART_REPLACEMENT = "main_part_replacement", _("Free main-part replacement")
    EXCHANGE = "exchange", _("Whole-machine exchange")
    RETURN = "return", _("Return (refund)")


class ServiceOrder(TimeStamped):
    """任务单: one request of a customer, from the first call to the rating. Never deleted."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    order_type = models.CharField(_("type"), max_length=20, choices=OrderType.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    status = models.CharField(_("status"), max_length=24, choices=OrderStatus.choices, default=OrderStatus.NEW)
    version = models.PositiveIntegerField(_("version"), default=1)
    event_seq = models.PositiveIntegerField(default=0, editable=False)

    customer = models.ForeignKey("registry.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="service_orders")
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, help_text=_("E.164"))
    machine = models.ForeignKey(
        "registry.Machine", verbose_name=_("machine"), on_delete=models.PROTECT, null=True, blank=True, related_name="service_orders"
    )
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)

    # The warranty decision at intake, with the policy version that made it: a later policy edit
    # must not change what the customer was told.
    warranty_status = models.CharField(_("warranty status"), max_length=12, blank=True)
    warranty_remedy = models.CharField(_("warranty remedy"), max_length=30, blank=True, choices=WarrantyRemedy.choices)
    warranty_policy_name = models.CharField(_("warranty policy"), max_length=60, blank=True)
    warranty_policy_version = models.PositiveIntegerField(_("warranty policy version"), null=True, blank=True)
    warranty_reasons = models.JSONField(_("warranty reasons"), default=list, blank=True)
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True)

    # 耕作状况
    crop = models.CharField(_("crop"), max_length=40, blank=True)
    operation = models.CharField(_("operation"), max_length=40, blank=True)
    field_location = models.CharField(_("field location"), max_length=200, blank=True)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    symptom = models.TextField(_("fault symptom"), blank=True)

    service_level = models.CharField(_("service level"), max_length=12, choices=ServiceLevel.choices)
    proposed_level = models.CharField(_("proposed service level"), max_length=12, choices=ServiceLevel.choices, blank=True)
    service_mode = models.CharField(_("service mode"), max_length=10, choices=ServiceMode.choices, blank=True)
    proposed_mode = models.CharField(_("proposed service mode"), max_length=10, choices=ServiceMode.choices, blank=True)
    override_reason = models.CharField(_("override reason"), max_length=300, blank=True)

    owning_org = models.ForeignKey(
        "accounts.Organization", verbose_name=_("owning organization"), on_delete=models.PROTECT, related_name="owned_orders"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("first-contact owner"), on_delete=models.PROTECT, related_name="owned_orders",
        help_text=_("首问负责人: whoever first took the request stays responsible to the end."),
    )
    hotline_technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("hotline technician"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="hotline_orders",
    )
    assigned_org = models.ForeignKey(
        "accounts.Organization", verbose_name=_("assigned organization"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="assigned_orders",
    )
    assigned_technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned technician"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="assigned_orders",
    )

    answer = models.TextField(_("answer or phone solution"), blank=True)
    diagnosis = models.JSONField(_("diagnosis steps"), default=list, blank=True)
    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("possible duplicate of"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    related_order = models.ForeignKey(
        "self", verbose_name=_("related order"), on_delete=models.PROTECT, null=True, blank=True, related_name="related_orders"
    )

    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    # The time promised to the customer (appointment, or a call-back time); "overdue" is past it.
    promised_at = models.DateTimeField(_("promised time"), null=True, blank=True)
    forwarded_at = models.DateTimeField(_("forwarded at"), null=True, blank=True)
    callback_at = models.DateTimeField(_("called back at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    # Dispatched to an organization whose coverage (服务区域) does not hold the customer's place; the
    # coordinator's reason is in the dispatch event. Flagged so supervision can find these orders.
    outside_coverage = models.BooleanField(_("dispatched outside coverage"), default=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    inbound_tracking = models.CharField(_("inbound tracking number"), max_length=60, blank=True)
    outbound_tracking = models.CharField(_("return tracking number"), max_length=60, blank=True)

    confirmation_code_hash = models.CharField(max_length=64, blank=True, editable=False)
    confirmation_failures = models.PositiveSmallIntegerField(default=0, editable=False)
    confirmed_by_name = models.CharField(_("confirmed by"), max_length=50, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=300, blank=True)
    # The customer's tracking link (sent by SMS): unguessable, unlike the order number. Null only
    # for orders recorded before the field existed.
    tracking_token = models.CharField(max_length=32, unique=True, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("service order")
        verbose_name_plural = _("service orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The queues: all orders in one status (awaiting dispatch, escalated...) and an
            # organization's orders in a status (equality on both columns).
            models.Index(fields=["status", "assigned_org"], name="order_status_org_idx"),
            # One status, newest first: a status tab of the queue (continued by keyset at any depth)
            # and the bounded count of a status (selectors.order_status_counts), which reads at most
            # cap + 1 entries in this order and stops; a bitmap scan read every order in the status.
            models.Index(fields=["status", "created_at", "id"], name="order_status_recent_idx"),
            # A technician's own list ("my orders").
            models.Index(fields=["assigned_technician", "status"], name="order_tech_queue_idx"),
            # The duplicate guard and the machine's history.
            models.Index(fields=["machine", "status"], name="order_machine_idx"),
            # The duplicate guard by phone within 7 days.
            models.Index(fields=["contact_phone", "created_at"], name="order_phone_recent_idx"),
            # (customer) needs no entry: the foreign key's own index serves "orders of a customer".
            # Whether a partner sees a customer (apps._customers_of_orders, _served_customers_q) is a
            # probe of these two; on the customer's index alone it read every order of the customer,
            # and a partner's search checks hundreds of customers (36 s at 8,000,000 orders).
            models.Index(fields=["customer", "assigned_org"], name="order_customer_assigned_idx"),
            models.Index(fields=["customer", "owning_org"], name="order_customer_owning_idx"),
            # The phone rule asks, for each row a partner's list shows, whether the partner serves an
            # open order of that customer (apps._serves_open_order): a probe of the open ones only, where
            # the index above walked all the customer's closed orders (tens of ms a row at 10,000,000).
            models.Index(fields=["customer", "assigned_org"], name="order_customer_open_idx",
                         condition=models.Q(status__in=sorted(OPEN_STATUSES))),
            models.Index(fields=["created_at"], name="order_created_idx"),
            # A dealer's list: the orders it recorded.
            models.Index(fields=["owning_org", "created_at"], name="order_owning_org_idx"),
            # The overdue filter: open orders past their promised time.
            models.Index(
                fields=["promised_at"], name="order_overdue_idx",
                condition=~models.Q(status__in=["closed", "cancelled", "completed"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(version__gte=1), name="order_version_positive"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS.get(self.status, "secondary")

    # The order's quotes, escalations and timeline, read once per instance: an action's guards, its
    # hooks (the SLA clocks read the timeline) and its answer (totals, allowed actions, escalations)
    # each asked the database again, and a related manager's queryset is compiled even when empty.
    # An action that writes quotes or escalations forgets them (``forget_children``); events are
    # appended to the held timeline by the one function that writes them (services.common).
    # Each is read by a statement written once per process (core.rawrows.children, issue 14): every
    # action's answer and hooks read them, and building the related manager's queryset cost more
    # than the read. The orderings are the models' own (a quote's "order, id" is "id" within one
    # order). tests/service/test_order_children_read.py pins them against the related managers.
    def quote_list(self) -> list:
        if "_quote_list" not in self.__dict__:
            self.__dict__["_quote_list"] = _children(Quote, self, ("id",))
        return self.__dict__["_quote_list"]

    def escalation_list(self) -> list:
        if "_escalation_list" not in self.__dict__:
            self.__dict__["_escalation_list"] = _children(Escalation, self, ("-raised_at",))
        return self.__dict__["_escalation_list"]

    def timeline(self) -> list:
        """Every event of the order, by ``seq``."""
        if "_timeline" not in self.__dict__:
            self.__dict__["_timeline"] = _children(OrderEvent, self, ("seq",))
        return self.__dict__["_timeline"]

    def forget_children(self) -> None:
        self.__dict__.pop("_quote_list", None)
        self.__dict__.pop("_escalation_list", None)


class OrderEvent(models.Model):
    """任务单日志: one step of an order's timeline. Append-only; the SLA, statistics and process
    map read from it."""

    order = models.ForeignKey(ServiceOrder, verbose_name=_("service order"), on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField(_("sequence"))
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), on_delete=models.PROTECT, null=True, related_name="+")
    actor_org = models.ForeignKey(
        "accounts.Organization", verbose_name=_("actor organization"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(_("from status"), max_length=24, blank=True)
    to_status = models.CharField(_("to status"), max_length=24, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    # Where the actor was (check-in and check-out, when the technician shares the browser's position):
    # fields of their own, so a supervisor's map or a distance check reads numbers, not a note.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(_("accuracy (m)"), null=True, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["order", "seq"]
        constraints = [models.UniqueConstraint(fields=["order", "seq"], name="order_event_seq_unique")]
        indexes = [
            # Statistics and the process map: all events of one action in a time range.
            models.Index(fields=["action", "at"], name="order_event_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.seq} {self.action}"


class OrderNumberSequence(models.Model):
    """任务单编号序列: the last number handed out on one day (Asia/Shanghai)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("order number sequence")
        verbose_name_plural = _("order number sequences")


class IdempotencyKey(models.Model):
    """幂等键: a client's key for one create call, so a retried request never makes a second order."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    # Null only inside the creating transaction (the row is written first to claim the key).
    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, null=True, related_name="+")
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]


class ServiceRecord(TimeStamped):
    """服务记录单: what the technician found and did; the repair record the 三包 rules require."""

    order = models.OneToOneField(ServiceOrder, verbose_name=_("service order"), on_delete=models.PROTECT, related_name="service_record")
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("technician"), on_delete=models.PROTECT, related_name="+")
    fault_found = models.TextField(_("fault found"))
    cause = models.TextField(_("cause"), blank=True)
    diagnosis_steps = models.JSONField(_("diagnosis steps"), default=list, blank=True)
    solution = models.TextField(_("solution"))
    labour_hours = models.DecimalField(_("labour hours"), max_digits=6, decimal_places=2, default=0)
    hours_meter = models.DecimalField(_("hour-meter reading"), max_digits=9, decimal_places=1, null=True, blank=True)
    # The component repaired (a code of warranty/data/parts.json, or "whole_machine") and whether the
    # fault was serious: the warranty engine counts repeated repairs of the same component.
    component = models.CharField(_("component repaired"), max_length=40, default="whole_machine")
    serious = models.BooleanField(_("serious fault"), default=False)

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")


class PartAction(models.TextChoices):
    REPAIRED = "repaired", _("Repaired")
    REPLACED = "replaced", _("Replaced")


class PartUsage(models.Model):
    """用件记录: one part used on a service, under warranty or paid."""

    record = models.ForeignKey(ServiceRecord, verbose_name=_("service record"), on_delete=models.CASCADE, related_name="parts")
    part_number = models.CharField(_("part number"), max_length=40)
    name = models.CharField(_("name"), max_length=100, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=9, decimal_places=2)
    warranty = models.BooleanField(_("under warranty"), default=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2, default=0)
    # The repair record the 三包 rules count (see warranty.engine.RepairRecord): which component
    # this line worked on, whether it was repaired or replaced, and how serious the fault was.
    component = models.CharField(_("component"), max_length=40, default="whole_machine")
    action = models.CharField(_("repaired or replaced"), max_length=10, choices=PartAction.choices, default=PartAction.REPAIRED)
    serious = models.BooleanField(_("serious fault"), default=False)

    @property
    def component_label(self) -> str:
        """The component's name in the current language, for pages and printouts."""
        from django.utils.translation import get_language

        from aftersales.warranty.parts import part_label

        return part_label(self.component, get_language() or "zh-hans")

    class Meta:
        verbose_name = _("part used")
        verbose_name_plural = _("parts used")
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="part_quantity_positive")]


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    DOCUMENT = "document", _("Document")
    SIGNATURE = "signature", _("Customer signature")
    # From the customer's phone portal: a short video or a voice note of the fault.
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Voice note")


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never comes from the client: an uploaded name could carry a path or an
    # executable extension. The original name is kept in a column for display only.
    return f"orders/{instance.order_id}/{instance.token}{instance.extension}"


class Attachment(StoredFile):
    """附件: a photo, a document or a signature image of an order, stored through Django's storage."""

    order = models.ForeignKey(ServiceOrder, verbose_name=_("service order"), on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=10, choices=AttachmentKind.choices, default=AttachmentKind.PHOTO)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["order", "id"]


class QuoteStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", pgettext_lazy("quote status", "Accepted")
    DECLINED = "declined", _("Declined")
    SUPERSEDED = "superseded", _("Superseded")


class Quote(models.Model):
    """报价单: the price of paid service (有偿服务), told to the customer before work starts."""

    order = models.ForeignKey(ServiceOrder, verbose_name=_("service order"), on_delete=models.PROTECT, related_name="quotes")
    items = models.JSONField(_("items"), default=list)
    parts_total = models.DecimalField(_("parts total"), max_digits=12, decimal_places=2)
    labour_total = models.DecimalField(_("labour total"), max_digits=12, decimal_places=2)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("why paid"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=QuoteStatus.choices, default=QuoteStatus.PROPOSED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_note = models.CharField(_("decision note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["order", "id"]
        constraints = [
            # At most one live quote: the customer answers the newest one.
            models.UniqueConstraint(fields=["order"], condition=models.Q(status="proposed"), name="quote_one_proposed"),
        ]


class EscalationOutcome(models.TextChoices):
    GUIDANCE = "guidance", _("Guidance given")
    TAKEN_OVER = "taken_over", _("Taken over by the engineer")
    QUALITY_ISSUE = "quality_issue", _("Product quality issue")


class Escalation(models.Model):
    """疑难升级单: a hard problem lifted to the technical engineers, with what was already tried."""

    order = models.ForeignKey(ServiceOrder, verbose_name=_("service order"), on_delete=models.PROTECT, related_name="escalations")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(_("raised at"))
    problem = models.TextField(_("problem"))
    tried = models.TextField(_("what was tried"), blank=True)
    resume_status = models.CharField(_("resume status"), max_length=24, choices=OrderStatus.choices)
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=16, choices=EscalationOutcome.choices, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-raised_at"]
        constraints = [
            # One open escalation per order: the order is in status escalated while it is open.
            models.UniqueConstraint(fields=["order"], condition=models.Q(answered_at__isnull=True), name="escalation_one_open"),
        ]


class ComplaintSeverity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ComplaintCategory(models.TextChoices):
    ATTITUDE = "attitude", _("Staff attitude")
    DELAY = "delay", _("Late or slow service")
    QUALITY = "quality", _("Repair quality")
    PRODUCT = "product", _("Product quality")
    CHARGES = "charges", _("Charges")
    LOW_RATING = "low_rating", _("Low rating")
    OTHER = "other", _("Other")


class Complaint(models.Model):
    """投诉单: the complaint details of an order of type complaint."""

    order = models.OneToOneField(ServiceOrder, verbose_name=_("service order"), on_delete=models.PROTECT, related_name="complaint")
    about_order = models.ForeignKey(
        ServiceOrder, verbose_name=_("about order"), on_delete=models.PROTECT, null=True, blank=True, related_name="complaints_about"
    )
    about_org = models.ForeignKey(
        "accounts.Organization", verbose_name=_("about organization"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    category = models.CharField(_("category"), max_length=16, choices=ComplaintCategory.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=ComplaintSeverity.choices)
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("supervisor"), on_delete=models.PROTECT, null=True, related_name="supervised_complaints"
    )
    findings = models.TextField(_("findings"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    customer_accepted = models.BooleanField(_("customer accepted"), null=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")


class ReturnKind(models.TextChoices):
    EXCHANGE = "exchange", _("Exchange")
    RETURN = "return", _("Return")


class ReturnRequest(models.Model):
    """退换机申请: a request to exchange or return a machine under the 三包 rules."""

    order = models.OneToOneField(ServiceOrder, verbose_name=_("service order"), on_delete=models.PROTECT, related_name="return_request")
    kind = models.CharField(_("kind"), max_length=10, choices=ReturnKind.choices)
    eligibility = models.JSONField(_("eligibility"), default=dict, help_text=_("The warranty engine's answer at request time."))
    eligible = models.BooleanField(_("eligible"), default=False)
    decision = models.CharField(_("decision"), max_length=10, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    new_machine = models.ForeignKey("registry.Machine", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    refund_amount = models.DecimalField(_("refund amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    exchange = models.ForeignKey("registry.MachineExchange", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The recurring fault the customer reports (a component code), kept for the exchange record.
    fault_component = models.CharField(_("component"), max_length=40, blank=True)
    fault_serious = models.BooleanField(_("serious fault"), default=False)
    # Approved although the engine did not find it eligible: the technical centre's override.
    overridden = models.BooleanField(_("eligibility overridden"), default=False)

    class Meta:
        verbose_name = _("return or exchange request")
        verbose_name_plural = _("return and exchange requests")


class Rating(models.Model):
    """服务评价: the customer's rating of one order, taken on the return visit (回访)."""

    order = models.OneToOneField(ServiceOrder, verbose_name=_("service order"), on_delete=models.PROTECT, related_name="rating")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5")]


class PublicAttempt(models.Model):
    """A call to the customers' public API (公开接口: tracking token, no account), counted per client
    address for its rate limit (api/throttle.py). Rows older than the window are deleted as new ones come."""

    key = models.CharField(_("key"), max_length=80)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("public API call")
        verbose_name_plural = _("public API calls")
        # The limit counts one key's rows within the window.
        indexes = [models.Index(fields=["key", "at"], name="public_attempt_key_at_idx")]


def _children(model, order, order_by: tuple[str, ...]) -> list:
    return children(model, "order", order, order_by, connections[router.db_for_read(model)])
