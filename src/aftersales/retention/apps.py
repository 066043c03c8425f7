from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "aftersales.retention"
    label = "retention"
    verbose_name = _("Retention")
    default_auto_field = "django.db.models.BigAutoField"
