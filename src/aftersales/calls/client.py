"""Posting signed call events to a site, as a phone-system integration does (used by the AMI adapter,
the simulator and the benchmark). Standard library only (http.client): the adapter runs beside any
Asterisk. One kept-alive connection per sending thread: a new TCP connection and urllib's opener
per event cost the sender more CPU than signing (docs/performance.md, "Phone-system events")."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass

from aftersales.calls.services import sign


class EventRefused(Exception):
    """The site answered 4xx (other than 429): sending the event again would not help."""

    def __init__(self, status: int, body: bytes):
        super().__init__(f"HTTP {status}: {body[:200]!r}")
        self.status, self.body = status, body


@dataclass(frozen=True)
class Signed:
    """An event's body with the headers that sign it, made ahead of sending (the benchmark signs its
    burst before timing it; the site accepts it while the timestamp is inside its window)."""

    event: dict
    raw: bytes
    headers: dict


class EventPoster:
    def __init__(self, url: str, token: str, secret: str, *, timeout: float = 10.0, retries: int = 5):
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.path = (parts.path or "") + "/api/v1/calls/events"
        self.token, self.secret, self.timeout, self.retries = token, secret, timeout, retries
        self._local = threading.local()
        self._stamp_lock = threading.Lock()
        self._last_stamp = 0.0

    def _timestamp(self) -> str:
        # Microseconds, strictly increasing in this poster: the same event signed twice is two
        # requests with two signatures, never a replay of one.
        with self._stamp_lock:
            stamp = max(time.time(), self._last_stamp + 0.000001)
            self._last_stamp = stamp
        return f"{stamp:.6f}"

    def sign(self, event: dict) -> Signed:
        raw = json.dumps(event, ensure_ascii=False).encode()
        ts = self._timestamp()
        return Signed(event, raw, {"Content-Type": "application/json", "X-CTI-Token": self.token,
                                   "X-CTI-Timestamp": ts, "X-CTI-Signature": "sha256=" + sign(self.secret, ts, raw)})

    def _connection(self, fresh: bool = False) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            conn = self._local.conn = kind(self.host, self.port, timeout=self.timeout)
        return conn

    def _send(self, signed: Signed) -> tuple[int, bytes]:
        try:
            conn = self._connection()
            conn.request("POST", self.path, body=signed.raw, headers=signed.headers)
            answer = conn.getresponse()
            return answer.status, answer.read()
        except (http.client.HTTPException, OSError):
            # A kept connection the server closed meanwhile: once more on a new one (the event id
            # makes a second delivery harmless, the fresh signature keeps it from being a replay).
            conn = self._connection(fresh=True)
            conn.request("POST", self.path, body=signed.raw, headers=signed.headers)
            answer = conn.getresponse()
            return answer.status, answer.read()

    def post(self, event: dict | Signed) -> dict:
        """POST one event (signed now, or as signed ahead); a network failure or a 5xx/429 is retried
        with the same event id (the site records it once), each time signed afresh so the replay
        guard does not refuse the retry."""
        signed = event if isinstance(event, Signed) else self.sign(event)
        delay = 0.5
        for attempt in range(self.retries + 1):
            if attempt:
                signed = self.sign(signed.event)
            try:
                status, body = self._send(signed)
            except (http.client.HTTPException, OSError):
                if attempt == self.retries:
                    raise
                self._connection(fresh=True)
            else:
                if status < 300:
                    return json.loads(body)
                if status < 500 and status != 429 or attempt == self.retries:
                    raise EventRefused(status, body)
            time.sleep(delay)
            delay = min(delay * 2, 10)
        raise RuntimeError("unreachable")
