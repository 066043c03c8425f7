"""The worker under SIGTERM and kill -9, against a real SMS provider on a local HTTP port.

The provider plays what a real one does with the stable message id (X-Aftersales-Message-Id and
"message_id" in the payload): it records every request and counts a message once per id. It can
hold a request unanswered, so the worker is stopped or killed exactly while a message is in flight.

- SIGTERM: the message in flight is finished (and marked sent), the rest of the claim is released
  at once (not after a lease), the worker exits 0, and the next worker sends each message once.
- kill -9: the message in flight may have reached the provider; its claim runs out after
  NOTIFY_CLAIM_SECONDS (3 s here, 30 s by default; it was 5 minutes), the next worker sends it again
  with the same id (the provider drops the repeat), sends every other message exactly once, and
  loses none.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "aftersales.cli"]
MESSAGES = 5


class Provider:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict]] = []  # (X-Aftersales-Message-Id, body) of every request
        self.hold_first = threading.Event()  # set: the first request waits for `release`
        self.release = threading.Event()
        self.first_arrived = threading.Event()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with provider.lock:
                    provider.requests.append((self.headers.get("X-Aftersales-Message-Id", ""), body))
                    first = len(provider.requests) == 1
                if first and provider.hold_first.is_set():
                    provider.first_arrived.set()
                    provider.release.wait(30)
                try:
                    self.send_response(204)
                    self.end_headers()
                except OSError:
                    pass  # the worker is gone; the provider has the message all the same

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/sms"

    def ids(self) -> list[str]:
        with self.lock:
            return [mid for mid, _body in self.requests]

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def setup(tmp_path):
    provider = Provider()
    db = tmp_path / "db.sqlite3"
    env = {**os.environ, "AFTERSALES_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{db}",
           "AFTERSALES_SMS_GATEWAY": "aftersales.notify.gateways.HttpSmsGateway",
           "AFTERSALES_SMS_URL": provider.url, "AFTERSALES_SMS_SECRET": "provider-secret",
           "AFTERSALES_NOTIFY_CLAIM_SECONDS": "3", "AFTERSALES_LOG_LEVEL": "WARNING"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([*CLI, "migrate", "--verbosity", "0"], env=env, check=True, timeout=120)
    # Five SMS owed, queued through the outbox service as a change would queue them.
    subprocess.run([*CLI, "shell", "-c", (
        "from django.db import transaction\n"
        "from aftersales.notify.services import outbox_enqueue\n"
        "with transaction.atomic():\n"
        f"    for i in range({MESSAGES}):\n"
        "        outbox_enqueue(channel='sms', recipient=f'+861380013800{i}', template='staff_assigned',\n"
        "                       context={'number': f'WO-2026-{i:05d}'}, webhooks=False)\n")],
        env=env, check=True, timeout=120, capture_output=True)
    try:
        yield provider, env, db
    finally:
        provider.stop()


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute("SELECT message_id, status, attempts, claimed_until FROM notify_outboxmessage "
                            "ORDER BY id").fetchall()


def _ids(db: Path) -> list[str]:
    # Stored as 32 hex digits on SQLite; the provider sees the dashed form.
    import uuid

    return [str(uuid.UUID(row[0])) for row in _rows(db)]


def _worker(env, *args) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "worker", "--interval", "0.5", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_sigterm_finishes_the_message_in_flight_releases_the_rest_and_exits(setup):
    provider, env, db = setup
    provider.hold_first.set()
    worker = _worker(env)
    try:
        assert provider.first_arrived.wait(90), "the worker never sent"
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the signal lands while the send waits for the provider's answer
        provider.release.set()
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    rows = _rows(db)
    assert len(provider.requests) == 1
    first_id = provider.ids()[0]
    assert first_id == _ids(db)[0] and provider.requests[0][1]["message_id"] == first_id
    assert rows[0][1] == "sent"
    # The rest were given back at once: due now, no claim, no attempt counted.
    assert [(status, attempts, claimed) for _mid, status, attempts, claimed in rows[1:]] == \
        [("pending", 0, None)] * (MESSAGES - 1)

    assert _worker(env, "--once").wait(timeout=90) == 0
    assert sorted(provider.ids()) == sorted(_ids(db))  # each message exactly once, none lost
    assert all(status == "sent" for _mid, status, _a, _c in _rows(db))


def test_kill_9_loses_nothing_and_repeats_only_the_message_in_flight_with_its_id(setup):
    provider, env, db = setup
    provider.hold_first.set()
    worker = _worker(env)
    try:
        assert provider.first_arrived.wait(90), "the worker never sent"
        worker.kill()  # SIGKILL while the first message is in flight
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    provider.release.set()  # the provider got it, but the worker never heard back
    assert sum(1 for _m, status, _a, _c in _rows(db) if status == "sending") == MESSAGES  # the dead claim

    successor = _worker(env)
    try:
        deadline = time.monotonic() + 90
        while not all(status == "sent" for _m, status, _a, _c in _rows(db)):
            assert successor.poll() is None, "the worker died"
            assert time.monotonic() < deadline, _rows(db)
            time.sleep(0.2)
    finally:
        successor.send_signal(signal.SIGTERM)
        successor.wait(timeout=30)
    ids = provider.ids()
    first = _ids(db)[0]
    assert sorted(set(ids)) == sorted(_ids(db))  # every message reached the provider: none lost
    repeated = {mid for mid in ids if ids.count(mid) > 1}
    assert repeated <= {first}  # only the one in flight at the kill was sent again ...
    assert all(body["message_id"] == mid for mid, body in provider.requests)  # ... under its own id
