"""Fixtures: the app on a real database (SQLite by default, PostgreSQL when
TRACKER_TEST_DATABASE_URL points at one), browser, htmx and JWT clients."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from tracker import create_app
from tracker.extensions import db

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() == "true"

TEST_CONFIG = {
    "ENV": "testing",
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
    "ENCRYPTION_KEY": "ZmFrZS1rZXktZm9yLXRlc3RzLW9ubHktMzItYnl0ZXM=",
    "RATELIMIT_ENABLED": False,
    "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    "DEMO_USER": False,
}


def need_shared(relative: str) -> Path:
    """A file from ../shared: skipped on a user's clone, a failure in CI."""
    path = SHARED / relative
    if not path.exists():
        reason = f"../shared/{relative} is not present (a user's clone has no shared/)"
        if IN_CI:
            pytest.fail(f"{reason}, but CI must run this test")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("TRACKER_TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'tracker-test.db'}"
    )


def make_app(database_url: str, **overrides) -> Flask:
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **overrides})


def drop_everything(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            for table in inspect(conn).get_table_names():
                conn.execute(text(f'DROP TABLE IF EXISTS "{table}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    """The schema comes from the Alembic revisions, exactly as in production."""
    drop_everything(database_url)
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


@pytest.fixture
def app(migrated: str) -> Iterator[Flask]:
    app = make_app(migrated)
    yield app
    with app.app_context():
        db.session.remove()
        empty_tables()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A person in a browser: cookie session, forms with their CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf_token(self) -> str:
        page = self.client.get("/login", follow_redirects=True)  # the library once logged in
        match = CSRF_INPUT.search(page.get_data(as_text=True))
        assert match, "every page carries a CSRF token"
        return match.group(1)

    def register(self, username: str = "alice", password: str = "password123"):
        return self.client.post(
            "/register",
            data={
                "username": username,
                "password": password,
                "confirm": password,
                "csrf_token": self.csrf_token(),
            },
        )

    def login(self, username: str = "alice", password: str = "password123"):
        return self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": self.csrf_token()},
        )


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


@pytest.fixture
def logged_in(browser: Browser) -> Browser:
    assert browser.register().status_code == 302
    return browser


class HtmxClient:
    """The logged-in browser making htmx requests (HX-Request + the page's CSRF header)."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.token = browser.csrf_token()

    def request(self, method: str, url: str, **kwargs):
        headers = {"HX-Request": "true", "X-CSRFToken": self.token, **kwargs.pop("headers", {})}
        return self.browser.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs):
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def htmx(logged_in: Browser) -> HtmxClient:
    return HtmxClient(logged_in)


class ApiClient:
    """A script calling the JSON API with a bearer token."""

    def __init__(self, client: FlaskClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def request(self, method: str, url: str, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs):
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs):
        return self.request("DELETE", url, **kwargs)

    def add(self, **fields):
        body = {"title": "Frieren", "type": "anime", **fields}
        response = self.post("/api/library/items", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


def api_client_for(app: Flask, username: str, password: str = "password123") -> ApiClient:
    client = app.test_client()
    created = client.post("/api/auth/register", json={"username": username, "password": password})
    assert created.status_code == 201, created.get_json()
    token = client.post("/api/auth/token", data={"username": username, "password": password})
    return ApiClient(client, token.get_json()["access_token"])


@pytest.fixture
def api(app: Flask) -> ApiClient:
    return api_client_for(app, "alice")


@pytest.fixture
def other_api(app: Flask) -> ApiClient:
    return api_client_for(app, "mallory")
