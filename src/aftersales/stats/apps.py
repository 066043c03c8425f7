from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "aftersales.stats"
    label = "stats"
    verbose_name = _("Statistics centre")

    def ready(self) -> None:
        from aftersales.service.hooks import register_order_changed
        from aftersales.stats.aggregates import on_order_changed

        register_order_changed(on_order_changed)
