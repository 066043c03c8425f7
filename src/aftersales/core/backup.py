"""Consistent copies of the database while the site runs, and bringing one back.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies every page in one step under one
read transaction; in WAL mode writers keep going, and the copy is one committed state (WAL included). The copy is
written next to the target and renamed, so a half-written file never carries the backup's name.
PostgreSQL: ``pg_dump --format=custom`` (one snapshot) and ``pg_restore --clean``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connections


class BackupError(Exception):
    pass


def _settings(alias: str = "default") -> dict:
    return connections[alias].settings_dict


def _pg_env(db: dict) -> tuple[list[str], dict]:
    args = ["--host", db.get("HOST") or "127.0.0.1", "--port", str(db.get("PORT") or 5432),
            "--username", db.get("USER") or "postgres", "--dbname", db["NAME"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed; install the PostgreSQL client tools.")
    return path


def backup(dest: Path, alias: str = "default") -> Path:
    db = _settings(alias)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    if db["ENGINE"].endswith("sqlite3"):
        source = sqlite3.connect(str(db["NAME"]), timeout=30)
        target = sqlite3.connect(str(partial))
        try:
            # One step, under one read snapshot. The database is in WAL mode, so writers are not blocked
            # while it runs. Copying in small steps instead would restart from the first page whenever
            # another connection writes between two steps, so under steady intake it would never finish.
            source.backup(target)
        finally:
            target.close()
            source.close()
    elif db["ENGINE"].endswith("postgresql"):
        args, env = _pg_env(db)
        subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), *args],
                       env=env, check=True)
    else:
        raise BackupError(f"No backup method for {db['ENGINE']}.")
    partial.replace(dest)
    return dest


def database_has_data(alias: str = "default") -> bool:
    conn = connections[alias]
    with conn.cursor() as cursor:
        return bool(conn.introspection.table_names(cursor))


def restore(source: Path, alias: str = "default") -> None:
    db = _settings(alias)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} does not exist.")
    connections[alias].close()
    if db["ENGINE"].endswith("sqlite3"):
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            if backup_db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is not a sound SQLite database.")
            target = sqlite3.connect(str(db["NAME"]), timeout=30)
            try:
                # The backup API replaces the whole target database in one step, WAL and all.
                backup_db.backup(target)
            finally:
                target.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite backup: {exc}") from exc
        finally:
            backup_db.close()
    elif db["ENGINE"].endswith("postgresql"):
        args, env = _pg_env(db)
        subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction", *args,
                        str(source)], env=env, check=True)
    else:
        raise BackupError(f"No restore method for {db['ENGINE']}.")
