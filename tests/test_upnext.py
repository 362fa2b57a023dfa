"""Up next: what is out beyond progress, in order; the waiting titles; the +1 that swaps
the card; the JSON API; statements that do not grow with the library."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from tests.conftest import ApiClient
from tests.test_fast_path import counted, fill_library
from tracker.extensions import db
from tracker.models import AiringEpisode, LibraryItem, Media, User, utcnow

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def user_id_of(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def add(app, username="alice", *, title, progress=0, status="current", media_type="anime",
        episodes=None, chapters=None, media_status=None, next_airing=None, schedule=(),
        manual=False, override=None, touched=None):  # fmt: skip
    """One item (and its catalogue row unless ``manual``); ``schedule`` is (episode,
    offset from now) pairs; ``next_airing`` AniList's (episode, offset)."""
    now = utcnow()
    with app.app_context():
        media_id = None
        if not manual:
            external = str(abs(hash((username, title))) % 10**8)
            values = {"source": "anilist", "external_id": external, "anilist_id": int(external),
                      "media_type": media_type, "title_preferred": title, "title_romaji": title,
                      "search_text": title.lower(), "synonyms": [], "episodes": episodes,
                      "chapters": chapters, "status": media_status,
                      "airing_refreshed_at": now}  # fmt: skip
            if next_airing:
                values |= {"next_airing_episode": next_airing[0],
                           "next_airing_at": now + next_airing[1]}  # fmt: skip
            added = db.session.execute(insert(Media).values(**values).returning(Media.id))
            media_id = added.scalar()
            for episode, offset in schedule:
                db.session.execute(insert(AiringEpisode).values(
                    media_id=media_id, episode=episode, airing_at=now + offset))  # fmt: skip
        item_id = db.session.execute(insert(LibraryItem).values(
            user_id=user_id_of(username), media_id=media_id, media_type=media_type, title=title,
            status=status, progress=progress, repeat=0, private=False,
            max_progress_override=override, created_at=now, updated_at=touched or now,
            custom_lists=[]).returning(LibraryItem.id)).scalar()  # fmt: skip
        db.session.commit()
        return item_id


def board(api: ApiClient) -> dict:
    response = api.get("/api/library/next")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def titles(entries) -> list[str]:
    return [e["title"] for e in entries]


# --- what is out -------------------------------------------------------------------------


def test_a_releasing_title_has_out_the_episodes_before_the_next_to_air(app, api):
    add(app, title="Airing", progress=3, media_status="releasing",
        schedule=[(6, 2 * DAY), (7, 9 * DAY), (5, -5 * DAY)])  # fmt: skip
    (entry,) = board(api)["ready"]
    assert (entry["released"], entry["available"], entry["next_episode"]) == (5, 2, 6)


def test_an_episode_that_aired_since_the_last_refresh_counts(app, api):
    add(app, title="Stale", progress=4, media_status="releasing", next_airing=(5, -HOUR))
    (entry,) = board(api)["ready"]
    assert (entry["released"], entry["available"]) == (5, 1)


def test_a_title_caught_up_waits_with_its_next_episode(app, api):
    add(app, title="Weekly", progress=5, media_status="releasing", next_airing=(6, 3 * DAY))
    body = board(api)
    assert body["ready"] == []
    (entry,) = body["waiting"]
    assert (entry["next_episode"], entry["available"]) == (6, 0)


def test_a_finished_title_has_out_all_its_episodes(app, api):
    add(app, title="Done", progress=10, episodes=12, media_status="finished")
    (entry,) = board(api)["ready"]
    assert (entry["released"], entry["available"], entry["next_airing_at"]) == (12, 2, None)


def test_a_cancelled_title_has_out_its_total(app, api):
    add(app, title="Axed", progress=1, episodes=6, media_status="cancelled",
        next_airing=(4, 3 * DAY))  # fmt: skip
    (entry,) = board(api)["ready"]
    assert entry["available"] == 5


def test_no_airing_data_and_a_known_total_counts_up_to_the_total(app, api):
    add(app, title="Manga", media_type="manga", progress=30, chapters=40)
    add(app, title="Typed", progress=2, manual=True, override=10)
    body = board(api)
    assert sorted((e["title"], e["available"]) for e in body["ready"]) == [
        ("Manga", 10), ("Typed", 8)]  # fmt: skip


def test_no_total_and_no_airing_data_is_not_known_and_waits(app, api):
    add(app, title="Ongoing manga", media_type="manga", progress=100, media_status="releasing")
    add(app, title="Typed", progress=3, manual=True)
    body = board(api)
    assert body["ready"] == []
    assert sorted(titles(body["waiting"])) == ["Ongoing manga", "Typed"]
    assert {e["released"] for e in body["waiting"]} == {None}


def test_only_current_and_repeating_titles_show(app, api):
    for status in ("current", "repeating", "planning", "paused", "dropped", "completed"):
        add(app, title=status, status=status, episodes=12, progress=1, media_status="finished")
    assert sorted(titles(board(api)["ready"])) == ["current", "repeating"]


def test_a_title_not_yet_released_has_nothing_out_whatever_its_total(app, api):
    add(app, title="Soon", episodes=12, media_status="not_yet_released", next_airing=(1, DAY))
    (entry,) = board(api)["waiting"]
    assert (entry["released"], entry["next_episode"]) == (0, 1)


def test_a_schedule_never_takes_released_past_the_total(app, api):
    add(app, title="Short", progress=0, episodes=3, media_status="releasing",
        schedule=[(9, -DAY)])  # fmt: skip
    (entry,) = board(api)["ready"]
    assert entry["released"] == 3


# --- order -------------------------------------------------------------------------------


def test_the_newest_release_comes_first_then_the_title_left_alone_longest(app, api):
    now = utcnow()
    add(app, title="Aired yesterday", media_status="releasing", schedule=[(1, -DAY), (2, 6 * DAY)])
    add(app, title="Aired an hour ago", media_status="releasing",
        schedule=[(1, -HOUR), (2, 6 * DAY)])  # fmt: skip
    add(app, title="Finished, touched today", episodes=12, media_status="finished", touched=now)
    add(app, title="Finished, touched last month", episodes=12, media_status="finished",
        touched=now - 30 * DAY)  # fmt: skip
    assert titles(board(api)["ready"]) == [
        "Aired an hour ago", "Aired yesterday",
        "Finished, touched last month", "Finished, touched today",
    ]  # fmt: skip


def test_the_waiting_titles_come_soonest_first(app, api):
    add(app, title="In a week", progress=2, media_status="releasing", next_airing=(3, 7 * DAY))
    add(app, title="Tomorrow", progress=2, media_status="releasing", next_airing=(3, DAY))
    add(app, title="No date", progress=2, manual=True)
    assert titles(board(api)["waiting"]) == ["Tomorrow", "In a week", "No date"]


# --- people ------------------------------------------------------------------------------


def test_another_persons_titles_are_not_shown(app, api, other_api):
    add(app, "mallory", title="Mallory's", episodes=12, media_status="finished")
    assert board(api) | {} and board(api)["ready"] == []
    assert titles(board(other_api)["ready"]) == ["Mallory's"]


def test_a_card_plus_one_on_another_persons_item_is_404(app, htmx, other_api):
    other = add(app, "mallory", title="Mallory's", episodes=12, media_status="finished")
    response = htmx.post(f"/next/{other}/increment")
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(LibraryItem, other).progress == 0


# --- the API -----------------------------------------------------------------------------


def test_the_api_answers_with_the_documented_shape(app, api):
    add(app, title="Weekly", progress=1, media_status="releasing", schedule=[(3, DAY)])
    body = board(api)
    assert set(body) == {"ready", "waiting", "more_ready", "more_waiting", "library_size",
                         "in_progress", "airing_as_of", "airing_data_old"}  # fmt: skip
    assert set(body["ready"][0]) == {
        "item_id", "title", "type", "status", "progress", "total", "released", "available",
        "latest_release_at", "next_episode", "next_airing_at", "cover_url", "format",
    }  # fmt: skip
    assert (body["library_size"], body["in_progress"], body["airing_data_old"]) == (1, 1, False)


def test_the_api_answers_at_most_limit_titles_a_section_and_counts_the_rest(app, api):
    for n in range(4):
        add(app, title=f"Ready {n}", progress=1, media_status="finished", episodes=12)
    for n in range(3):
        add(app, title=f"Waiting {n}", progress=2, media_status="releasing",
            schedule=[(3, (n + 1) * DAY)])  # fmt: skip
    everything = board(api)
    assert (len(everything["ready"]), len(everything["waiting"])) == (4, 3)
    assert (everything["more_ready"], everything["more_waiting"]) == (0, 0)
    response = api.get("/api/library/next?limit=2")
    assert response.status_code == 200
    body = response.get_json()
    assert titles(body["ready"]) == titles(everything["ready"])[:2]
    assert titles(body["waiting"]) == titles(everything["waiting"])[:2]
    assert (body["more_ready"], body["more_waiting"], body["in_progress"]) == (2, 1, 7)


@pytest.mark.parametrize("limit", ["0", "201", "-1", "two", "1.5"])
def test_a_limit_out_of_range_is_a_422(api, limit):
    response = api.get(f"/api/library/next?limit={limit}")
    assert response.status_code == 422
    assert "limit" in response.get_json()["error"]["fields"]


def test_the_api_is_in_the_openapi_document(app, client):
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/library/next"]["get"]
    assert set(operation["responses"]) >= {"200", "401"}
    assert "UpNext" in spec["components"]["schemas"]


def test_the_api_without_a_token_answers_a_json_401(client):
    response = client.get("/api/library/next")
    assert response.status_code == 401 and "error" in response.get_json()


def test_old_airing_data_is_said_to_be_old(app, logged_in):
    item = add(app, title="Weekly", progress=1, media_status="releasing", schedule=[(3, DAY)])
    with app.app_context():
        media_id = db.session.get(LibraryItem, item).media_id
        db.session.get(Media, media_id).airing_refreshed_at = utcnow() - 3 * DAY
        db.session.commit()
    assert logged_in.client.get("/api/library/next").get_json()["airing_data_old"] is True
    page = logged_in.client.get("/next").get_data(as_text=True)
    assert "Airing times as of" in page


# --- the page ----------------------------------------------------------------------------


def test_the_page_shows_ready_and_waiting_cards(app, logged_in):
    add(app, title="Ready one", episodes=12, media_status="finished", progress=2)
    add(app, title="Waiting one", progress=2, media_status="releasing", next_airing=(3, 3 * DAY))
    page = logged_in.client.get("/next").get_data(as_text=True)
    assert "Ready one" in page.split('id="next-ready"')[1].split("</ol>")[0]
    waiting = page.split('id="next-waiting"')[1]
    assert "Waiting one" in waiting and "Caught up" in waiting and "in 3 days" in waiting


def test_the_wait_is_said_in_the_persons_time_zone(app, logged_in, htmx):
    assert htmx.patch("/api/auth/me", json={"timezone": "Pacific/Kiritimati"}).status_code == 200
    item = add(app, title="Soon", progress=2, media_status="releasing", next_airing=(3, 30 * HOUR))
    with app.app_context():
        at = db.session.get(LibraryItem, item).media.next_airing_at
    local = at.astimezone(ZoneInfo("Pacific/Kiritimati"))  # UTC+14
    page = logged_in.client.get("/next").get_data(as_text=True)
    said = page.split("Caught up")[1].split("</time>")[0].split(">")[-1]  # the words shown
    assert f"{local:%H:%M}" in said and f"{at:%H:%M}" not in said


def test_an_empty_library_says_how_to_fill_it(app, logged_in):
    page = logged_in.client.get("/next").get_data(as_text=True)
    assert "Your library is empty" in page and 'href="/items/new"' in page


def test_nothing_in_progress_links_to_the_library(app, logged_in):
    add(app, title="Planned", status="planning", episodes=12)
    page = logged_in.client.get("/next").get_data(as_text=True)
    assert "Nothing in progress" in page and 'href="/library"' in page


def test_home_opens_on_up_next_once_the_library_is_not_empty(app, logged_in):
    assert 'id="library-heading"' in logged_in.client.get("/").get_data(as_text=True)
    add(app, title="Something", episodes=12, media_status="finished")
    home = logged_in.client.get("/").get_data(as_text=True)
    assert 'id="upnext-heading"' in home and "Something" in home
    library = logged_in.client.get("/library").get_data(as_text=True)
    assert 'id="library-heading"' in library
    assert 'id="library-heading"' in logged_in.client.get("/?type=anime").get_data(as_text=True)


def test_the_nav_links_up_next(app, logged_in):
    page = logged_in.client.get("/library").get_data(as_text=True)
    assert 'href="/next"' in page


def test_the_nav_marks_what_home_shows(app, logged_in):
    empty = logged_in.client.get("/").get_data(as_text=True)
    assert 'href="/library" aria-current="page"' in empty
    assert 'href="/next" aria-current' not in empty
    add(app, title="Something", episodes=12, media_status="finished")
    home = logged_in.client.get("/").get_data(as_text=True)
    assert 'href="/next" aria-current="page"' in home
    assert 'href="/library" aria-current' not in home


def test_a_plus_one_answers_with_the_card_swapped_in_place(app, htmx):
    item = add(app, title="Show", episodes=12, media_status="finished", progress=2)
    response = htmx.post(f"/next/{item}/increment")
    assert response.status_code == 200
    card = response.get_data(as_text=True)
    assert card.lstrip().startswith(f'<li id="next-{item}"') and "Episode</strong>" not in card
    assert "<strong>Episode 4</strong>" in card and "3 of 12" in card
    assert "episode 3 of 12" in response.headers["HX-Trigger"]


def test_the_last_episode_completes_the_title_and_the_card_leaves(app, htmx):
    item = add(app, title="Show", episodes=12, media_status="finished", progress=11)
    response = htmx.post(f"/next/{item}/increment")
    assert response.status_code == 200
    assert f'<template id="next-{item}"' in response.get_data(as_text=True)
    trigger = response.headers["HX-Trigger"]
    assert "now Completed" in trigger and f"/next/{item}/undo" in trigger
    with app.app_context():
        assert db.session.get(LibraryItem, item).status == "completed"


def test_undo_brings_the_card_back(app, htmx):
    item = add(app, title="Show", episodes=12, media_status="finished", progress=11)
    htmx.post(f"/next/{item}/increment")
    back = {"status": "current", "progress": "11", "completed_on": ""}
    response = htmx.post(f"/next/{item}/undo", data=back)
    assert response.status_code == 200
    assert f'<li id="next-{item}"' in response.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(LibraryItem, item)
        assert (row.status, row.progress, row.completed_on) == ("current", 11, None)


def test_a_plus_one_past_the_total_is_refused_on_the_card(app, htmx):
    item = add(app, title="Over", media_status="finished", progress=12, override=12,
               status="repeating")  # fmt: skip
    response = htmx.post(f"/next/{item}/increment")
    assert response.status_code == 422
    assert "inline-error" in response.get_data(as_text=True)


def test_a_plus_one_without_javascript_comes_back_to_the_page(app, logged_in):
    item = add(app, title="Show", episodes=12, media_status="finished", progress=2)
    token = logged_in.csrf_token()
    response = logged_in.client.post(f"/next/{item}/increment", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/next"


# --- statements --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [10, 5000])
def test_the_page_and_the_api_cost_the_same_statements_whatever_the_size(app, htmx, size):
    api = htmx.browser.client
    fill_library(app, "alice", size)
    with counted(app) as page:
        assert htmx.browser.client.get("/next").status_code == 200
    with counted(app) as json:
        assert api.get("/api/library/next").status_code == 200
    with counted(app) as home:
        assert htmx.browser.client.get("/").status_code == 200
    assert len(page) <= 4, "\n\n".join(page)
    assert len(json) <= 4, "\n\n".join(json)
    assert len(home) <= 4, "\n\n".join(home)
