"""Fixtures: the app on a real database (SQLite by default, PostgreSQL when
TRACKER_TEST_DATABASE_URL points at one), browser, htmx and JWT clients."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.fakes import Sleeps, serve
from tests.fakes.anilist import FakeAniList
from tests.fakes.mangadex import FakeMangaDex
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
    # The worker's airing refresh would add AniList requests to tests that count them;
    # the airing tests turn it on.
    "AIRING_REFRESH_MINUTES": 0,
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
    """SQLite in a temporary file (one per xdist worker, as every worker has its own
    temporary directory), or PostgreSQL when TRACKER_TEST_DATABASE_URL names one."""
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'tracker-test.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return database_of_worker(url, worker) if worker else url


def database_of_worker(url: str, worker: str) -> str:
    """``<name>_<worker>`` beside the PostgreSQL database named, created when absent
    (the user needs CREATEDB), so parallel workers never share tables."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            known = "SELECT 1 FROM pg_database WHERE datname = :name"
            if not conn.scalar(text(known), {"name": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


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
def app_factory(migrated: str) -> Iterator[Callable[..., Flask]]:
    """Apps on the migrated test database with extra configuration; emptied afterwards."""
    made: list[Flask] = []

    def factory(**overrides) -> Flask:
        made.append(make_app(migrated, **overrides))
        return made[-1]

    yield factory
    for app in made:
        thread = app.extensions.get("tracker.worker")
        if thread is not None:
            thread.stop.set()
            thread.join(timeout=10)
    for index, app in enumerate(made):
        with app.app_context():
            db.session.remove()
            if index == 0:
                empty_tables()
            db.engine.dispose()


@pytest.fixture(scope="session")
def shared_app(migrated: str) -> Flask:
    """One app for every test with the default configuration: building an app (and
    its OpenAPI document) costs more than most tests."""
    return make_app(migrated)


@pytest.fixture
def app(shared_app: Flask) -> Iterator[Flask]:
    yield shared_app
    with shared_app.app_context():
        db.session.remove()
        empty_tables()


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


class _Verbs:
    """get/post/patch/delete over the subclass's ``request``."""

    def request(self, method: str, url: str, **kwargs):
        raise NotImplementedError

    def get(self, url: str, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs):
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs):
        return self.request("DELETE", url, **kwargs)


class HtmxClient(_Verbs):
    """The logged-in browser making htmx requests (HX-Request + the page's CSRF header)."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.token = browser.csrf_token()

    def request(self, method: str, url: str, **kwargs):
        headers = {"HX-Request": "true", "X-CSRFToken": self.token, **kwargs.pop("headers", {})}
        return self.browser.client.open(url, method=method, headers=headers, **kwargs)


@pytest.fixture
def htmx(logged_in: Browser) -> HtmxClient:
    return HtmxClient(logged_in)


class ApiClient(_Verbs):
    """A script calling the JSON API with a bearer token."""

    def __init__(self, client: FlaskClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def request(self, method: str, url: str, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open(url, method=method, headers=headers, **kwargs)

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


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """Redis for the tests of what processes share: skipped when absent, a failure in CI."""
    url = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis is not reachable at {url} ({exc})"
        if IN_CI:
            pytest.fail(f"{reason}, but CI must run this test")
        pytest.skip(reason)
    yield client
    client.close()


# --- remote sources --------------------------------------------------------------


@pytest.fixture
def sleeps() -> Sleeps:
    """Stands in for time.sleep in the clients: backoff is recorded, never waited."""
    return Sleeps()


@pytest.fixture
def fake_anilist() -> Iterator[tuple[FakeAniList, str]]:
    # Each save moves AniList's clock on by one second: updatedAt is predictable.
    fake = FakeAniList(clock=itertools.count(1_700_000_000).__next__)
    url, stop = serve(fake)
    yield fake, url
    stop()


@pytest.fixture
def fake_mangadex() -> Iterator[tuple[FakeMangaDex, str]]:
    fake = FakeMangaDex()
    url, stop = serve(fake)
    yield fake, url
    stop()


def remote_config(anilist_url: str, mangadex_url: str, sleeps: Sleeps, **overrides) -> dict:
    return {
        "ANILIST_GRAPHQL_URL": anilist_url,
        "MANGADEX_API_URL": mangadex_url,
        "ANILIST_RATE_PER_MINUTE": 6000,
        # Typing must fail fast; the worker's calls get room, since on a loaded machine a
        # timed-out save is sent again (at least once) and tests count exact requests.
        "REMOTE_OPTIONS": {"sleep": sleeps, "interactive_timeout": (0.5, 0.5),
                           "timeout": (2.0, 5.0)},
        **overrides,
    }  # fmt: skip


@pytest.fixture
def remote_app(app_factory, fake_anilist, fake_mangadex, sleeps) -> Flask:
    """The app talking to the fake AniList and MangaDex over real HTTP."""
    return app_factory(**remote_config(fake_anilist[1], fake_mangadex[1], sleeps))


@pytest.fixture
def remote_api(remote_app: Flask) -> ApiClient:
    return api_client_for(remote_app, "alice")


ANILIST_REDIRECT = "http://localhost/anilist/callback"  # what the fake AniList expects


def oauth_config(url: str) -> dict:
    """AniList credentials and OAuth endpoints of the fake served at ``url``."""
    return {
        "ANILIST_CLIENT_ID": "tracker-test-client",
        "ANILIST_CLIENT_SECRET": "tracker-test-secret",
        "ANILIST_AUTHORIZE_URL": f"{url}/api/v2/oauth/authorize",
        "ANILIST_TOKEN_URL": f"{url}/api/v2/oauth/token",
        "ANILIST_REDIRECT_URI": ANILIST_REDIRECT,
        "ANILIST_PULL_INTERVAL": 0,
    }


@pytest.fixture
def anilist_app(app_factory, fake_anilist, fake_mangadex, sleeps) -> Flask:
    """The app with AniList credentials, talking to the fake AniList."""
    url = fake_anilist[1]
    return app_factory(**remote_config(url, fake_mangadex[1], sleeps), **oauth_config(url))


@pytest.fixture
def fake(fake_anilist) -> FakeAniList:
    return fake_anilist[0]


@pytest.fixture
def viewer(fake: FakeAniList):
    """ayaka on AniList; the fake's consent page approves for her at once."""
    user = fake.add_user("ayaka", score_format="POINT_10")
    fake.authorize_as = user.id
    return user
