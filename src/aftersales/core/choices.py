"""Choices shared by several apps. The codes match the warranty engine's, which is pure Python."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductCategory(models.TextChoices):
    TRACTOR = "tractor", _("Tractor")
    COMBINE_HARVESTER = "combine_harvester", _("Combine harvester")
    RICE_TRANSPLANTER = "rice_transplanter", _("Rice transplanter")
    DIESEL_ENGINE_SINGLE = "diesel_engine_single", _("Diesel engine, single cylinder")
    DIESEL_ENGINE_MULTI = "diesel_engine_multi", _("Diesel engine, multi cylinder")
    IMPLEMENT = "implement", _("Implement")
    OTHER = "other", _("Other")


class ServiceLevel(models.TextChoices):
    """服务级别: how fast an order is served. Its own codes, not the customer class's: the level is
    proposed from the class (大客户 -> priority) but an urgency or an agent's override changes it, and
    SLA policies, filters and statistics must not mistake one for the other."""

    PRIORITY = "priority", _("Priority (key account)")
    STANDARD = "standard", _("Standard")
    EMERGENCY = "emergency", _("Emergency")


# The codes of the first releases, which were the customer classes' (data migration service 0006).
LEGACY_SERVICE_LEVELS = {"key_account": ServiceLevel.PRIORITY.value, "farmer": ServiceLevel.STANDARD.value}
