"""Search, autocomplete and totals from the local catalogue, AniList and MangaDex."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import ApiClient, api_client_for, remote_config
from tests.fakes import closed_url
from tests.test_auth_api import error_of
from tracker.extensions import db
from tracker.models import Media
from tracker.services import catalog


def graphql_calls(fake) -> int:
    return sum(1 for op in fake.operations if not op.startswith("oauth/"))


def media_count(app) -> int:
    with app.app_context():
        return db.session.query(Media).count()


def seed_local(app, titles, media_type="anime"):
    """Titles in the local catalogue, as AniList's answers put them there (ids already
    in it are left as they are)."""
    records = [{"source": "anilist", "external_id": str(800_000 + n), "anilist_id": 800_000 + n,
                "type": media_type, "titles": {"romaji": title}}
               for n, title in enumerate(titles, start=1)]  # fmt: skip
    with app.app_context():
        catalog.upsert_records(records, update=False)
        db.session.commit()


def autocomplete(api, q, **params):
    response = api.get("/api/sources/autocomplete", query_string={"q": q, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- the happy path -------------------------------------------------------------------


def test_autocomplete_asks_anilist_on_a_local_miss_and_keeps_the_answer(
    remote_app, remote_api, fake_anilist
):
    body = autocomplete(remote_api, "frieren")
    # Autocomplete without a type leaves manga to AniList: MangaDex was not asked.
    assert body["sources"] == {"local": "ok", "anilist": "ok", "mangadex": "not_asked"}
    titles = {r["title"] for r in body["results"]}
    assert "Sousou no Frieren" in titles
    frieren = next(r for r in body["results"] if r["anilist_id"] == 154587)
    assert frieren["total"] == 28
    assert frieren["type"] == "anime"
    assert frieren["titles"]["native"] == "葬送のフリーレン"
    assert frieren["in_library"] is False
    assert media_count(remote_app) >= 2  # the anime and the manga are in the catalogue now


def test_the_catalogue_answers_offline_once_a_title_was_seen(remote_app, remote_api, fake_anilist):
    autocomplete(remote_api, "cowboy bebop")
    fake_anilist[0].down = True
    body = autocomplete(remote_api, "bebop")
    assert body["sources"]["anilist"] == "unavailable"
    assert "Cowboy Bebop" in {r["title"] for r in body["results"]}


def test_a_full_local_page_answers_without_asking_anilist(remote_app, remote_api, fake_anilist):
    seed_local(remote_app, [f"Gundam {n}" for n in range(12)])
    body = autocomplete(remote_api, "gundam")
    assert len(body["results"]) == 10
    assert graphql_calls(fake_anilist[0]) == 0


def test_a_source_not_asked_because_the_catalogue_sufficed_says_so(remote_app, remote_api):
    seed_local(remote_app, [f"Gundam {n}" for n in range(12)])
    body = autocomplete(remote_api, "gundam")
    assert body["sources"] == {"local": "ok", "anilist": "not_asked", "mangadex": "not_asked"}
    assert body["sources_last_ok_at"] == {"anilist": None, "mangadex": None}


def test_not_asked_says_when_the_source_last_answered(remote_app, remote_api):
    autocomplete(remote_api, "frieren")  # asks AniList
    seed_local(remote_app, [f"Gundam {n}" for n in range(12)])
    body = autocomplete(remote_api, "gundam")
    assert body["sources"]["anilist"] == "not_asked"
    assert body["sources_last_ok_at"]["anilist"].startswith("20")
    assert body["sources_last_ok_at"]["mangadex"] is None


def test_a_dead_anilist_that_was_not_needed_is_never_called_ok(app_factory, sleeps,
                                                                fake_mangadex):  # fmt: skip
    app = app_factory(**remote_config(closed_url(), fake_mangadex[1], sleeps))
    seed_local(app, [f"Gundam {n}" for n in range(12)])
    api = api_client_for(app, "alice")
    assert autocomplete(api, "gundam")["sources"]["anilist"] == "not_asked"
    sources = {s["name"]: s["state"] for s in api.get("/api/sources/").get_json()["sources"]}
    assert sources["anilist"] == "not_asked"


def test_a_one_letter_query_does_not_ask_anilist_and_says_so(remote_app, remote_api):
    assert autocomplete(remote_api, "k")["sources"]["anilist"] == "not_asked"


def test_identical_autocomplete_calls_make_one_upstream_request(remote_api, fake_anilist):
    for q in ("Frieren", "frieren", "  FRIEREN ", "ｆｒｉｅｒｅｎ"):
        autocomplete(remote_api, q)
    assert graphql_calls(fake_anilist[0]) == 1


def test_simultaneous_identical_autocomplete_calls_make_one_upstream_request(
    remote_app, remote_api, fake_anilist
):
    fake_anilist[0].delay = 0.2  # keep the first request in flight while the rest arrive
    start = threading.Barrier(6)
    answers: list[int] = []

    def ask() -> None:
        client = ApiClient(remote_app.test_client(), remote_api.token)
        start.wait()
        answers.append(client.get("/api/sources/autocomplete?q=bebop").status_code)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 6
    assert graphql_calls(fake_anilist[0]) == 1


def test_full_search_for_manga_asks_mangadex_too(remote_api, fake_anilist, fake_mangadex):
    fake_mangadex[0].add_manga("Yotsuba&!", last_chapter="110", year=2003)
    response = remote_api.get("/api/sources/search?q=yotsuba&type=manga")
    body = response.get_json()
    assert body["sources"] == {"local": "ok", "anilist": "ok", "mangadex": "ok"}
    yotsuba = next(r for r in body["results"] if r["source"] == "mangadex")
    assert yotsuba["title"] == "Yotsuba&!"
    assert yotsuba["total"] == 110
    assert yotsuba["mangadex_id"] == yotsuba["external_id"]


def test_results_from_both_sources_are_merged_by_anilist_id(remote_api, fake_mangadex):
    fake_mangadex[0].add_manga("Sousou no Frieren", links={"al": "118586"})
    body = remote_api.get("/api/sources/search?q=sousou no frieren&type=manga").get_json()
    assert [r["anilist_id"] for r in body["results"]].count(118586) == 1


def test_search_can_ask_one_source_only(remote_api, fake_anilist, fake_mangadex):
    body = remote_api.get("/api/sources/search?q=frieren&source=local").get_json()
    assert body["results"] == []
    assert graphql_calls(fake_anilist[0]) == 0
    assert fake_mangadex[0].requests == []


def test_suggestions_say_what_is_already_in_your_library(remote_api):
    remote_api.add(title="Cowboy Bebop", source="anilist", anilist_id=1)
    body = autocomplete(remote_api, "cowboy bebop")
    flags = {r["anilist_id"]: r["in_library"] for r in body["results"]}
    assert flags[1] is True
    assert flags[5] is False


def test_titles_follow_the_users_language(remote_app, remote_api):
    with remote_app.app_context():
        from tracker.models import User

        user = db.session.query(User).filter_by(username="alice").one()
        user.preferences = {"title_language": "english"}
        db.session.commit()
    body = autocomplete(remote_api, "sousou no frieren", type="anime")
    assert body["results"][0]["title"] == "Frieren: Beyond Journey's End"


def test_adding_a_suggestion_keeps_its_total_so_of_n_needs_no_lookup(remote_api, fake_anilist):
    autocomplete(remote_api, "frieren")
    calls = graphql_calls(fake_anilist[0])
    item = remote_api.add(title="Sousou no Frieren", source="anilist", anilist_id=154587)
    assert item["max_progress"] == 28
    assert item["format"] == "TV"
    assert item["site_url"] == "https://anilist.co/anime/154587"
    assert graphql_calls(fake_anilist[0]) == calls


def test_the_user_can_override_the_catalogue_total(remote_api):
    autocomplete(remote_api, "frieren")
    item = remote_api.add(title="Frieren", source="anilist", anilist_id=154587, max_progress=30)
    assert item["max_progress"] == 30


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["", "   ", "x" * 1000])
def test_empty_and_overlong_queries_are_refused(remote_api, fake_anilist, q):
    response = remote_api.get("/api/sources/autocomplete", query_string={"q": q})
    assert response.status_code == 422
    assert "q" in error_of(response)["fields"]
    assert graphql_calls(fake_anilist[0]) == 0


def test_a_missing_query_is_refused(remote_api):
    assert remote_api.get("/api/sources/autocomplete").status_code == 422


def test_a_one_letter_query_is_answered_locally(remote_app, remote_api, fake_anilist):
    seed_local(remote_app, ["K-On!"])
    body = autocomplete(remote_api, "k")
    assert [r["title"] for r in body["results"]] == ["K-On!"]
    assert graphql_calls(fake_anilist[0]) == 0


@pytest.mark.parametrize("q", ["日本語", "🍙 onigiri", "'; DROP TABLE media; --", 'say "hi"; ok'])
def test_unusual_queries_get_a_valid_answer(remote_app, remote_api, q):
    body = autocomplete(remote_api, q)
    assert body["sources"]["local"] == "ok"
    assert isinstance(body["results"], list)
    with remote_app.app_context():
        db.session.query(Media).count()  # the table is still there


def test_unicode_titles_are_found(remote_api):
    body = autocomplete(remote_api, "日本語")
    assert "日本語タイトル" in {r["titles"]["native"] for r in body["results"]}


def test_an_unknown_type_is_refused(remote_api):
    response = remote_api.get("/api/sources/autocomplete?q=bebop&type=novel")
    assert response.status_code == 422
    assert "type" in error_of(response)["fields"]


def test_sources_need_authentication(client):
    assert client.get("/api/sources/autocomplete?q=bebop").status_code == 401


# --- faults -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault, state",
    [
        (lambda fake: setattr(fake, "down", True), "unavailable"),
        (lambda fake: fake.fail_next(500, times=5), "unavailable"),
        (lambda fake: fake.fail_next(429, headers={"Retry-After": "60"}), "rate_limited"),
        (lambda fake: setattr(fake, "errors_in_200", "Internal Server Error"), "unavailable"),
        (lambda fake: setattr(fake, "non_json", True), "unavailable"),
        (lambda fake: fake.missing_fields.add("media"), "unavailable"),
        (lambda fake: setattr(fake, "delay", 1.0), "unavailable"),
    ],
    ids=["down", "5xx", "429", "errors-in-200", "non-json", "missing-fields", "timeout"],
)
def test_a_failing_anilist_degrades_to_local_results(remote_app, remote_api, fake_anilist,
                                                     fault, state):  # fmt: skip
    seed_local(remote_app, ["Bebop Local"])
    fault(fake_anilist[0])
    body = autocomplete(remote_api, "bebop")
    assert body["sources"]["anilist"] == state
    assert [r["title"] for r in body["results"]] == ["Bebop Local"]


def test_after_a_failure_new_queries_answer_locally_at_once(remote_api, fake_anilist):
    fake_anilist[0].down = True
    autocomplete(remote_api, "bebop")
    body = autocomplete(remote_api, "frieren")
    assert body["sources"]["anilist"] == "unavailable"
    assert graphql_calls(fake_anilist[0]) == 1


def test_a_failed_query_is_not_retried_within_the_failure_ttl(remote_api, fake_anilist):
    fake_anilist[0].down = True
    autocomplete(remote_api, "bebop")
    autocomplete(remote_api, "bebop")
    assert graphql_calls(fake_anilist[0]) == 1


def test_an_unreachable_anilist_is_reported_not_raised(app_factory, sleeps, fake_mangadex):
    app = app_factory(**remote_config(closed_url(), fake_mangadex[1], sleeps))
    api = api_client_for(app, "alice")
    body = autocomplete(api, "bebop")
    assert body["sources"]["anilist"] == "unavailable"
    sources = {s["name"]: s["state"] for s in api.get("/api/sources/").get_json()["sources"]}
    assert sources == {"local": "ok", "anilist": "unavailable", "mangadex": "not_asked"}


def test_the_shared_budget_is_never_exceeded(app_factory, sleeps, fake_anilist, fake_mangadex):
    config = remote_config(fake_anilist[1], fake_mangadex[1], sleeps, ANILIST_RATE_PER_MINUTE=2)
    app = app_factory(**config)
    api = api_client_for(app, "alice")
    states = [autocomplete(api, q)["sources"]["anilist"] for q in ("aa", "bb", "cc", "dd")]
    assert states == ["ok", "ok", "rate_limited", "rate_limited"]
    assert graphql_calls(fake_anilist[0]) == 2


# --- totals and refresh ----------------------------------------------------------------------


def test_max_by_anilist_id_is_fetched_once_then_local(remote_api, fake_anilist):
    first = remote_api.get("/api/sources/max?anilist_id=154587").get_json()
    second = remote_api.get("/api/sources/max?anilist_id=154587").get_json()
    assert first["max"] == second["max"] == 28
    assert first["title"] == "Sousou no Frieren"
    assert graphql_calls(fake_anilist[0]) == 1


def test_max_by_title(remote_api):
    body = remote_api.get("/api/sources/max?q=cowboy bebop&type=anime").get_json()
    assert (body["anilist_id"], body["max"]) == (1, 26)


def test_max_is_null_for_a_title_still_airing(remote_api):
    assert remote_api.get("/api/sources/max?anilist_id=21").get_json()["max"] is None


def test_max_of_an_unknown_id_is_404(remote_api):
    response = remote_api.get("/api/sources/max?anilist_id=999999")
    assert response.status_code == 404


def test_max_needs_a_query_or_an_id(remote_api):
    assert remote_api.get("/api/sources/max").status_code == 422


def test_max_while_anilist_is_down_says_so(remote_api, fake_anilist):
    fake_anilist[0].down = True
    response = remote_api.get("/api/sources/max?anilist_id=154587")
    assert response.status_code == 200
    assert response.get_json()["max"] is None
    assert response.get_json()["sources"] == {"anilist": "unavailable"}


def test_refresh_reads_the_items_metadata_again(remote_api, fake_anilist):
    item = remote_api.add(title="Frieren", source="anilist", anilist_id=154587)
    assert item["max_progress"] is None  # a stub: nothing fetched yet
    body = remote_api.post(f"/api/library/items/{item['id']}/refresh").get_json()
    assert body["sources"] == {"anilist": "ok"}
    assert body["item"]["max_progress"] == 28
    assert body["item"]["cover_url"].endswith("bx154587.jpg")


def test_refresh_while_anilist_is_down_keeps_the_item(remote_api, fake_anilist):
    item = remote_api.add(title="Frieren", source="anilist", anilist_id=154587)
    fake_anilist[0].down = True
    response = remote_api.post(f"/api/library/items/{item['id']}/refresh")
    assert response.status_code == 200
    assert response.get_json()["sources"] == {"anilist": "unavailable"}
    assert response.get_json()["item"]["title"] == "Frieren"


def test_refresh_of_a_manual_item_is_a_conflict_with_its_state(remote_api):
    item = remote_api.add(title="My own thing")
    response = remote_api.post(f"/api/library/items/{item['id']}/refresh")
    assert response.status_code == 409
    assert "source" in response.get_json()["error"]["fields"]


def test_refresh_of_another_users_item_is_404(remote_app, remote_api):
    item = remote_api.add(title="Frieren", source="anilist", anilist_id=154587)
    other = api_client_for(remote_app, "mallory")
    assert other.post(f"/api/library/items/{item['id']}/refresh").status_code == 404


def test_two_anilist_titles_with_the_same_name_both_stay(remote_app, remote_api):
    seed_local(remote_app, ["Hellsing", "Hellsing"])  # the TV series and its remake
    body = autocomplete(remote_api, "hellsing")
    assert len([r for r in body["results"] if r["title"] == "Hellsing"]) == 2
