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


# The value as it stands in the query string, and where a login may then lead.
NEXT_TARGETS = [
    ("/?status=current", "/?status=current"),
    ("/items/7", "/items/7"),
    ("/%2509/x", "/%09/x"),  # an encoded %09 stays in the path, on this site
    ("//evil.example/", "/"),
    ("https://evil.example/", "/"),
    ("javascript:alert(1)", "/"),
    ("/%5Cevil.example", "/"),  # /\evil.example
    ("%5C%5Cevil.example", "/"),
    ("/%09/evil.example", "/"),  # browsers drop the tab: //evil.example
    ("/%0a/x", "/"),
    ("/%0d%0aSet-Cookie:%20x=y", "/"),
    ("/%00", "/"),
    ("/%E2%80%A8/x", "/"),  # a line separator
    ("%20//evil.example", "/"),
    ("%2F%2Fevil.example", "/"),  # //evil.example once decoded
    ("/%2F/evil.example", "/"),
    ("/%5C/evil.example", "/"),  # /\/evil.example
    ("%09/evil.example", "/"),
    ("/%0d%0a/evil.example", "/"),
    ("/%E3%80%80/evil.example", "/"),  # an ideographic space
    ("/%252F%252Fevil.example", "/%2F%2Fevil.example"),  # a path on this site
    ("", "/"),
]


@pytest.mark.parametrize("target, expected", NEXT_TARGETS)
def test_login_returns_only_to_local_pages(browser, target, expected):
    browser.register()
    browser.client.post("/logout", data={"csrf_token": browser.csrf_token()})
    response = browser.client.post(
        f"/login?next={target}",
        data={"username": "alice", "password": "password123",
              "csrf_token": browser.csrf_token()},
    )  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"] == expected


@pytest.mark.parametrize("target, expected", NEXT_TARGETS)
def test_a_logged_in_visit_to_login_follows_only_local_next(logged_in, target, expected):
    response = logged_in.client.get(f"/login?next={target}")
    assert response.status_code == 302
    assert response.headers["Location"] == expected


@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/%0a/x"])
def test_the_login_form_carries_no_foreign_next(client, target):
    response = client.get(f"/login?next={target}")
    assert response.status_code == 200
    assert 'name="next"' not in response.get_data(as_text=True)


def test_the_login_form_keeps_a_local_next(browser):
    response = browser.client.get("/login?next=/items/7")
    assert 'name="next" value="/items/7"' in response.get_data(as_text=True)
    browser.register()
    browser.client.post("/logout", data={"csrf_token": browser.csrf_token()})
    response = browser.client.post(
        "/login",
        data={"username": "alice", "password": "password123", "next": "/\\evil.example",
              "csrf_token": browser.csrf_token()},
    )  # fmt: skip
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example", "/\tevil.example", "/\\evil.example", "\\\\evil.example",
     "/\r\n/evil.example", "/\n/evil.example", "//evil.example", " //evil.example",
     "/\x00/evil.example", "/\u2028/evil.example", "https:evil.example"],
)  # fmt: skip
def test_a_posted_next_with_raw_control_characters_stays_on_the_site(browser, target):
    browser.register()
    browser.client.post("/logout", data={"csrf_token": browser.csrf_token()})
    response = browser.client.post(
        "/login",
        data={"username": "alice", "password": "password123", "next": target,
              "csrf_token": browser.csrf_token()},
    )  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "page_url", ["http://localhost//evil.example/", "http://localhost/\\evil.example"]
)
def test_an_htmx_login_redirect_never_names_a_foreign_page(client, page_url):
    response = client.get("/", headers={"HX-Request": "true", "HX-Current-URL": page_url})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/"


def test_logout_by_get_only_asks(logged_in):
    page = logged_in.client.get("/logout")
    assert page.status_code == 200
    assert logged_in.client.get("/").status_code == 200
