"""One error format for every 4xx answer:

    {"code": "validation_error", "message": "...", "errors": [{"field": "phones[0]", "message": "..."}]}

``code`` is stable for programs, ``message`` is for people (in the request's language), and
``errors`` names each field that was wrong and why.
"""

from __future__ import annotations

from ninja import Schema


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[FieldError] = []


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict:
    return {
        "code": code,
        "message": message,
        "errors": [{"field": k, "message": v} for k, v in (fields or {}).items()],
    }


# Declared on every operation so the OpenAPI document lists the error answers with their schema.
COMMON_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
