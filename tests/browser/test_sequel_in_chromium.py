"""The sequel prompt in a real browser: the last episode's +1 offers the sequel in its
toast, one click adds it without a page load; the item page's related titles add in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_accessibility_in_chromium import AXE, audit, readable
from tests.test_relations import catalogue, relate
from tracker.extensions import db
from tracker.models import LibraryItem

pytestmark = pytest.mark.browser


@pytest.fixture
def frieren(app, add_item) -> dict[str, int]:
    """Frieren one episode from its end; AniList knows its sequel and its prequel."""
    ids = {
        "main": catalogue(app, "Frieren", 1001),
        "sequel": catalogue(app, "Frieren Season 2", 1002),
        "prequel": catalogue(app, "Frieren Zero", 1003, format="OVA"),
    }
    relate(app, ids["main"], (ids["sequel"], "sequel"), (ids["prequel"], "prequel"))
    ids["item"] = add_item("Frieren", source="anilist", anilist_id=1001, status="current",
                           progress=11)  # fmt: skip
    return ids


def planned(app, media_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                db.select(LibraryItem.status).where(LibraryItem.media_id == media_id)
            )
        )


def item_of(app, media_id: int) -> int:
    with app.app_context():
        return db.session.scalar(db.select(LibraryItem.id).where(LibraryItem.media_id == media_id))


def mark_page(page) -> None:
    """A flag that a page load would wipe: still there means no page was loaded."""
    page.evaluate("window.noPageLoad = true")


def still_the_same_page(page) -> bool:
    return page.evaluate("window.noPageLoad === true")


def test_the_last_episode_offers_the_sequel_and_one_click_adds_it(app, page, frieren):
    log_in(page)
    mark_page(page)
    page.locator(f"#increment-{frieren['item']}").click()
    toast = page.locator("#toasts .toast").first
    expect(toast).to_contain_text("Frieren: episode 12 of 12, now Completed")
    offer = toast.get_by_role("button", name="Add Frieren Season 2 to planning")
    expect(offer).to_be_visible()

    offer.click()
    added = page.locator("#toasts .toast", has_text="Added Frieren Season 2 to Planning")
    expect(added).to_be_visible()
    expect(added.get_by_role("link", name="Open")).to_have_attribute(
        "href", f"/items/{item_of(app, frieren['sequel'])}"
    )
    new_row = page.locator("#rows tr[data-item-row]").first
    expect(new_row).to_contain_text("Frieren Season 2")
    expect(page.locator("#rows tr[data-item-row]")).to_have_count(2)
    assert still_the_same_page(page)
    assert planned(app, frieren["sequel"]) == ["planning"]
    assert [e for e in page.console_errors if "error" in e.lower()] == []


def test_the_item_page_adds_a_related_title_in_place(app, page, frieren):
    log_in(page)
    page.goto(f"/items/{frieren['item']}")
    related = page.locator("#related")
    expect(related.get_by_role("heading", name="Sequel")).to_be_visible()
    expect(related.get_by_role("heading", name="Prequel")).to_be_visible()
    mark_page(page)
    entry = page.locator(f"#related-{frieren['prequel']}")
    entry.get_by_role("button", name="Add Frieren Zero to planning").click()
    entry = page.locator(f"#related-{frieren['prequel']}")
    expect(entry).to_contain_text("In your library: Planning")
    expect(entry.get_by_role("link", name="Frieren Zero")).to_be_visible()
    expect(page.locator("#toasts .toast").first).to_contain_text("Added Frieren Zero to Planning")
    assert still_the_same_page(page)
    assert planned(app, frieren["prequel"]) == ["planning"]


def test_completing_on_the_item_page_marks_the_related_entry_once_added(app, page, frieren):
    log_in(page)
    page.goto(f"/items/{frieren['item']}")
    mark_page(page)
    page.locator(f"#increment-{frieren['item']}").click()
    offer = page.locator("#toasts").get_by_role("button", name="Add Frieren Season 2 to planning")
    offer.click()
    entry = page.locator(f"#related-{frieren['sequel']}")
    expect(entry).to_contain_text("In your library: Planning")
    assert still_the_same_page(page)
    assert [e for e in page.console_errors if "error" in e.lower()] == []


@pytest.fixture(scope="module")
def axe_script() -> str:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci")
    return AXE.read_text()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_related_titles_and_the_offer_have_no_axe_violations(
    context_for, app, add_item, frieren, axe_script, scheme
):
    add_item("Frieren Zero", source="anilist", anilist_id=1003, status="completed")
    page = context_for(color_scheme=scheme).new_page()
    log_in(page)
    page.locator(f"#increment-{frieren['item']}").click()
    expect(page.locator("#toasts .toast-offer")).to_be_visible()
    found = {"offer": audit(page, axe_script)}
    page.goto(f"/items/{frieren['item']}")
    expect(page.locator("#related .in-library")).to_have_count(1)
    found["related"] = audit(page, axe_script)
    assert not any(found.values()), readable(found)
