"""Serve the site with gunicorn (the production WSGI server), after applying migrations and
collecting the static files.

With ``--with-worker`` the background worker (SLA sweeps, outbox delivery) runs beside it as a
child process and stops with it: the single-machine default needs one command, not two.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the site on HOST:PORT with gunicorn (applies pending migrations first)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("AFTERSALES_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("AFTERSALES_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("AFTERSALES_WORKERS", "2")))
        parser.add_argument("--no-migrate", action="store_true", help="Do not apply migrations first.")
        parser.add_argument("--with-worker", action="store_true",
                            help="Also run `aftersales worker` (SLA sweeps, notifications) until the server stops.")

    def handle(self, *args, host, port, workers, no_migrate, with_worker, **options):
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        # The static files under their hashed, compressed names (see web/staticstorage.py); the
        # gunicorn processes started below read the fresh manifest.
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"aftersales: serving on http://{host}:{port}/  (Ctrl+C stops)")
        sys.stdout.flush()
        argv = [
            sys.executable, "-m", "gunicorn", "aftersales.wsgi:application",
            "--bind", f"{host}:{port}", "--workers", str(workers),
            # The path without the query string: lookups carry phone numbers (信息安全), logs must not.
            "--access-logfile", "-", "--access-logformat", '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
            "--graceful-timeout", "10", "--timeout", "60",
        ]
        if not with_worker:
            # exec: gunicorn becomes this process, so signals (Ctrl+C, SIGTERM) reach it directly.
            os.execv(sys.executable, argv)
        worker = subprocess.Popen([sys.executable, "-m", "aftersales.cli", "worker"])
        server = subprocess.Popen(argv)

        def stop(signum, frame):
            server.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        try:
            code = server.wait()
        except KeyboardInterrupt:  # Ctrl+C reaches the whole process group; wait for gunicorn to finish
            code = server.wait()
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        sys.exit(code)
