"""A row's AniList badge in a real browser: a pending push that lands or fails while the
page is open changes the badge by itself, without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_library_in_chromium import assert_no_reload, mark_the_document
from tracker.extensions import db
from tracker.models import AniListAccount
from tracker.services import crypto, sync

pytestmark = pytest.mark.browser


@pytest.fixture
def linked_item(app, user_id, add_item, fake_anilist):
    """alice connected to ayaka's (fake) AniList, with Cowboy Bebop waiting to be pushed."""
    fake = fake_anilist[0]
    ayaka = fake.add_user("ayaka")
    with app.app_context():
        db.session.add(AniListAccount(user_id=user_id, anilist_user_id=ayaka.id, name="ayaka",
                                      access_token_encrypted=crypto.encrypt(
                                          fake.issue_token(ayaka.id))))  # fmt: skip
        db.session.commit()
    return add_item("Cowboy Bebop", source="anilist", anilist_id=1, status="current")


def push(app) -> None:
    """One round of the worker, while the page stays open."""
    with app.app_context():
        sync.work_once()
        db.session.remove()


def test_a_pending_badge_turns_synced_when_the_push_lands(app, page, linked_item, fake_anilist):
    log_in(page)
    badge = page.locator(f"#sync-{linked_item}")
    expect(badge).to_have_text("Pending")
    mark_the_document(page)
    push(app)
    expect(badge).to_have_text("Synced", timeout=10_000)
    assert [e.media_id for e in fake_anilist[0].entries.values()] == [1]
    assert badge.get_attribute("hx-trigger") is None  # it stopped polling
    assert_no_reload(page)


def test_a_pending_badge_turns_into_the_error_with_its_reason(app, page, linked_item,
                                                             fake_anilist):  # fmt: skip
    log_in(page)
    badge = page.locator(f"#sync-{linked_item}")
    expect(badge).to_have_text("Pending")
    fake_anilist[0].down = True
    push(app)
    expect(badge).to_contain_text("Sync error", timeout=10_000)
    expect(badge).to_have_attribute("title", "AniList did not accept the last try; it is "
                                    "retried automatically. Reason: AniList unreachable: "
                                    "HTTP 503")  # fmt: skip
    badge.focus()
    expect(badge).to_be_focused()
