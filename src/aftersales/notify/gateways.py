"""Delivery channels. An SMS gateway is a class with ``send(phone, text, *, message_id)`` that raises
on failure; ``message_id`` is the outbox message's stable id, the same on every retry, for the
provider to deduplicate on. ``AFTERSALES_SMS_GATEWAY`` names the class (dotted path). Shipped: the log gateway (the default; it
writes the message to the log with the number masked) and a generic HTTP gateway."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.parse
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

from aftersales.core.phones import mask_phone

logger = logging.getLogger("aftersales.notify")

SIGNATURE_HEADER = "X-Aftersales-Signature"
MESSAGE_ID_HEADER = "X-Aftersales-Message-Id"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_json(url: str, payload: dict, *, secret: str, headers: dict | None = None, timeout: float = 10) -> int:
    """POST signed JSON; anything but a 2xx answer raises (and the outbox retries)."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(secret, body), **(headers or {}),
    })
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (URL comes from settings/admin)
        status = response.status
    if not 200 <= status < 300:
        raise OSError(f"HTTP {status}")
    return status


class LogSmsGateway:
    """Writes the SMS to the log instead of sending it: the single-machine and demo default."""

    def send(self, phone: str, text: str, *, message_id: str = "") -> None:
        logger.info("SMS %s to %s: %s", message_id, mask_phone(phone), text)


class HttpSmsGateway:
    """A provider reached by HTTP: POST {"to", "text", "message_id"} as signed JSON to
    AFTERSALES_SMS_URL, whose ``{phone}`` placeholder (if any) is filled in URL-quoted; the message id
    also goes in the X-Aftersales-Message-Id header."""

    def __init__(self) -> None:
        self.url_template = settings.NOTIFY_SMS_URL
        self.secret = settings.NOTIFY_SMS_SECRET
        if not self.url_template:
            raise RuntimeError("AFTERSALES_SMS_URL is not set")

    def send(self, phone: str, text: str, *, message_id: str = "") -> None:
        url = self.url_template.replace("{phone}", urllib.parse.quote(phone))
        post_json(url, {"to": phone, "text": text, "message_id": message_id}, secret=self.secret,
                  headers={MESSAGE_ID_HEADER: message_id})


def sms_gateway():
    return import_string(settings.NOTIFY_SMS_GATEWAY)()
