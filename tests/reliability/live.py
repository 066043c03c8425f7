"""The real server for the reliability tests: `aftersales serve` (granian) on a temp SQLite file,
with the demo's network and a small archive, started, killed and restarted like a process on a host."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

CLI = [sys.executable, "-m", "aftersales.cli"]


_next_port: list[int] = []


def free_port() -> int:
    """A port no other test of this run will be given, even after our server is killed.

    Asking the kernel for port 0 is not enough: once a killed server's port is free again, a test in
    the other xdist worker may be handed the same number, start its own site there, and the first
    test's clients (retrying during the restart) would talk to the wrong site. Each worker takes
    ports from its own block below the kernel's ephemeral range and never hands one out twice."""
    if not _next_port:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
        index = int(worker) if worker.isdigit() else 0
        _next_port.append(20000 + (index % 6) * 2000 + (os.getpid() % 50) * 40)
    while True:
        port = _next_port[0]
        _next_port[0] += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # held by something else on the machine: take the next one
            return port


class LiveSite:
    def __init__(self, tmp: Path, *, workers: int = 2):
        self.tmp, self.workers, self.port = tmp, workers, free_port()
        self.db_path = tmp / "db.sqlite3"
        self.env = {**os.environ, "AFTERSALES_VAR_DIR": str(tmp), "DATABASE_URL": f"sqlite:///{self.db_path}",
                    "AFTERSALES_FAST_HASHER": "1", "AFTERSALES_LOG_LEVEL": "WARNING"}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.proc: subprocess.Popen | None = None

    def setup(self) -> None:
        self.manage("migrate", "--verbosity", "0")
        self.manage("demo", "--seed", "5", "--customers", "40", "--machines", "50", "--orders", "0")

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, *args], env=self.env, check=check, timeout=120, capture_output=True, text=True)

    def token(self, username: str) -> str:
        return self.manage("token", username, "reliability").stdout.strip()

    def sql(self, query: str, params=()) -> list[tuple]:
        with sqlite3.connect(self.db_path, timeout=30) as conn:
            return conn.execute(query, params).fetchall()

    def start(self) -> None:
        # The server's own output is kept beside its database, so a failure under load can be read.
        self.log_path = self.tmp / "server.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [*CLI, "serve", "--port", str(self.port), "--workers", str(self.workers), "--no-migrate"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90  # granian listens once its workers have loaded the site
        while time.monotonic() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        """SIGKILL to the server and its workers at once, as a crash or power loss would."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def call(self, method: str, path: str, token: str, body=None, headers=None, timeout: float = 5) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            hdrs = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})}
            conn.request(method, "/api/v1" + path, body=json.dumps(body) if body is not None else None, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else {}
        finally:
            conn.close()

    def machines(self) -> list[tuple[int, int]]:
        return self.sql("SELECT id, owner_id FROM registry_machine WHERE owner_id IS NOT NULL ORDER BY id")


def assert_timelines_complete(site: LiveSite) -> None:
    """Every order has its create event first and events numbered 1..event_seq without a gap."""
    orders = site.sql("SELECT id, event_seq, version FROM service_serviceorder")
    events: dict[int, list[tuple[int, str]]] = {}
    for order_id, seq, action in site.sql("SELECT order_id, seq, action FROM service_orderevent ORDER BY order_id, seq"):
        events.setdefault(order_id, []).append((seq, action))
    for order_id, event_seq, _version in orders:
        timeline = events.get(order_id, [])
        assert [s for s, _ in timeline] == list(range(1, event_seq + 1)), order_id
        assert timeline[0][1] == "create", order_id
