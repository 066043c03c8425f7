"""The outbox: retries with backoff, dead letters and re-sending, no double sending by two workers,
email and signed webhooks, Chinese and English texts, masked numbers in the log."""

import json
import logging
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from aftersales.notify.gateways import SIGNATURE_HEADER, sign
from aftersales.notify.models import OutboxMessage, WebhookSubscriber
from aftersales.notify.services import outbox_deliver, outbox_enqueue, outbox_resend
from aftersales.notify.templates import render
from tests.notify.gateways import FlakyGateway

pytestmark = pytest.mark.django_db
PHONE = "+8613912345678"


@pytest.fixture
def flaky(settings):
    settings.NOTIFY_SMS_GATEWAY = "tests.notify.gateways.FlakyGateway"
    settings.NOTIFY_RETRY_BASE_SECONDS, settings.NOTIFY_RETRY_MAX_SECONDS, settings.NOTIFY_MAX_ATTEMPTS = 30, 3600, 8
    FlakyGateway.reset()
    return FlakyGateway


def sms(number="FW20261201-00001", **context) -> OutboxMessage:
    with transaction.atomic():
        return outbox_enqueue(channel="sms", recipient=PHONE, template="order_created", context={"number": number, **context})


def test_a_gateway_down_for_a_while_loses_nothing_and_backs_off_exponentially(flaky, settings):
    settings.SITE_URL, settings.HOTLINE = "https://fuwu.example.com", "400-800-1234"
    flaky.reset(failures=3)
    message, now, delays = sms(tracking_path="/t/tok-1"), timezone.now(), []
    for _ in range(3):
        assert outbox_deliver(now=now) == {"sent": 0, "failed": 1, "dead": 0}
        message.refresh_from_db()
        assert message.status == "failed" and message.last_error == "ConnectionError: gateway unreachable"
        assert outbox_deliver(now=message.available_at - timedelta(seconds=1))["failed"] == 0  # not before its time
        delays.append((message.available_at - now).total_seconds())
        now = message.available_at
    assert delays == [30, 60, 120]
    assert outbox_deliver(now=now)["sent"] == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 4, "")
    assert flaky.delivered == [(PHONE, "【开拓机械】您的服务单 FW20261201-00001 已受理，我们会尽快与您联系。"
                                       "查看进度：https://fuwu.example.com/t/tok-1 服务热线 400-800-1234")]
    assert outbox_deliver(now=now + timedelta(days=1))["sent"] == 0
    assert len(flaky.delivered) == 1


def test_dead_after_the_last_try_and_sent_again_by_an_administrator(flaky, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    flaky.reset(failures=10)
    message, now = sms(), timezone.now()
    outbox_deliver(now=now)
    assert outbox_deliver(now=now + timedelta(hours=1)) == {"sent": 0, "failed": 0, "dead": 1}
    assert outbox_deliver(now=now + timedelta(days=1)) == {"sent": 0, "failed": 0, "dead": 0}
    message.refresh_from_db()
    assert message.status == "dead" and message.attempts == 2
    flaky.reset()
    assert outbox_resend(ids=[message.pk]) == 1
    assert outbox_deliver()["sent"] == 1 and len(flaky.delivered) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_one_message_twice(flaky):
    for i in range(30):
        sms(number=f"FW20261201-{i:05d}")
    barrier, errors = threading.Barrier(2), []

    def work():
        try:
            barrier.wait()
            while outbox_deliver(limit=7)["sent"]:
                pass
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    texts = [text for _, text in flaky.delivered]
    assert len(texts) == len(set(texts)) == 30
    assert OutboxMessage.objects.filter(status="sent").count() == 30


def test_email_goes_through_the_django_email_backend():
    with transaction.atomic():
        outbox_enqueue(channel="email", recipient="boss@example.com", template="sla_breach",
                       context={"number": "FW1", "target": "on_site", "due": "12-01 15:30"})
    assert outbox_deliver()["sent"] == 1
    assert mail.outbox[0].to == ["boss@example.com"] and "到达现场" in mail.outbox[0].body


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhooks_are_signed_filtered_per_subscriber_and_keep_codes_private():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    _Receiver.received = []
    try:
        WebhookSubscriber.objects.create(name="ERP", url=url, secret="s3cret", events=["confirmation_code"])
        WebhookSubscriber.objects.create(name="BI", url=url, secret="other", events=["sla_breach"])
        with transaction.atomic():
            outbox_enqueue(channel="sms", recipient=PHONE, template="confirmation_code",
                           context={"number": "FW1", "code": "123456"})
        assert OutboxMessage.objects.filter(channel="webhook").count() == 1
        assert outbox_deliver()["sent"] == 2
    finally:
        server.shutdown()
    (headers, body), = _Receiver.received
    assert headers[SIGNATURE_HEADER] == sign("s3cret", body)
    payload = json.loads(body)
    assert payload["event"] == "confirmation_code" and payload["data"] == {"number": "FW1"}


def test_a_webhook_that_answers_an_error_is_retried(settings):
    WebhookSubscriber.objects.create(name="down", url="http://127.0.0.1:9/none", secret="x")
    with transaction.atomic():
        outbox_enqueue(channel="sms", recipient=PHONE, template="order_created", context={"number": "FW1"})
    result = outbox_deliver()
    assert result["sent"] == 1 and result["failed"] == 1
    assert OutboxMessage.objects.get(channel="webhook").status == "failed"


def test_the_log_gateway_masks_the_number(caplog):
    sms()
    with caplog.at_level(logging.INFO, logger="aftersales.notify"):
        assert outbox_deliver()["sent"] == 1
    assert "139****5678" in caplog.text and "13912345678" not in caplog.text


@pytest.mark.parametrize("language, text", [
    ("zh-hans", "【服务时限超时】任务单 FW1 的“到达现场”已于 12-01 15:30 超时，请立即处理。"),
    ("en", "SLA breached: \"on site\" of order FW1 was due at 12-01 15:30; act now."),
])
def test_templates_in_chinese_and_english(language, text):
    assert render("sla_breach", {"number": "FW1", "target": "on_site", "due": "12-01 15:30"}, language) == text



def test_the_http_sms_gateway_posts_signed_json_to_the_provider(settings):
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.received = []
    settings.NOTIFY_SMS_GATEWAY = "aftersales.notify.gateways.HttpSmsGateway"
    settings.NOTIFY_SMS_URL = f"http://127.0.0.1:{server.server_port}/sms?to={{phone}}"
    settings.NOTIFY_SMS_SECRET = "provider-secret"
    try:
        message = sms()
        assert outbox_deliver()["sent"] == 1
    finally:
        server.shutdown()
    message.refresh_from_db()
    assert message.status == "sent"
    (headers, body), = _Receiver.received
    assert headers[SIGNATURE_HEADER] == sign("provider-secret", body)
    payload = json.loads(body)
    assert payload["to"] == PHONE and "FW20261201-00001" in payload["text"]


def test_the_http_sms_gateway_failing_leaves_the_message_for_a_retry(settings):
    settings.NOTIFY_SMS_GATEWAY = "aftersales.notify.gateways.HttpSmsGateway"
    settings.NOTIFY_SMS_URL = "http://127.0.0.1:9/sms"  # nothing listens on the discard port
    message = sms()
    assert outbox_deliver()["failed"] == 1
    message.refresh_from_db()
    assert message.status == "failed" and message.last_error and message.attempts == 1
