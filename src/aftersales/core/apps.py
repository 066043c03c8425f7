from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "aftersales.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_rules_may_have_changed, sender=self)

        from aftersales.core.audit import register_audited_models

        register_audited_models()  # the reference data an administrator changes: every change logged


def _rules_may_have_changed(sender, using="default", **kwargs) -> None:
    # A migration may have rewritten rule rows without signals; running servers must reload them.
    from django.db import connections

    from aftersales.core import config

    if config._TABLE in connections[using].introspection.table_names():
        config.changed()
