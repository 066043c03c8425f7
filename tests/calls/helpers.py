"""Signing call events as a phone system does."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

from aftersales.calls.services import sign

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def event(event_id: str, call_id: str, kind: str, caller: str = "13912345678", extension: str = "8001",
          at: datetime | None = None, **extra) -> dict:
    return {"event_id": event_id, "call_id": call_id, "kind": kind, "caller": caller, "extension": extension,
            "at": (at or datetime.now(timezone.utc)).isoformat(), **extra}


def post_event(client, token: str, secret: str, body: dict | bytes, *, timestamp: int | None = None,
               signature: str | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = signature if signature is not None else "sha256=" + sign(secret, ts, raw)
    return client.post("/api/v1/calls/events", data=raw, content_type="application/json",
                       HTTP_X_CTI_TOKEN=token, HTTP_X_CTI_TIMESTAMP=ts, HTTP_X_CTI_SIGNATURE=sig)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)
