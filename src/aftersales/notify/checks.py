"""`manage.py check --deploy`: every link in an SMS, e-mail or printed QR code is built from
SITE_URL, so a production site left on the local default sends customers links nobody can open."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

LOCAL_HOSTS = {"127.0.0.1", "localhost", "0.0.0.0", "::1", ""}


@checks.register(checks.Tags.security, deploy=True)
def site_url_check(app_configs=None, **kwargs):
    url = urlsplit(getattr(settings, "SITE_URL", "") or "")
    if url.scheme not in ("http", "https") or (url.hostname or "") in LOCAL_HOSTS:
        return [checks.Warning(
            f"AFTERSALES_SITE_URL is {settings.SITE_URL!r}: links in SMS and e-mail (tracking, rating, orders) "
            "would point at no public site.",
            hint="Set AFTERSALES_SITE_URL to the public address, e.g. https://fuwu.example.com",
            id="aftersales.W001")]
    if url.scheme != "https":
        return [checks.Warning(f"AFTERSALES_SITE_URL {settings.SITE_URL!r} is not https.",
                               hint="Customers open these links on their phones; serve them over https.",
                               id="aftersales.W002")]
    return []
