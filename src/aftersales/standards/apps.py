from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StandardsConfig(AppConfig):
    name = "aftersales.standards"
    label = "standards"
    verbose_name = _("Service standards")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from aftersales.service import hooks
        from aftersales.standards import cases, models, notices, services

        # Every change of a person's standards record is audited (who, when, each field before/after).
        for model in (models.Catalogue, models.Team, models.Briefing, models.Attendance, models.Inspection,
                      models.Case, models.Course, models.Certificate):
            if not auditlog.contains(model):
                auditlog.register(model)
        hooks.register_order_changed(cases.on_order_changed)
        hooks.register_assignment_check(services.uncertified_concern)
        notices.register()
