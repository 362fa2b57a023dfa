"""Statistics: the numbers on a known library, months in the person's time zone, score
formats, other people's data, the statement count on 10 and 10,000 items, the API and
the page (SVG charts, their tables, the empty states)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from tests.conftest import ApiClient
from tests.test_fast_path import counted
from tracker import scores
from tracker.extensions import db
from tracker.models import ItemEvent, LibraryItem, Media, User, utcnow
from tracker.services import accounts, stats
from tracker.services.stats import MonthCount
from tracker.stats import charts

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
WINDOW = [f"2025-{m:02d}" for m in range(7, 13)] + [f"2026-{m:02d}" for m in range(1, 7)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _media(external_id: str, media_type: str, **fields) -> Media:
    return Media(source="anilist", external_id=external_id, anilist_id=int(external_id),
                 media_type=media_type, title_preferred=f"Title {external_id}",
                 search_text="", synonyms=[], **fields)  # fmt: skip


def _item(user_id: int, media: Media | None, media_type: str, **fields) -> LibraryItem:
    return LibraryItem(user_id=user_id, media=media, media_type=media_type,
                       title=f"Item {fields.pop('name')}", **fields)  # fmt: skip


def _event(user_id: int, item: LibraryItem | int, when: str, changes: dict,
           kind: str = "updated") -> ItemEvent:  # fmt: skip
    item_id = item if isinstance(item, int) else item.id
    return ItemEvent(item_id=item_id, user_id=user_id, at=at(when), origin="web",
                     kind=kind, changes=changes)  # fmt: skip


COMPLETED = {"status": ["current", "completed"]}


def seed_known_library(user_id: int, other_id: int) -> None:
    """The library whose figures every test below knows by heart (see the sums there)."""
    tv = _media("1", "anime", format="TV", episodes=24, duration=23, genres=["Action", "Drama"])
    movie = _media("2", "anime", format="MOVIE", episodes=1, genres=["Drama"])
    manga = _media("3", "manga", format="MANGA", chapters=100, genres=["Romance", "Drama"])
    ona = _media("4", "anime", format="ONA", genres=None)  # no total, no length, no genres
    short = _media("5", "anime", format="TV", episodes=12, duration=24, genres=[])
    items = {
        1: _item(user_id, tv, "anime", name=1, status="completed", progress=24, repeat=1,
                 score=90, completed_on="2026-05-20"),
        2: _item(user_id, movie, "anime", name=2, status="completed", progress=1, score=70),
        3: _item(user_id, manga, "manga", name=3, status="repeating", progress=10, repeat=1,
                 score=0),
        4: _item(user_id, ona, "anime", name=4, status="current", progress=5, repeat=2),
        5: _item(user_id, None, "anime", name=5, status="paused", progress=3,
                 max_progress_override=10, repeat=1, score=55),
        6: _item(user_id, None, "manga", name=6, status="planning", progress=0),
        7: _item(user_id, short, "anime", name=7, status="dropped", progress=2, score=85,
                 completed_on="2026"),
        8: _item(user_id, None, "manga", name=8, status="completed", progress=50, score=100,
                 completed_on="2025-06"),
        9: _item(user_id, None, "manga", name=9, status="completed", progress=20, score=30,
                 completed_on="2025-07-01"),
    }  # fmt: skip
    # Someone else's: never counted anywhere.
    theirs = _item(other_id, tv, "anime", name="x", status="completed", progress=24,
                   repeat=5, score=10, completed_on="2026-05-01")  # fmt: skip
    db.session.add_all([*items.values(), theirs])
    db.session.flush()
    events = [
        _event(user_id, items[2], "2026-03-31T23:30:00", COMPLETED),  # April in Paris
        _event(user_id, items[2], "2026-01-10T10:00:00", COMPLETED),  # an earlier completion
        _event(user_id, items[1], "2026-05-20T08:00:00", COMPLETED),  # has its date: counted once
        _event(user_id, items[7], "2026-02-01T00:30:00", COMPLETED),  # dropped since: no completion
        _event(user_id, items[1], "2026-05-21T08:00:00", {"winner": "local"}, kind="conflict"),
        _event(user_id, 999, "2026-06-01T09:00:00", {"title": ["Gone", None]}, kind="deleted"),
        _event(user_id, items[3], "2025-06-30T23:00:00", {"progress": [9, 10]}),  # July in Paris
    ]
    events += [_event(other_id, theirs, "2026-04-02T10:00:00", COMPLETED),
               _event(other_id, theirs, "2026-05-02T10:00:00", {"progress": [1, 2]})]  # fmt: skip
    db.session.add_all(events)
    db.session.commit()


def completed_again_today(user_id: int) -> None:
    """Item 2 marked completed again now: the pages, drawn for today's twelve months,
    then have a completion and an activity whatever the date the tests run on."""
    mine = select(LibraryItem.id).where(LibraryItem.user_id == user_id)
    item_id = db.session.scalar(mine.where(LibraryItem.title == "Item 2"))
    db.session.add(ItemEvent(item_id=item_id, user_id=user_id, at=utcnow(), origin="web",
                             kind="updated", changes=COMPLETED))  # fmt: skip
    db.session.commit()


@pytest.fixture
def people(app) -> tuple[int, int]:
    with app.app_context():
        alice = accounts.register("alice", "password123").id
        bob = accounts.register("bob", "password123").id
        seed_known_library(alice, bob)
        db.session.remove()
    return alice, bob


def figures(app, user_id: int, **options) -> stats.Stats:
    with app.app_context():
        result = stats.for_user(user_id, now=NOW, **options)
        db.session.remove()
    return result


def months(series) -> dict[str, int]:
    """The months with something in them."""
    return {m.month: m.count for m in series if m.count}


# --- the numbers ------------------------------------------------------------------------


def test_counts_by_status_and_type(app, people):
    result = figures(app, people[0])
    assert result.total == 9
    assert result.by_status == {"completed": 4, "repeating": 1, "current": 1, "paused": 1,
                                "planning": 1, "dropped": 1}  # fmt: skip
    assert result.by_type == {"anime": 5, "manga": 4}


def test_episodes_count_progress_plus_rewatches_where_the_total_is_known(app, people):
    result = figures(app, people[0])
    # 24 + 1*24 | 1 | 5 (2 rewatches, total unknown) | 3 + 1*10 (own max) | 2
    assert result.episodes_watched == 48 + 1 + 5 + 13 + 2
    assert result.repeats_not_counted == 1


def test_chapters_count_a_reread_in_progress_with_its_first_read(app, people):
    result = figures(app, people[0])
    # 10 + (1 reread + the first read)*100 | 0 | 50 | 20
    assert result.chapters_read == 210 + 0 + 50 + 20


def test_time_spent_uses_the_episode_length_and_estimates_the_rest_by_format(app, people):
    result = figures(app, people[0]).time_spent
    known = 48 * 23 + 2 * 24
    estimated = 1 * stats.MINUTES_BY_FORMAT["MOVIE"] + 5 * stats.MINUTES_BY_FORMAT["ONA"]
    estimated += 13 * stats.DEFAULT_MINUTES  # typed by hand: no format
    assert (result.minutes, result.estimated_minutes) == (known + estimated, estimated)
    assert result.estimated_titles == 3


def test_scores_of_zero_or_none_are_unscored(app, people):
    result = figures(app, people[0]).scores
    assert (result.scored, result.unscored) == (6, 3)
    assert result.mean == pytest.approx(430 / 6)


@pytest.mark.parametrize(
    ("score_format", "expected", "mean"),
    [
        (scores.POINT_100, {"21–30": 1, "51–60": 1, "61–70": 1, "81–90": 2, "91–100": 1}, "71.7"),
        (scores.POINT_10_DECIMAL, {"2–3": 1, "5–6": 1, "6–7": 1, "8–9": 2, "9–10": 1}, "7.2"),
        (scores.POINT_10, {"3": 1, "6": 1, "7": 1, "9": 2, "10": 1}, "7.2"),
        (scores.POINT_5, {"2★": 1, "3★": 1, "4★": 2, "5★": 2}, "3.6 stars"),
        (scores.POINT_3, {"Disliked": 1, "Neutral": 1, "Liked": 4}, "Liked"),
    ],
)
def test_the_score_distribution_is_in_the_persons_format(app, people, score_format, expected,
                                                         mean):  # fmt: skip
    result = figures(app, people[0], score_format=score_format).scores
    assert {b.label: b.count for b in result.distribution if b.count} == expected
    assert result.mean_label == mean
    # The bins cover 1 to 100 once, in order.
    covered = [s for b in result.distribution for s in range(b.low, b.high + 1)]
    assert covered == list(range(1, 101))


def test_a_score_format_nobody_knows_reads_as_100_points(app, people):
    assert figures(app, people[0], score_format="POINT_7").scores.format == scores.POINT_100


def test_completions_by_date_else_by_the_last_completion_in_the_history(app, people):
    result = figures(app, people[0])
    assert [m.month for m in result.completions] == WINDOW
    # 2025-06 is before the window; "2026" names no month and the title is dropped anyway.
    assert months(result.completions) == {"2025-07": 1, "2026-03": 1, "2026-05": 1}
    assert {m.month: m.from_history for m in result.completions if m.from_history} == {"2026-03": 1}


def test_activity_counts_history_entries_but_not_conflicts(app, people):
    result = figures(app, people[0])
    assert [m.month for m in result.activity] == WINDOW
    assert months(result.activity) == {"2026-01": 1, "2026-02": 1, "2026-03": 1,
                                       "2026-05": 1, "2026-06": 1}  # fmt: skip


def test_months_are_the_persons_in_paris(app, people):
    result = figures(app, people[0], time_zone="Europe/Paris")
    # 2026-03-31 23:30 UTC is 01:30 on April 1 in Paris; 2025-06-30 23:00 UTC is July 1.
    assert months(result.completions) == {"2025-07": 1, "2026-04": 1, "2026-05": 1}
    assert months(result.activity) == {"2025-07": 1, "2026-01": 1, "2026-02": 1,
                                       "2026-04": 1, "2026-05": 1, "2026-06": 1}  # fmt: skip


def test_months_are_the_persons_in_new_york(app, people):
    result = figures(app, people[0], time_zone="America/New_York")
    # 2026-02-01 00:30 UTC is still January 31 in New York.
    assert months(result.activity) == {"2026-01": 2, "2026-03": 1, "2026-05": 1, "2026-06": 1}


def test_the_current_month_is_the_persons_at_a_month_boundary():
    # 23:30 UTC on June 30 is already July in Tokyo, still June in UTC.
    moment = at("2026-06-30T23:30:00")
    assert stats.month_bounds(moment, "UTC")[-1].name == "2026-06"
    assert stats.month_bounds(moment, "Asia/Tokyo")[-1].name == "2026-07"
    assert stats.month_bounds(moment, "Asia/Tokyo")[0].name == "2025-08"


def test_a_month_across_a_dst_change_has_its_real_bounds():
    march = next(m for m in stats.month_bounds(NOW, "Europe/Paris") if m.name == "2026-03")
    assert (march.start, march.end) == (at("2026-02-28T23:00:00"), at("2026-03-31T22:00:00"))


def test_formats_with_titles_typed_by_hand_as_unknown(app, people):
    result = figures(app, people[0])
    assert [(f.name, f.count) for f in result.formats] == [
        (None, 4),
        ("TV", 2),
        ("MANGA", 1),
        ("MOVIE", 1),
        ("ONA", 1),
    ]


def test_top_genres_unnest_the_json_lists(app, people):
    result = figures(app, people[0])
    assert [(g.name, g.count) for g in result.genres] == [("Drama", 3), ("Action", 1),
                                                          ("Romance", 1)]  # fmt: skip


def test_one_type_counts_that_type_alone(app, people):
    anime = figures(app, people[0], media_type="anime")
    assert (anime.total, anime.by_type) == (5, {"anime": 5, "manga": 0})
    assert (anime.episodes_watched, anime.chapters_read) == (69, 0)
    assert [(g.name, g.count) for g in anime.genres] == [("Drama", 2), ("Action", 1)]
    # Only the history of anime still in the library: the removed title's type is unknown.
    assert months(anime.activity) == {"2026-01": 1, "2026-02": 1, "2026-03": 1, "2026-05": 1}
    manga = figures(app, people[0], media_type="manga")
    assert (manga.total, manga.chapters_read, manga.time_spent.minutes) == (4, 280, 0)
    assert months(manga.completions) == {"2025-07": 1}


def test_someone_elses_library_is_never_counted(app, people):
    bob = figures(app, people[1])
    assert (bob.total, bob.episodes_watched) == (1, 24 + 5 * 24)
    assert months(bob.completions) == {"2026-05": 1}
    assert months(bob.activity) == {"2026-04": 1, "2026-05": 1}
    assert [b.count for b in bob.scores.distribution if b.count] == [1]


def test_an_empty_library_counts_nothing(app):
    with app.app_context():
        user_id = accounts.register("carol", "password123").id
    result = figures(app, user_id)
    assert (result.total, result.episodes_watched, result.time_spent.minutes) == (0, 0, 0)
    assert result.scores.mean is None and result.scores.mean_label == "–"
    assert not months(result.completions) and not months(result.activity)
    assert result.formats == [] and result.genres == []


def test_genres_that_are_not_a_list_are_skipped(app):
    with app.app_context():
        user_id = accounts.register("dave", "password123").id
        odd = _media("77", "anime", genres={"not": "a list"})
        plain = _media("78", "anime", genres=["Comedy", 7])
        db.session.add_all([_item(user_id, odd, "anime", name="odd"),
                            _item(user_id, plain, "anime", name="plain")])  # fmt: skip
        db.session.commit()
    names = [g.name for g in figures(app, user_id).genres]
    assert "Comedy" in names and "not" not in names


# --- statements ---------------------------------------------------------------------------


def bulk_library(app, username: str, size: int) -> int:
    """``size`` titles, inserted in bulk (with a history row each)."""
    with app.app_context():
        user_id = accounts.register(username, "password123").id
        base = 500_000 + size
        db.session.execute(insert(Media), [
            {"source": "anilist", "external_id": str(base + n), "anilist_id": base + n,
             "media_type": "anime", "title_preferred": f"T{n}", "search_text": "",
             "synonyms": [], "episodes": 12, "duration": 24 if n % 2 else None,
             "format": "TV", "genres": ["Action", f"G{n % 5}"]} for n in range(size)])  # fmt: skip
        media_ids = db.session.scalars(
            select(Media.id).where(Media.anilist_id >= base, Media.anilist_id < base + size)
        )
        now = utcnow()
        db.session.execute(insert(LibraryItem), [
            {"user_id": user_id, "media_id": media_id, "media_type": "anime",
             "title": f"T{n}", "status": "completed" if n % 3 else "current",
             "progress": n % 12, "repeat": n % 2, "score": n % 101, "private": False,
             "completed_on": "2026-05-01" if n % 3 else None, "created_at": now,
             "updated_at": now, "custom_lists": []}
            for n, media_id in enumerate(media_ids)])  # fmt: skip
        item_ids = db.session.scalars(select(LibraryItem.id).where(LibraryItem.user_id == user_id))
        db.session.execute(insert(ItemEvent), [
            {"item_id": item_id, "user_id": user_id, "at": NOW, "origin": "web",
             "kind": "updated", "changes": COMPLETED} for item_id in item_ids])  # fmt: skip
        db.session.commit()
        db.session.remove()
    return user_id


def test_the_statement_count_does_not_grow_with_the_library(app):
    small, large = bulk_library(app, "small", 10), bulk_library(app, "large", 10_000)
    costs = {}
    for user_id in (small, large):
        with app.app_context(), counted(app) as statements:
            result = stats.for_user(user_id, now=NOW)
            db.session.remove()
        costs[user_id] = len(statements)
    assert costs[small] == costs[large] <= 6, costs
    assert result.total == 10_000 and result.by_status["completed"] == 6_666


def test_the_api_costs_the_same_for_10_and_10000_titles(app):
    costs = []
    for username, size in (("small", 10), ("large", 10_000)):
        bulk_library(app, username, size)
        client = app.test_client()
        token = client.post("/api/auth/token", data={"username": username,
                                                     "password": "password123"})  # fmt: skip
        api = ApiClient(client, token.get_json()["access_token"])
        with counted(app) as statements:
            assert api.get("/api/library/stats").status_code == 200
        costs.append(len(statements))
    assert costs[0] == costs[1], costs


# --- the API ------------------------------------------------------------------------------


@pytest.fixture
def alice_api(app, people) -> ApiClient:
    client = app.test_client()
    token = client.post("/api/auth/token", data={"username": "alice", "password": "password123"})
    return ApiClient(client, token.get_json()["access_token"])


def test_the_api_answers_every_figure(alice_api):
    body = alice_api.get("/api/library/stats").get_json()
    assert set(body) == {"type", "time_zone", "total", "by_status", "by_type",
                         "episodes_watched", "chapters_read", "repeats_not_counted",
                         "time_spent", "scores", "completions", "activity", "formats",
                         "genres"}  # fmt: skip
    assert (body["type"], body["total"], body["episodes_watched"]) == (None, 9, 69)
    assert len(body["completions"]) == len(body["activity"]) == 12
    assert body["scores"]["format"] == "POINT_100" and body["scores"]["scored"] == 6
    assert body["scores"]["distribution"][-1] == {"label": "91–100", "words": "91 to 100",
                                                  "low": 91, "high": 100, "count": 1}  # fmt: skip
    assert body["formats"][0] == {"name": None, "count": 4}
    assert body["genres"][0] == {"name": "Drama", "count": 3}


def test_the_api_speaks_the_persons_score_format_and_time_zone(alice_api):
    answer = alice_api.patch("/api/auth/me", json={"score_format": "POINT_5",
                                                   "timezone": "Asia/Tokyo"})  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    body = alice_api.get("/api/library/stats").get_json()
    assert body["time_zone"] == "Asia/Tokyo"
    assert [b["label"] for b in body["scores"]["distribution"]] == ["1★", "2★", "3★", "4★", "5★"]
    assert body["scores"]["distribution"][0]["low"] == 1


def test_the_api_filters_by_type(alice_api):
    body = alice_api.get("/api/library/stats?type=manga").get_json()
    assert (body["type"], body["total"], body["chapters_read"]) == ("manga", 4, 280)


@pytest.mark.parametrize("value", ["book", "ANIME", "", "anime,manga"])
def test_the_api_refuses_a_type_that_is_not_anime_or_manga(alice_api, value):
    answer = alice_api.get(f"/api/library/stats?type={value}")
    assert answer.status_code == 422
    assert "type" in answer.get_json()["error"]["fields"]


def test_the_api_needs_a_caller(client):
    answer = client.get("/api/library/stats")
    assert answer.status_code == 401 and "error" in answer.get_json()


def test_the_openapi_document_describes_the_stats(client):
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/library/stats"]["get"]
    assert {"200", "401", "422", "503"} <= set(operation["responses"])
    assert operation["parameters"][0]["name"] == "type"


# --- the page -----------------------------------------------------------------------------


@pytest.fixture
def alice_page(app, client, people):
    from tests.conftest import Browser

    with app.app_context():
        completed_again_today(people[0])
        db.session.remove()
    browser = Browser(client)
    assert browser.login().status_code == 302
    return browser


def test_the_page_draws_each_chart_with_a_name_and_a_table(alice_page):
    html = alice_page.client.get("/stats").get_data(as_text=True)
    for title in ("Titles by status", "Score distribution", "Completed per month",
                  "Activity per month", "Formats", "Top genres"):  # fmt: skip
        assert re.search(rf'<svg[^>]+role="img"[^>]*>\s*<title id="[^"]+">{title}</title>', html)
        assert f'<span class="visually-hidden">: {title}</span>' in html
    assert html.count('<details class="chart-table">') == 6
    assert '<th scope="row">Drama</th><td>3</td>' in html


def test_the_page_has_no_inline_style_for_the_csp(alice_page):
    response = alice_page.client.get("/stats")
    html = response.get_data(as_text=True)
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    assert " style=" not in html and "<style" not in html and "<script>" not in html


def test_the_page_says_which_part_of_the_time_is_estimated(alice_page):
    html = alice_page.client.get("/stats").get_data(as_text=True)
    assert "1 day 3 hours" in html  # 1,629 minutes
    assert "7 hours 57 minutes of it estimated: 3 titles have no known episode length" in html


def test_the_page_shows_the_figures_of_one_type(alice_page):
    html = alice_page.client.get("/stats?type=manga").get_data(as_text=True)
    assert 'href="/stats?type=manga" aria-current="page"' in html
    assert "Chapters read" in html and "Episodes watched" not in html
    assert "Reading" in html  # statuses in manga words


def test_the_page_ignores_a_type_it_does_not_know_and_says_so(alice_page):
    response = alice_page.client.get("/stats?type=books")
    assert response.status_code == 200
    assert "type=books: not anime or manga" in response.get_data(as_text=True)


def test_the_nav_links_to_the_stats(alice_page):
    html = alice_page.client.get("/").get_data(as_text=True)
    assert '<a href="/stats">Stats</a>' in html


def test_an_empty_library_gets_a_next_step_not_an_empty_chart(logged_in):
    html = logged_in.client.get("/stats").get_data(as_text=True)
    assert "Nothing to count yet" in html and "Add a title from your library" in html
    assert "<svg" not in html


def test_no_scores_and_nothing_completed_say_what_to_do(app, logged_in):
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "alice"))
        db.session.add(_item(user_id, None, "anime", name="new", status="planning"))
        db.session.commit()
    html = logged_in.client.get("/stats").get_data(as_text=True)
    assert "No scores yet." in html and "Score your completed titles" in html
    assert "Nothing completed in the last 12 months." in html
    assert "No genres known." in html and "No changes in the last 12 months" in html
    assert html.count("<svg") == 2  # status and formats


def test_the_page_needs_a_login(client):
    answer = client.get("/stats")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_months_say_their_year_under_the_first_bar_and_each_january():
    counts = [MonthCount(month, 1) for month in WINDOW]
    drawn = charts._months("c", "Completed", "titles", counts)
    assert [bar.label for bar in drawn.bars][:2] == ["Jul", "Aug"]
    years = [bar.sublabel for bar in drawn.bars]
    assert years == ["2025", "", "", "", "", "", "2026", "", "", "", "", ""]


def test_the_page_draws_the_years_under_the_months(alice_page):
    html = alice_page.client.get("/stats").get_data(as_text=True)
    # Two month charts, each with a year under its first bar (and a January's, if shown).
    assert len(re.findall(r'text-anchor="middle">20\d\d</text>', html)) >= 2
    assert 'viewBox="0 0 360 180"' in html and 'viewBox="0 0 360 166"' in html  # scores: none
