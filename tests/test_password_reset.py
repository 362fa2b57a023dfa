"""Password reset without e-mail: a one-time link, valid 30 minutes, stored hashed."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select, update

from tests.conftest import CSRF_INPUT, ApiClient, Browser
from tracker.extensions import db
from tracker.models import PasswordReset, User, utcnow
from tracker.services import resets
from tracker.services.accounts import authenticate

NEW = "brand-new-secret"


def make_link(app, username: str = "alice") -> str:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        return resets.create_reset(user_id)


def submit(client, token: str, password: str = NEW, confirm: str | None = None):
    page = client.get(f"/reset/{token}")
    csrf = CSRF_INPUT.search(text(page))
    csrf_token = csrf[1] if csrf else Browser(client).csrf_token()
    return client.post(
        f"/reset/{token}",
        data={"password": password, "confirm": password if confirm is None else confirm,
              "csrf_token": csrf_token},
    )  # fmt: skip


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def password_works(app, password: str, username: str = "alice") -> bool:
    with app.app_context():
        try:
            authenticate(username, password)
        except Exception:
            return False
        return True


def test_the_link_sets_a_new_password_and_sends_to_log_in(app, client, api):
    token = make_link(app)
    form = client.get(f"/reset/{token}")
    assert form.status_code == 200
    assert "alice" in text(form)
    done = submit(client, token)
    assert done.status_code == 303
    assert done.headers["Location"] == "/login"
    assert "Your password is changed" in text(client.get("/login"))
    assert password_works(app, NEW)
    assert not password_works(app, "password123")


def test_using_the_link_ends_every_session_and_token(app, logged_in, client):
    script = ApiClient(app.test_client())
    script.token = script.client.post(
        "/api/auth/token", data={"username": "alice", "password": "password123"}
    ).get_json()["access_token"]
    submit(app.test_client(), make_link(app))
    assert script.get("/api/auth/me").status_code == 401
    assert logged_in.client.get("/").status_code == 302


def test_a_link_works_once(app, client, api):
    token = make_link(app)
    assert submit(client, token).status_code == 303
    again = client.get(f"/reset/{token}")
    assert again.status_code == 400
    assert "used already" in text(again)
    assert "Ask the server's operator for a new link" in text(again)
    assert submit(app.test_client(), token, password="yet-another-one").status_code == 400
    assert password_works(app, NEW)


def test_two_tabs_cannot_both_use_a_link(app, api):
    """The second claim, racing the first past the page's check, changes nothing."""
    token = make_link(app)
    with app.app_context():
        resets.reset_password(token, NEW)
        with pytest.raises(resets.ResetLinkSpent):
            resets.reset_password(token, "the-other-tab")
    assert password_works(app, NEW)


def test_an_expired_link_changes_nothing(app, client, api):
    token = make_link(app)
    with app.app_context():
        db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    page = client.get(f"/reset/{token}")
    assert page.status_code == 400
    assert "expired" in text(page)
    assert submit(client, token).status_code == 400
    assert password_works(app, "password123")


def test_a_link_lasts_thirty_minutes(app, api):
    make_link(app)
    with app.app_context():
        reset = db.session.scalar(select(PasswordReset))
        assert reset.expires_at - reset.created_at == timedelta(minutes=30)
        assert reset.used_at is None


def test_a_newer_link_voids_the_older_one(app, client, api):
    old = make_link(app)
    new = make_link(app)
    refused = client.get(f"/reset/{old}")
    assert refused.status_code == 404
    assert "newer link" in text(refused)
    assert submit(client, old).status_code == 404
    assert password_works(app, "password123")
    assert submit(client, new).status_code == 303


def test_another_users_link_is_untouched_by_a_new_one(app, client, api, other_api):
    alice = make_link(app, "alice")
    make_link(app, "mallory")
    assert client.get(f"/reset/{alice}").status_code == 200


@pytest.mark.parametrize(
    "token",
    ["nope", "a" * 43, "a" * 10_000, "%00" * 43, "a" * 42 + "%00", "..%2F..%2Fetc",
     "a/b", "%E2%80%AE" * 10],
)  # fmt: skip
def test_unknown_or_malformed_links_say_to_ask_for_a_new_one(app, client, api, token):
    make_link(app)
    for response in (client.get(f"/reset/{token}"), submit(client, token)):
        assert response.status_code == 404
        assert "Ask the server's operator for a new link" in text(response)
    assert password_works(app, "password123")


@pytest.mark.parametrize(
    ("password", "confirm", "field", "message"),
    [
        ("short", "short", "password", "Length must be between 8 and 256."),
        ("x" * 257, "x" * 257, "password", "Length must be between 8 and 256."),
        ("password-one", "password-two", "confirm", "The passwords differ."),
        ("ALICE1234", "ALICE1234", "password", None),
    ],
)
def test_a_refused_password_keeps_the_link_and_the_old_password(
    app, client, api_client_username, password, confirm, field, message
):
    token = make_link(app, api_client_username)
    response = submit(client, token, password=password, confirm=confirm)
    assert response.status_code == 422
    body = text(response)
    assert f'id="{field}-error"' in body
    assert (message or "may not be your username") in body
    assert password_works(app, "password123", api_client_username)
    assert client.get(f"/reset/{token}").status_code == 200  # still usable


@pytest.fixture
def api_client_username(app) -> str:
    from tests.conftest import api_client_for

    api_client_for(app, "alice1234")
    return "alice1234"


def test_a_reset_link_needs_the_forms_csrf_token(app, client, api):
    token = make_link(app)
    refused = client.post(f"/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert refused.status_code == 400
    assert password_works(app, "password123")


def test_changing_the_password_voids_a_reset_link_made_before(app, api):
    token = make_link(app)
    changed = api.post(
        "/api/auth/password",
        json={"current_password": "password123", "new_password": "changed-by-its-owner"},
    )
    assert changed.status_code == 200
    assert submit(app.test_client(), token).status_code == 404
    with app.app_context():
        assert authenticate("alice", "changed-by-its-owner").username == "alice"
