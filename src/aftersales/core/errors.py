"""Domain error types.

Services raise these; the API turns each into one JSON error format and the views into a
message. They carry field errors so a caller can say which field was wrong and why.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every error a service raises on purpose. ``code`` is stable, ``message`` is for people."""

    status = 400
    code = "invalid"

    def __init__(self, message: str = "", *, code: str | None = None, fields: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        self.fields: dict[str, str] = {k: str(v) for k, v in (fields or {}).items()}

    def __str__(self) -> str:
        if self.fields:
            details = "; ".join(f"{k}: {v}" for k, v in self.fields.items())
            return f"{self.message} ({details})" if self.message else details
        return self.message


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"


class NotFound(DomainError):
    """Also what another organization's object looks like: its existence is not revealed."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """A duplicate or a stale version: the caller should reload and decide again."""

    status = 409
    code = "conflict"

    def __init__(self, message: str = "", *, code: str | None = None, fields=None, current: object = None):
        super().__init__(message, code=code, fields=fields)
        self.current = current


class Throttled(DomainError):
    """Too many tries in a window (logins, look-ups, tracking): the caller may try again later."""

    status = 429
    code = "throttled"

    def __init__(self, message: str = "", *, retry_after: int | None = None, code: str | None = None, fields=None):
        super().__init__(message, code=code, fields=fields)
        self.retry_after = retry_after


class PayloadTooLarge(DomainError):
    """A body, an upload or a text over its limit that is refused before it is read whole."""

    status = 413
    code = "payload_too_large"
