"""The statistics page in a real browser: charts with names, tables behind disclosures,
colours from the theme in light and dark, a phone's width, the CSP, and axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_accessibility_in_chromium import audit, axe_source, readable  # noqa: F401
from tests.test_stats import completed_again_today, seed_known_library
from tracker.extensions import db
from tracker.services import accounts

pytestmark = pytest.mark.browser

CHARTS = ("Titles by status", "Score distribution", "Completed per month",
          "Activity per month", "Formats", "Top genres")  # fmt: skip


@pytest.fixture
def known_library(app, user_id) -> None:
    with app.app_context():
        seed_known_library(user_id, accounts.register("bob", "password123").id)
        completed_again_today(user_id)
        db.session.remove()


def open_stats(page) -> None:
    log_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Stats").click()
    expect(page.get_by_role("heading", name="Statistics", level=1)).to_be_visible()


def test_each_chart_is_an_image_with_a_name_and_drawn_bars(page, known_library):
    open_stats(page)
    for name in CHARTS:
        chart = page.get_by_role("img", name=name, exact=True)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 50, (name, box)
    status = page.get_by_role("img", name="Titles by status", exact=True)
    assert status.locator("rect.chart-bar").count() == 6
    widths = [float(w) for w in status.locator("rect.chart-bar").evaluate_all(
        "bars => bars.map(b => b.getAttribute('width'))")]  # fmt: skip
    assert max(widths) == 160 and min(widths) > 0  # completed (4) is the longest bar
    expect(page.get_by_text("Rewatches and rereads of 1 title")).to_be_visible()


def test_a_chart_s_table_opens_from_its_disclosure(page, known_library):
    open_stats(page)
    card = page.locator("#chart-genres")
    table = card.get_by_role("table", name="Top genres")
    expect(table).to_be_hidden()
    card.get_by_text("Show as a table").click()
    expect(table).to_be_visible()
    expect(table.get_by_role("row", name="Drama 3")).to_be_visible()
    expect(table.get_by_role("columnheader", name="Genre")).to_be_visible()
    # Keyboard too: the status table's summary opens with Enter.
    summary = page.locator("#chart-status summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#chart-status").get_by_role("row", name="Completed 4")).to_be_visible()


def test_bars_take_the_themes_accent_in_light_and_dark(context_for, known_library):
    fills = {}
    for scheme in ("light", "dark"):
        page = context_for(color_scheme=scheme).new_page()
        open_stats(page)
        bar = page.locator("#chart-status rect.chart-bar").first
        label = page.locator("#chart-status text.chart-label").first
        fills[scheme] = bar.evaluate("b => getComputedStyle(b).fill")
        accent = page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
        )
        text = page.evaluate("getComputedStyle(document.body).color")
        assert label.evaluate("t => getComputedStyle(t).fill") == text
        assert fills[scheme] == {"#3a5bd9": "rgb(58, 91, 217)",
                                 "#7c9cff": "rgb(124, 156, 255)"}[accent]  # fmt: skip
    assert fills["light"] != fills["dark"]


def test_the_page_fits_a_phone(context_for, known_library):
    page = context_for(viewport={"width": 360, "height": 740}, is_mobile=True,
                       has_touch=True).new_page()  # fmt: skip
    open_stats(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = page.get_by_role("img", name="Activity per month", exact=True).bounding_box()
    assert box and box["width"] <= 360 and box["width"] > 280


def test_an_empty_library_shows_the_next_step(page, user_id):
    open_stats(page)
    expect(page.get_by_role("heading", name="Nothing to count yet")).to_be_visible()
    page.get_by_role("link", name="Add a title from your library").click()
    expect(page.get_by_role("heading", name="Your library")).to_be_visible()


def test_the_page_runs_under_the_csp_without_a_complaint(page, known_library):
    open_stats(page)
    page.get_by_role("link", name="Manga", exact=True).click()
    expect(page.get_by_role("link", name="Manga", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_text("Chapters read")).to_be_visible()
    assert page.console_errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_page_has_no_axe_violations(context_for, known_library, axe_source, scheme):  # noqa: F811
    page = context_for(color_scheme=scheme).new_page()
    open_stats(page)
    for details in page.locator("details").all():
        details.locator("summary").click()
    found = {"stats": audit(page, axe_source)}
    assert not found["stats"], readable(found)
