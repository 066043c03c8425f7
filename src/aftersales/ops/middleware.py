"""Every request: an id (X-Request-ID, into the logs and the outbox) and its metrics."""

from __future__ import annotations

import logging
import time

from aftersales.ops.context import current_request_id, reset_request_id, set_request_id
from aftersales.ops.metrics import LATENCY, REQUESTS

logger = logging.getLogger("aftersales.request")


def _route(request) -> str:
    """The URL pattern, not the URL: /orders/<int:pk>/ is one series, not one per order."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    return "/" + (match.route or match.view_name or "")


class RequestIdMiddleware:
    """First in the chain: everything after it, and every log line, knows the request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_request_id(request.headers.get("X-Request-ID"))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            elapsed = time.perf_counter() - started
        try:
            response["X-Request-ID"] = current_request_id()
            route = _route(request)
            REQUESTS.labels(route, request.method, str(response.status_code)).inc()
            LATENCY.labels(route, request.method).observe(elapsed)
            logger.info("%s %s %s", request.method, route, response.status_code,
                        extra={"status": response.status_code, "duration_ms": round(elapsed * 1000, 1),
                               "method": request.method, "route": route})
        finally:
            reset_request_id(token)
        return response
