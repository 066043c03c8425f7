from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartsConfig(AppConfig):
    name = "aftersales.parts"
    label = "parts"
    verbose_name = _("Parts and warranty claims")

    def ready(self) -> None:
        # A completed warranty order drafts its claim in the completing transaction.
        from aftersales.parts import claims
        from aftersales.service import hooks

        hooks.register_order_changed(claims.on_order_changed)
        # The days an order waited for parts extend the machine's 三包 periods (warranty engine facts).
        from aftersales.parts.selectors import parts_waits
        from aftersales.warranty.services import register_parts_waits

        register_parts_waits(parts_waits)
