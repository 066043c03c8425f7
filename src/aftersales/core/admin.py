from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("After-sales service administration")
admin.site.site_title = _("After-sales service")
admin.site.index_title = _("Administration")
