"""The first AniList connect in a real browser: it asks before merging, keeps the newer
side of each title, and the value that lost can be taken back from the item page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tracker.services import sync

pytestmark = pytest.mark.browser

LATER = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())  # after any edit made here


@pytest.fixture
def bebop(app, anilist_consent, fake_anilist, add_item, user_id) -> int:
    """Bebop read further here than on AniList (AniList's entry is older); Frieren moved
    on AniList after it was added here."""
    fake = fake_anilist[0]
    item_id = add_item("Cowboy Bebop", source="anilist", anilist_id=1, progress=5)
    add_item("Frieren", source="anilist", anilist_id=154587, progress=2)
    fake.add_entry(anilist_consent.id, 1, status="CURRENT", progress=10, notes="jazz")
    fake.add_entry(anilist_consent.id, 154587, status="CURRENT", progress=7).updated_at = LATER
    return item_id


def test_the_first_connect_asks_then_keeps_the_newest_and_the_loser_can_be_taken_back(
    app, page, bebop
):
    log_in(page)
    page.goto("/settings")
    page.get_by_role("link", name="Connect AniList").click()
    expect(page).to_have_url(re.compile(r"/settings\?connected=ayaka$"))
    choice = page.locator("#first-sync")
    expect(choice).to_contain_text("2 titles differ (1 newer here, 1 newer on AniList)")

    choice.get_by_role("button", name="Keep the newest (recommended)").click()
    job = page.locator("#anilist-job")
    expect(job).to_contain_text("waiting to start")
    with app.app_context():
        sync.work_once()  # the merge; the page polls its job meanwhile
    expect(job).to_contain_text("2 conflicts")

    page.goto(f"/items/{bebop}")
    conflict = page.locator(".conflict.is-open")
    expect(conflict).to_contain_text("the change made here was newer and was kept")
    expect(conflict.locator("tbody tr", has_text="Progress")).to_contain_text("5")
    expect(conflict.locator("tbody tr", has_text="Progress")).to_contain_text("10")
    conflict.get_by_role("button", name=re.compile("Use AniList’s value")).click()
    expect(page.locator(".conflict .resolved")).to_contain_text("you chose AniList’s value")
    expect(page.locator(f"#progress-{bebop}")).to_have_text("10")
