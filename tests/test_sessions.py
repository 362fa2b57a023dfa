"""Sessions that really end: a copied cookie or token is worth nothing once its session
is over, whether ended by logging out, by "log out everywhere" or by disabling the account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import ApiClient, Browser, HtmxClient, api_client_for
from tracker.extensions import db
from tracker.models import User, UserSession, utcnow
from tracker.services import sessions
from tracker.services.errors import NotFound


def copy_of(browser: Browser, app) -> Browser:
    """Another browser holding the same cookies (a stolen or copied session)."""
    thief = app.test_client()
    for name in ("session", "remember_token"):
        cookie = browser.client.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return Browser(thief)


def api_client_for_existing(app, username: str, password: str = "password123") -> ApiClient:
    client = app.test_client()
    token = client.post("/api/auth/token", data={"username": username, "password": password})
    assert token.status_code == 200, token.get_json()
    return ApiClient(client, token.get_json()["access_token"])


def log_out(browser: Browser, **form):
    return browser.client.post("/logout", data={"csrf_token": browser.csrf_token(), **form})


def test_a_copied_session_cookie_is_refused_after_logout(app, logged_in):
    thief = copy_of(logged_in, app)
    assert thief.client.get("/").status_code == 200  # the copy works while the session does
    item = HtmxClient(logged_in).post("/items", data={"title": "Frieren", "type": "anime"})
    assert item.status_code == 200
    log_out(logged_in)
    assert thief.client.get("/").status_code == 302
    refused = thief.client.post(
        "/items",
        data={"title": "Mallory was here", "type": "anime"},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 401  # htmx is sent to the login page
    assert "/login" in refused.headers["HX-Redirect"]
    with app.app_context():
        assert db.session.scalar(select(UserSession.revoked_at)) is not None


def test_a_copied_remember_me_cookie_is_refused_after_logout(app, browser):
    browser.register()
    log_out(browser)
    browser.client.post(
        "/login",
        data={"username": "alice", "password": "password123", "remember": "1",
              "csrf_token": browser.csrf_token()},
    )  # fmt: skip
    remember = browser.client.get_cookie("remember_token")
    assert remember is not None
    # A fresh browser with only the remember-me cookie gets in while the session lives…
    returning = app.test_client()
    returning.set_cookie("remember_token", remember.value)
    assert returning.get("/").status_code == 200
    log_out(browser)
    # …and not after it ended, even with the cookie copied before.
    thief = app.test_client()
    thief.set_cookie("remember_token", remember.value)
    assert thief.get("/").status_code == 302


def test_an_old_style_cookie_naming_only_a_user_logs_nobody_in(app, logged_in):
    with logged_in.client.session_transaction() as session:
        session["_user_id"] = "1"
    assert logged_in.client.get("/").status_code == 302


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1",
        "1:",
        ":abc",
        "x:abc",
        "-1:abc",
        "1:" + "a" * 44,
        "1:" + "a" * 42 + "\x00",
        "99999999999:" + "a" * 43,
        "9999999999:" + "a" * 43,
        None,
    ],
)
def test_identities_that_name_no_session_are_refused(app, value):
    identity = sessions.Identity.parse(value)
    with app.app_context():
        assert sessions.load_user(identity) is None


def test_api_logout_revokes_the_token_it_came_with(api: ApiClient):
    assert api.get("/api/auth/me").status_code == 200
    assert api.post("/api/auth/logout").status_code == 204
    refused = api.get("/api/auth/me")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["message"] == "The token has been revoked."


def test_api_logout_ends_only_its_own_token(app, api: ApiClient):
    second = api.client.post(
        "/api/auth/token", data={"username": "alice", "password": "password123"}
    )
    other = ApiClient(app.test_client(), second.get_json()["access_token"])
    api.post("/api/auth/logout")
    assert other.get("/api/auth/me").status_code == 200


def test_logout_everywhere_ends_every_browser_and_token(app, logged_in):
    script = api_client_for_existing(app, "alice")
    laptop = Browser(app.test_client())
    laptop.login()
    assert laptop.client.get("/").status_code == 200

    response = log_out(logged_in, everywhere="1")
    assert response.status_code == 302
    assert script.get("/api/auth/me").status_code == 401
    assert laptop.client.get("/").status_code == 302
    assert logged_in.client.get("/").status_code == 302


def test_api_logout_all_ends_the_browser_sessions_too(app, logged_in):
    script = api_client_for_existing(app, "alice")
    assert script.post("/api/auth/logout-all").status_code == 204
    assert script.get("/api/auth/me").status_code == 401
    assert logged_in.client.get("/").status_code == 302


def test_logout_through_the_api_with_the_session_cookie_needs_csrf(logged_in):
    refused = logged_in.client.post("/api/auth/logout")
    assert refused.status_code == 400
    assert logged_in.client.get("/").status_code == 200
    ended = logged_in.client.post(
        "/api/auth/logout", headers={"X-CSRFToken": logged_in.csrf_token()}
    )
    assert ended.status_code == 204
    assert logged_in.client.get("/").status_code == 302


def test_a_disabled_account_is_out_at_once(app, logged_in):
    script = api_client_for_existing(app, "alice")
    with app.app_context():
        db.session.execute(update(User).values(disabled_at=utcnow()))
        db.session.commit()
    assert logged_in.client.get("/").status_code == 302
    assert script.get("/api/auth/me").status_code == 401


def test_an_expired_session_lets_nobody_in(app, logged_in):
    with app.app_context():
        db.session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert logged_in.client.get("/").status_code == 302


def test_a_token_without_a_session_is_refused(app, api: ApiClient):
    from flask_jwt_extended import create_access_token

    with app.app_context():
        user = db.session.scalar(select(User))
        forged = create_access_token(identity=user)  # signed, but names no session
    response = ApiClient(app.test_client(), forged).get("/api/auth/me")
    assert response.status_code == 401


def test_a_session_records_where_it_came_from_and_when_it_was_last_seen(app, logged_in):
    with app.app_context():
        row = db.session.scalar(select(UserSession))
        assert row.kind == sessions.BROWSER
        assert row.address == "127.0.0.1"
        assert row.expires_at > utcnow()
        stale = utcnow() - timedelta(hours=1)
        db.session.execute(update(UserSession).values(last_seen_at=stale))
        db.session.commit()
    logged_in.client.get("/")
    with app.app_context():
        assert db.session.scalar(select(UserSession.last_seen_at)) > utcnow() - timedelta(minutes=1)


def test_nobody_ends_another_users_session(app, logged_in, other_api: ApiClient):
    with app.app_context():
        alice = db.session.scalar(select(User).where(User.username == "alice"))
        browser_session = db.session.scalar(
            select(UserSession.id).where(UserSession.user_id == alice.id)
        )
        mallory = db.session.scalar(select(User).where(User.username == "mallory"))
        with pytest.raises(NotFound):
            sessions.end(mallory.id, browser_session)
    assert logged_in.client.get("/").status_code == 200


def test_active_lists_live_sessions_newest_first(app, logged_in):
    api_client_for_existing(app, "alice")
    with app.app_context():
        user = db.session.scalar(select(User))
        listed = sessions.active(user.id)
        assert [s.kind for s in listed] == [sessions.JWT, sessions.BROWSER]
        sessions.end_all(user.id, keep=listed[1].id)
        assert [s.id for s in sessions.active(user.id)] == [listed[1].id]


def test_registering_through_the_api_makes_no_session(app):
    api_client_for(app, "bob")  # registers, then asks for a token: one session, the token's
    with app.app_context():
        assert db.session.scalar(select(UserSession.kind)) == sessions.JWT
