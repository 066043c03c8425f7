from __future__ import annotations

import logging

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from aftersales.api.auth import api_auth
from aftersales.api.errors import error_body
from aftersales.api.parsers import NulRefusingParser
from aftersales.core.errors import Conflict, DomainError

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="aftersales API",
    version="1",
    description="After-sales service: customers, machines, warranty (三包), service orders.",
    urls_namespace="api",
    auth=api_auth,
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=NulRefusingParser(),
)


def _field_name(loc) -> str:
    # ("body", "data", "phones", 0) -> "phones[0]": the caller's field, not pydantic's path.
    parts = [p for p in loc if p not in ("body", "query", "path", "form", "header", "cookie", "data", "payload", "filters")]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "request"


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    fields: dict[str, str] = {}
    for err in exc.errors:
        fields.setdefault(_field_name(err.get("loc", ())), err.get("msg", "invalid"))
    return api.create_response(
        request, error_body("validation_error", _("The request has invalid fields."), fields), status=422
    )


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    body = error_body(exc.code, exc.message or exc.code, exc.fields)
    if isinstance(exc, Conflict) and exc.current is not None:
        body["current"] = exc.current
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, error_body("not_found", _("Not found.")), status=404)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return api.create_response(
        request, error_body("unauthorized", _("Log in or send a valid API token.")), status=401
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
             409: "conflict", 413: "too_large", 429: "throttled"}
    return api.create_response(
        request, error_body(codes.get(exc.status_code, "error"), str(exc)), status=exc.status_code
    )


def _mount_routers() -> None:
    from aftersales.accounts.api import router as accounts_router
    from aftersales.knowledge.api import router as knowledge_router
    from aftersales.notify.api import router as notify_router
    from aftersales.registry.api import router as registry_router
    from aftersales.service.api import router as service_router
    from aftersales.sla.api import router as sla_router
    from aftersales.stats.api import router as stats_router
    from aftersales.quality.api import router as quality_router
    from aftersales.warranty.api import router as warranty_router

    api.add_router("/", accounts_router)
    api.add_router("/", registry_router)
    api.add_router("/warranty", warranty_router)
    api.add_router("/", service_router)
    api.add_router("/", knowledge_router)
    api.add_router("/", sla_router)
    api.add_router("/", stats_router)
    api.add_router("/", quality_router)
    api.add_router("/", notify_router)


_mount_routers()
