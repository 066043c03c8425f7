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


# docs/deploy.md "Failover" runs exactly this on the replica (tests/cluster/test_failover.py checks).
PROMOTE_SQL = "SELECT pg_promote(wait => true, wait_seconds => 60)"


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
        # The data directory of each role; a promotion hands the replica's to "primary".
        self.dirs = {"primary": self.dir / "primary", "replica": self.dir / "replica"}
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
        return self.dirs[node]

    def start(self, *, synchronous: bool = False) -> "PgPair":
        """``synchronous``: the primary's commits wait for the replica to have the WAL on disk
        (synchronous_standby_names, docs/deploy.md "Failover"): an acknowledged write survives the
        primary's loss once the replica is promoted."""
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
            if synchronous:
                conf.write("synchronous_standby_names = '*'\nsynchronous_commit = on\n")
        self.pg_ctl("primary", "start")
        self.make_replica()
        return self

    def make_replica(self) -> None:
        """A streaming replica of the current primary, in a fresh directory (the beginning, and
        docs/deploy.md "Failover" step 4 after a promotion)."""
        replica = self.data("replica")
        # -R writes standby.signal and primary_conninfo: a streaming replica, as in docs/deploy.md.
        # -c fast: checkpoint at once (the default spreads it over minutes, as after a promotion).
        self._run(self.bin / "pg_basebackup", "-h", "127.0.0.1", "-p", self.ports["primary"], "-U", "postgres",
                  "-D", replica, "-R", "-X", "stream", "-c", "fast", "--no-sync")
        with open(replica / "postgresql.auto.conf", "a") as conf:
            conf.write(f"port = {self.ports['replica']}\n")
        self.pg_ctl("replica", "start")

    def pg_ctl(self, node: str, action: str) -> None:
        args = [self.bin / "pg_ctl", "-D", self.data(node), "-w", "-t", "60", action]
        if action in ("start", "restart"):
            args += ["-l", self.dir / f"{node}.log"]
        if action in ("stop", "restart"):
            args += ["-m", "fast"]
        self._run(*args)

    def crash(self, node: str) -> None:
        """The machine is lost: the server stops at once, without a checkpoint or a goodbye to clients."""
        self._run(self.bin / "pg_ctl", "-D", self.data(node), "-w", "-t", "60", "stop", "-m", "immediate")

    def promote(self) -> None:
        """docs/deploy.md "Failover", step 2 on the replica: end recovery and accept writes. Afterwards
        "primary" names the promoted server and "replica" names none (the old primary is gone; a new
        replica is made from the promoted one with pg_basebackup, as in the beginning)."""
        assert self.sql("replica", PROMOTE_SQL)[0][0] is True, "pg_promote did not finish"
        assert self.sql("replica", "SELECT pg_is_in_recovery()")[0][0] is False
        n = len(list(self.dir.glob("replica*")))
        self.dirs = {"primary": self.dirs["replica"], "replica": self.dir / f"replica{n + 1}"}
        self.ports = {"primary": self.ports["replica"], "replica": free_port()}

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
