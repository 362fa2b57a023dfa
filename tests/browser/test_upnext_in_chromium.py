"""Up next in Chromium: a card's +1 swaps the card in place; the last episode takes it
off the page as completed, and the toast's Undo brings it back."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import insert

from tests.browser.conftest import log_in
from tracker.extensions import db
from tracker.models import LibraryItem, Media, utcnow


def add_finished_show(app, user_id: int, title: str, progress: int, episodes: int = 12) -> int:
    now = utcnow()
    with app.app_context():
        media_id = db.session.execute(insert(Media).values(
            source="anilist", external_id=str(abs(hash(title)) % 10**8), media_type="anime",
            title_preferred=title, title_romaji=title, search_text=title.lower(), synonyms=[],
            episodes=episodes, status="finished").returning(Media.id)).scalar()  # fmt: skip
        item_id = db.session.execute(insert(LibraryItem).values(
            user_id=user_id, media_id=media_id, media_type="anime", title=title,
            status="current", progress=progress, repeat=0, private=False, created_at=now,
            updated_at=now, custom_lists=[]).returning(LibraryItem.id)).scalar()  # fmt: skip
        db.session.commit()
        db.session.remove()
    return item_id


def test_plus_one_swaps_the_card_and_the_last_episode_takes_it_off(page, app, user_id):
    early = add_finished_show(app, user_id, "Mushishi", 3, episodes=26)
    last = add_finished_show(app, user_id, "Bocchi the Rock!", 11)
    log_in(page)
    page.goto("/next")
    page.evaluate("window.__marker = 'kept'")
    card = page.locator(f"#next-{early}")
    expect(card).to_contain_text("Episode 4")

    card.get_by_role("button", name=re.compile("episode of Mushishi")).click()

    expect(page.locator(f"#next-{early}")).to_contain_text("Episode 5")
    expect(page.locator(f"#next-{early}")).to_contain_text("4 of 26")
    expect(page.locator("#toasts")).to_contain_text("Mushishi: episode 4 of 26")

    page.locator(f"#next-{last}").get_by_role("button", name=re.compile("Bocchi")).click()

    expect(page.locator(f"li#next-{last}")).to_have_count(0)
    completed = page.locator("#toasts .toast", has_text="now Completed")
    expect(completed).to_be_visible()
    completed.get_by_role("button", name="Undo").click()
    expect(page.locator(f"li#next-{last}")).to_contain_text("11 of 12")
    assert page.evaluate("window.__marker") == "kept"  # swaps, never a reload
