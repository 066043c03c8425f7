from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "aftersales.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from aftersales.notify import checks  # noqa: F401 - registers the SITE_URL deploy check
        from aftersales.notify.services import on_order_changed
        from aftersales.service.hooks import register_order_changed

        register_order_changed(on_order_changed)
        from aftersales.core.config import watch
        from aftersales.notify.models import WebhookSubscriber

        watch(WebhookSubscriber)
