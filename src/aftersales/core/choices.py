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
