from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from aftersales.api.main import api
from aftersales.portal import labels as portal_labels
from aftersales.web import views as web_views

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", web_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("stats/", include("aftersales.stats.urls")),
    path("quality/", include("aftersales.quality.urls")),
    path("exports/", include("aftersales.exports.urls")),
    path("standards/", include("aftersales.standards.urls")),
    path("parts/", include("aftersales.parts.urls")),
    path("m/", include("aftersales.portal.urls")),
    path("machines/labels/", portal_labels.labels, name="machine-labels"),
    path("visits/", include("aftersales.visits.urls")),
    path("", include("aftersales.ops.urls")),  # /metrics, /readyz
    path("calls/", include("aftersales.calls.urls")),
    path("mailbox/", include("aftersales.inbox.urls")),
    path("", include("aftersales.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

