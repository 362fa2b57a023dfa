"""The calendar and its feed in a real browser: the week, moving to a month and on with
htmx (the address follows), and making, replacing and turning off the feed URL in
settings, with nothing the CSP refuses."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.calendar_support import follow
from tracker.models import utcnow

pytestmark = pytest.mark.browser


def csp_errors(page) -> list[str]:
    return [text for text in page.console_errors if "Content Security Policy" in text]


def test_the_week_and_months_in_chromium(app, page, user_id):
    soon = (utcnow() + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    item_id, _ = follow(app, user_id, "Frieren", schedule=[(9, soon)])
    log_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", name="Calendar", exact=True)).to_be_visible()
    expect(page.locator(".calendar-day")).to_have_count(7)
    expect(page.get_by_role("heading", name=re.compile("^Tomorrow"))).to_be_visible()
    episode = page.locator("li.episode")
    expect(episode).to_contain_text("Episode 9 of 12")
    expect(episode.locator("time")).to_have_text("12:00")  # alice's zone is UTC

    page.get_by_role("link", name="Month").click()
    month = soon.strftime("%B %Y")
    expect(page.get_by_role("heading", name=month)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/calendar\?view=month&month=\d{4}-\d{2}$"))
    page.get_by_role("link", name="Next month →").click()
    following = (soon.replace(day=1) + timedelta(days=32)).strftime("%B %Y")
    expect(page.get_by_role("heading", name=following)).to_be_visible()
    page.get_by_role("link", name="← Previous month").click()
    expect(page.get_by_role("heading", name=month)).to_be_visible()
    page.locator(".month-day li.episode a").first.click()
    expect(page).to_have_url(re.compile(rf"/items/{item_id}$"))
    assert csp_errors(page) == []


def test_an_empty_calendar_says_what_to_do_in_chromium(app, page, user_id):
    log_in(page)
    page.goto("/calendar")
    expect(page.get_by_text("Nothing airing in the next 7 days.")).to_be_visible()
    expect(page.get_by_role("link", name="Add an airing anime")).to_be_visible()


def test_making_the_feed_url_in_settings_in_chromium(app, page, user_id):
    follow(app, user_id, "Feed me", schedule=[(1, utcnow() + timedelta(days=2))])
    log_in(page)
    page.goto("/settings#calendar-feed")
    section = page.locator("#calendar-feed")
    expect(section.get_by_text("No feed yet.")).to_be_visible()
    section.get_by_role("button", name="Make a feed URL").click()
    shown = section.locator("#calendar-feed-url")
    expect(shown).to_have_value(re.compile(r"/calendar/cal_[A-Za-z0-9_-]{43}\.ics$"))
    expect(section.get_by_role("button", name="Copy")).to_be_visible()
    first = shown.input_value()
    feed = page.request.get(first)
    assert feed.status == 200 and feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "SUMMARY:Feed me — Episode 1" in feed.text()

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    section.get_by_role("button", name="Make a new URL").click()
    expect(shown).not_to_have_value(first)
    assert "current one stops working" in asked[0]
    assert page.request.get(first).status == 404

    page.once("dialog", lambda dialog: dialog.accept())
    section.get_by_role("button", name="Turn off the feed").click()
    expect(section.get_by_text("No feed yet.")).to_be_visible()
    expect(page.locator("#toasts").get_by_text("Calendar feed turned off")).to_be_visible()
    assert csp_errors(page) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_calendar_pages_have_no_axe_violations(app, context_for, user_id, scheme):
    from tests.browser.test_accessibility_in_chromium import AXE, audit, readable

    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci")
    now = utcnow()
    follow(app, user_id, "Aired", schedule=[(1, now - timedelta(minutes=5))], cover_url=None)
    follow(app, user_id, "Coming", status="planning", schedule=[(4, now + timedelta(days=1))],
           next_airing=(4, now + timedelta(days=1)))  # fmt: skip
    follow(app, user_id, "Announced", next_airing=(2, now + timedelta(days=2)))
    page = context_for(color_scheme=scheme).new_page()
    log_in(page)
    found = {}
    for name, path in [("week", "/calendar"), ("month", "/calendar?view=month")]:
        page.goto(path)
        found[name] = audit(page, AXE.read_text())
    page.goto("/settings#calendar-feed")
    page.get_by_role("button", name="Make a feed URL").click()
    page.locator("#calendar-feed-url").wait_for()
    found["settings with a new feed URL"] = audit(page, AXE.read_text())
    assert not any(found.values()), readable(found)
