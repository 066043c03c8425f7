from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "aftersales.inbox"
    label = "mailbox"  # "inbox" is the notices page's word (notify.inbox); this is the fax and e-mail box
    verbose_name = _("Fax and e-mail")
