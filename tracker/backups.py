"""Backing up and restoring the database (``flask tracker backup`` / ``restore``).

SQLite: SQLite's online backup API, which copies a consistent snapshot while the app
keeps reading and writing, into one self-contained file. PostgreSQL: ``pg_dump
--format=custom`` and ``pg_restore``, given the connection from the configured URL;
the password travels in ``PGPASSWORD``, never on a command line.

A restore first checks that the file is a backup of the configured kind, and refuses
to replace a database that holds any data unless forced.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
BOOKKEEPING = {"alembic_version"}  # tables whose rows are not data


class BackupError(Exception):
    """Why a backup or restore did not happen, in words for the operator."""


def kind_of(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups know SQLite and PostgreSQL, not {backend}.")
    return backend


# --- backup ------------------------------------------------------------------------------


def backup(engine: Engine, path: Path, *, force: bool = False) -> str:
    """Write a backup of ``engine``'s database to ``path``; says what was written."""
    url = engine.url
    kind = kind_of(url)
    if path.exists() and not force:
        raise BackupError(f"{path} exists; add --force to replace it.")
    if path.is_dir():
        raise BackupError(f"{path} is a folder; name the backup file.")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a folder.")
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        if kind == "sqlite":
            source = sqlite_file(url)
            if source == path.resolve():
                raise BackupError("That is the database itself; name another file.")
            _sqlite_copy(source, partial)
        else:
            command, env = pg_dump_command(url, partial)
            _run(command, env)
        os.replace(partial, path)  # never half a backup under the name asked for
    finally:
        partial.unlink(missing_ok=True)
    revision = schema_revision(engine)
    return (f"Backed up the {_NAMES[kind]} database (schema revision {revision or 'none'}) "
            f"to {path}: {path.stat().st_size} bytes.")  # fmt: skip


def sqlite_file(url: URL) -> Path:
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        raise BackupError("An in-memory SQLite database has nothing to back up or restore.")
    return Path(database).resolve()


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"There is no database at {source}.")
    origin = sqlite3.connect(source, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            origin.backup(copy)  # a consistent snapshot; writers carry on meanwhile
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        finally:
            copy.close()
    finally:
        origin.close()


def pg_dump_command(url: URL, path: Path) -> tuple[list[str], dict[str, str]]:
    """The ``pg_dump`` command for ``url`` writing ``path``, and its extra environment."""
    command = ["pg_dump", "--format=custom", "--no-password", f"--file={path}",
               f"--dbname={_conninfo(url)}"]  # fmt: skip
    return command, _password_env(url)


def shown(command: list[str], env: dict[str, str]) -> str:
    """A command as an operator would type it; the password only as a placeholder."""
    prefix = "PGPASSWORD=… " if "PGPASSWORD" in env else ""
    return prefix + shlex.join(command)


# --- restore -----------------------------------------------------------------------------


def restore(engine: Engine, path: Path, *, force: bool = False) -> str:
    """Put the backup at ``path`` into ``engine``'s database; says what was done."""
    url = engine.url
    kind = kind_of(url)
    found = backup_kind(path)
    if found is None:
        raise BackupError(f"{path} does not look like a backup (neither a SQLite database "
                          "nor a pg_dump custom-format file).")  # fmt: skip
    if found != kind:
        raise BackupError(f"{path} is a {_NAMES[found]} backup, but the configured database "
                          f"is {_NAMES[kind]}.")  # fmt: skip
    if kind == "sqlite":
        _check_sqlite_backup(path)
    if not force and holds_data(engine):
        raise BackupError("The configured database holds data; restoring would replace it. "
                          "Add --force to replace it anyway.")  # fmt: skip
    engine.dispose()  # let go of pooled connections before the database changes under them
    if kind == "sqlite":
        target = sqlite_file(url)
        if not target.parent.is_dir():
            raise BackupError(f"{target.parent} is not a folder.")
        origin = sqlite3.connect(path)
        try:
            copy = sqlite3.connect(target, timeout=30)
            try:
                origin.backup(copy)
            finally:
                copy.close()
        finally:
            origin.close()
    else:
        command, env = pg_restore_command(url, path)
        _run(command, env)
    engine.dispose()
    revision = schema_revision(engine)
    return (f"Restored {path} into the {_NAMES[kind]} database (schema revision "
            f"{revision or 'none'}). Run `flask db upgrade` if this code is newer.")  # fmt: skip


def pg_restore_command(url: URL, path: Path) -> tuple[list[str], dict[str, str]]:
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
               "--no-password", f"--dbname={_conninfo(url)}", str(path.resolve())]  # fmt: skip
    return command, _password_env(url)


def backup_kind(path: Path) -> str | None:
    """ "sqlite" or "postgresql" by the file's first bytes; None for anything else."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    return None


def _check_sqlite_backup(path: Path) -> None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}  # fmt: skip
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}.") from exc
    if verdict != "ok":
        raise BackupError(f"{path} is damaged (SQLite's check says: {verdict}).")
    if "alembic_version" not in tables:
        raise BackupError(f"{path} is a SQLite database, but not a Tracker backup.")


def holds_data(engine: Engine) -> bool:
    """Whether any table but the bookkeeping ones has a row. A SQLite file that does
    not exist yet holds nothing (and is not created by asking)."""
    if engine.url.get_backend_name() == "sqlite" and not sqlite_file(engine.url).exists():
        return False
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table in BOOKKEEPING:
                continue
            quoted = connection.dialect.identifier_preparer.quote(table)
            if connection.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first():
                return True
    return False


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.scalar(text("SELECT version_num FROM alembic_version"))


# --- running the PostgreSQL tools ----------------------------------------------------------

_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _conninfo(url: URL) -> str:
    """libpq's ``key=value`` connection string for ``url``, without the password."""
    values: dict[str, object] = {"host": url.host, "port": url.port, "user": url.username,
                                 "dbname": url.database}  # fmt: skip
    for key, value in url.query.items():
        values.setdefault(key, value if isinstance(value, str) else value[-1])
    return " ".join(f"{key}={_quoted(str(value))}" for key, value in values.items() if value)


def _quoted(value: str) -> str:
    if value and re.fullmatch(r"[\w./:@-]+", value):
        return value
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _password_env(url: URL) -> dict[str, str]:
    return {"PGPASSWORD": url.password} if url.password else {}


def _run(command: list[str], env: dict[str, str]) -> None:
    program = command[0]
    if shutil.which(program) is None:
        raise BackupError(f"{program} is not installed: install the PostgreSQL client tools "
                          "(the server's major version or newer).")  # fmt: skip
    finished = subprocess.run(command, env={**os.environ, **env}, capture_output=True,
                              text=True, check=False)  # fmt: skip
    if finished.returncode != 0:
        said = finished.stderr.strip() or f"exit status {finished.returncode}"
        raise BackupError(f"{program} failed: {said}")
