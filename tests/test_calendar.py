"""The airing calendar: windows in the person's time zone (day boundaries, DST), the
titles it follows, the JSON API's validation, and the page (week and month)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.calendar_support import follow, set_zone, user_id_of, utc
from tests.test_auth_api import error_of
from tests.test_fast_path import counted
from tracker.models import utcnow
from tracker.services import calendar


def days_of(answer) -> dict[str, list[tuple[str, int]]]:
    """{local date: [(title, episode), …]} of a GET /api/calendar answer, empty days out."""
    body = answer.get_json()
    assert answer.status_code == 200, body
    return {day["date"]: [(e["title"], e["episode"]) for e in day["episodes"]]
            for day in body["days"] if day["episodes"]}  # fmt: skip


@pytest.fixture
def alice(app, api) -> int:
    return user_id_of(app, "alice")


# --- windows in the person's zone ----------------------------------------------------------


def test_auckland_days_start_at_local_midnight_not_utc(app, api, alice):
    set_zone(app, alice, "Pacific/Auckland")  # UTC+13 in December (daylight time)
    follow(
        app, alice, "Late", schedule=[(1, utc("2026-12-06T10:59")), (2, utc("2026-12-06T11:00"))]
    )
    answer = api.get("/api/calendar?from=2026-12-06&to=2026-12-07")
    assert days_of(answer) == {"2026-12-06": [("Late", 1)], "2026-12-07": [("Late", 2)]}
    body = answer.get_json()
    assert body["timezone"] == "Pacific/Auckland"
    assert body["from"].startswith("2026-12-05T11:00:00")  # midnight of the 6th in Auckland
    assert body["to"].startswith("2026-12-07T11:00:00")


def test_los_angeles_evening_is_the_previous_day_of_utc(app, api, alice):
    set_zone(app, alice, "America/Los_Angeles")  # UTC-8 in December
    follow(
        app, alice, "Night", schedule=[(1, utc("2026-12-07T07:59")), (2, utc("2026-12-07T08:00"))]
    )
    answer = api.get("/api/calendar?from=2026-12-06&to=2026-12-07")
    assert days_of(answer) == {"2026-12-06": [("Night", 1)], "2026-12-07": [("Night", 2)]}


def test_a_spring_forward_day_is_23_hours(app, api, alice):
    set_zone(app, alice, "America/Los_Angeles")  # clocks go 02:00 → 03:00 on 2026-03-08
    follow(app, alice, "Spring", schedule=[
        (1, utc("2026-03-08T07:59")),  # 23:59 PST on the 7th
        (2, utc("2026-03-08T08:00")),  # 00:00 PST on the 8th
        (3, utc("2026-03-09T06:59")),  # 23:59 PDT on the 8th
        (4, utc("2026-03-09T07:00")),  # 00:00 PDT on the 9th
    ])  # fmt: skip
    window = calendar.days_window(date(2026, 3, 8), date(2026, 3, 8), "America/Los_Angeles")
    assert window.end - window.start == timedelta(hours=23)
    answer = api.get("/api/calendar?from=2026-03-08&to=2026-03-08")
    assert days_of(answer) == {"2026-03-08": [("Spring", 2), ("Spring", 3)]}


def test_a_fall_back_day_is_25_hours(app, api, alice):
    set_zone(app, alice, "America/Los_Angeles")  # clocks go 02:00 → 01:00 on 2026-11-01
    follow(app, alice, "Autumn", schedule=[
        (1, utc("2026-11-01T06:59")),  # 23:59 PDT on Oct 31
        (2, utc("2026-11-01T07:00")),  # 00:00 PDT on Nov 1
        (3, utc("2026-11-02T07:59")),  # 23:59 PST on Nov 1
        (4, utc("2026-11-02T08:00")),  # 00:00 PST on Nov 2
    ])  # fmt: skip
    window = calendar.days_window(date(2026, 11, 1), date(2026, 11, 1), "America/Los_Angeles")
    assert window.end - window.start == timedelta(hours=25)
    answer = api.get("/api/calendar?from=2026-10-31&to=2026-11-02")
    assert days_of(answer) == {"2026-10-31": [("Autumn", 1)],
                               "2026-11-01": [("Autumn", 2), ("Autumn", 3)],
                               "2026-11-02": [("Autumn", 4)]}  # fmt: skip


def test_a_zone_whose_midnight_is_skipped_starts_the_day_at_one(app):
    # Santiago springs forward at 00:00 on 2026-09-06: the day starts at 01:00 local.
    start = calendar.local_midnight(date(2026, 9, 6), "America/Santiago")
    assert start == utc("2026-09-06T04:00")
    assert start.astimezone(calendar.preferences.zone("America/Santiago")).hour == 1


def test_utc_midnight_belongs_to_the_day_it_starts(app, api, alice):
    follow(
        app, alice, "Edge", schedule=[(1, utc("2026-12-06T23:59:59")), (2, utc("2026-12-07T00:00"))]
    )
    answer = api.get("/api/calendar?from=2026-12-06&to=2026-12-06")
    assert days_of(answer) == {"2026-12-06": [("Edge", 1)]}
    assert days_of(api.get("/api/calendar?from=2026-12-07&to=2026-12-07")) == {
        "2026-12-07": [("Edge", 2)]
    }


def test_instants_are_taken_as_given_and_naive_ones_in_the_persons_zone(app, api, alice):
    set_zone(app, alice, "Asia/Tokyo")  # UTC+9
    follow(
        app, alice, "Clock", schedule=[(1, utc("2026-12-06T15:00")), (2, utc("2026-12-06T16:00"))]
    )
    exact = api.get("/api/calendar", query_string={"from": "2026-12-06T15:00:00Z",
                                                   "to": "2026-12-06T16:00:00Z"})  # fmt: skip
    assert days_of(exact) == {"2026-12-07": [("Clock", 1)]}  # 00:00 in Tokyo on the 7th
    naive = api.get("/api/calendar", query_string={"from": "2026-12-07T01:00",
                                                   "to": "2026-12-07T02:00"})  # fmt: skip
    assert days_of(naive) == {"2026-12-07": [("Clock", 2)]}


def test_every_day_of_the_window_is_listed_even_empty(app, api, alice):
    body = api.get("/api/calendar?from=2026-12-01&to=2026-12-31").get_json()
    assert [day["date"] for day in body["days"]] == [f"2026-12-{n:02d}" for n in range(1, 32)]


def test_without_dates_the_answer_is_the_next_seven_days(app, api, alice):
    soon = utcnow() + timedelta(days=2)
    follow(app, alice, "Soon", schedule=[(5, soon), (6, soon + timedelta(days=8))])
    body = api.get("/api/calendar").get_json()
    assert len(body["days"]) == 7
    episodes = [e for day in body["days"] for e in day["episodes"]]
    assert [(e["title"], e["episode"], e["estimated"]) for e in episodes] == [("Soon", 5, False)]


# --- what the calendar follows ---------------------------------------------------------------


def test_only_current_repeating_and_planning_titles_show(app, api, alice):
    at = utc("2026-12-06T12:00")
    for status in ("current", "repeating", "planning", "completed", "paused", "dropped"):
        follow(app, alice, status.title(), status=status, schedule=[(1, at)])
    shown = days_of(api.get("/api/calendar?from=2026-12-06&to=2026-12-06"))["2026-12-06"]
    assert sorted(title for title, _ in shown) == ["Current", "Planning", "Repeating"]


def test_other_peoples_titles_never_show(app, api, other_api, alice):
    mallory = user_id_of(app, "mallory")
    at = utc("2026-12-06T12:00")
    _item, shared = follow(app, mallory, "Both", schedule=[(1, at)])
    follow(app, mallory, "Hers", schedule=[(1, at)])
    follow(app, alice, "Both", media_id=shared)
    assert days_of(api.get("/api/calendar?from=2026-12-06&to=2026-12-06")) == {
        "2026-12-06": [("Both", 1)]
    }
    assert (
        len(days_of(other_api.get("/api/calendar?from=2026-12-06&to=2026-12-06"))["2026-12-06"])
        == 2
    )


def test_a_title_without_a_schedule_shows_its_next_episode(app, api, alice):
    follow(app, alice, "Announced", next_airing=(8, utc("2026-12-06T12:00")))
    # With a schedule, the catalogue's next episode is not shown twice (nor a stale one).
    follow(app, alice, "Scheduled", schedule=[(3, utc("2026-12-06T13:00"))],
           next_airing=(3, utc("2026-12-06T09:00")))  # fmt: skip
    body = api.get("/api/calendar?from=2026-12-06&to=2026-12-06").get_json()
    episodes = body["days"][0]["episodes"]
    assert [(e["title"], e["episode"], e["estimated"]) for e in episodes] == [
        ("Announced", 8, True), ("Scheduled", 3, False)]  # fmt: skip


def test_an_episode_carries_its_times_length_and_item(app, api, alice):
    item_id, media_id = follow(
        app, alice, "Long", duration=45, schedule=[(2, utc("2026-12-06T12:00"))]
    )
    follow(app, alice, "Unknown length", schedule=[(1, utc("2026-12-06T13:00"))])
    long, unknown = api.get("/api/calendar?from=2026-12-06&to=2026-12-06").get_json()["days"][0][
        "episodes"
    ]
    assert (long["item_id"], long["media_id"], long["total"], long["duration"]) == (
        item_id,
        media_id,
        12,
        45,
    )
    assert long["airing_at"] == "2026-12-06T12:00:00+00:00"
    assert long["ends_at"] == "2026-12-06T12:45:00+00:00"
    assert unknown["duration"] is None and unknown["ends_at"] == "2026-12-06T13:24:00+00:00"


# --- the API refuses what it cannot answer ---------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-12-06T25:00"}, "to"),
        ({"from": "２０２６-12-06"}, "from"),  # full-width digits
        ({"from": "2026-12-06", "to": "2026-12-05"}, "to"),
        ({"from": "2026-12-06T10:00Z", "to": "2026-12-06T09:59Z"}, "to"),
        ({"from": "2026-01-01", "to": "2026-03-05"}, "to"),  # 64 days
        ({"from": "0001-01-01", "to": "0001-01-02"}, "to"),  # before UTC can say in Auckland
        ({"from": "9999-12-31"}, "to"),
    ],
)
def test_a_window_it_cannot_answer_is_a_422_saying_which_field(app, api, alice, query, field):
    set_zone(app, alice, "Pacific/Auckland")
    answer = api.get("/api/calendar", query_string=query)
    assert answer.status_code == 422, answer.get_json()
    assert field in error_of(answer)["fields"]


def test_sixty_two_days_are_answered(app, api, alice):
    set_zone(app, alice, "America/Los_Angeles")  # the window crosses a DST change
    answer = api.get("/api/calendar?from=2026-10-01&to=2026-12-01")
    assert answer.status_code == 200
    assert len(answer.get_json()["days"]) == 62


def test_the_api_wants_a_caller(client):
    answer = client.get("/api/calendar")
    assert answer.status_code == 401
    assert error_of(answer)["code"] == "unauthorized"


# --- the page --------------------------------------------------------------------------------


@pytest.fixture
def me(app, logged_in) -> int:
    return user_id_of(app, "alice")


def test_the_week_shows_each_episode_in_the_persons_time_with_a_link(app, logged_in, me):
    set_zone(app, me, "Asia/Tokyo")
    tomorrow_noon = (utcnow() + timedelta(days=1)).replace(
        hour=3, minute=30, second=0, microsecond=0
    )
    item_id, _ = follow(app, me, "Frieren", schedule=[(7, tomorrow_noon)])
    page = logged_in.client.get("/calendar").get_data(as_text=True)
    assert 'aria-current="page">Calendar</a>' in page  # the nav link
    assert page.count('class="calendar-day card"') == 7
    assert f'href="/items/{item_id}">Frieren</a>' in page
    assert "Episode 7 of 12" in page
    assert ">12:30</time>" in page  # 03:30 UTC in Tokyo
    assert "Times in Asia/Tokyo" in page
    assert 'href="/settings#calendar-feed">Subscribe in a calendar app</a>' in page


def test_an_empty_week_says_where_airing_times_come_from(app, logged_in, me):
    follow(app, me, "Finished", status="completed", schedule=[(1, utcnow() + timedelta(hours=5))])
    page = logged_in.client.get("/calendar").get_data(as_text=True)
    assert "Nothing airing in the next 7 days." in page
    assert "Airing times come from AniList" in page
    assert 'href="/items/new?type=anime"' in page
    assert "Finished" not in page


def test_the_month_view_has_the_whole_month_and_links_either_side(app, logged_in, me):
    item_id, _ = follow(
        app, me, "Winter", schedule=[(1, utc("2026-12-31T12:00")), (2, utc("2027-01-01T12:00"))]
    )
    page = logged_in.client.get("/calendar?view=month&month=2026-12").get_data(as_text=True)
    assert "December 2026" in page
    assert page.count('class="month-day') == 31 + 2 + 2  # Dec 1 is a Tuesday; Dec 31 a Thursday
    assert 'href="/calendar?view=month&amp;month=2026-11"' in page
    assert 'href="/calendar?view=month&amp;month=2027-01"' in page
    assert page.count(f'href="/items/{item_id}"') == 1  # January's episode is not December's


def test_moving_month_with_htmx_answers_only_the_calendar(app, htmx, me):
    answer = htmx.get("/calendar?view=month&month=2027-01")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<html" not in body and "January 2027" in body
    assert "HX-Request" in answer.headers["Vary"]


@pytest.mark.parametrize("month", ["2026-13", "26-12", "0001-01", "2026-1", "x" * 500])
def test_a_month_that_is_not_one_shows_this_month_with_a_note(app, logged_in, me, month):
    answer = logged_in.client.get("/calendar", query_string={"view": "month", "month": month})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "is not a month like 2026-12" in page
    assert date.today().strftime("%B %Y") in page


def test_the_calendar_page_needs_a_login(client):
    answer = client.get("/calendar")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


@pytest.mark.parametrize("size", [1, 40])
def test_the_calendar_costs_the_same_statements_whatever_the_library(app, logged_in, me, size):
    soon = utcnow() + timedelta(days=1)
    for n in range(size):
        follow(app, me, f"Title {n}", schedule=[(1, soon), (2, soon + timedelta(days=2))])
    with counted(app) as statements:
        page = logged_in.client.get("/calendar")
    assert page.get_data(as_text=True).count('<li class="episode') == 2 * size
    # The session and user lookup, then the calendar itself: one statement.
    assert len(statements) <= 3, statements
    with counted(app) as month_statements:
        logged_in.client.get("/calendar?view=month")
    assert len(month_statements) == len(statements)
