"""One error format for every 4xx and 5xx answer under /api/:

    {"code": "validation_error", "message": "...", "errors": [{"field": "phones[0]", "message": "..."}]}

``code`` is stable for programs, ``message`` is for people (in the request's language: Chinese
unless ``Accept-Language`` asks for English), and ``errors`` names each field that was wrong and
why, by its path in the request itself (``complaint.category``, ``data.parts[2].quantity``,
``page_size``).

Pydantic's own messages are English only, so they are never shown: each error *type* it reports is
translated here (``PYDANTIC_MESSAGES``), with its limits filled in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Schema


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[FieldError] = []


def error_body(code: str, message: str, fields: Mapping[str, str] | None = None) -> dict:
    return {
        "code": code,
        "message": str(message),
        "errors": [{"field": k, "message": str(v)} for k, v in (fields or {}).items()],
    }


# Checks an operation wants made before a 422 for its body is answered (who may act outranks what
# was sent), keyed by the operation's url_name; see service/api.py.
VALIDATION_PRECHECKS: dict = {}

# Declared on every operation so the OpenAPI document lists the error answers with their schema.
COMMON_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

# Where a value came from in ninja's error locations; the next element is the parameter's own name
# in the handler (``payload``, ``filters``), which the caller never sent, unless it is a query or
# path parameter, whose name *is* the caller's.
_SOURCES = {"body", "query", "path", "form", "header", "cookie", "file"}
_WRAPPERS = {"payload", "filters", "pagination", "ninja_pagination"}


def field_path(loc: Iterable) -> str:
    """``("body", "payload", "complaint", "category")`` -> ``complaint.category``;
    ``("body", "payload", "data", "parts", 2, "quantity")`` -> ``data.parts[2].quantity``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    while parts and parts[0] in _WRAPPERS:
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


# The error types pydantic reports, in words a caller of the Chinese API can read. The catalog
# holds their Chinese; ``{...}`` placeholders come from the error's ``ctx``.
PYDANTIC_MESSAGES = {
    "missing": gettext_lazy("This field is required."),
    "string_type": gettext_lazy("Enter text."),
    "string_too_short": gettext_lazy("Enter at least {min_length} characters."),
    "string_too_long": gettext_lazy("Enter at most {max_length} characters."),
    "string_pattern_mismatch": gettext_lazy("The value has the wrong form."),
    "int_type": gettext_lazy("Enter a whole number."),
    "int_parsing": gettext_lazy("Enter a whole number."),
    "int_from_float": gettext_lazy("Enter a whole number."),
    "int_parsing_size": gettext_lazy("The number is too large."),
    "float_type": gettext_lazy("Enter a number."),
    "float_parsing": gettext_lazy("Enter a number."),
    "decimal_type": gettext_lazy("Enter a number."),
    "decimal_parsing": gettext_lazy("Enter a number."),
    "decimal_max_digits": gettext_lazy("Enter at most {max_digits} digits."),
    "decimal_max_places": gettext_lazy("Enter at most {decimal_places} decimal places."),
    "decimal_whole_digits": gettext_lazy("The number has too many digits before the decimal point."),
    "finite_number": gettext_lazy("Enter a finite number."),
    "bool_type": gettext_lazy("Enter true or false."),
    "bool_parsing": gettext_lazy("Enter true or false."),
    "greater_than": gettext_lazy("Enter a value greater than {gt}."),
    "greater_than_equal": gettext_lazy("Enter a value of at least {ge}."),
    "less_than": gettext_lazy("Enter a value less than {lt}."),
    "less_than_equal": gettext_lazy("Enter a value of at most {le}."),
    "date_type": gettext_lazy("Enter a date (YYYY-MM-DD)."),
    "date_parsing": gettext_lazy("Enter a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": gettext_lazy("Enter a date (YYYY-MM-DD)."),
    "date_from_datetime_inexact": gettext_lazy("Enter a date (YYYY-MM-DD)."),
    "datetime_type": gettext_lazy("Enter a date and time (ISO 8601, e.g. 2026-05-01T09:30:00+08:00)."),
    "datetime_parsing": gettext_lazy("Enter a date and time (ISO 8601, e.g. 2026-05-01T09:30:00+08:00)."),
    "datetime_from_date_parsing": gettext_lazy("Enter a date and time (ISO 8601, e.g. 2026-05-01T09:30:00+08:00)."),
    "datetime_object_invalid": gettext_lazy("Enter a date and time (ISO 8601, e.g. 2026-05-01T09:30:00+08:00)."),
    "list_type": gettext_lazy("Enter a list."),
    "tuple_type": gettext_lazy("Enter a list."),
    "set_type": gettext_lazy("Enter a list."),
    "too_short": gettext_lazy("Enter at least {min_length} items."),
    "too_long": gettext_lazy("Enter at most {max_length} items."),
    "dict_type": gettext_lazy("Enter an object."),
    "model_type": gettext_lazy("Enter an object."),
    "model_attributes_type": gettext_lazy("Enter an object."),
    "dataclass_type": gettext_lazy("Enter an object."),
    "json_invalid": gettext_lazy("The body is not valid JSON."),
    "json_type": gettext_lazy("The body is not valid JSON."),
    "extra_forbidden": gettext_lazy("Unknown field."),
    "literal_error": gettext_lazy("Pick one of: {expected}."),
    "enum": gettext_lazy("Pick one of: {expected}."),
    "union_tag_invalid": gettext_lazy("Pick one of: {expected_tags}."),
    "union_tag_not_found": gettext_lazy("This field is required."),
    "string_unicode": gettext_lazy("Enter valid text."),
    "uuid_parsing": gettext_lazy("Enter a UUID."),
    "uuid_type": gettext_lazy("Enter a UUID."),
    "url_parsing": gettext_lazy("Enter a URL."),
    "url_type": gettext_lazy("Enter a URL."),
    "bytes_type": gettext_lazy("Enter text."),
    "nul_character": gettext_lazy("NUL characters are not allowed."),
    "file_missing": gettext_lazy("Attach a file."),
}


def pydantic_message(err: Mapping) -> str:
    """The caller's language for one pydantic error. ``value_error`` carries a message our own
    validators raised already translated; anything unknown says only that the value is not valid."""
    kind = err.get("type", "")
    template = PYDANTIC_MESSAGES.get(kind)
    ctx = dict(err.get("ctx") or {})
    if template is None:
        if kind in ("value_error", "assertion_error") and ctx.get("error") is not None:
            return str(ctx["error"])
        return _("The value is not valid.")
    try:
        return str(template).format(**{k: _ctx_text(v) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return str(template).split("{")[0].rstrip(" :：") or _("The value is not valid.")


def _ctx_text(value) -> str:
    text = str(value)
    return text.replace("'", "")


def validation_fields(errors: Iterable[Mapping], prefix: str = "") -> dict[str, str]:
    """Ninja or pydantic errors as ``{path: message}``, first message per field."""
    fields: dict[str, str] = {}
    for err in errors:
        path = field_path(err.get("loc", ()))
        if prefix:
            path = prefix if path == "body" else f"{prefix}.{path}" if not path.startswith("[") else prefix + path
        fields.setdefault(path, pydantic_message(err))
    return fields


def http_code(status: int) -> str:
    return {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
            422: "validation_error", 429: "throttled"}.get(status, "server_error" if status >= 500 else "error")


def http_message(status: int) -> str:
    return {
        400: _("The request could not be read."),
        401: _("Log in or send a valid API token."),
        403: _("You may not do this."),
        404: _("No such address in the API."),
        405: _("This address does not take this method."),
        409: _("The request conflicts with the current state."),
        413: _("The request body is too large."),
        415: _("Send the body as JSON (Content-Type: application/json)."),
        422: _("The request has invalid fields."),
        429: _("Too many requests; try again later."),
    }.get(status, _("Something went wrong on our side; the error was logged.") if status >= 500 else
          _("The request could not be handled."))
