"""/metrics (Prometheus; protected) and /readyz (may this node take traffic?)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from aftersales.ops.metrics import exposition
from aftersales.ops.readiness import readiness


def _may_scrape(request) -> bool:
    """The bearer token AFTERSALES_METRICS_TOKEN (Prometheus' `authorization` setting), or a
    signed-in staff member (an administrator looking in a browser). Nothing else: the figures tell
    an outsider how busy the maker's service network is."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    user = request.user
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))


@require_GET
def metrics(request):
    if not _may_scrape(request):
        response = HttpResponse("metrics need the bearer token or a staff login\n", status=401,
                                content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="aftersales metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


@require_GET
def readyz(request):
    """200 when this node can serve: the database answers, a worker reported recently, the outbox
    is not lagging (and, with a replica, whether it is used or bypassed). 503 otherwise, with the
    reason. Counts and ages only: open to the load balancer like /healthz. ?scope=node checks only
    this node and its database (the load balancer's check)."""
    ready, report = readiness(node_only=request.GET.get("scope") == "node")
    return JsonResponse(report, status=200 if ready else 503)
