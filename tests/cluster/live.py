"""aftersales processes on a PgPair: web nodes (`aftersales serve`, granian) and workers
(`aftersales worker`), each a real process that a test can kill and start again."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cluster.pg import PgPair, free_port

CLI = [sys.executable, "-m", "aftersales.cli"]
METRICS_TOKEN = "cluster-test-metrics-token"


class Site:
    """The shared configuration of every process of one deployment."""

    def __init__(self, pg: PgPair, tmp: Path, *, db: str = "aftersales", replica: bool = True, **env: str):
        self.pg, self.tmp, self.db = pg, tmp, db
        self.env = {**os.environ, "AFTERSALES_VAR_DIR": str(tmp), "DATABASE_URL": pg.url(db),
                    "AFTERSALES_FAST_HASHER": "1", "AFTERSALES_LOG_LEVEL": "WARNING",
                    "AFTERSALES_SECRET_KEY": "cluster-test-secret-key-" + "x" * 30,
                    "AFTERSALES_METRICS_TOKEN": METRICS_TOKEN, **env}
        if replica:
            self.env["DATABASE_REPLICA_URL"] = pg.url(db, "replica")
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    def setup(self, *, customers: int = 40, users: tuple[str, ...] = ("agent",)) -> dict[str, str]:
        """A fresh database with the demo's network and archive (no orders); API tokens for ``users``.
        One process for all of it: each `aftersales` start costs seconds on a busy machine."""
        self.pg.sql("primary", f'DROP DATABASE IF EXISTS "{self.db}"')
        self.pg.sql("primary", f'CREATE DATABASE "{self.db}"')
        script = (
            "import io, json, django; django.setup()\n"
            "from django.core.management import call_command\n"
            "call_command('migrate', verbosity=0)\n"
            f"call_command('demo', seed=5, customers={customers}, machines={customers + 10}, orders=0, stdout=io.StringIO())\n"
            "tokens = {}\n"
            f"for u in {list(users)!r}:\n"
            "    out = io.StringIO(); call_command('token', u, 'cluster', stdout=out); tokens[u] = out.getvalue().strip()\n"
            "print(json.dumps(tokens))\n"
        )
        done = subprocess.run([sys.executable, "-c", script], env={**self.env, "DJANGO_SETTINGS_MODULE": "aftersales.settings"},
                              check=True, timeout=300, capture_output=True, text=True)
        self.tokens = json.loads(done.stdout.strip().splitlines()[-1])
        return self.tokens

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, *args], env=self.env, check=True, timeout=300, capture_output=True, text=True)

    def token(self, username: str) -> str:
        return self.manage("token", username, "cluster").stdout.strip()

    def sql(self, query: str, params=()) -> list[tuple]:
        return self.pg.sql("primary", query, params, db=self.db)


class Process:
    def __init__(self, site: Site, argv: list[str], log: str):
        self.site, self.argv, self.log = site, argv, site.tmp / log
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Process":
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, env=self.site.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL to the process group at once: a crash, not a shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class WebNode(Process):
    def __init__(self, site: Site, name: str, *, workers: int = 1, threads: int = 4, port: int | None = None):
        self.port = port or free_port()
        super().__init__(site, [*CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers",
                                str(workers), "--threads", str(threads), "--no-migrate"], f"{name}.log")

    def start(self, wait: bool = True) -> "WebNode":
        super().start()
        if wait:
            self.wait_up()
        return self

    def wait_up(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"web node on {self.port} did not start; see {self.log}")


class Worker(Process):
    def __init__(self, site: Site, name: str, *, interval: float = 1):
        super().__init__(site, [*CLI, "worker", "--interval", str(interval), "--worker-id", name], f"{name}.log")


def call(port: int, method: str, path: str, *, token: str | None = None, body=None, headers=None,
         timeout: float = 10) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of one request to 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"_text": raw.decode(errors="replace")}
        return resp.status, data, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()
