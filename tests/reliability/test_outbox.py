"""The outbox under a failing SMS gateway and webhook subscribers: nothing lost, nothing sent twice
once they recover.

One real HTTP server on 127.0.0.1 plays the SMS provider (``HttpSmsGateway``) and two webhook
subscribers. Orders are taken through the real services, which queue their SMS and webhooks; then
two deliverers (the worker's ``outbox_deliver``, each thread on its own connection) race over the
outbox while the server refuses connections, answers 500, stalls past the client's timeout and
flaps, and again once it has recovered. The clock moves by the messages' own ``available_at`` (the
backoff the outbox wrote), never by sleeping. tests/notify checks each rule alone with an in-process
gateway; this is the same promise end to end, under load and faults.

The server counts a delivery only when it answered 2xx. A stall it never answers is a failed
attempt on both sides; the ambiguous case (the provider acted but its answer was lost) is
at-least-once by design, which is why every webhook attempt carries the message's id in
``X-Aftersales-Delivery``: the test checks that a retry repeats the same id.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.db import close_old_connections, connection
from django.db.models import Max
from django.utils import timezone

from aftersales.notify import gateways
from aftersales.notify import services as notify_services
from aftersales.notify.models import DELIVERABLE, OutboxMessage, WebhookSubscriber
from aftersales.notify.services import outbox_deliver
from aftersales.notify.templates import render
from aftersales.service import services
from tests.support import build_network, make_customer, make_machine

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = 16
CLIENT_TIMEOUT = 0.25  # the deliverers' HTTP timeout here (10 s in production), so a stall costs little
STALL = 0.6  # how long the stalling server holds a request: longer than the client waits
DELIVERY = "X-Aftersales-Delivery"


class Gateway:
    """The provider and the subscribers: switchable between ``ok``, ``error`` (500), ``stall`` (no
    answer within the client's timeout), ``flap`` (every other request fails) and ``down`` (the port
    closed: connection refused). Records every request that reached it and every delivery it
    accepted."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []  # (path, delivery key) of every request that arrived
        self.accepted: list[tuple[str, str, dict]] = []  # (path, delivery key, body) answered 2xx
        self.server: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get(DELIVERY) or f"{body.get('to')}|{body.get('text')}"
                with gateway.lock:
                    gateway.requests.append((self.path, key))
                    mode = gateway.mode
                    if mode == "flap":
                        mode = "ok" if len(gateway.requests) % 2 else "error"
                    if mode == "ok":
                        gateway.accepted.append((self.path, key, body))
                if mode == "stall":
                    time.sleep(STALL)
                try:
                    self.send_response(204 if mode == "ok" else 500 if mode == "error" else 503)
                    self.end_headers()
                except OSError:
                    pass  # the client gave up waiting, as it should

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def set(self, mode: str) -> None:
        if mode == "down":
            self.stop()
        elif self.server is None:
            self.start()  # the same port again (SO_REUSEADDR), as a provider coming back
        self.mode = mode

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def gateway(settings, monkeypatch):
    gw = Gateway()
    settings.NOTIFY_SMS_GATEWAY = "aftersales.notify.gateways.HttpSmsGateway"
    settings.NOTIFY_SMS_URL = f"{gw.url}/sms"
    settings.NOTIFY_SMS_SECRET = "provider-secret"
    settings.NOTIFY_RETRY_BASE_SECONDS, settings.NOTIFY_RETRY_MAX_SECONDS, settings.NOTIFY_MAX_ATTEMPTS = 30, 3600, 8
    short = functools.partial(gateways.post_json, timeout=CLIENT_TIMEOUT)
    monkeypatch.setattr(gateways, "post_json", short)  # the SMS gateway's
    monkeypatch.setattr(notify_services, "post_json", short)  # the webhooks'
    try:
        yield gw
    finally:
        gw.stop()


def deliver_round(now, *, workers: int = 2, limit: int = 5, passes: int | None = None) -> Counter:
    """Two deliverers released together, each claiming ``limit`` messages at a time until nothing is
    due at ``now`` (or for ``passes`` batches); returns the summed counts."""
    barrier, results, errors = threading.Barrier(workers), Counter(), []

    def work():
        try:
            barrier.wait(timeout=10)
            n = 0
            while passes is None or n < passes:
                counts = outbox_deliver(now=now, limit=limit)
                results.update(counts)
                n += 1
                if not any(counts.values()):
                    break
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def next_due():
    """The moment every message still owed has come due again: the latest backoff written."""
    return OutboxMessage.objects.filter(status__in=DELIVERABLE).aggregate(t=Max("available_at"))["t"]


def statuses() -> Counter:
    return Counter(OutboxMessage.objects.values_list("status", flat=True))


def test_a_failing_gateway_loses_nothing_and_sends_nothing_twice_once_it_recovers(gateway):
    net = build_network()
    WebhookSubscriber.objects.create(name="ERP", url=f"{gateway.url}/hooks/erp", secret="erp-secret")
    WebhookSubscriber.objects.create(name="BI", url=f"{gateway.url}/hooks/bi", secret="bi-secret",
                                     events=["order_created"])
    for i in range(ORDERS):
        customer = make_customer(f"农户{i}", f"1391234{i:04d}", province="山东省", city="潍坊市", county="寿光市")
        machine = make_machine(f"LX904-OUTBOX-{i:04d}", customer)
        services.order_create(actor=net.agent, data=services.OrderInput(
            order_type="repair", customer_id=customer.pk, machine_id=machine.pk, symptom="拖拉机启动困难，冒黑烟"))
    owed = {m.pk: m for m in OutboxMessage.objects.all()}
    sms = [m for m in owed.values() if m.channel == "sms"]
    hooks = [m for m in owed.values() if m.channel == "webhook"]
    assert len(sms) == ORDERS and len(hooks) == 2 * ORDERS  # each order: the customer's SMS, two subscribers

    # The provider is down: every message fails once, none is lost or sent.
    gateway.set("down")
    assert deliver_round(timezone.now()) == Counter(sent=0, failed=3 * ORDERS, dead=0)
    assert statuses() == {"failed": 3 * ORDERS}
    assert all("refused" in m.last_error.lower() for m in OutboxMessage.objects.all())

    # Back, but answering 500.
    gateway.set("error")
    assert deliver_round(next_due()) == Counter(sent=0, failed=3 * ORDERS, dead=0)
    assert statuses() == {"failed": 3 * ORDERS}

    # Stalling past the client's timeout: a few batches only (each stall costs the client its timeout).
    gateway.set("stall")
    stalled = deliver_round(next_due(), limit=3, passes=1)
    # Both may read the same three candidates; the claiming UPDATE gives each row to one of them,
    # so one deliverer can come away empty-handed: 3 to 6 failures, never a send, never a double.
    assert stalled["sent"] == stalled["dead"] == 0 and 3 <= stalled["failed"] <= 6
    assert statuses() == {"failed": 3 * ORDERS}

    # Flapping: every other request is accepted; what failed waits for its backoff.
    gateway.set("flap")
    flapped = deliver_round(next_due())
    assert flapped["sent"] > 0 and flapped["failed"] > 0 and flapped["dead"] == 0
    assert statuses() == {"sent": flapped["sent"], "failed": 3 * ORDERS - flapped["sent"]}

    # Recovered: the rest goes out once its backoff has come; a day later nothing is left to send.
    gateway.set("ok")
    recovered = deliver_round(next_due())
    assert recovered == Counter(sent=3 * ORDERS - flapped["sent"], failed=0, dead=0)
    assert deliver_round(timezone.now() + timedelta(days=1)) == Counter(sent=0, failed=0, dead=0)

    # Nothing lost, nothing pending, nothing sent twice.
    final = {m.pk: m for m in OutboxMessage.objects.all()}
    assert final.keys() == owed.keys()
    assert all(m.status == "sent" and m.sent_at and not m.last_error and m.claimed_until is None
               for m in final.values())
    hook_keys = Counter(key for path, key, _ in gateway.accepted if path.startswith("/hooks/"))
    assert hook_keys == Counter(str(m.pk) for m in hooks)  # each webhook message exactly once, by its id
    paths = {str(sub.pk): f"/hooks/{sub.name.lower()}" for sub in WebhookSubscriber.objects.all()}
    for path, key, body in gateway.accepted:
        if path.startswith("/hooks/"):  # the body's id is the header's, and it went to its own subscriber
            assert body["id"] == int(key) and path == paths[final[int(key)].recipient]
    # An SMS carries no id: each text names its own order, so (phone, text) identifies the message.
    language = django_settings.NOTIFY_LANGUAGE
    sms_keys = Counter(key for path, key, _ in gateway.accepted if path == "/sms")
    assert sms_keys == Counter(f"{m.recipient}|{render(m.template, m.context, language)}" for m in sms)
    assert len(sms_keys) == ORDERS

    # Every attempt the outbox counted reached the gateway, except the one refused at the door; a
    # retry repeats the message's id, so a subscriber can drop a repeat it has already acted on.
    seen = Counter(key for _, key in gateway.requests)
    for m in final.values():
        key = str(m.pk) if m.channel == "webhook" else f"{m.recipient}|{render(m.template, m.context, language)}"
        assert m.attempts == seen[key] + 1, (m.pk, m.attempts, seen[key])
    assert sum(seen.values()) == sum(m.attempts for m in final.values()) - 3 * ORDERS
