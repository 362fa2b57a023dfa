"""The library page in a real browser: htmx swaps, toasts, keyboard, CSP."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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


def search_bar(page):
    return page.get_by_role("combobox", name=re.compile("Search your library or add a title"))


def suggestions_for(page, query: str):
    """Type ``query`` in the search bar and wait for the titles to add to open."""
    bar = search_bar(page)
    bar.fill(query)
    expect(bar).to_have_attribute("aria-expanded", "true")
    return bar


def arrow_down_to(page, chip: str) -> None:
    """↓ until the highlighted option is of this type (the search finds anime and manga)."""
    bar = search_bar(page)
    for _ in range(page.get_by_role("option").count()):
        page.keyboard.press("ArrowDown")
        active = bar.get_attribute("aria-activedescendant")
        if active and chip in page.locator(f"#{active} .chip").inner_text():
            return
    raise AssertionError(f"no {chip} option")


def test_adding_a_title_from_the_search_bar_with_the_keyboard_alone(page, add_item):
    title = "Sousou no Frieren"  # not in the catalogue yet: the (fake) AniList has it, 28 episodes
    add_item("Older title")
    log_in(page)
    mark_the_document(page)
    page.keyboard.press("/")
    page.keyboard.type("frieren")
    bar = search_bar(page)
    expect(bar).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("option", name=re.compile("Manga"))).not_to_have_count(0)
    arrow_down_to(page, "Anime")
    chosen = page.locator(f"#{bar.get_attribute('aria-activedescendant')}")
    expect(chosen).to_have_attribute("aria-selected", "true")
    expect(chosen).to_contain_text(title)
    page.keyboard.press("Enter")
    expect(toast(page, f"Added {title} as Planning")).to_be_visible()
    expect(bar).to_have_attribute("aria-expanded", "false")
    expect(bar).to_be_focused()
    new_row = page.locator("#rows tr[data-item-row]", has_text=title)
    expect(new_row).to_have_count(1)
    expect(new_row.get_by_role("combobox", name=f"Status of {title}")).to_have_value("planning")
    expect(new_row).to_contain_text("of 28")
    expect(page.locator("#status-tabs")).to_contain_text("All 2")
    assert urlsplit(page.url).path == "/library"  # only the list's own requests move the address
    assert_no_reload(page)


def test_shift_enter_adds_the_title_as_watching(page, user_id):
    log_in(page)
    suggestions_for(page, "frieren")
    arrow_down_to(page, "Anime")
    page.keyboard.press("Shift+Enter")
    expect(toast(page, "Added Sousou no Frieren as Watching")).to_be_visible()
    expect(rows(page).first.get_by_role("combobox", name=re.compile("^Status of"))).to_have_value(
        "current"
    )


def test_escape_closes_the_suggestions_and_keeps_the_query(page, user_id):
    log_in(page)
    bar = suggestions_for(page, "frieren")
    expect(page.get_by_role("listbox")).to_be_visible()
    page.keyboard.press("Escape")
    expect(bar).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(bar).to_have_value("frieren")
    page.keyboard.press("ArrowDown")  # opens again
    expect(bar).to_have_attribute("aria-expanded", "true")


def test_clicking_a_suggestion_offers_its_statuses(page, user_id):
    log_in(page)
    suggestions_for(page, "frieren")
    page.get_by_role("option", name=re.compile("Sousou no Frieren.*Manga")).click()
    menu = page.locator("[data-status-menu]")
    expect(menu).to_contain_text("Add Sousou no Frieren as")
    menu.get_by_role("button", name="Reading").click()  # named for manga
    expect(toast(page, "Added Sousou no Frieren as Reading")).to_be_visible()


def test_no_match_offers_to_add_the_query_by_hand(page, user_id):
    log_in(page)
    suggestions_for(page, "My homemade zine")
    expect(page.locator("#suggestions")).to_contain_text("Nothing in the catalogue")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("option", name="Add “My homemade zine” by hand…")).to_have_attribute(
        "aria-selected", "true"
    )
    page.keyboard.press("Enter")
    expect(page.locator("#add-panel")).to_have_attribute("open", "")
    expect(page.locator("#add-title")).to_have_value("My homemade zine")
    expect(page.locator("#add-title")).to_be_focused()
    page.locator("#add-type").select_option("manga")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(toast(page, "Added My homemade zine as Planning")).to_be_visible()
    expect(rows(page).first).to_contain_text("My homemade zine")


def test_adding_a_title_twice_warns_and_links_to_the_one_there(page, add_item):
    item_id = add_item("My homemade zine", "manga")
    log_in(page)
    suggestions_for(page, "my homemade zine")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.locator("#add-type").select_option("manga")
    page.get_by_role("button", name="Add", exact=True).click()
    warning = page.locator("#add-form-error")
    expect(warning).to_contain_text("“My homemade zine” is already in your library.")
    warning.get_by_role("link", name="Open it in your library").click()
    expect(page).to_have_url(re.compile(rf"/items/{item_id}$"))
    expect(rows(page)).to_have_count(0)


def test_a_catalogue_title_already_there_warns_from_the_search_bar(page, user_id):
    log_in(page)
    suggestions_for(page, "frieren")
    arrow_down_to(page, "Anime")
    page.keyboard.press("Enter")
    expect(toast(page, "Added Sousou no Frieren as Planning")).to_be_visible()
    suggestions_for(page, "frieren ")
    expect(page.get_by_role("option", name=re.compile("Anime.*In your library"))).to_have_count(1)
    arrow_down_to(page, "Anime")
    page.keyboard.press("Enter")
    expect(page.locator("#suggestions [role='alert']")).to_contain_text(
        "“Sousou no Frieren” is already in your library."
    )
    expect(
        page.locator("#suggestions").get_by_role("link", name="Open it in your library")
    ).to_be_visible()
    expect(rows(page)).to_have_count(1)


def test_the_status_tabs_filter_the_list(page, add_item):
    add_item("Bocchi", status="current")
    add_item("Apothecary", "manga", status="completed")
    log_in(page)
    mark_the_document(page)
    tab = page.get_by_role("link", name="Completed 1")
    tab.click()
    expect(rows(page)).to_have_count(1)
    expect(page).to_have_url(re.compile(r"[?&]status=completed"))
    expect(page.get_by_role("link", name="Completed 1")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name="All 2")).not_to_have_attribute("aria-current", "page")
    assert_no_reload(page)


def test_the_chosen_view_is_kept_for_the_next_visit(page, add_item):
    add_item()
    log_in(page)
    page.get_by_role("button", name="Posters").click()
    expect(page.locator("table.items")).to_have_class(re.compile(r"\bview-grid\b"))
    expect(page.get_by_role("button", name="Posters")).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.locator("table.items")).to_have_class(re.compile(r"\bview-grid\b"))
    page.get_by_role("button", name="Compact").click()
    expect(page.locator("table.items")).to_have_class(re.compile(r"\bview-compact\b"))


def test_on_a_phone_the_first_row_is_on_the_first_screen(chromium, live_server, add_item):
    for n in range(3):
        add_item(f"Title {n}")
    context = chromium.new_context(
        base_url=live_server, viewport={"width": 390, "height": 844}, is_mobile=True,
        has_touch=True, color_scheme="light",
    )  # fmt: skip
    try:
        phone = context.new_page()
        log_in(phone)
        box = rows(phone).first.bounding_box()
        assert box is not None and box["y"] + 60 < 844, box  # its top part, not just a pixel
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
    finally:
        context.close()


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
    expect(page.locator("#status-tabs")).to_contain_text("Completed 1")
    expect(page.locator(f"#status-{item_id}")).to_have_value("completed")
    assert urlsplit(page.url).path == "/library"  # the tabs reloading themselves is no navigation


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
    page.get_by_text("Type, list and sort").click()
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
    expect(page).to_have_url(re.compile(r"/login\?next=/library$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_pages_and_swaps_raise_no_content_security_policy_violations(page, add_item):
    item_id = add_item(status="current")
    page.goto("/login")
    log_in(page)
    suggestions_for(page, "nothing like this")
    expect(page.locator("#suggestions")).to_contain_text("Nothing in the catalogue")
    page.keyboard.press("Escape")
    expect(rows(page)).to_have_count(0)  # the list filtered as it was typed
    search_bar(page).fill("")
    page.get_by_role("button", name="One episode more of Frieren").click()
    expect(page.locator(f"#progress-{item_id}")).to_have_text("1")
    page.get_by_text("Type, list and sort").click()
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


def test_the_item_page_changes_progress_in_place_and_groups_the_clicks(page, add_item):
    item_id = add_item(status="current", max_progress=28, progress=2)
    log_in(page)
    page.goto(f"/items/{item_id}")
    mark_the_document(page)
    for expected in ("3", "4", "5"):
        page.get_by_role("button", name="One episode more of Frieren").click()
        expect(page.locator(f"#progress-{item_id}")).to_have_text(expected)
    history = page.locator("#history-heading").locator("..")
    expect(history).to_contain_text("Episodes 2 → 5")
    expect(history).to_contain_text("3 changes")
    page.get_by_label("Status of Frieren").select_option("paused")
    expect(toast(page, "Frieren: now Paused")).to_be_visible()
    expect(page.get_by_label("Notes")).to_be_visible()  # the form is there, once
    assert_no_reload(page)
