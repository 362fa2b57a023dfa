"""Settings → AniList in a real browser: connect through the (fake) AniList and import."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tracker.services import sync

pytestmark = pytest.mark.browser


@pytest.fixture
def anilist_user(anilist_consent, fake_anilist):
    """ayaka, with two titles on her AniList list and none here."""
    fake, user = fake_anilist[0], anilist_consent
    fake.add_entry(user.id, 1, status="PAUSED", progress=10, score=85)
    fake.add_entry(user.id, 154587, status="CURRENT", progress=3)
    return user


@pytest.mark.usefixtures("anilist_user")
def test_connecting_anilist_and_importing_from_the_settings_page(app, page, user_id):
    log_in(page)
    page.goto("/settings")
    page.get_by_role("link", name="Connect AniList").click()
    expect(page).to_have_url(re.compile(r"/settings\?connected=ayaka$"))
    expect(page.get_by_text("Connected to AniList as ayaka.")).to_be_visible()
    expect(page.locator("#anilist-status")).to_contain_text("Connected as ayaka")

    page.get_by_role("button", name="Import from AniList").click()
    job = page.locator("#anilist-job")
    expect(job).to_contain_text("Import from AniList: waiting to start…")
    with app.app_context():
        sync.work_once()  # the worker's round; the page is polling meanwhile
    expect(job).to_contain_text("done — 2 added, 0 updated, 0 unchanged, 0 conflicts.")
    # The finished job makes the section reload: it now knows when the last sync was.
    expect(page.locator("#anilist-status")).not_to_contain_text("Never")
    page.goto("/library")
    expect(page.locator("#rows .sync-synced")).to_have_count(2)
