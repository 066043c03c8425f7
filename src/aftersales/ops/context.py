"""The request id of the work in hand, in a context variable (one per thread and per task).

A web request takes its id from the load balancer's X-Request-ID header (nginx: $request_id) or
makes one; it is written into every log line, answered in X-Request-ID, stored on every outbox
message the request queues (OutboxMessage.request_id) and logged with every task it queues, so one
id follows a customer's action from the page to the SMS leaving the worker.
"""

from __future__ import annotations

import contextvars
import re
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("aftersales_request_id", default="")

# What we accept from outside: a proxy's hex id or a UUID; anything else is replaced (log injection).
VALID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request or task in hand, "" outside both (also OutboxMessage's default)."""
    return _request_id.get()


def set_request_id(value: str | None) -> contextvars.Token:
    return _request_id.set(value if value and VALID.match(value) else new_id())


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)
