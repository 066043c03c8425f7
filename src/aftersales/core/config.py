"""Rule tables kept in each process's memory, checked against the database on every use.

An order write needs the SLA policies, working hours, busy seasons, the warranty policy in force
and the webhook subscribers: rows that change a few times a year, yet reading them with the ORM
cost a create about a quarter of its time. ``cached(name, load)`` returns the copy loaded under the
current ``ConfigStamp`` token and reloads when the token moved. Models registered with
``watch(Model)`` move the token in their own transaction on every save or delete, so another
process sees an edit as soon as it commits, and a rolled-back edit leaves the old copy valid.
Writes that bypass signals (``QuerySet.update``, ``bulk_create``) call ``changed()`` themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

from django.core.signals import request_finished, request_started
from django.db import connection
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")
_copies: dict[str, tuple[str, object]] = {}
_TABLE = "core_configstamp"
# The stamp as read once in the current request (a create used to read it three times: the warranty
# policy, the SLA rules, the webhook subscribers). Only inside a request, which lasts milliseconds:
# a worker or a command has no request and reads it on every use, as before.
_request_stamp: ContextVar[list | None] = ContextVar("config_request_stamp", default=None)


def _request_begins(**kwargs) -> None:
    _request_stamp.set([None])


def _request_ends(**kwargs) -> None:
    _request_stamp.set(None)


request_started.connect(_request_begins, dispatch_uid="config-request-started")
request_finished.connect(_request_ends, dispatch_uid="config-request-finished")


def _stamp() -> str | None:
    held = _request_stamp.get()
    if held is not None and held[0] is not None:
        return held[0]
    # Plain SQL: this runs on every use outside a request and must cost far less than the reads it saves.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {_TABLE} WHERE id = 1")
        row = cursor.fetchone()
    token = row[0] if row else None
    if held is not None:
        held[0] = token
    return token


def cached(name: str, load: Callable[[], T]) -> T:
    """The value ``load()`` returns, from this process's copy while the rule tables are unchanged.
    Callers must treat the value as read-only: it is shared by every request of the process."""
    stamp = _stamp()  # before loading: a copy may be newer than its stamp, never older
    held = _copies.get(name)
    if stamp is not None and held is not None and held[0] == stamp:
        return held[1]  # type: ignore[return-value]
    value = load()
    if stamp is not None:
        _copies[name] = (stamp, value)
    return value


def changed() -> None:
    """Invalidate every process's copies (call inside the transaction of the change)."""
    token = uuid.uuid4().hex
    _copies.clear()
    held = _request_stamp.get()
    if held is not None:
        held[0] = None  # this request reads the new stamp (and the new rules) from now on
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_TABLE} SET token = %s WHERE id = 1", [token])
        if cursor.rowcount == 0:
            # The row is gone (a test flush); put it back so caching resumes.
            cursor.execute(f"INSERT INTO {_TABLE} (id, token) VALUES (1, %s)", [token])


def _on_change(sender, **kwargs) -> None:
    if kwargs.get("raw"):
        return  # loaddata: the fixture's rows, no live copies to protect yet
    changed()


def watch(*models) -> None:
    """Register rule tables whose edits must reach every process's copy."""
    for model in models:
        post_save.connect(_on_change, sender=model, dispatch_uid=f"config-{model._meta.label}-save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"config-{model._meta.label}-delete")
