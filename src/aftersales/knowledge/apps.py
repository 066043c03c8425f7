from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "aftersales.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge base and search")

    def ready(self) -> None:
        # The index follows every saved order, customer and machine inside the saving transaction,
        # so a search right after a save finds it, and a rolled-back save leaves no trace.
        from aftersales.knowledge import documents
        from aftersales.registry.hooks import register_customer_changed, register_machine_changed
        from aftersales.service.hooks import register_order_changed

        register_order_changed(documents.on_order_changed)
        register_customer_changed(documents.on_customer_changed)
        register_machine_changed(documents.on_machine_changed)
