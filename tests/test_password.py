"""Changing the password: the current one proves it is you, the new one follows the
registration rules, and every other browser session and JWT ends (this one stays;
personal API tokens keep working, and the message says so)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import ApiClient, Browser, HtmxClient
from tests.test_library_pages import elements, toast_of, triggers
from tests.test_sessions import api_client_for_existing, copy_of
from tracker.extensions import db
from tracker.models import User, UserSession
from tracker.services import accounts, sessions
from tracker.services.errors import Invalid

OLD, NEW = "password123", "a much better passphrase"


def password_hash(app) -> str:
    with app.app_context():
        return db.session.scalar(select(User.password_hash))


def can_log_in(app, password: str) -> bool:
    response = app.test_client().post(
        "/api/auth/token", data={"username": "alice", "password": password}
    )
    return response.status_code == 200


def change_in_page(htmx: HtmxClient, current=OLD, new=NEW, confirm=None):
    form = {"current_password": current, "new_password": new,
            "confirm": new if confirm is None else confirm}  # fmt: skip
    return htmx.post("/settings/password", data=form)


def field_error(response, field: str) -> str:
    html = response.get_data(as_text=True)
    describedby = field.replace("_", "-") + "-error"
    found = elements(html, "p", id=describedby)
    assert found, html
    assert elements(html, "input", id=field, aria_invalid="true")
    return html.split(f'id="{describedby}" role="alert">', 1)[1].split("</p>", 1)[0]


# --- the page ----------------------------------------------------------------------------


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app, htmx):
    laptop = copy_of(htmx.browser, app)  # same session: it stays too
    phone = Browser(app.test_client())
    phone.login()
    script = api_client_for_existing(app, "alice")
    response = change_in_page(htmx)
    assert response.status_code == 200
    message = toast_of(response)["message"]
    assert message.startswith("Password changed; logged out 2 other sessions.")
    assert "API tokens still work" in message
    assert "sessions-changed" in triggers(response)
    assert phone.client.get("/").status_code == 302
    assert script.get("/api/auth/me").status_code == 401
    assert htmx.browser.client.get("/").status_code == 200
    assert laptop.client.get("/").status_code == 200
    assert can_log_in(app, NEW) and not can_log_in(app, OLD)


def test_personal_api_tokens_keep_working_after_a_change(app, htmx):
    api = api_client_for_existing(app, "alice")
    token = api.post("/api/auth/tokens", json={"name": "backup"}).get_json()["token"]
    change_in_page(htmx)
    assert ApiClient(app.test_client(), token).get("/api/auth/me").status_code == 200


@pytest.mark.parametrize(
    "form, field, says",
    [
        ({"current": "wrong password"}, "current_password", "not your current password"),
        ({"new": "short"}, "new_password", "between 8 and 256"),
        ({"new": OLD}, "new_password", "different from the current one"),
        ({"confirm": "something else"}, "confirm", "differ"),
        ({"new": "x" * 257}, "new_password", "between 8 and 256"),
    ],
)
def test_a_refused_change_says_why_beside_the_field_and_changes_nothing(
    app, htmx, form, field, says
):
    other = Browser(app.test_client())
    other.login()
    before = password_hash(app)
    response = change_in_page(htmx, **form)
    assert response.status_code == 422
    assert says in field_error(response, field)
    assert password_hash(app) == before
    assert other.client.get("/").status_code == 200


def test_a_password_equal_to_the_username_is_refused(app):
    # "alice" is shorter than any password: a longer username shows this rule on its own.
    browser = Browser(app.test_client())
    browser.register("alice_in_chains")
    response = change_in_page(HtmxClient(browser), new="Alice_In_Chains")
    assert response.status_code == 422
    assert "not your username" in field_error(response, "new_password")


def test_without_javascript_a_change_redirects_to_the_section_with_a_flash(app, logged_in):
    form = {"current_password": OLD, "new_password": NEW, "confirm": NEW,
            "csrf_token": logged_in.csrf_token()}  # fmt: skip
    response = logged_in.client.post("/settings/password", data=form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/settings#password")
    assert "Password changed" in logged_in.client.get("/settings").get_data(as_text=True)


def test_without_javascript_a_refusal_answers_the_whole_page(logged_in):
    form = {"current_password": "nope", "new_password": NEW, "confirm": NEW,
            "csrf_token": logged_in.csrf_token()}  # fmt: skip
    response = logged_in.client.post("/settings/password", data=form)
    assert response.status_code == 422
    assert "<h1" in response.get_data(as_text=True)
    assert "not your current password" in field_error(response, "current_password")


def test_the_form_needs_its_csrf_token(app, logged_in):
    before = password_hash(app)
    form = {"current_password": OLD, "new_password": NEW, "confirm": NEW}
    assert logged_in.client.post("/settings/password", data=form).status_code == 400
    assert password_hash(app) == before


# --- sessions in settings -----------------------------------------------------------------


def test_the_sessions_section_lists_this_browser_and_the_others(app, logged_in):
    api_client_for_existing(app, "alice")
    page = logged_in.client.get("/settings").get_data(as_text=True)
    section = page.split('id="sessions-body"', 1)[1].split("</table>", 1)[0]
    assert section.count("This session") == 1
    assert "API token (JWT)" in section and "Browser" in section
    assert len(elements(section, "form")) == 1  # End, for the JWT only


def test_ending_a_session_from_settings_logs_it_out(app, htmx):
    script = api_client_for_existing(app, "alice")
    with app.app_context():
        jwt_session = db.session.scalar(
            select(UserSession.id).where(UserSession.kind == sessions.JWT)
        )
    response = htmx.post(f"/settings/sessions/{jwt_session}/end")
    assert response.status_code == 200
    assert toast_of(response)["message"].startswith("Session ended")
    assert script.get("/api/auth/me").status_code == 401
    assert htmx.browser.client.get("/").status_code == 200


@pytest.mark.parametrize("session_id", ["nope", "a" * 43, "%00" * 5, "x" * 200])
def test_ending_an_unknown_session_is_a_404(htmx, session_id):
    response = htmx.post(f"/settings/sessions/{session_id}/end")
    assert response.status_code == 404
    assert toast_of(response)["level"] == "error"


def test_nobody_ends_another_users_session_from_settings(app, htmx, other_api):
    with app.app_context():
        theirs = db.session.scalar(
            select(UserSession.id)
            .join(User, User.id == UserSession.user_id)
            .where(User.username == "mallory")
        )
    assert htmx.post(f"/settings/sessions/{theirs}/end").status_code == 404
    assert other_api.get("/api/auth/me").status_code == 200


@pytest.mark.parametrize(
    "agent, device",
    [
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
         "Firefox on Linux"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0 Safari/537.36 Edg/126.0", "Edge on Windows"),
        ("curl/8.5.0", "curl"),
        ("python-requests/2.32", "Python script"),
        ("MyScript/1.0 (+https://example.org)", "MyScript/1.0"),
        (None, "Unknown device"),
    ],
)  # fmt: skip
def test_devices_are_named_as_a_person_knows_them(agent, device):
    from tracker.settings.security import device_of

    assert device_of(agent) == device


# --- the API --------------------------------------------------------------------------------


def test_the_api_changes_the_password_and_ends_other_sessions(app, api, logged_in_elsewhere):
    other_jwt = api_client_for_existing(app, "alice")
    response = api.post("/api/auth/password", json={"current_password": OLD, "new_password": NEW})
    assert response.status_code == 200
    assert response.get_json()["ended_sessions"] == 2
    assert api.get("/api/auth/me").status_code == 200  # the JWT it came with stays
    assert other_jwt.get("/api/auth/me").status_code == 401
    assert logged_in_elsewhere.client.get("/").status_code == 302
    assert can_log_in(app, NEW)


@pytest.fixture
def logged_in_elsewhere(app, api) -> Browser:
    browser = Browser(app.test_client())
    browser.login()
    return browser


@pytest.mark.parametrize(
    "body, field",
    [
        ({"current_password": "wrong", "new_password": NEW}, "current_password"),
        ({"current_password": OLD, "new_password": "short"}, "new_password"),
        ({"current_password": OLD, "new_password": OLD}, "new_password"),
        ({"current_password": OLD}, "new_password"),
        ({"current_password": OLD, "new_password": 12345678}, "new_password"),
    ],
)
def test_the_api_refuses_with_a_field_and_changes_nothing(app, api, body, field):
    before = password_hash(app)
    response = api.post("/api/auth/password", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert password_hash(app) == before


def test_the_api_needs_a_caller(client):
    response = client.post(
        "/api/auth/password", json={"current_password": OLD, "new_password": NEW}
    )
    assert response.status_code == 401


def test_the_service_refuses_the_username_case_insensitively(app):
    with app.app_context():
        user = accounts.register("Longusername", OLD)
        with pytest.raises(Invalid) as refused:
            accounts.change_password(user, OLD, "LONGUSERNAME", None)
        assert list(refused.value.fields) == ["new_password"]
        assert accounts.authenticate("longusername", OLD)
