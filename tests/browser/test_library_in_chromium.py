"""The library page in a real browser: htmx swaps, toasts, keyboard, CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tracker.extensions import db
from tracker.models import Origin
from tracker.services import library

pytestmark = pytest.mark.browser

MARKER = "set before the click"


def rows(page):
    return page.locator("#rows tr[data-item-row]")


def toast(page, message: str):
    return page.locator("#toasts").get_by_text(message)


def mark_the_document(page) -> None:
    """A reload or navigation would drop this; an htmx swap keeps it."""
    page.evaluate(f"window.__marker = {MARKER!r}")


def assert_no_reload(page) -> None:
    assert page.evaluate("window.__marker") == MARKER


def test_logging_in_through_the_form_shows_the_library(page, user_id):
    log_in(page)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name=re.compile("Log out alice"))).to_be_visible()


def test_adding_a_title_from_the_search_box_puts_it_on_top(page, add_item):
    title = "Sousou no Frieren"  # not in the catalogue yet: the (fake) AniList has it, 28 episodes
    add_item("Older title")
    log_in(page)
    mark_the_document(page)
    page.get_by_label("Search the catalogue").fill("frieren")
    page.get_by_role("link", name=f"Pick {title}").click()
    expect(page.locator("#add-title")).to_have_value(title)
    expect(page.locator("#add-max")).to_have_value("28")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(toast(page, f"Added {title}")).to_be_visible()
    expect(rows(page)).to_have_count(2)
    expect(rows(page).first).to_contain_text(title)
    expect(rows(page).first).to_contain_text("of 28")
    expect(page.locator("#library-summary")).to_contain_text("2 titles")
    expect(page.locator("#add-title")).to_have_value("")
    assert_no_reload(page)


def test_plus_changes_the_number_without_reloading(page, add_item):
    item_id = add_item(status="current", max_progress=12)
    log_in(page)
    mark_the_document(page)
    page.get_by_role("button", name="One episode more of Frieren").click()
    expect(page.locator(f"#progress-{item_id}")).to_have_text("1")
    expect(toast(page, "Frieren: episode 1 of 12")).to_be_visible()
    assert_no_reload(page)


def test_changing_the_status_updates_the_row_and_the_counts(page, add_item):
    item_id = add_item()
    log_in(page)
    page.get_by_label("Status of Frieren").select_option("completed")
    expect(toast(page, "Frieren: now Completed")).to_be_visible()
    expect(page.locator("#library-summary")).to_contain_text("1 completed")
    expect(page.locator(f"#status-{item_id}")).to_have_value("completed")


def test_an_invalid_score_shows_the_message_in_the_row(page, add_item):
    item_id = add_item()
    log_in(page)
    score = page.locator(f"#score-{item_id}")
    score.fill("150")
    score.press("Tab")
    expect(page.locator(f"#item-{item_id}-error")).to_contain_text(
        "Score: Use a whole number from 0 to 100."
    )
    expect(page.locator(f"#score-{item_id}")).to_have_attribute("aria-invalid", "true")


def test_filtering_updates_the_list_and_the_address_and_back_restores_it(page, add_item):
    add_item("Bocchi", "anime")
    add_item("Apothecary", "manga")
    log_in(page)
    mark_the_document(page)
    page.locator("#filter-type").select_option("manga")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Apothecary")
    expect(page).to_have_url(re.compile(r"[?&]type=manga"))
    assert_no_reload(page)
    filtered = page.url
    page.go_back()
    expect(rows(page)).to_have_count(2)
    page.goto(filtered)  # a pasted URL gives the same view
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#filter-type")).to_have_value("manga")


def test_removing_a_title_after_confirming(page, add_item):
    add_item()
    log_in(page)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Remove Frieren").click()
    expect(rows(page)).to_have_count(0)
    expect(toast(page, "Removed Frieren")).to_be_visible()
    assert asked == ["Remove “Frieren” from your library?"]


def test_plus_and_minus_keys_on_a_focused_row_change_progress_and_keep_focus(page, add_item):
    item_id = add_item(status="current")
    log_in(page)
    page.locator(f"#item-{item_id}").focus()
    page.keyboard.press("+")
    expect(page.locator(f"#progress-{item_id}")).to_have_text("1")
    expect(page.locator(f"#item-{item_id}")).to_be_focused()
    page.keyboard.press("+")
    expect(page.locator(f"#progress-{item_id}")).to_have_text("2")
    page.keyboard.press("-")
    expect(page.locator(f"#progress-{item_id}")).to_have_text("1")
    expect(page.locator(f"#item-{item_id}")).to_be_focused()


def test_clicking_plus_leaves_keyboard_focus_in_the_row(page, add_item):
    item_id = add_item(status="current", max_progress=1)
    log_in(page)
    page.get_by_role("button", name="One episode more of Frieren").click()
    expect(page.locator(f"#progress-{item_id}")).to_have_text("1")
    # + is now disabled at the max, so focus falls back to the row, not the page.
    expect(page.locator(f"#increment-{item_id}")).to_be_disabled()
    expect(page.locator(f"#item-{item_id}")).to_be_focused()


def test_slash_focuses_the_search_box(page, user_id):
    log_in(page)
    page.keyboard.press("/")
    expect(page.locator("[data-search]")).to_be_focused()
    expect(page.locator("[data-search]")).to_have_value("")


def test_a_row_deleted_in_another_tab_says_it_no_longer_exists(app, page, add_item, user_id):
    item_id = add_item()
    log_in(page)
    with app.app_context():
        library.delete_item(user_id, item_id, Origin.WEB)  # the other tab
        db.session.remove()
    page.get_by_role("button", name="One episode more of Frieren").click()
    expect(page.locator(f"#item-{item_id}")).to_contain_text("This item no longer exists")


def test_a_row_action_after_the_session_expired_goes_to_login(page, add_item):
    add_item()
    log_in(page)
    page.context.clear_cookies()
    page.get_by_role("button", name="One episode more of Frieren").click()
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_pages_and_swaps_raise_no_content_security_policy_violations(page, add_item):
    item_id = add_item(status="current")
    page.goto("/login")
    log_in(page)
    page.get_by_label("Search the catalogue").fill("nothing like this")
    expect(page.locator("#suggestions")).to_contain_text("Nothing in the catalogue")
    page.get_by_role("button", name="One episode more of Frieren").click()
    expect(page.locator(f"#progress-{item_id}")).to_have_text("1")
    page.locator("#filter-type").select_option("anime")
    expect(page).to_have_url(re.compile(r"type=anime"))
    page.goto(f"/items/{item_id}")
    page.get_by_label("Notes").fill("Lovely")
    page.get_by_role("button", name="Save").click()
    expect(toast(page, "Saved Frieren")).to_be_visible()
    page.goto("/settings")
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    violations = [text for text in page.console_errors if "Content Security Policy" in text]
    assert violations == []
    assert [text for text in page.console_errors if text.startswith("pageerror")] == []
