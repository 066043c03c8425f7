from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "aftersales.sla"
    label = "sla"
    verbose_name = _("Time promises (SLA)")

    def ready(self) -> None:
        from aftersales.core.config import watch
        from aftersales.service.hooks import register_order_changed
        from aftersales.sla.models import BusySeason, EscalationLevel, SlaPolicy, WorkingHours
        from aftersales.sla.services import on_order_changed

        register_order_changed(on_order_changed)
        watch(SlaPolicy, BusySeason, WorkingHours, EscalationLevel)
