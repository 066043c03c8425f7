"""Issue 12, M4: the worker is supervised and /healthz is honest.

- `aftersales serve --with-worker` (what `make run` starts) starts the worker again when it dies.
- /healthz answers 503, and says why, when the SLA sweeps stop or the outbox lags; 200 once the
  worker has caught up. It used to answer {"status": "ok"} whenever the database answered.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.reliability.live import free_port

CLI = [sys.executable, "-m", "aftersales.cli"]


def _env(tmp_path, **extra):
    env = {**os.environ, "AFTERSALES_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
           "AFTERSALES_LOG_LEVEL": "WARNING", **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([*CLI, "migrate", "--verbosity", "0"], env=env, check=True, timeout=120)
    return env


def _health(port: int) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def _until(predicate, timeout: float = 90, step: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(step)


def _serve(env, port: int, *args) -> subprocess.Popen:
    proc = subprocess.Popen([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate", *args],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def up():
        assert proc.poll() is None, "the server exited"
        try:
            return _health(port)
        except OSError:
            return None

    _until(up)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _worker_pids(proc: subprocess.Popen) -> list[int]:
    # Every thread's children: the supervisor starts a worker again from its own thread.
    children = []
    for task in os.listdir(f"/proc/{proc.pid}/task"):
        try:
            children += open(f"/proc/{proc.pid}/task/{task}/children").read().split()
        except OSError:
            pass
    pids = []
    for pid in children:
        try:
            if "aftersales.cli worker" in open(f"/proc/{pid}/cmdline").read().replace("\0", " "):
                state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    pids.append(int(pid))
        except OSError:
            pass
    return pids


def test_serve_with_worker_starts_a_dead_worker_again(tmp_path):
    env = _env(tmp_path)
    port = free_port()
    server = _serve(env, port, "--with-worker")
    try:
        first = _until(lambda: _worker_pids(server))
        assert len(first) == 1
        os.kill(first[0], signal.SIGKILL)  # a crash, an OOM kill
        second = _until(lambda: [p for p in _worker_pids(server) if p not in first])
        assert len(second) == 1
        os.kill(second[0], signal.SIGKILL)  # again: started again, after a longer pause
        third = _until(lambda: [p for p in _worker_pids(server) if p not in first + second])
        assert len(third) == 1
        # The restarted worker sweeps: /healthz reports a sweep.
        status, report = _until(lambda: (lambda h: h if h[1]["sla_sweep"]["last"] else None)(_health(port)))
        assert status == 200 and report["status"] == "ok"
    finally:
        _stop(server)


def test_healthz_fails_when_the_sweeps_stop_and_when_the_outbox_lags(tmp_path):
    env = _env(tmp_path, AFTERSALES_HEALTH_SWEEP_STALE="15", AFTERSALES_HEALTH_OUTBOX_LAG="60")
    port = free_port()
    server = _serve(env, port)  # no worker
    try:
        # Nobody sweeps: once the server has run past the limit without a sweep, 503 and why.
        status, report = _until(lambda: (lambda h: h if h[0] != 200 else None)(_health(port)))
        assert status == 503 and report["status"] == "stale"
        assert report["sla_sweep"]["ok"] is False and report["sla_sweep"]["last"] is None
        # One sweep by a worker: healthy again.
        subprocess.run([*CLI, "worker", "--once"], env=env, check=True, timeout=120, capture_output=True)
        status, report = _health(port)
        assert status == 200 and report["sla_sweep"]["last"] and report["outbox"]["lag_seconds"] == 0

        # An SMS owed for ten minutes that nobody delivered: the outbox lags.
        subprocess.run([*CLI, "shell", "-c", (
            "from datetime import timedelta\n"
            "from django.db import transaction\n"
            "from django.utils import timezone\n"
            "from aftersales.notify.services import outbox_enqueue\n"
            "with transaction.atomic():\n"
            "    outbox_enqueue(channel='sms', recipient='+8613800138000', template='staff_assigned',\n"
            "                   context={'number': 'WO-1'}, available_at=timezone.now() - timedelta(minutes=10),\n"
            "                   webhooks=False)\n")], env=env, check=True, timeout=120, capture_output=True)
        status, report = _health(port)
        assert status == 503 and report["outbox"]["ok"] is False and report["outbox"]["lag_seconds"] >= 600
        assert "138" not in json.dumps(report)  # counts and ages, never a number
        subprocess.run([*CLI, "worker", "--once"], env=env, check=True, timeout=120, capture_output=True)
        status, report = _health(port)
        assert status == 200 and report["outbox"]["lag_seconds"] == 0
    finally:
        _stop(server)
