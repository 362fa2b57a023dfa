"""Creating the app has no side effects: no database, no thread, whatever the settings.
The demo user and the in-process worker belong to the development server."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from tests.conftest import TEST_CONFIG
from tracker import create_app, worker
from tracker.extensions import db
from tracker.models import User

# Nothing listens on port 9 (discard); the SQLite file's folder does not exist.
UNREACHABLE = [
    "postgresql+psycopg://tracker:password@127.0.0.1:9/nowhere",
    "sqlite:////nonexistent-tracker-dir/deeper/tracker.db",
]
SETTINGS = [(demo, inprocess) for demo in (False, True) for inprocess in (False, True)]


@pytest.fixture
def database_traffic():
    """Every connection opened and statement sent by any engine meanwhile."""
    seen: list[str] = []

    def connected(_dbapi_connection, _record) -> None:
        seen.append("connect")

    def statement(_conn, _cursor, sql, *_rest) -> None:
        seen.append(sql)

    event.listen(Pool, "connect", connected)
    event.listen(Engine, "before_cursor_execute", statement)
    yield seen
    event.remove(Pool, "connect", connected)
    event.remove(Engine, "before_cursor_execute", statement)


def lasting_threads_started_by(build) -> list[threading.Thread]:
    """The threads ``build()`` left running. Flask-Limiter's memory store starts a
    one-shot 10 ms expiry timer when made; such a timer is waited for, not counted."""
    before = set(threading.enumerate())
    build()
    started = [t for t in threading.enumerate() if t not in before]
    for thread in started:
        if isinstance(thread, threading.Timer):
            thread.join(timeout=5)
    return [t for t in started if t.is_alive()]


@pytest.mark.parametrize("url", UNREACHABLE, ids=["postgresql", "sqlite"])
@pytest.mark.parametrize("demo_user,inprocess_worker", SETTINGS)
def test_creating_the_app_touches_no_database_and_starts_no_thread(
    url, demo_user, inprocess_worker, database_traffic
):
    config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "DEMO_USER": demo_user,
              "INPROCESS_WORKER": inprocess_worker, "RATELIMIT_ENABLED": True,
              "REDIS_URL": "redis://127.0.0.1:9/0", "WORKER_POLL_SECONDS": 0.01}  # fmt: skip
    made = []
    assert lasting_threads_started_by(lambda: made.append(create_app(config))) == []
    (app,) = made
    assert database_traffic == []
    assert "tracker.worker" not in app.extensions
    with app.app_context():
        assert db.engine.pool.checkedin() == 0 and db.engine.pool.checkedout() == 0
        db.engine.dispose()


def test_a_cli_command_starts_no_worker(app_factory):
    app = app_factory(INPROCESS_WORKER=True, DEMO_USER=True)
    before = set(threading.enumerate())
    result = app.test_cli_runner().invoke(args=["tracker", "list-users"])
    assert result.exit_code == 0, result.output
    assert "demo" not in result.output  # no demo user either
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()
            and not isinstance(t, threading.Timer)] == []  # fmt: skip


def test_the_dev_server_seeds_the_demo_user_and_runs_the_worker(app_factory, monkeypatch):
    app = app_factory(DEMO_USER=True, INPROCESS_WORKER=True, WORKER_POLL_SECONDS=0.05)
    served = {}

    def serve(host, port, application, **options) -> None:
        # What is true while the development server would be serving:
        served.update(
            host=host,
            port=port,
            app=application,
            options=options,
            workers=[t for t in threading.enumerate() if t.name == "tracker-worker"],
        )
        with app.app_context():
            served["demo"] = User.query.filter_by(username="demo").count()  # fmt: skip

    monkeypatch.setattr("tracker.cli.run_simple", serve)
    result = app.test_cli_runner().invoke(args=["tracker", "dev", "--port", "5123"])
    assert result.exit_code == 0, result.output
    assert "demo / demo1234" in result.output
    assert (served["host"], served["port"], served["app"]) == ("127.0.0.1", 5123, app)
    assert served["options"]["threaded"] is True
    assert served["demo"] == 1
    (thread,) = served["workers"]
    assert not thread.is_alive()  # stopped when the server stops
    assert "tracker.worker" not in app.extensions


def test_the_dev_server_without_the_settings_starts_neither(app_factory, monkeypatch):
    app = app_factory()
    served = {}

    def serve(host, port, application, **options) -> None:
        served["workers"] = [t for t in threading.enumerate() if t.name == "tracker-worker"]

    monkeypatch.setattr("tracker.cli.run_simple", serve)
    result = app.test_cli_runner().invoke(args=["tracker", "dev"])
    assert result.exit_code == 0, result.output
    assert served["workers"] == []
    with app.app_context():
        assert User.query.filter_by(username="demo").count() == 0


def test_the_in_process_worker_stops_when_asked(app_factory):
    app = app_factory(WORKER_POLL_SECONDS=30)  # it would sleep long: stopping wakes it
    thread = worker.start_in_process(app)
    assert thread.is_alive() and app.extensions["tracker.worker"] is thread
    worker.stop_in_process(app, timeout=10)
    assert not thread.is_alive()
