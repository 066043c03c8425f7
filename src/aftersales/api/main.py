from __future__ import annotations

import json
import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from django.utils.translation import get_language, gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from aftersales.api.auth import api_auth
from aftersales.api.errors import VALIDATION_PRECHECKS, error_body, http_code, http_message, validation_fields
from aftersales.api.parsers import NulRefusingParser
from aftersales.core.errors import Conflict, DomainError, Throttled

logger = logging.getLogger(__name__)

DESCRIPTION = """\
After-sales service (售后服务): customers, machines, warranty (三包), service orders and their actions.

**Errors / 错误.** Every 4xx and 5xx answer under `/api/` has one shape,
`{"code": "...", "message": "...", "errors": [{"field": "...", "message": "..."}]}`, in the language of
`Accept-Language` (Chinese by default; `en` for English). `field` is the path in your own request
(`complaint.category`, `data.parts[2].quantity`, `page_size`).
所有 4xx/5xx 回答都是同一格式；`field` 是请求里的字段路径；语言随 `Accept-Language`（默认中文）。

**Actions / 操作.** Each step of an order's flow is its own operation,
`POST /orders/{order_id}/actions/{action}`, with the body `{"version": <the version you read>, "note": "",
"data": {...}}`; `data` is that action's own schema. `GET /orders/{order_id}/actions` lists what you may do now.

**The customer's phone app / 客户门户.** `/portal/...` is for customers, not staff: `POST /portal/login/code`
sends an SMS code to a customer's phone, `POST /portal/login/token` exchanges phone and code for a portal token
(`pt_...`, sent as `Authorization: Bearer`, valid 30 days, `POST /portal/logout` revokes it). It opens only the
machines and orders of the customers holding that phone; staff tokens are refused there and portal tokens
everywhere else. 客户门户接口：短信验证码登录换取令牌，只能访问本人（该手机号）的机器与服务单。
"""

class AftersalesAPI(NinjaAPI):
    """The schema is built once per process and language: it describes code, not data, and building
    its 500 KB (every action's payload schema with examples) took a second of CPU per request, on a
    URL every integrator's tooling fetches first."""

    _schemas: dict = {}

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        key = (path_prefix, tuple(sorted((path_params or {}).items())), get_language())
        if key not in self._schemas:
            self._schemas[key] = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return self._schemas[key]

    # Django tries URL patterns in order, and the phone system's events came 190th of 214: matching
    # them cost a fifth of an event's CPU (docs/performance.md, "Phone-system events"). The busiest
    # machine-to-machine path goes first; the OpenAPI document keeps the routers' order.
    FIRST_PATHS = ("calls/events",)

    def _get_urls(self):
        urls = super()._get_urls()
        first = [u for u in urls if str(getattr(u, "pattern", "")) in self.FIRST_PATHS]
        return first + [u for u in urls if u not in first]


api = AftersalesAPI(
    title="aftersales API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=api_auth,
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=NulRefusingParser(),
)


def _answer(request, status: int, body: dict, headers: dict | None = None):
    response = api.create_response(request, body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    match = getattr(request, "resolver_match", None)
    precheck = VALIDATION_PRECHECKS.get(getattr(match, "url_name", None))
    # A malformed path (an id no database row can have) is the caller's field to fix: no precheck.
    bad_path = any(tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors)
    if precheck is not None and not bad_path:
        try:
            precheck(request, match.kwargs)
        except DomainError as denied:
            return on_domain_error(request, denied)
    return _answer(request, 422, error_body("validation_error", _("The request has invalid fields."),
                                            validation_fields(exc.errors)))


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    # gettext again at answer time: a service that raised a bare English msgid (``NotFound("Customer
    # not found.")``) still answers in the caller's language when the catalog knows the words.
    body = error_body(exc.code, _(exc.message) if exc.message else http_message(exc.status),
                      {k: _(v) if v else v for k, v in exc.fields.items()})
    if isinstance(exc, Conflict) and exc.current is not None:
        body["current"] = exc.current
    extra = getattr(exc, "extra", None)
    if extra:
        body.update(extra)
    headers = {}
    if isinstance(exc, Throttled) and exc.retry_after:
        headers["Retry-After"] = str(int(exc.retry_after))
    return _answer(request, exc.status, body, headers)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _answer(request, 404, error_body("not_found", _("Not found.")))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return _answer(request, 401, error_body("unauthorized", _("Log in or send a valid API token.")))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    cause = exc.__cause__
    if isinstance(cause, ValidationError):  # the parser refused a value (a NUL character) in the body
        return on_validation_error(request, cause)
    if isinstance(cause, json.JSONDecodeError):
        # Malformed JSON: say where, the way an editor would show it.
        where = _("Line %(line)s, column %(column)s: the body is not valid JSON.") % {
            "line": cause.lineno, "column": cause.colno}
        return _answer(request, 400, error_body("invalid_json", _("The body is not valid JSON."), {"body": where}))
    if exc.status_code == 400 and cause is not None:
        return _answer(request, 400, error_body("invalid_body", _("The body could not be read."),
                                                {"body": _("Send the body as UTF-8 JSON.")}))
    # ninja's own messages ("Cannot parse request body", "Method not allowed") are English: say
    # it in the caller's language by status.
    return _answer(request, exc.status_code, error_body(http_code(exc.status_code), http_message(exc.status_code)))


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return _answer(request, 413, too_large_body())


@api.exception_handler(TooManyFieldsSent)
def on_too_many_fields(request, exc):
    return _answer(request, 413, too_large_body())


@api.exception_handler(TooManyFilesSent)
def on_too_many_files(request, exc):
    return _answer(request, 413, too_large_body())


# No handler for Exception: an unexpected error goes on to Django, which logs it with its traceback
# (and signals got_request_exception); api/middleware.py turns its HTML 500 into the one shape.


def too_large_body() -> dict:
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{max(1, limit // 1024)} KB"
    return error_body("payload_too_large", _("The request body is too large."),
                      {"body": _("At most %(size)s.") % {"size": size}})


def _mount_routers() -> None:
    from aftersales.accounts.api import router as accounts_router
    from aftersales.api.admin import router as admin_router
    from aftersales.knowledge.api import router as knowledge_router
    from aftersales.notify.api import router as notify_router
    from aftersales.registry.api import router as registry_router
    from aftersales.service.public_api import public_router as service_public_router
    from aftersales.service.api import router as service_router
    from aftersales.sla.api import router as sla_router
    from aftersales.stats.api import router as stats_router
    from aftersales.quality.api import router as quality_router
    from aftersales.standards.api import router as standards_router
    from aftersales.warranty.api import router as warranty_router
    from aftersales.parts.api import router as parts_router
    from aftersales.parts.claims_api import router as claims_router
    from aftersales.visits.api import router as visits_router
    from aftersales.calls.api import router as calls_router
    from aftersales.portal.api import router as portal_router

    api.add_router("/", accounts_router)
    api.add_router("/", registry_router)
    api.add_router("/warranty", warranty_router)
    api.add_router("/", service_router)
    api.add_router("/public", service_public_router)
    api.add_router("/", knowledge_router)
    api.add_router("/", sla_router)
    api.add_router("/", stats_router)
    api.add_router("/", quality_router)
    api.add_router("/", standards_router)
    api.add_router("/", notify_router)
    api.add_router("/", parts_router)
    api.add_router("/", claims_router)
    api.add_router("/", visits_router)
    api.add_router("/", calls_router)
    api.add_router("/portal", portal_router)
    api.add_router("/admin", admin_router)


_mount_routers()
