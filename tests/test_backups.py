"""Backups: `flask tracker backup` and `restore` on the database the suite runs on
(SQLite, or PostgreSQL with pg_dump / pg_restore), into a fresh database that then
has every account, item, history step and pending push, and pushes them."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import IN_CI, api_client_for, make_app
from tests.test_anilist_sync import connect
from tracker.extensions import db
from tracker.models import ItemEvent, LibraryItem, SyncOutbox, User

PG_URL = "postgresql+psycopg://tracker:pa ss'w0rd@db.example:6543/tracker?sslmode=require"


def tracker(app, *args: str):
    return app.test_cli_runner().invoke(args=["tracker", *args])


def need_tool(name: str) -> None:
    """A PostgreSQL client tool: skipped when absent, a failure in CI."""
    if shutil.which(name) is None:
        reason = f"{name} is not installed (PostgreSQL client tools)"
        if IN_CI:
            pytest.fail(f"{reason}, but CI must run this test")
        pytest.skip(reason)


def snapshot(app) -> dict:
    """What a restore must bring back."""
    with app.app_context():
        state = {
            "users": set(db.session.scalars(select(User.username))),
            "items": set(db.session.execute(select(
                LibraryItem.id, LibraryItem.user_id, LibraryItem.title, LibraryItem.progress))),
            "events": db.session.scalar(select(func.count()).select_from(ItemEvent)),
            "pending": set(db.session.execute(select(SyncOutbox.item_id, SyncOutbox.op))),
        }  # fmt: skip
        db.session.remove()
    return state


@pytest.fixture
def library(anilist_app, fake, viewer):
    """Two accounts; alice's is linked to AniList with pushes waiting (no worker ran)."""
    alice = api_client_for(anilist_app, "alice")
    connect(alice)
    (extra,) = fake.add_media(1)
    for anilist_id, title in ((1, "Cowboy Bebop"), (extra["id"], "Generated")):
        item = alice.add(source="anilist", anilist_id=anilist_id, title=title)
        alice.post(f"/api/library/items/{item['id']}/increment")  # history
    bob = api_client_for(anilist_app, "bob")
    bob.add(title="A Silent Voice", type="anime")
    state = snapshot(anilist_app)
    assert len(state["items"]) == 3 and len(state["pending"]) == 2 and state["events"] >= 5
    return state


@pytest.fixture
def fresh_url(migrated, tmp_path) -> Iterator[str]:
    """An empty database of the suite's kind: a new SQLite file, or a PostgreSQL
    database made here and dropped afterwards."""
    base = make_url(migrated)
    if base.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"{base.database}_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def tools(migrated) -> None:
    if make_url(migrated).get_backend_name() == "postgresql":
        need_tool("pg_dump")
        need_tool("pg_restore")


def restored_app(url: str, anilist_app):
    config = {k: v for k, v in anilist_app.config.items() if k.startswith("ANILIST_")}
    return make_app(url, REMOTE_OPTIONS=anilist_app.config["REMOTE_OPTIONS"],
                    MANGADEX_API_URL=anilist_app.config["MANGADEX_API_URL"], **config)  # fmt: skip


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_backup_restores_into_a_fresh_database_with_every_item_and_pending_push(
    anilist_app, library, fresh_url, tools, tmp_path, fake
):
    backup = tmp_path / "tracker.backup"
    made = tracker(anilist_app, "backup", str(backup))
    assert made.exit_code == 0, made.output
    assert "Backed up" in made.output and backup.stat().st_size > 0

    app = restored_app(fresh_url, anilist_app)
    try:
        restored = tracker(app, "restore", str(backup))
        assert restored.exit_code == 0, restored.output
        assert "schema revision" in restored.output
        assert snapshot(app) == library
        # The restored app is the same service: alice signs in, and the waiting pushes go out.
        assert api_client_for_existing(app, "alice").get("/api/library/items").status_code == 200
        fake.requests.clear()
        with app.app_context():
            from tracker.services import sync

            assert sync.push_pending() == 2
        saved = sorted(v["mediaId"] for op, v, _ in fake.requests if op == "SaveMediaListEntry")
        assert len(saved) == 2 and saved[0] == 1
    finally:
        dispose(app)


def api_client_for_existing(app, username: str, password: str = "password123"):
    from tests.conftest import ApiClient

    client = app.test_client()
    token = client.post("/api/auth/token", data={"username": username, "password": password})
    assert token.status_code == 200, token.get_json()
    return ApiClient(client, token.get_json()["access_token"])


def test_a_restore_refuses_a_database_that_holds_data_unless_forced(
    anilist_app, library, fresh_url, tools, tmp_path
):
    backup = tmp_path / "tracker.backup"
    assert tracker(anilist_app, "backup", str(backup)).exit_code == 0
    app = restored_app(fresh_url, anilist_app)
    try:
        assert tracker(app, "restore", str(backup)).exit_code == 0
        api_client_for_existing(app, "bob").add(title="Added after the backup", type="anime")
        refused = tracker(app, "restore", str(backup))
        assert refused.exit_code == 1
        assert "holds data" in refused.output and "--force" in refused.output
        assert "Traceback" not in refused.output
        assert len(snapshot(app)["items"]) == 4  # untouched
        forced = tracker(app, "restore", "--force", str(backup))
        assert forced.exit_code == 0, forced.output
        assert snapshot(app) == library  # back to the backup, the later item gone
    finally:
        dispose(app)


def test_a_file_that_is_not_a_backup_is_refused_clearly(app, tmp_path, runner):
    for name, content in (("notes.txt", b"hello, not a database\n"), ("empty", b"")):
        path = tmp_path / name
        path.write_bytes(content)
        result = runner.invoke(args=["tracker", "restore", str(path)])
        assert result.exit_code == 1
        assert "does not look like a backup" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_backup_of_the_other_kind_is_refused(app, tmp_path, runner):
    with app.app_context():
        kind = db.engine.dialect.name
    path = tmp_path / "other.backup"
    if kind == "sqlite":
        path.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
        expected = "is a PostgreSQL backup, but the configured database is SQLite"
    else:
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
        expected = "is a SQLite backup, but the configured database is PostgreSQL"
    result = runner.invoke(args=["tracker", "restore", str(path)])
    assert result.exit_code == 1 and expected in result.output


def test_a_sqlite_file_that_is_not_a_tracker_database_is_refused(app, tmp_path, runner):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("a SQLite backup is refused earlier on PostgreSQL")
    path = tmp_path / "someone-else.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    result = runner.invoke(args=["tracker", "restore", str(path)])
    assert result.exit_code == 1 and "not a Tracker backup" in result.output


def test_a_backup_does_not_overwrite_a_file_unless_forced(app, tmp_path, runner, tools):
    path = tmp_path / "kept.backup"
    path.write_text("an older backup")
    refused = runner.invoke(args=["tracker", "backup", str(path)])
    assert refused.exit_code == 1 and "--force" in refused.output
    assert path.read_text() == "an older backup"
    forced = runner.invoke(args=["tracker", "backup", "--force", str(path)])
    assert forced.exit_code == 0, forced.output
    assert path.read_bytes()[:5] in (b"SQLit", b"PGDMP")
    assert [p.name for p in tmp_path.iterdir()] == ["kept.backup"]  # no partial file left


def test_a_sqlite_backup_is_a_consistent_snapshot_while_a_write_is_open(app, api, tmp_path, runner):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's online backup API")
        database = db.engine.url.database
    api.add(title="Committed")
    writer = sqlite3.connect(database, timeout=5)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE library_items SET title = 'Not committed'")
    try:
        result = runner.invoke(args=["tracker", "backup", str(tmp_path / "during.db")])
    finally:
        writer.rollback()
        writer.close()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "during.db")
    try:
        assert copy.execute("SELECT title FROM library_items").fetchall() == [("Committed",)]
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        copy.close()


def test_print_command_shows_pg_dump_without_the_password(tmp_path):
    app = make_app(PG_URL)  # never connected: printing runs nothing
    result = app.test_cli_runner().invoke(
        args=["tracker", "backup", "--print-command", str(tmp_path / "t.dump")]
    )
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert line.startswith("PGPASSWORD=… pg_dump --format=custom --no-password")
    assert f"--file={tmp_path / 't.dump'}" in line
    for part in ("host=db.example", "port=6543", "user=tracker", "dbname=tracker",
                 "sslmode=require"):  # fmt: skip
        assert part in line
    assert "w0rd" not in line


def test_pg_dump_gets_the_password_in_its_environment_only(tmp_path, monkeypatch):
    ran = {}

    def run(command, env, **_options):
        ran.update(command=command, env=env)
        Path(next(a for a in command if a.startswith("--file="))[7:]).write_bytes(b"PGDMP")
        return type("Finished", (), {"returncode": 0, "stderr": ""})()

    monkeypatch.setattr("tracker.backups.subprocess.run", run)
    monkeypatch.setattr("tracker.backups.shutil.which", lambda _name: "/usr/bin/pg_dump")
    monkeypatch.setattr("tracker.backups.schema_revision", lambda _engine: "0012")
    app = make_app(PG_URL)
    result = app.test_cli_runner().invoke(args=["tracker", "backup", str(tmp_path / "t.dump")])
    assert result.exit_code == 0, result.output
    assert ran["env"]["PGPASSWORD"] == "pa ss'w0rd"
    assert not any("w0rd" in part for part in ran["command"])
    assert "w0rd" not in result.output
    assert (tmp_path / "t.dump").read_bytes() == b"PGDMP"


def test_a_missing_pg_dump_is_said_plainly(tmp_path, monkeypatch):
    monkeypatch.setattr("tracker.backups.shutil.which", lambda _name: None)
    result = (
        make_app(PG_URL)
        .test_cli_runner()
        .invoke(args=["tracker", "backup", str(tmp_path / "t.dump")])
    )
    assert result.exit_code == 1
    assert "pg_dump is not installed" in result.output
    assert list(tmp_path.iterdir()) == []
