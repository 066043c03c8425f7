from aftersales.accounts.policies import is_administrator
from aftersales.core.errors import Forbidden


def check_manage_policies(user) -> None:
    from django.utils.translation import gettext as _

    if not is_administrator(user):
        raise Forbidden(_("Only administrators change SLA policies."))
