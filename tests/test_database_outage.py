"""The database goes away and comes back: pages answer a 503 page, htmx a 503 fragment with
a toast, the API a 503 error JSON; nothing on the way touches the database, and once it
is back the same app serves again without a restart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text

from tests.conftest import ApiClient, Browser, HtmxClient, api_client_for, make_app
from tests.test_auth_api import error_of
from tracker.extensions import db

UNAVAILABLE = "The database is not answering"


class Outage:
    """Switches an app's database off and on: new connections fail, and the ones already
    open are cut (PostgreSQL: their backends are terminated; SQLite: the pool is emptied)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.down = False
        with app.app_context():
            self.engine = db.engine
        event.listen(self.engine, "do_connect", self._connect)

    def _connect(self, dialect, _record, _cargs, _cparams):
        if self.down:
            raise dialect.loaded_dbapi.OperationalError("connection refused (outage under test)")
        return None  # connect as usual

    def start(self) -> None:
        self.down = True
        self.cut()

    def cut(self) -> None:
        """Break the connections the app holds, as a database restart would."""
        if self.engine.dialect.name == "postgresql":
            admin = create_engine(self.engine.url)
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            admin.dispose()
        else:
            self.engine.dispose()

    def end(self) -> None:
        self.down = False

    def remove(self) -> None:
        self.end()
        event.remove(self.engine, "do_connect", self._connect)


@pytest.fixture
def outage_app(app_factory) -> Flask:
    return app_factory()


@pytest.fixture
def outage(outage_app: Flask) -> Iterator[Outage]:
    switch = Outage(outage_app)
    yield switch
    switch.remove()  # before app_factory empties the tables


@pytest.fixture
def person(outage_app: Flask) -> Browser:
    browser = Browser(outage_app.test_client())
    assert browser.register().status_code == 302
    return browser


@pytest.fixture
def script(outage_app: Flask) -> ApiClient:
    return api_client_for(outage_app, "scripted")


def test_a_page_answers_a_clean_503_page_and_serves_again_after(person, outage):
    outage.start()
    response = person.client.get("/")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert UNAVAILABLE in page
    assert "Log out alice" not in page  # naming the person would need the database
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Retry-After"]

    outage.end()
    response = person.client.get("/")
    assert response.status_code == 200
    assert "Log out alice" in response.get_data(as_text=True)  # still logged in


def test_an_htmx_request_answers_a_503_fragment_with_a_toast(person, outage):
    htmx = HtmxClient(person)
    item = htmx.post("/items", data={"title": "Frieren", "type": "anime"})
    assert item.status_code == 200
    outage.start()
    response = htmx.get("/")
    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)
    assert UNAVAILABLE in response.headers["HX-Trigger"]
    assert "<html" not in response.get_data(as_text=True)

    outage.end()
    assert "Frieren" in htmx.get("/").get_data(as_text=True)


def test_the_api_answers_503_json_and_serves_again_after(script, outage):
    script.add()
    outage.start()
    listed = script.get("/api/library/items")
    added = script.post("/api/library/items", json={"title": "Dune", "type": "manga"})
    for response in (listed, added):
        assert response.status_code == 503
        assert error_of(response)["code"] == "database_unavailable"
        assert response.headers["Retry-After"]
    assert script.get("/api/health").status_code == 503

    outage.end()
    response = script.get("/api/library/items")
    assert response.status_code == 200
    assert [item["title"] for item in response.get_json()] == ["Frieren"]


def test_connections_cut_under_the_app_are_replaced_unnoticed(person, outage):
    assert person.client.get("/").status_code == 200
    outage.cut()
    assert person.client.get("/").status_code == 200


def test_an_error_page_during_an_outage_needs_no_database(person, outage):
    outage.start()
    response = person.client.get("/no-such-page")
    assert response.status_code == 404
    assert "Log out alice" not in response.get_data(as_text=True)


def test_logging_in_during_an_outage_says_so(outage_app, outage):
    client = outage_app.test_client()
    token = Browser(client).csrf_token()  # the login page itself needs no database
    outage.start()
    response = client.post(
        "/login", data={"username": "alice", "password": "password123", "csrf_token": token}
    )
    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)


def unreachable_url(database_url: str, tmp_path) -> str:
    if database_url.startswith("postgresql"):
        return "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"
    return f"sqlite:///{tmp_path / 'missing-dir' / 'tracker.db'}"


def test_an_app_whose_database_never_answered_says_503(database_url, tmp_path):
    app = make_app(unreachable_url(database_url, tmp_path))
    client = app.test_client()
    token = client.post("/api/auth/token", data={"username": "a", "password": "b"})
    assert token.status_code == 503
    assert error_of(token)["code"] == "database_unavailable"
    page = client.post("/register", data={"username": "alice", "password": "x" * 8,
                                          "confirm": "x" * 8,
                                          "csrf_token": Browser(client).csrf_token()})  # fmt: skip
    assert page.status_code == 503
    with app.app_context():
        db.engine.dispose()
