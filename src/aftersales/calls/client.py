"""Posting signed call events to a site, as a phone-system integration does (used by the AMI adapter,
the simulator and the benchmark). Plain urllib: the adapter runs beside any Asterisk."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from aftersales.calls.services import sign


class EventPoster:
    def __init__(self, url: str, token: str, secret: str, *, timeout: float = 10.0, retries: int = 5):
        self.endpoint = url.rstrip("/") + "/api/v1/calls/events"
        self.token, self.secret, self.timeout, self.retries = token, secret, timeout, retries

    def post(self, event: dict) -> dict:
        """POST one event; a network failure or a 5xx/429 is retried with the same event id (the site
        records it once), each time signed afresh so the replay guard does not refuse the retry."""
        raw = json.dumps(event, ensure_ascii=False).encode()
        delay = 0.5
        for attempt in range(self.retries + 1):
            # Microseconds: the same event sent twice in one second is two requests, not a replay.
            ts = f"{time.time():.6f}"
            request = urllib.request.Request(self.endpoint, data=raw, method="POST", headers={
                "Content-Type": "application/json", "X-CTI-Token": self.token, "X-CTI-Timestamp": ts,
                "X-CTI-Signature": "sha256=" + sign(self.secret, ts, raw)})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    return json.loads(answer.read())
            except urllib.error.HTTPError as exc:
                if exc.code < 500 and exc.code != 429 or attempt == self.retries:
                    raise
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                if attempt == self.retries:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 10)
        raise RuntimeError("unreachable")
