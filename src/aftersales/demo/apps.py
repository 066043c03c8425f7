from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo data set. It sits above every other app (it calls each app's demo builder), so that
    ``core`` and the domain apps depend on nothing of it."""

    name = "aftersales.demo"
    label = "demo"
    verbose_name = _("Demo data")
