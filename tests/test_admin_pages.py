"""The users page: admins only (anyone else gets a 404), disable / enable an account,
make a reset link shown once; htmx row swaps with toasts, plain forms without JS."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import select, update

from tests.conftest import Browser, HtmxClient, api_client_for
from tracker.extensions import db
from tracker.models import PasswordReset, User

LINK = re.compile(r"<code>(http://localhost/reset/([A-Za-z0-9_-]{43}))</code>")


def ids(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(select(User.username, User.id)).all())


def make_admin(app, username: str) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.username == username).values(is_admin=True))
        db.session.commit()


@pytest.fixture
def admin(app, logged_in) -> Browser:
    """alice, an admin, in her browser; mallory is another account."""
    api_client_for(app, "mallory")
    make_admin(app, "alice")
    return logged_in


def toast_of(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])["toast"]


def test_admins_see_every_account_and_a_nav_link(app, admin):
    page = admin.client.get("/admin/users")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="user-' in body and "mallory" in body and "alice" in body
    assert 'href="/admin/users"' in admin.client.get("/").get_data(as_text=True)


def test_others_get_no_nav_link(logged_in):
    assert "/admin/users" not in logged_in.client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "path",
    ["/admin/users", "/admin/users/{alice}/disable", "/admin/users/{alice}/enable",
     "/admin/users/{alice}/reset-link", "/admin/users/{mallory}/disable", "/admin/nothing"],
)  # fmt: skip
def test_the_page_does_not_exist_for_anyone_else(app, logged_in, method, path):
    api_client_for(app, "mallory")
    url = path.format(**ids(app))
    for client in (logged_in.client, app.test_client()):  # a user, and someone logged out
        assert client.open(url, method=method).status_code == 404
    htmx = HtmxClient(logged_in).request(method, url)
    assert htmx.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(PasswordReset.id)) is None
        assert all(u.disabled_at is None for u in db.session.scalars(select(User)))


def test_disabling_ends_the_accounts_sessions_and_swaps_the_row(app, admin):
    mallory = api_client_for_existing(app, "mallory")
    htmx = HtmxClient(admin)
    response = htmx.post(f"/admin/users/{ids(app)['mallory']}/disable")
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith('<tr id="user-')
    assert "Enable" in response.get_data(as_text=True)
    assert toast_of(response)["message"] == "mallory is disabled and logged out everywhere."
    assert mallory.get("/api/auth/me").status_code == 401
    enabled = htmx.post(f"/admin/users/{ids(app)['mallory']}/enable")
    assert toast_of(enabled)["message"] == "mallory can log in again."
    assert "Disable" in enabled.get_data(as_text=True)


def api_client_for_existing(app, username: str):
    from tests.test_sessions import api_client_for_existing as token_for

    return token_for(app, username)


def test_without_javascript_the_forms_redirect_back_with_a_message(app, admin):
    response = admin.client.post(
        f"/admin/users/{ids(app)['mallory']}/disable", data={"csrf_token": admin.csrf_token()}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users"
    assert "mallory is disabled" in admin.client.get("/admin/users").get_data(as_text=True)


def test_an_admin_cannot_disable_themself(app, admin):
    htmx = HtmxClient(admin)
    page = admin.client.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{ids(app)["alice"]}/disable"' not in page
    response = htmx.post(f"/admin/users/{ids(app)['alice']}/disable")
    assert response.status_code == 409
    assert toast_of(response) == {
        "message": "You cannot disable your own account.", "level": "error"}  # fmt: skip
    assert admin.client.get("/admin/users").status_code == 200


def test_a_reset_link_is_shown_once_and_works(app, admin):
    htmx = HtmxClient(admin)
    response = htmx.post(f"/admin/users/{ids(app)['mallory']}/reset-link")
    assert response.status_code == 200
    link, token = LINK.search(unescape(response.get_data(as_text=True))).groups()
    assert "/reset/" in link
    assert token not in admin.client.get("/admin/users").get_data(as_text=True)  # once only
    assert app.test_client().get(f"/reset/{token}").status_code == 200


def test_a_reset_link_without_javascript_is_in_the_page_not_the_cookie(app, admin):
    response = admin.client.post(
        f"/admin/users/{ids(app)['mallory']}/reset-link", data={"csrf_token": admin.csrf_token()}
    )
    assert response.status_code == 200
    assert LINK.search(unescape(response.get_data(as_text=True)))


@pytest.mark.parametrize("user_id", ["999999", "0", "99999999999", "-1", "abc"])
def test_unknown_users_are_404_for_admins_too(app, admin, user_id):
    response = HtmxClient(admin).post(f"/admin/users/{user_id}/disable")
    assert response.status_code == 404


def test_admin_actions_need_the_csrf_token(app, admin):
    refused = admin.client.post(f"/admin/users/{ids(app)['mallory']}/disable")
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User.disabled_at).where(User.username == "mallory")) is None


def test_the_users_page_takes_a_fixed_number_of_statements(app, admin):
    from sqlalchemy import event

    for name in ("ann", "ben", "cat"):
        api_client_for(app, name).add(title="Frieren")
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = admin.client.get("/admin/users")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    assert len(statements) <= 2  # the admin's own lookup, then the list
