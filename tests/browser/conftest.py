"""Fixtures for driving the real app in Chromium: a served app, a browser, a logged-in page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.browser.harness import CHROMIUM, launch_chromium, serving
from tests.conftest import IN_CI, oauth_config, remote_config
from tracker.extensions import db
from tracker.models import Origin
from tracker.services import accounts, library

USERNAME, PASSWORD = "alice", "password123"
OTHER_HOSTS = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")


def unavailable(reason: str) -> None:
    """No browser here: a skip on a workstation, a failure in CI."""
    if IN_CI:
        pytest.fail(f"{reason}; CI must run the browser tests")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable("Chromium not installed: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def app(app_factory, fake_anilist, fake_mangadex, sleeps) -> Flask:
    """The app under test, searching the fake AniList and MangaDex: no test reaches the
    internet (the page below refuses every other host too)."""
    return app_factory(**remote_config(fake_anilist[1], fake_mangadex[1], sleeps))


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app under test on 127.0.0.1; ``app`` empties the tables after the server stops."""
    with serving(app) as url:
        yield url


@pytest.fixture
def page(chromium, live_server: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=live_server, color_scheme="light")
    # Covers from the (fake) AniList point at its CDN: only 127.0.0.1 is reachable here.
    context.route(OTHER_HOSTS, lambda route: route.abort())
    page = context.new_page()
    page.console_errors = []  # what the console said, for the CSP test
    page.on("console", lambda message: page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(f"pageerror: {error}"))
    yield page
    context.close()


@pytest.fixture
def anilist_consent(app: Flask, live_server: str, fake_anilist):
    """ayaka on the fake AniList, whose consent page approves at once and sends the
    browser back to this server's callback."""
    fake, url = fake_anilist
    callback = f"{live_server}/api/anilist/callback"
    app.config.update(oauth_config(url), ANILIST_REDIRECT_URI=callback)
    fake.redirect_uri = callback
    user = fake.add_user("ayaka")
    fake.authorize_as = user.id
    return user


@pytest.fixture
def user_id(app: Flask) -> int:
    with app.app_context():
        return accounts.register(USERNAME, PASSWORD).id


def log_in(page: Any) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # "/" opens on up next once the library has titles; these tests start on the library.
    landed = page.get_by_role("heading", name=re.compile("^(Your library|Up next)$"))
    expect(landed).to_be_visible()
    if landed.inner_text() == "Up next":
        page.goto("/library")
    expect(page.get_by_role("heading", name="Your library")).to_be_visible()
    page.wait_for_load_state("load")  # the deferred scripts (htmx, app.js) have run


@pytest.fixture
def add_item(app: Flask, user_id: int):
    """Put a title in alice's library directly through the service; its id."""

    def add(title: str = "Frieren", type: str = "anime", **fields: Any) -> int:
        with app.app_context():
            item = library.add_item(user_id, {"title": title, "type": type, **fields}, Origin.WEB)
            item_id = item.id
            db.session.remove()
        return item_id

    return add


@pytest.fixture
def tour(app: Flask, user_id: int, add_item) -> dict[str, list[tuple[str, str]]]:
    """Every kind of page, as (name, path): ``out`` before logging in, ``in`` after, for
    alice as an admin with a title in progress (and a page that does not exist)."""
    from sqlalchemy import update

    from tracker.models import User
    from tracker.services import resets

    item_id = add_item(status="current", max_progress=12, progress=3, notes="Lovely")
    add_item("Apothecary Diaries", "manga", status="paused")
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(is_admin=True))
        db.session.commit()
        token = resets.create_reset(user_id)
        db.session.remove()
    return {
        "out": [("login", "/login"), ("register", "/register"), ("reset", f"/reset/{token}"),
                ("not found", "/items/abc")],
        "in": [("up next", "/next"), ("library", "/library"), ("item", f"/items/{item_id}"),
               ("settings", "/settings"), ("docs", "/docs"), ("admin users", "/admin/users"),
               ("not found", "/nope")],
    }  # fmt: skip


@pytest.fixture
def context_for(chromium, live_server: str):
    """New browser contexts (``color_scheme``, ``viewport``…), closed after the test."""
    opened = []

    def new(**options: Any) -> Any:
        context = chromium.new_context(base_url=live_server, **options)
        context.route(OTHER_HOSTS, lambda route: route.abort())
        opened.append(context)
        return context

    yield new
    for context in opened:
        context.close()
