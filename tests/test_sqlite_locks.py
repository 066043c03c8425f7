"""The SQLite backend (core/sqlite3) must not drop the locks of open connections when it opens a new
one: POSIX locks belong to the process and closing *any* descriptor of the file releases them all,
so an open-and-close of the database file (once done to set its mode) let another process write
while a thread of this one held the write lock (granian runs several threads per worker)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from aftersales.core.sqlite3.base import DatabaseWrapper

TRY_WRITE = ("import sqlite3, sys\n"
             "c = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\n"
             "try:\n    c.execute('BEGIN IMMEDIATE')\nexcept sqlite3.OperationalError as e:\n    print(e); sys.exit(3)\n")


def test_a_new_connection_keeps_the_write_lock_another_connection_holds(tmp_path):
    path = tmp_path / "locks.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")  # this process holds the write lock
    holder.execute("INSERT INTO t VALUES (1)")
    other = subprocess.run([sys.executable, "-c", TRY_WRITE, str(path)], capture_output=True, text=True, timeout=60)
    assert other.returncode == 3 and "locked" in other.stdout  # as it should be

    wrapper = DatabaseWrapper({"NAME": str(path), "OPTIONS": {}, "TIME_ZONE": None, "CONN_MAX_AGE": 0,
                               "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False,
                               "USER": "", "PASSWORD": "", "HOST": "", "PORT": "", "TEST": {}}, alias="locks")
    opened = wrapper.get_new_connection(wrapper.get_connection_params())  # another thread's new connection
    try:
        other = subprocess.run([sys.executable, "-c", TRY_WRITE, str(path)], capture_output=True, text=True,
                               timeout=60)
        assert other.returncode == 3 and "locked" in other.stdout, "the holder's lock was dropped"
    finally:
        opened.close()
        holder.execute("COMMIT")
        holder.close()
    assert path.stat().st_mode & 0o777 == 0o600 or sys.platform == "win32"
