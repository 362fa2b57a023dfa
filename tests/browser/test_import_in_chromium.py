"""Settings → Import in a real browser: a MyAnimeList file uploaded, its preview swapped in
place (counts, the row AniList does not know), a mode chosen and applied, and the titles
then in the library. The worker's rounds run here, between the page's polls."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import log_in
from tests.browser.test_library_in_chromium import assert_no_reload, mark_the_document
from tests.test_import_mal import anime_entry, export
from tracker.extensions import db
from tracker.models import LibraryItem
from tracker.services import catalog, sync

pytestmark = pytest.mark.browser

# In the local catalogue only: the fake AniList does not know these MAL ids, so finding
# them shows the import looked here first.
KNOWN = [(457, 457, "Mushishi", 26), (19, 19, "Monster", 74), (33, 33, "Kenpuu Denki Berserk", 25)]
UNKNOWN_MAL_ID = 999_999
FILE = export(
    anime_entry(457, "Mushishi", series_episodes="26", my_watched_episodes="26"),
    anime_entry(19, "Monster", series_episodes="74", my_watched_episodes="10",
                my_status="Watching"),
    anime_entry(33, "Kenpuu Denki Berserk", series_episodes="25", my_watched_episodes="0",
                my_status="Plan to Watch"),
    anime_entry(UNKNOWN_MAL_ID, "Homemade Fansub", series_episodes="3",
                my_watched_episodes="3"),
)  # fmt: skip


@pytest.fixture
def catalogue(app):
    with app.app_context():
        catalog.upsert_records([
            {"source": "anilist", "external_id": str(anilist_id), "anilist_id": anilist_id,
             "mal_id": mal_id, "type": "anime", "titles": {"romaji": title},
             "episodes": episodes, "format": "TV", "status": "finished"}
            for anilist_id, mal_id, title, episodes in KNOWN
        ])  # fmt: skip
        db.session.commit()
        db.session.remove()


def work(app) -> None:
    """One round of the worker, while the page stays open."""
    with app.app_context():
        sync.work_once()
        db.session.remove()


def test_a_mal_file_is_previewed_then_applied_in_chromium(app, page, catalogue, add_item):
    add_item("Mushishi", source="anilist", anilist_id=457, status="current", progress=5)
    log_in(page)
    page.goto("/settings#import-export")
    mark_the_document(page)
    card = page.locator("#import")
    card.get_by_label("File", exact=True).set_input_files(
        {"name": "animelist.xml", "mimeType": "text/xml", "buffer": FILE}
    )
    card.get_by_role("button", name="Preview the import").click()
    expect(card.get_by_text("waiting to start")).to_be_visible()

    work(app)  # the preview job; the fragment asks for itself again and finds it done
    counts = page.locator("#import-counts")
    expect(counts).to_contain_text("Importing would add", timeout=10_000)
    expect(counts).to_contain_text("3 new, 0 updated, 1 unchanged, 0 skipped")
    unmatched = card.locator(".unmatched-rows")
    expect(unmatched.locator("summary")).to_have_text("1 row not linked to AniList or not imported")
    unmatched.locator("summary").click()
    rows = unmatched.locator("li")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(
        f"Row 4 “Homemade Fansub”: AniList knows no anime with MAL id {UNKNOWN_MAL_ID}: "
        "imported by its title"
    )
    assert_no_reload(page)
    assert [item.title for item in _items(app)] == ["Mushishi"]  # a preview writes nothing

    mode = card.get_by_label("Overwrite the fields that differ")
    mode.check()
    card.get_by_role("button", name="Apply").click()
    expect(card.get_by_text("waiting to start")).to_be_visible()
    work(app)  # the apply job
    expect(counts).to_contain_text("Imported:", timeout=10_000)
    expect(counts).to_contain_text("3 new, 1 updated, 0 unchanged, 0 skipped")
    expect(card.get_by_role("button", name="Apply")).to_have_count(0)
    assert_no_reload(page)

    page.goto("/library")
    rows = page.locator("#rows tr[data-item-row]")
    expect(rows).to_have_count(4)
    for title in ("Mushishi", "Monster", "Kenpuu Denki Berserk", "Homemade Fansub"):
        expect(rows.filter(has_text=title)).to_have_count(1)
    by_title = {item.title: item for item in _items(app)}
    assert (by_title["Mushishi"].status, by_title["Mushishi"].progress) == ("completed", 26)
    assert (by_title["Monster"].status, by_title["Monster"].progress) == ("current", 10)
    assert by_title["Kenpuu Denki Berserk"].status == "planning"
    assert by_title["Homemade Fansub"].media_id is None  # imported by its title alone
    assert {by_title[t].media.mal_id for t in ("Mushishi", "Monster")} == {457, 19}
    assert [text for text in page.console_errors if text.startswith("pageerror")] == []


def _items(app) -> list[LibraryItem]:
    """alice's titles (with their catalogue entries), read outside the page."""
    with app.app_context():
        items = list(db.session.scalars(select(LibraryItem).order_by(LibraryItem.id)))
        db.session.expunge_all()
        return items
