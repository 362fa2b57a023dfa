"""TRACKER_REGISTRATION_OPEN=false closes sign-up (page and API); operators still create
accounts. And a disabled account is told so, but only once the password is right."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select, update

from tests.conftest import Browser, api_client_for
from tracker.extensions import db
from tracker.models import User, utcnow

CLOSED = "Registration is closed on this server — ask its operator for an account."


@pytest.fixture
def closed_app(app_factory):
    return app_factory(REGISTRATION_OPEN=False)


def users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def test_the_register_page_says_registration_is_closed(closed_app):
    page = closed_app.test_client().get("/register")
    assert page.status_code == 403
    body = unescape(page.get_data(as_text=True))
    assert CLOSED in body
    assert 'name="password"' not in body  # no form


def test_a_register_post_is_refused_while_closed(closed_app):
    browser = Browser(closed_app.test_client())
    response = browser.register("bob")
    assert response.status_code == 403
    assert users(closed_app) == 0


def test_the_api_refuses_registration_while_closed(closed_app):
    response = closed_app.test_client().post(
        "/api/auth/register", json={"username": "bob", "password": "password123"}
    )
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "registration_closed"
    assert error["message"] == CLOSED
    assert users(closed_app) == 0


def test_no_register_links_while_closed(closed_app):
    body = closed_app.test_client().get("/login").get_data(as_text=True)
    assert "/register" not in body


def test_register_links_while_open(client):
    body = client.get("/login").get_data(as_text=True)
    assert 'href="/register"' in body


def test_operators_still_create_accounts_while_closed(closed_app):
    result = closed_app.test_cli_runner().invoke(
        args=["tracker", "create-user", "bob"], input="password123\npassword123\n"
    )
    assert result.exit_code == 0, result.output
    assert Browser(closed_app.test_client()).login("bob").status_code == 302


def test_the_api_documents_the_403(app):
    document = app.test_client().get("/api/openapi.json").get_json()
    assert "403" in document["paths"]["/api/auth/register"]["post"]["responses"]
    assert "403" in document["paths"]["/api/auth/token"]["post"]["responses"]


# --- disabled accounts ------------------------------------------------------------


@pytest.fixture
def disabled(app):
    api_client_for(app, "alice")
    with app.app_context():
        db.session.execute(update(User).values(disabled_at=utcnow()))
        db.session.commit()


def test_a_disabled_account_is_told_so_on_the_login_page(disabled, browser):
    response = browser.login()
    assert response.status_code == 403
    assert "This account is disabled." in response.get_data(as_text=True)
    assert browser.client.get("/").status_code == 302


def test_a_wrong_password_on_a_disabled_account_reveals_nothing(disabled, browser):
    response = browser.login(password="wrong-password")
    body = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Wrong username or password." in body
    assert "disabled" not in body


def test_a_disabled_account_gets_no_token(disabled, client):
    response = client.post("/api/auth/token", data={"username": "alice", "password": "password123"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "account_disabled"
    wrong = client.post("/api/auth/token", data={"username": "alice", "password": "nope-nope"})
    assert wrong.status_code == 401
    assert wrong.get_json()["error"]["message"] == "Wrong username or password."
