from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WarrantyConfig(AppConfig):
    name = "aftersales.warranty"
    label = "warranty"
    verbose_name = _("Warranty (三包)")

    def ready(self) -> None:
        from aftersales.core.config import watch
        from aftersales.warranty.models import WarrantyPolicy

        watch(WarrantyPolicy)
