"""The rate limit of the customers' public API: counted in the database, so every web node and
process sees the same count (a per-process cache would let each node allow the limit again)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.backends import client_address
from aftersales.core.errors import Throttled

PUBLIC_LIMIT = 30  # calls per client address per window
PUBLIC_WINDOW = timedelta(minutes=10)


def public_throttle(request, scope: str = "public") -> None:
    """Count this call for the client's address; over the limit, 429 with Retry-After."""
    from aftersales.service.models import PublicAttempt

    key = f"{scope}:{client_address(request)}"[:80]
    now = timezone.now()
    since = now - PUBLIC_WINDOW
    with transaction.atomic():
        PublicAttempt.objects.filter(key=key, at__lt=since).delete()
        recent = PublicAttempt.objects.filter(key=key, at__gte=since)
        if recent.count() >= PUBLIC_LIMIT:
            oldest = recent.order_by("at").values_list("at", flat=True).first()
            wait = max(1, int((oldest + PUBLIC_WINDOW - now).total_seconds()) + 1)
            raise Throttled(_("Too many requests; try again later."), retry_after=wait)
        PublicAttempt.objects.create(key=key, at=now)
