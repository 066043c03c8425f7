"""Serve the site with granian, after applying migrations.

Why granian and not gunicorn's sync workers: a sync worker reads the request itself, so three clients
that send a header line every two seconds held every worker and the site answered nobody (issue 12,
M2). Granian reads and buffers each request on its Rust (tokio/hyper) event loop and hands Django only
complete requests, so slow or idle connections cost a socket, not a worker. See docs/deploy.md.

With ``--with-worker`` the background worker (SLA sweeps, outbox delivery) runs beside it as a
supervised child process: restarted with a growing delay when it dies, stopped gracefully (SIGTERM,
it finishes or releases the message in flight) when the server stops.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

# The path without the query string: lookups carry phone numbers (信息安全), logs must not.
ACCESS_LOG_FORMAT = '%(addr)s [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1fms'


def server_argv(*, host: str, port: int, workers: int, threads: int) -> list[str]:
    """The granian command line `serve` runs (also what the tests and docs/deploy.md start)."""
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi", "aftersales.wsgi:application",
        "--host", host, "--port", str(port), "--workers", str(workers),
        # Django runs in these threads; the connections themselves live on the event loop.
        "--blocking-threads", str(threads),
        # A client has 10 s to send its headers (slowloris), then the connection is closed.
        "--http1-header-read-timeout", "10000",
        "--http", "1", "--no-ws",
        "--respawn-failed-workers", "--respawn-interval", "1",
        "--workers-kill-timeout", "15",
        "--access-log", "--access-log-fmt", ACCESS_LOG_FORMAT,
        "--log-level", "warning",
    ]


class WorkerSupervisor:
    """Keeps one `aftersales worker` child alive: a dead worker is started again after 1, 2, 4 … 60 s
    (the delay resets after the worker has run for a minute), so a crash loop neither stops sweeps and
    SMS silently nor spins the CPU. ``stop()`` sends SIGTERM and waits for the graceful exit."""

    MAX_DELAY = 60.0
    HEALTHY_AFTER = 60.0

    def __init__(self, argv: list[str], *, log=None):
        self.argv, self.log = argv, log or (lambda msg: None)
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv)
        self._thread.start()

    def _run(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            code = self.proc.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= self.HEALTHY_AFTER:
                delay = 1.0
            self.log(f"aftersales: the worker exited with {code}; starting it again in {delay:.0f} s")
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, self.MAX_DELAY)
            self.restarts += 1
            self.proc = subprocess.Popen(self.argv)

    def stopping(self) -> None:
        self._stopping.set()

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def prepare_metrics_dir(host: str, port: int) -> None:
    """granian's worker processes each count requests; prometheus-client's multiprocess mode sums
    them from files in PROMETHEUS_MULTIPROC_DIR, emptied at each start (a restarted server's counters
    start again from zero, which Prometheus' rate() expects). One directory per server, so two
    nodes on one machine (make cluster) do not add up each other's requests."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(settings.VAR_DIR / "metrics" / f"{host}_{port}")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path


class Command(BaseCommand):
    help = "Serve the site on HOST:PORT with granian (applies pending migrations first)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("AFTERSALES_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("AFTERSALES_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("AFTERSALES_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("AFTERSALES_THREADS", "4")),
                            help="Django threads per worker process (default 4).")
        parser.add_argument("--no-migrate", action="store_true", help="Do not apply migrations first.")
        parser.add_argument("--with-worker", action="store_true",
                            help="Also run `aftersales worker` (SLA sweeps, notifications), supervised, until the "
                                 "server stops.")

    def handle(self, *args, host, port, workers, threads, no_migrate, with_worker, **options):
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        # The static files under their hashed, compressed names (see web/staticstorage.py); the
        # granian workers started below read the fresh manifest.
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"aftersales: serving on http://{host}:{port}/  (Ctrl+C stops)")
        sys.stdout.flush()
        argv = server_argv(host=host, port=port, workers=workers, threads=threads)
        prepare_metrics_dir(host, port)
        if not with_worker:
            # exec: granian becomes this process, so signals (Ctrl+C, SIGTERM) reach it directly.
            os.execv(sys.executable, argv)

        def log(msg: str) -> None:
            sys.stderr.write(msg + "\n")
            sys.stderr.flush()

        supervisor = WorkerSupervisor([sys.executable, "-m", "aftersales.cli", "worker"], log=log)
        supervisor.start()
        server = subprocess.Popen(argv)

        def stop(signum, frame):
            supervisor.stopping()  # a worker that exits from now on is not started again
            server.send_signal(signal.SIGTERM)

        def interrupted(signum, frame):
            # Ctrl+C reaches the whole process group: granian and the worker stop by themselves.
            supervisor.stopping()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, interrupted)
        try:
            code = server.wait()
        finally:
            supervisor.stop()
        sys.exit(code)
