"""Accounts in the browser: register, log in, log out, with CSRF."""

from __future__ import annotations

import pytest


def test_register_logs_the_new_user_in(browser):
    response = browser.register()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = browser.client.get("/").get_data(as_text=True)
    assert "Log out alice" in page


def test_register_shows_field_errors_inline(browser):
    response = browser.client.post(
        "/register",
        data={"username": "a", "password": "pw", "confirm": "x",
              "csrf_token": browser.csrf_token()},
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="username-error"' in page
    assert 'id="password-error"' in page
    assert 'value="a"' in page  # what was typed is kept


def test_register_refuses_differing_passwords(browser):
    response = browser.client.post(
        "/register",
        data={"username": "alice", "password": "password123", "confirm": "password124",
              "csrf_token": browser.csrf_token()},
    )  # fmt: skip
    assert response.status_code == 422
    assert "The passwords differ." in response.get_data(as_text=True)


def test_register_refuses_a_taken_username(browser, client):
    browser.register("alice")
    client.post("/logout", data={"csrf_token": browser.csrf_token()})
    response = browser.register("ALICE")
    assert response.status_code == 422
    assert "That username is taken." in response.get_data(as_text=True)


def test_forms_without_a_csrf_token_are_refused(client):
    response = client.post("/register", data={"username": "alice", "password": "password123",
                                              "confirm": "password123"})  # fmt: skip
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)


def test_login_and_logout(browser, client):
    browser.register()
    client.post("/logout", data={"csrf_token": browser.csrf_token()})
    assert client.get("/").status_code == 302
    response = browser.login()
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_login_with_a_wrong_password_says_so(browser):
    browser.register()
    browser.client.post("/logout", data={"csrf_token": browser.csrf_token()})
    response = browser.login(password="nope-nope")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_the_library_sends_strangers_to_login(client):
    response = client.get("/?type=anime")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_an_htmx_request_after_the_session_expired_redirects_the_whole_page(client):
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")
    assert response.data == b""


@pytest.mark.parametrize(
    "target, expected",
    [("/?status=current", "/?status=current"), ("//evil.example/", "/"),
     ("https://evil.example/", "/"), ("/\\evil.example", "/")],
)  # fmt: skip
def test_login_returns_only_to_local_pages(browser, target, expected):
    browser.register()
    browser.client.post("/logout", data={"csrf_token": browser.csrf_token()})
    response = browser.client.post(
        f"/login?next={target}",
        data={"username": "alice", "password": "password123",
              "csrf_token": browser.csrf_token()},
    )  # fmt: skip
    assert response.headers["Location"] == expected


def test_logout_by_get_only_asks(logged_in):
    page = logged_in.client.get("/logout")
    assert page.status_code == 200
    assert logged_in.client.get("/").status_code == 200
