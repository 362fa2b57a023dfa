"""Error pages look like the app: a heading that says what happened, and the ways back."""

from __future__ import annotations

import re

import pytest

from tests.test_library_pages import text


def heading(html: str) -> str:
    return text(re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1))


@pytest.mark.parametrize("path", ["/items/abc", "/nope", "/items/99999999999999999999999"])
def test_an_unknown_address_is_the_apps_404_page(logged_in, path):
    response = logged_in.client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert heading(html) == "Page not found"
    assert "<title>Page not found · Tracker</title>" in html
    assert 'href="/library">Back to your library</a>' in html
    assert 'class="site-header"' in html  # the app's frame, with its navigation


def test_signed_out_the_404_page_offers_to_log_in(client):
    html = client.get("/items/abc").get_data(as_text=True)
    assert heading(html) == "Page not found" and 'href="/login">Log in</a>' in html


def test_a_wrong_method_is_the_apps_405_page(client):
    response = client.put("/login")
    assert response.status_code == 405
    assert heading(response.get_data(as_text=True)) == "That action is not available here"
    assert "GET" in response.headers["Allow"]


def test_a_crash_is_the_apps_500_page_without_details(app_factory):
    app = app_factory(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert heading(html) == "Something went wrong on our side"
    assert "secret detail" not in html


def test_an_api_404_stays_json(client):
    response = client.get("/api/nope")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_an_htmx_404_is_a_fragment_and_a_toast(htmx):
    response = htmx.get("/items/abc")
    assert response.status_code == 404
    assert "<html" not in response.get_data(as_text=True)
    assert "HX-Trigger" in response.headers
