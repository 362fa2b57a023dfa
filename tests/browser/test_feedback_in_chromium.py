"""Feedback in a real browser: toasts that stay off the row you are using, Undo, a phone
that works with a thumb, and dark mode everywhere."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def rows(page):
    return page.locator("#rows tr[data-item-row]")


def toasts(page):
    return page.locator("#toasts .toast")


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def assert_toasts_clear_of(page, item_id: int) -> None:
    """Measured in one go in the page, so no toast comes or goes between two boxes."""
    boxes = page.evaluate(
        """id => [document.getElementById(id), ...document.querySelectorAll("#toasts .toast")]
             .map(e => { const r = e.getBoundingClientRect();
                         return {x: r.x, y: r.y, width: r.width, height: r.height}; })""",
        f"item-{item_id}",
    )
    row, *shown = boxes
    assert shown, "no toast to check"
    for box in shown:
        assert not overlaps(box, row), f"toast {box} covers the row {row}"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_toasts_never_cover_the_clicked_rows_controls(context_for, add_item, viewport):
    ids = [add_item(f"Title {n}", status="current", max_progress=50) for n in range(12)]
    page = context_for(viewport=viewport).new_page()
    log_in(page)
    for item_id in (ids[0], ids[-1], ids[5], ids[0]):  # top, bottom, middle, top again
        page.locator(f"#item-{item_id}").scroll_into_view_if_needed()
        for _ in range(3):
            before = int(page.locator(f"#progress-{item_id}").inner_text())
            page.locator(f"#increment-{item_id}").click()
            expect(page.locator(f"#progress-{item_id}")).to_have_text(str(before + 1))
            expect(toasts(page).first).to_be_visible()
            assert_toasts_clear_of(page, item_id)


def test_repeated_plus_merges_into_one_toast_with_a_count(page, add_item):
    item_id = add_item(status="current", max_progress=12)
    log_in(page)
    for count in range(1, 4):
        page.locator(f"#increment-{item_id}").click()
        expect(page.locator(f"#progress-{item_id}")).to_have_text(str(count))
    expect(toasts(page)).to_have_count(1)
    expect(toasts(page).first).to_contain_text("Frieren: episode 3 of 12 (×3)")
    expect(page.locator("#toast-status")).to_have_text(re.compile("episode 3 of 12"))


def test_a_toast_has_a_close_button_and_waits_while_hovered(page, add_item):
    item_id = add_item(status="current")
    log_in(page)
    page.locator(f"#increment-{item_id}").click()
    toast = toasts(page).first
    toast.hover()
    page.clock.install()  # from here on, timers run only when told
    page.clock.run_for(30_000)
    expect(toast).to_be_visible()  # paused under the pointer
    toast.get_by_role("button", name="Dismiss notification").click()
    expect(toasts(page)).to_have_count(0)


def test_undo_remove_brings_the_row_back_in_its_place(page, add_item):
    for title in ("Third", "Second", "First"):  # newest first on the page
        add_item(title, status="current")
    log_in(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove Second").click()
    expect(rows(page)).to_have_count(2)
    page.locator("#toasts").get_by_role("button", name="Undo").click()
    expect(rows(page)).to_have_count(3)
    expect(rows(page).nth(1)).to_contain_text("Second")
    expect(page.locator("#toasts")).to_contain_text("Restored Second")
    expect(page.locator("#library-summary")).to_contain_text("3 titles")
    page.reload()
    expect(rows(page)).to_have_count(3)


def test_undo_a_status_change_sets_the_previous_status_back(page, add_item):
    item_id = add_item(status="current")
    log_in(page)
    page.get_by_label("Status of Frieren").select_option("dropped")
    page.locator("#toasts").get_by_role("button", name="Undo").click()
    expect(page.locator(f"#status-{item_id}")).to_have_value("current")
    expect(page.locator("#toasts")).to_contain_text("now Watching")


def test_a_paused_title_at_its_last_episode_asks_before_completing(page, add_item):
    item_id = add_item(status="paused", max_progress=2, progress=1)
    log_in(page)
    page.locator(f"#increment-{item_id}").click()
    expect(page.locator("#toasts")).to_contain_text("episode 2 of 2, still Paused")
    expect(page.locator(f"#status-{item_id}")).to_have_value("paused")
    page.locator("#toasts").get_by_role("button", name="Mark completed").click()
    expect(page.locator(f"#status-{item_id}")).to_have_value("completed")


# --- the phone -------------------------------------------------------------------------


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_no_page_scrolls_sideways(context_for, tour):
    page = context_for(viewport=PHONE).new_page()
    wide = []
    for name, path in tour["out"]:
        page.goto(path)
        if not no_horizontal_scroll(page):
            wide.append(name)
    log_in(page)
    for name, path in tour["in"]:
        page.goto(path)
        page.wait_for_load_state("load")
        if not no_horizontal_scroll(page):
            wide.append(name)
    assert wide == []


def test_on_a_phone_every_row_control_is_44_px(context_for, add_item):
    add_item(status="current", max_progress=12, progress=3)
    page = context_for(viewport=PHONE).new_page()
    log_in(page)
    controls = page.locator("#rows tr[data-item-row] :is(button, select, input, a)")
    assert controls.count() >= 6
    small = []
    for index in range(controls.count()):
        box = controls.nth(index).bounding_box()
        if box["width"] < 44 or box["height"] < 44:
            small.append((controls.nth(index).get_attribute("id"), box))
    assert small == []


# --- dark mode ---------------------------------------------------------------------------


def luminance(css: str) -> float:
    red, green, blue = (int(n) / 255 for n in re.findall(r"\d+", css)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_dark_mode_reaches_every_page_including_the_api_docs(context_for, tour):
    page = context_for(color_scheme="dark").new_page()
    light = []

    def check(name: str) -> None:
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        text = page.evaluate("getComputedStyle(document.querySelector('h1')).color")
        if luminance(background) > 0.2 or luminance(text) < 0.6:
            light.append((name, background, text))

    for name, path in tour["out"]:
        page.goto(path)
        check(name)
    log_in(page)
    for name, path in tour["in"]:
        page.goto(path)
        check(name)
    page.goto("/docs")
    tag = page.locator("#swagger-ui .opblock-tag").first
    expect(tag).to_be_visible()
    assert luminance(tag.evaluate("e => getComputedStyle(e).color")) > 0.6
    expect(page.get_by_role("link", name="Library")).to_be_visible()  # the way back
    assert light == []
