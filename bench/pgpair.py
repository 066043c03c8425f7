"""A PostgreSQL primary and its streaming replica, started from Debian's binaries for one test run.

initdb, pg_basebackup -R (streaming replication, the standard part), pg_ctl: in a temp directory,
on free ports, with trust authentication on 127.0.0.1 only. PostgreSQL refuses to run as root; a
root session (CI here runs as root) runs the server commands as the `postgres` system user that
Debian's package creates, everyone else as themselves.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin() -> Path:
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not versions:
        raise RuntimeError("PostgreSQL's server binaries are missing: apt-get install postgresql")
    return Path(versions[-1]).parent


class PgPair:
    """primary + replica; ``url(db, node)`` for Django, ``sql(node, query)`` for the test's own look."""

    def __init__(self):
        self.bin = pg_bin()
        self.root_user = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="aftersales-pg-"))
        self.ports = {"primary": free_port(), "replica": free_port()}
        if self.root_user:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.dir.chmod(0o700)

    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in argv]
        if self.root_user:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"})

    def data(self, node: str) -> Path:
        return self.dir / node

    def start(self) -> "PgPair":
        primary = self.data("primary")
        self._run(self.bin / "initdb", "-D", primary, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# aftersales test pair\n"
                f"listen_addresses = '127.0.0.1'\nport = {self.ports['primary']}\n"
                f"unix_socket_directories = '{self.dir}'\n"
                "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\nmax_connections = 60\n"
                "fsync = off\nfull_page_writes = off\nshared_buffers = 32MB\nlogging_collector = off\n"
            )
        self.pg_ctl("primary", "start")
        replica = self.data("replica")
        # -R writes standby.signal and primary_conninfo: a streaming replica, as in docs/deploy.md.
        self._run(self.bin / "pg_basebackup", "-h", "127.0.0.1", "-p", self.ports["primary"], "-U", "postgres",
                  "-D", replica, "-R", "-X", "stream", "--no-sync")
        with open(replica / "postgresql.auto.conf", "a") as conf:
            conf.write(f"port = {self.ports['replica']}\n")
        self.pg_ctl("replica", "start")
        return self

    def pg_ctl(self, node: str, action: str) -> None:
        args = [self.bin / "pg_ctl", "-D", self.data(node), "-w", "-t", "60", action]
        if action in ("start", "restart"):
            args += ["-l", self.dir / f"{node}.log"]
        if action in ("stop", "restart"):
            args += ["-m", "fast"]
        self._run(*args)

    def url(self, db: str, node: str = "primary") -> str:
        return f"postgres://postgres@127.0.0.1:{self.ports[node]}/{db}"

    def sql(self, node: str, query: str, params=(), db: str = "postgres", autocommit: bool = True) -> list[tuple]:
        with psycopg.connect(f"host=127.0.0.1 port={self.ports[node]} user=postgres dbname={db}",
                             autocommit=autocommit, connect_timeout=5) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def wait_caught_up(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        target = self.sql("primary", "SELECT pg_current_wal_lsn()::text")[0][0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sql("replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))[0][0]:
                return
            time.sleep(0.05)
        raise TimeoutError("the replica did not catch up")

    def lag(self) -> float:
        from aftersales.ops.routing import LAG_SQL

        return float(self.sql("replica", LAG_SQL)[0][0])

    def stop(self) -> None:
        for node in ("replica", "primary"):
            if (self.data(node) / "postmaster.pid").exists():
                try:
                    self.pg_ctl(node, "stop")
                except subprocess.SubprocessError:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)
