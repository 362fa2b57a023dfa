"""The private .ics feed: a valid calendar by a real iCalendar library's reading, stable
UIDs, a secret kept only as its hash, and 404s that say nothing; the API and the
settings section that make and revoke it."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import icalendar
import pytest
from sqlalchemy import select, update

from tests.calendar_support import follow, reschedule, user_id_of
from tests.conftest import HtmxClient, api_client_for
from tests.test_auth_api import error_of
from tracker.calendar import ics
from tracker.extensions import db
from tracker.models import User, utcnow

FEED_URL = re.compile(r"^http://localhost/calendar/(cal_[A-Za-z0-9_-]{43})\.ics$")


def make_feed(api) -> str:
    answer = api.post("/api/calendar/feed-token")
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert FEED_URL.match(body["url"]), body
    assert body["webcal_url"] == "webcal://" + body["url"].removeprefix("http://")
    return body["url"].removeprefix("http://localhost")


def events(client, path: str) -> dict[str, icalendar.Event]:
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    parsed = icalendar.Calendar.from_ical(answer.get_data())
    return {str(event["UID"]): event for event in parsed.walk("VEVENT")}


@pytest.fixture
def alice(app, api) -> int:
    return user_id_of(app, "alice")


@pytest.fixture
def soon():
    return (utcnow() + timedelta(days=1)).replace(microsecond=0)


def test_the_feed_is_a_calendar_with_one_event_per_episode(app, api, client, alice, soon):
    follow(app, alice, "Frieren: Beyond Journey’s End", duration=25,
           schedule=[(5, soon), (6, soon + timedelta(days=7))])  # fmt: skip
    follow(app, alice, "Announced", next_airing=(3, soon + timedelta(hours=2)))
    path = make_feed(api)
    answer = client.get(path)
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer.headers["Cache-Control"] == "private, max-age=900"
    calendar = icalendar.Calendar.from_ical(answer.get_data())
    assert str(calendar["VERSION"]) == "2.0" and "PRODID" in calendar
    found = sorted(calendar.walk("VEVENT"), key=lambda event: event.decoded("DTSTART"))
    assert [str(event["SUMMARY"]) for event in found] == [
        "Frieren: Beyond Journey’s End — Episode 5",
        "Announced — Episode 3",
        "Frieren: Beyond Journey’s End — Episode 6",
    ]
    first, announced, _ = found
    assert first.decoded("DTSTART") == soon
    assert first.decoded("DTSTART").utcoffset() == timedelta(0)
    assert first.decoded("DTEND") - first.decoded("DTSTART") == timedelta(minutes=25)
    assert announced.decoded("DTEND") - announced.decoded("DTSTART") == timedelta(minutes=24)
    assert str(announced["STATUS"]) == "TENTATIVE" and str(first["STATUS"]) == "CONFIRMED"
    assert "URL" not in first  # TRACKER_PUBLIC_URL is left at its default
    for line in answer.get_data().split(b"\r\n"):
        assert len(line) <= 75


def test_uids_stay_the_same_across_refreshes_and_schedule_changes(app, api, client, alice, soon):
    _item, media_id = follow(
        app, alice, "Moved", schedule=[(1, soon), (2, soon + timedelta(days=7))]
    )
    path = make_feed(api)
    before = events(client, path)
    assert events(client, path).keys() == before.keys()
    reschedule(app, media_id, 2, soon + timedelta(days=8))  # delayed a day
    after = events(client, path)
    assert after.keys() == before.keys()
    uid = f"episode-{media_id}-2-u{alice}@127.0.0.1"
    assert after[uid].decoded("DTSTART") - before[uid].decoded("DTSTART") == timedelta(days=1)


def test_the_feed_holds_last_week_and_the_next_three_months(app, api, client, alice):
    now = utcnow()
    follow(app, alice, "Range", schedule=[
        (1, now - timedelta(days=8)), (2, now - timedelta(days=6)),
        (3, now + timedelta(days=89)), (4, now + timedelta(days=91))])  # fmt: skip
    found = events(client, make_feed(api))
    assert sorted(str(event["SUMMARY"]) for event in found.values()) == [
        "Range — Episode 2", "Range — Episode 3"]  # fmt: skip


def test_other_peoples_titles_never_reach_the_feed(app, api, other_api, client, alice, soon):
    follow(app, user_id_of(app, "mallory"), "Hers", schedule=[(1, soon)])
    follow(app, alice, "Mine", schedule=[(1, soon)])
    make_feed(other_api)
    found = events(client, make_feed(api))
    assert [str(event["SUMMARY"]) for event in found.values()] == ["Mine — Episode 1"]


def test_the_item_page_is_linked_on_the_configured_public_address(app_factory, soon):
    app = app_factory(PUBLIC_URL="https://tracker.example.com/")
    api = api_client_for(app, "alice")
    item_id, _media = follow(app, user_id_of(app, "alice"), "Linked", schedule=[(1, soon)])
    (event,) = events(app.test_client(), make_feed(api)).values()
    assert str(event["URL"]) == f"https://tracker.example.com/items/{item_id}"
    assert str(event["UID"]).endswith("@tracker.example.com")


def test_a_title_with_markup_characters_and_a_long_name_reads_back_exactly(
    app, api, client, alice, soon
):
    title = "Re:Zero; a, b \\ c — 進撃の巨人 " * 4
    follow(app, alice, title.strip(), schedule=[(1, soon)])
    (event,) = events(client, make_feed(api)).values()
    assert str(event["SUMMARY"]) == f"{title.strip()} — Episode 1"


def test_only_the_hash_of_the_secret_is_stored(app, api, alice):
    path = make_feed(api)
    secret = FEED_URL.match("http://localhost" + path)[1]
    with app.app_context():
        stored = db.session.scalar(select(User.calendar_token_hash).where(User.id == alice))
    assert stored == hashlib.sha256(secret.encode()).hexdigest()


def not_found_body(client, path: str) -> bytes:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("text/html")
    return answer.get_data()


def test_unknown_revoked_and_malformed_secrets_are_the_same_404(app, api, client, alice, soon):
    follow(app, alice, "Secret", schedule=[(1, soon)])
    old = make_feed(api)
    new = make_feed(api)  # the old URL stops working at once
    assert client.get(new).status_code == 200
    unknown = "/calendar/cal_" + "A" * 43 + ".ics"
    malformed = ["/calendar/nonsense.ics", "/calendar/cal_%00.ics", f"/calendar/{'x' * 5000}.ics"]
    bodies = {not_found_body(client, path) for path in (old, unknown, *malformed)}
    assert len(bodies) == 1 and b"Secret" not in bodies.pop()
    assert api.delete("/api/calendar/feed-token").status_code == 204
    not_found_body(client, new)
    answer = api.delete("/api/calendar/feed-token")
    assert answer.status_code == 404 and error_of(answer)["code"] == "not_found"


def test_a_disabled_account_has_no_feed(app, api, client, alice):
    path = make_feed(api)
    with app.app_context():
        db.session.execute(update(User).where(User.id == alice).values(disabled_at=utcnow()))
        db.session.commit()
    assert client.get(path).status_code == 404


def test_ics_text_escapes_and_folds_by_octets():
    assert ics.text("a;b,c\\d\ne\r\x01f") == "a\\;b\\,c\\\\d\\ne\\nf"
    line = "SUMMARY:" + "進" * 40
    folded = list(ics.fold(line))
    assert all(len(part.encode()) <= 75 for part in folded)
    assert folded[0] + "".join(part[1:] for part in folded[1:]) == line


# --- the settings section ------------------------------------------------------------------


def test_settings_makes_a_feed_url_shown_once(app, htmx: HtmxClient):
    page = htmx.browser.client.get("/settings").get_data(as_text=True)
    assert 'id="calendar-feed"' in page and "No feed yet." in page
    answer = htmx.post("/settings/calendar-feed")
    body = answer.get_data(as_text=True)
    url = re.search(r'id="calendar-feed-url" class="token-value" value="([^"]+)"', body)[1]
    assert FEED_URL.match(url)
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Feed URL made." in answer.headers["HX-Trigger"]
    assert htmx.browser.client.get(url.removeprefix("http://localhost")).status_code == 200
    again = htmx.browser.client.get("/settings").get_data(as_text=True)
    assert url not in again and "Your feed is on." in again


def test_settings_makes_a_new_url_and_the_old_one_stops(app, htmx: HtmxClient):
    first = re.search(
        r'value="(http://localhost/calendar/[^"]+)"',
        htmx.post("/settings/calendar-feed").get_data(as_text=True),
    )[1]
    answer = htmx.post("/settings/calendar-feed")
    assert "the old one no longer works" in answer.headers["HX-Trigger"]
    assert htmx.browser.client.get(first.removeprefix("http://localhost")).status_code == 404


def test_settings_turns_the_feed_off_once(app, htmx: HtmxClient):
    url = re.search(
        r'value="(http://localhost/calendar/[^"]+)"',
        htmx.post("/settings/calendar-feed").get_data(as_text=True),
    )[1]
    answer = htmx.post("/settings/calendar-feed/revoke")
    assert answer.status_code == 200 and "No feed yet." in answer.get_data(as_text=True)
    assert htmx.browser.client.get(url.removeprefix("http://localhost")).status_code == 404
    again = htmx.post("/settings/calendar-feed/revoke")  # from a stale tab
    assert again.status_code == 404 and "already turned off" in again.headers["HX-Trigger"]


def test_without_javascript_the_new_url_comes_back_in_the_page(app, logged_in):
    token = logged_in.csrf_token()
    answer = logged_in.client.post("/settings/calendar-feed", data={"csrf_token": token})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" in page
    assert re.search(
        r'id="calendar-feed-url" class="token-value" value="http://localhost/calendar/cal_', page
    )
    gone = logged_in.client.post("/settings/calendar-feed/revoke", data={"csrf_token": token})
    assert gone.status_code == 303 and gone.headers["Location"].endswith("/settings#calendar-feed")


def test_the_feed_forms_need_the_csrf_token(app, logged_in):
    assert logged_in.client.post("/settings/calendar-feed").status_code == 400
