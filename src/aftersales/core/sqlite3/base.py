"""Django's SQLite backend, with writers that queue on a file lock instead of polling.

SQLite lets one writer in at a time. A writer that finds the database locked is put to sleep by
SQLite's busy handler for 1, 2, 5, 10 ... up to 100 ms at a time and tries again: under a few
concurrent writers most of the time is spent asleep while the lock is free, which held order intake
to a fraction of what the CPU allows. Here every write transaction (``BEGIN IMMEDIATE``, see the
settings) first takes an exclusive ``flock`` on a file beside the database, which the kernel hands
to the next waiter as soon as it is released; SQLite's own lock is then always free. The file lock
is released with the transaction's commit or rollback, or when the connection closes (and by the
kernel if the process dies). Reads outside transactions do not take it.
"""

from __future__ import annotations

import fcntl
import os
import time
from functools import lru_cache

from django.db.backends.sqlite3 import base


@lru_cache(maxsize=4096)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class CursorWrapper(base.SQLiteCursorWrapper):
    """Django rewrites every statement's ``%s`` into SQLite's ``?`` with a regular expression, on
    every execution: 2% of an order intake's CPU (issue 14). The rewrite depends on the text alone,
    and a process runs the same few hundred statements over and over, so it is remembered per text
    (a bounded cache: statements that embed values, e.g. long IN lists, only cost a miss)."""

    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_fd: int | None = None
    _writer_held = False

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=CursorWrapper)

    def get_new_connection(self, conn_params):
        # The database holds every customer's name and number: created readable by the service's
        # own user only (0600), whatever the umask. SQLite gives its -wal and -shm files the
        # database file's mode, so they follow.
        # Never open and close the database file itself once it exists: closing any descriptor of a
        # file drops every POSIX lock the process holds on it, including the locks of SQLite
        # connections other threads have open (granian runs 4 per worker), which corrupted reads
        # under load ("database disk image is malformed", tokens not found). So the file is opened
        # here only to create it (O_EXCL: no connection can hold it yet), and its mode is set by path.
        name = str(self.settings_dict["NAME"])
        if name and not self.is_in_memory_db() and not name.startswith("file:"):
            try:
                if not os.path.exists(name):
                    try:
                        os.close(os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
                    except FileExistsError:
                        pass
                if os.stat(name).st_mode & 0o077:
                    os.chmod(name, 0o600)
            except OSError:
                pass  # the connect below reports what is wrong with the path
        return super().get_new_connection(conn_params)

    def _writer_lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if not name or self.is_in_memory_db():
            return None
        return name + "-writer.lock"

    def _writer_lock_acquire(self) -> None:
        if self._writer_held:
            return
        if self._writer_fd is None:
            path = self._writer_lock_path()
            if path is None:
                return
            self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        # Bounded like SQLite's busy timeout: past it, BEGIN IMMEDIATE waits and fails as before.
        deadline = time.monotonic() + float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        pause = 0.0001
        while True:
            try:
                fcntl.flock(self._writer_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._writer_held = True
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def _writer_lock_release(self) -> None:
        if self._writer_held:
            self._writer_held = False
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)

    def _start_transaction_under_autocommit(self):
        self._writer_lock_acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._writer_lock_release()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._writer_lock_release()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._writer_lock_release()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._writer_lock_release()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None


class DatabaseCreation(base.DatabaseCreation):
    def _destroy_test_db(self, test_database_name, verbosity):
        super()._destroy_test_db(test_database_name, verbosity)
        if not self.is_in_memory_db(test_database_name):
            try:
                os.remove(str(test_database_name) + "-writer.lock")
            except FileNotFoundError:
                pass


DatabaseWrapper.creation_class = DatabaseCreation
