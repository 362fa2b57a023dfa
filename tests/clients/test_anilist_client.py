"""AniListClient against the fake AniList over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.conftest import need_shared
from tests.fakes import FakeClock, Sleeps, closed_url
from tests.fakes.anilist import FakeAniList, FakeUser
from tracker.clients import (
    AniListClient,
    BadResponse,
    MemoryBudget,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    fuzzy_to_iso,
    iso_to_fuzzy,
)
from tracker.clients.anilist import normalise_entry, normalise_media
from tracker.clients.transport import retry_after_from

Fake = tuple[FakeAniList, str]
Viewer = tuple[FakeUser, str]


def client_for(url: str, sleeps: Sleeps, **options: Any) -> AniListClient:
    options.setdefault("budget", MemoryBudget(6000))
    return AniListClient(url, sleep=sleeps, **options)


def sample(name: str) -> Any:
    return json.loads(need_shared(f"anilist/samples/{name}").read_text())


# --- happy paths ---------------------------------------------------------------------


def test_search_returns_normalised_media(anilist: AniListClient) -> None:
    results = anilist.search_media("cowboy bebop", "anime")

    assert [m["anilist_id"] for m in results] == [1, 5]
    bebop = results[0]
    assert bebop["source"] == "anilist"
    assert bebop["external_id"] == "1"
    assert bebop["mal_id"] == 1
    assert bebop["type"] == "anime"
    assert bebop["titles"] == {
        "romaji": "Cowboy Bebop",
        "english": "Cowboy Bebop",
        "native": "カウボーイビバップ",
    }
    assert bebop["episodes"] == 26
    assert bebop["status"] == "finished"
    assert bebop["format"] == "TV"
    assert bebop["year"] == 1998
    assert bebop["site_url"] == "https://anilist.co/anime/1"
    assert bebop["cover_url"].startswith("https://")


def test_search_filters_by_media_type(anilist: AniListClient) -> None:
    results = anilist.search_media("frieren", "manga")

    assert [(m["anilist_id"], m["type"]) for m in results] == [(118586, "manga")]
    assert results[0]["year"] == 2020  # manga have no season: the start date gives the year


def test_search_without_a_type_finds_both_kinds(anilist: AniListClient) -> None:
    types = {m["type"] for m in anilist.search_media("frieren")}

    assert types == {"anime", "manga"}


def test_search_finds_japanese_titles(anilist: AniListClient) -> None:
    results = anilist.search_media("日本語タイトル")

    assert results[0]["titles"]["native"] == "日本語タイトル"
    assert results[0]["titles"]["english"] is None


def test_search_sends_json_with_the_expected_headers(
    anilist: AniListClient, fake_anilist: Fake
) -> None:
    anilist.search_media("bebop", "anime", per_page=500)

    operation, variables, headers = fake_anilist[0].requests[-1]
    assert operation == "Page"
    assert variables == {"search": "bebop", "type": "ANIME", "page": 1, "perPage": 50}
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("Tracker/")
    assert "Authorization" not in headers


def test_search_rejects_an_unknown_media_type(anilist: AniListClient, fake_anilist: Fake) -> None:
    with pytest.raises(ValueError):
        anilist.search_media("bebop", "novel")
    assert fake_anilist[0].requests == []


def test_releasing_media_carry_the_next_episode(anilist: AniListClient) -> None:
    (one_piece,) = anilist.search_media("one piece", "anime")

    assert one_piece["status"] == "releasing"
    assert one_piece["episodes"] is None
    assert one_piece["next_airing_episode"] == 1100
    assert isinstance(one_piece["next_airing_at"], int)


def test_media_by_ids_fetches_a_batch_in_one_request(
    anilist: AniListClient, fake_anilist: Fake
) -> None:
    fake = fake_anilist[0]
    generated = fake.add_media(48, type="manga")
    ids = [1, 999_999, 1] + [m["id"] for m in generated]

    results = anilist.media_by_ids(ids)

    assert len(fake.requests) == 1
    assert fake.requests[0][1]["ids"][:2] == [1, 999_999]  # duplicates collapsed
    assert {m["anilist_id"] for m in results} == {1, *(m["id"] for m in generated)}
    assert results[-1]["chapters"] == generated[-1]["chapters"]


def test_media_by_ids_refuses_more_than_fifty(anilist: AniListClient) -> None:
    with pytest.raises(ValueError):
        anilist.media_by_ids(range(1, 52))


def test_media_by_ids_of_nothing_sends_nothing(anilist: AniListClient, fake_anilist: Fake) -> None:
    assert anilist.media_by_ids([]) == []
    assert fake_anilist[0].requests == []


def test_media_by_id_returns_one_title(anilist: AniListClient) -> None:
    assert anilist.media(154587)["titles"]["romaji"] == "Sousou no Frieren"


def test_an_unknown_media_id_is_not_found(anilist: AniListClient) -> None:
    with pytest.raises(NotFound) as caught:
        anilist.media(0)
    assert caught.value.status == 404


def test_viewer_tells_who_the_token_belongs_to(
    anilist: AniListClient, viewer: Viewer, fake_anilist: Fake
) -> None:
    user, token = viewer

    assert anilist.with_token(token).viewer() == {
        "id": user.id,
        "name": "ayaka",
        "score_format": "POINT_10",
        "title_language": "ROMAJI",
    }
    assert fake_anilist[0].requests[-1][2]["Authorization"] == f"Bearer {token}"


def test_with_token_shares_the_session_and_budget(anilist: AniListClient) -> None:
    other = anilist.with_token("abc")

    assert other.token == "abc" and anilist.token is None
    assert other.transport is anilist.transport


# --- the user's list -------------------------------------------------------------------


def test_list_entries_appear_once_including_custom_list_only_ones(
    anilist: AniListClient, fake_anilist: Fake, viewer: Viewer
) -> None:
    fake = fake_anilist[0]
    user, token = viewer
    in_both = fake.add_entry(user.id, 1, status="COMPLETED", custom_lists={"Favourites"})
    hidden = fake.add_entry(
        user.id, 5, status="PLANNING", hidden_from_status_lists=True, custom_lists={"Favourites"}
    )
    plain = fake.add_entry(user.id, 154587, status="CURRENT", progress=7)
    fake.add_entry(user.id, 118586, status="CURRENT")  # manga: another collection

    chunk = anilist.with_token(token).media_list_collection(user.id, "anime")

    assert [e["entry_id"] for e in chunk["entries"]] == [in_both.id, plain.id, hidden.id]
    assert chunk["has_next_chunk"] is False
    by_id = {e["entry_id"]: e for e in chunk["entries"]}
    assert by_id[in_both.id]["custom_lists"] == ["Favourites"]
    assert by_id[hidden.id]["hidden_from_status_lists"] is True
    assert by_id[plain.id]["progress"] == 7
    assert by_id[plain.id]["media"]["titles"]["romaji"] == "Sousou no Frieren"


def test_list_scores_are_read_on_the_100_point_scale(
    anilist: AniListClient, fake_anilist: Fake, viewer: Viewer
) -> None:
    fake = fake_anilist[0]
    user, token = viewer  # the user's own format is POINT_10
    fake.add_entry(user.id, 1, status="COMPLETED", score=85)

    (entry,) = anilist.with_token(token).media_list_collection(user.id, "anime")["entries"]

    assert entry["score"] == 85


def test_list_keeps_partial_dates_and_timestamps(
    anilist: AniListClient, fake_anilist: Fake, viewer: Viewer
) -> None:
    fake = fake_anilist[0]
    user, token = viewer
    entry = fake.add_entry(
        user.id,
        1,
        started_at={"year": 2024, "month": 5, "day": None},
        completed_at={"year": 2024, "month": None, "day": None},
    )

    (got,) = anilist.with_token(token).media_list_collection(user.id, "anime")["entries"]

    assert got["started_at"] == "2024-05"
    assert got["completed_at"] == "2024"
    assert got["updated_at"] == entry.updated_at
    assert got["created_at"] == entry.created_at


def test_private_entries_come_back_only_with_the_owners_token(
    anilist: AniListClient, fake_anilist: Fake, viewer: Viewer
) -> None:
    fake = fake_anilist[0]
    user, token = viewer
    fake.add_entry(user.id, 1, private=True)

    assert anilist.media_list_collection(user.id, "anime")["entries"] == []
    (entry,) = anilist.with_token(token).media_list_collection(user.id, "anime")["entries"]
    assert entry["private"] is True


def test_the_list_comes_in_chunks(
    anilist: AniListClient, fake_anilist: Fake, viewer: Viewer
) -> None:
    fake = fake_anilist[0]
    user, token = viewer
    for media in fake.add_media(5):
        fake.add_entry(user.id, media["id"], custom_lists={"Rewatch"})
    client = anilist.with_token(token)

    chunks = [
        client.media_list_collection(user.id, "anime", chunk=n, per_chunk=2) for n in (1, 2, 3)
    ]

    assert [c["has_next_chunk"] for c in chunks] == [True, True, False]
    ids = [e["entry_id"] for c in chunks for e in c["entries"]]
    assert len(ids) == len(set(ids)) == 5
    assert fake.requests[0][1] == {"userId": user.id, "type": "ANIME", "chunk": 1, "perChunk": 2}


def test_save_creates_an_entry_sending_only_the_given_fields(
    anilist: AniListClient, fake_anilist: Fake, viewer: Viewer
) -> None:
    fake = fake_anilist[0]
    user, token = viewer

    saved = anilist.with_token(token).save_entry(
        media_id=154587, status="current", progress=3, score_raw=70, started_at="2024-05"
    )

    operation, variables, _ = fake.requests[-1]
    assert operation == "SaveMediaListEntry"
    assert variables == {
        "mediaId": 154587,
        "status": "CURRENT",
        "progress": 3,
        "scoreRaw": 70,
        "startedAt": {"year": 2024, "month": 5, "day": None},
    }
    stored = fake.entries[saved["entry_id"]]
    assert (stored.user_id, stored.media_id, stored.status) == (user.id, 154587, "CURRENT")
    assert saved["media_id"] == 154587
    assert saved["status"] == "current"
    assert saved["score"] == 70
    assert saved["started_at"] == "2024-05"
    assert saved["updated_at"] == stored.updated_at


def test_save_by_entry_id_updates_and_moves_updated_at(
    anilist: AniListClient, fake_anilist: Fake, viewer: Viewer
) -> None:
    fake = fake_anilist[0]
    user, token = viewer
    entry = fake.add_entry(user.id, 1, progress=3, notes="great")
    before = entry.updated_at

    saved = anilist.with_token(token).save_entry(entry_id=entry.id, progress=4)

    assert saved["entry_id"] == entry.id
    assert saved["progress"] == 4
    assert saved["notes"] == "great"  # not sent, so untouched
    assert saved["updated_at"] > before


def test_save_with_none_clears_notes_and_dates(
    anilist: AniListClient, fake_anilist: Fake, viewer: Viewer
) -> None:
    fake = fake_anilist[0]
    user, token = viewer
    entry = fake.add_entry(user.id, 1, notes="old", started_at={"year": 2020, "month": 1, "day": 2})

    saved = anilist.with_token(token).save_entry(entry_id=entry.id, notes=None, started_at=None)

    variables = fake.requests[-1][1]
    assert variables["notes"] == ""
    assert variables["startedAt"] == {"year": None, "month": None, "day": None}
    assert saved["notes"] is None
    assert saved["started_at"] is None
    assert fake.entries[entry.id].started_at == {"year": None, "month": None, "day": None}


@pytest.mark.parametrize("when", ["2024", "2024-05", "2024-05-17"])
def test_partial_dates_round_trip_through_anilist(
    anilist: AniListClient, viewer: Viewer, when: str
) -> None:
    user, token = viewer
    client = anilist.with_token(token)

    saved = client.save_entry(media_id=1, completed_at=when)
    (listed,) = client.media_list_collection(user.id, "anime")["entries"]

    assert saved["completed_at"] == when
    assert listed["completed_at"] == when


def test_save_needs_an_entry_or_a_media_id(anilist: AniListClient, fake_anilist: Fake) -> None:
    with pytest.raises(ValueError):
        anilist.save_entry(progress=1)
    with pytest.raises(ValueError):
        anilist.save_entry(media_id=1, status="watching")
    assert fake_anilist[0].requests == []


def test_delete_removes_the_entry(
    anilist: AniListClient, fake_anilist: Fake, viewer: Viewer
) -> None:
    fake = fake_anilist[0]
    user, token = viewer
    entry = fake.add_entry(user.id, 1)

    assert anilist.with_token(token).delete_entry(entry.id) is True

    assert entry.id not in fake.entries
    assert fake.requests[-1][:2] == ("DeleteMediaListEntry", {"id": entry.id})


def test_deleting_someone_elses_entry_is_not_found(
    anilist: AniListClient, fake_anilist: Fake, viewer: Viewer
) -> None:
    fake = fake_anilist[0]
    other = fake.add_user("someone-else")
    entry = fake.add_entry(other.id, 1)

    with pytest.raises(NotFound):
        anilist.with_token(viewer[1]).delete_entry(entry.id)
    assert entry.id in fake.entries


# --- failures ----------------------------------------------------------------------------


def test_rate_limit_answer_raises_with_retry_after_and_closes_the_budget(
    fake_anilist: Fake, sleeps: Sleeps, clock: FakeClock
) -> None:
    fake, url = fake_anilist
    recorded = sample("error_429_rate_limit.json")["rate_limited"]
    fake.fail_next(
        429, body=recorded["body"], headers={"Retry-After": recorded["headers"]["Retry-After"]}
    )
    budget = MemoryBudget(6000, clock=clock)
    client = client_for(url, sleeps, budget=budget)

    with pytest.raises(RateLimited) as caught:
        client.search_media("bebop")

    assert caught.value.retry_after == 60
    assert caught.value.message == "AniList rate limit reached; try again in 60 s"
    assert len(fake.requests) == 1 and sleeps == []  # never retried in-line
    assert budget.seconds_until_free() == pytest.approx(60)
    with pytest.raises(RateLimited):
        client.search_media("bebop", interactive=True)
    assert len(fake.requests) == 1  # the penalty holds back every later call


def test_a_spent_budget_raises_without_sending_anything(
    fake_anilist: Fake, sleeps: Sleeps, clock: FakeClock
) -> None:
    fake, url = fake_anilist
    client = client_for(url, sleeps, budget=MemoryBudget(30, burst=1, clock=clock))
    client.search_media("bebop", interactive=True)

    with pytest.raises(RateLimited) as caught:
        client.search_media("bebop", interactive=True)

    assert caught.value.retry_after == pytest.approx(2.0)
    assert len(fake.requests) == 1


def test_background_calls_wait_for_the_budget_briefly(
    fake_anilist: Fake, sleeps: Sleeps, clock: FakeClock
) -> None:
    fake, url = fake_anilist
    budget = MemoryBudget(30, burst=1, clock=clock, sleep=clock.sleep)
    client = client_for(url, sleeps, budget=budget)

    client.search_media("bebop")
    client.search_media("bebop")

    assert clock.slept == [pytest.approx(2.0)]
    assert len(fake.requests) == 2


def test_background_calls_do_not_wait_out_a_long_penalty(
    fake_anilist: Fake, sleeps: Sleeps, clock: FakeClock
) -> None:
    fake, url = fake_anilist
    budget = MemoryBudget(30, clock=clock, sleep=clock.sleep)
    budget.penalise(60)
    client = client_for(url, sleeps, budget=budget, budget_wait=10)

    with pytest.raises(RateLimited) as caught:
        client.search_media("bebop")

    assert caught.value.retry_after == pytest.approx(60)
    assert clock.slept == [] and fake.requests == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_with_backoff_then_unavailable(
    fake_anilist: Fake, sleeps: Sleeps, status: int
) -> None:
    fake, url = fake_anilist
    fake.fail_next(status, times=3)
    client = client_for(url, sleeps, retries=2, backoff_base=0.5)

    with pytest.raises(Unavailable) as caught:
        client.search_media("bebop")

    assert caught.value.status == status
    assert caught.value.message == "AniList unreachable"
    assert len(fake.requests) == 3
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # exponential, jittered


def test_a_server_error_then_success_returns_the_answer(fake_anilist: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_anilist
    fake.fail_next(502)

    results = client_for(url, sleeps).search_media("bebop")

    assert results[0]["anilist_id"] == 1
    assert len(fake.requests) == 2 and len(sleeps) == 1


def test_a_service_that_is_down_is_unavailable(fake_anilist: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_anilist
    fake.down = True

    with pytest.raises(Unavailable):
        client_for(url, sleeps, retries=1).search_media("bebop")
    assert len(fake.requests) == 2


def test_a_refused_connection_is_retried_then_unavailable(sleeps: Sleeps) -> None:
    client = client_for(closed_url(), sleeps, retries=2)

    with pytest.raises(Unavailable) as caught:
        client.search_media("bebop")

    assert caught.value.detail == "connection failed"
    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    assert len(sleeps) == 2


def test_a_timeout_is_unavailable(fake_anilist: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_anilist
    fake.delay = 5  # cut short when the fake stops
    client = client_for(url, sleeps, timeout=(1, 0.05), retries=1)

    with pytest.raises(Unavailable) as caught:
        client.search_media("bebop")

    assert caught.value.detail == "timed out"
    assert fake.wait_for_requests(2)  # both attempts reached the server
    assert len(fake.requests) == 2


def test_interactive_calls_make_exactly_one_attempt(fake_anilist: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_anilist
    fake.fail_next(500, times=5)

    with pytest.raises(Unavailable):
        client_for(url, sleeps, retries=5).search_media("bebop", interactive=True)

    assert len(fake.requests) == 1
    assert sleeps == []


def test_interactive_calls_use_the_short_timeout(fake_anilist: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_anilist
    fake.delay = 5
    client = client_for(url, sleeps, timeout=(1, 30), interactive_timeout=(1, 0.05))

    with pytest.raises(Unavailable) as caught:
        client.search_media("bebop", interactive=True)

    assert caught.value.detail == "timed out"


def test_a_revoked_token_is_unauthorized_and_never_retried(
    fake_anilist: Fake, sleeps: Sleeps, viewer: Viewer
) -> None:
    fake, url = fake_anilist
    token = viewer[1]
    fake.revoke(token)
    client = client_for(url, sleeps, token=token, retries=5)

    with pytest.raises(Unauthorized) as caught:
        client.viewer()

    assert caught.value.status == 400
    assert caught.value.detail == "Invalid token"
    assert caught.value.message == "AniList authorisation expired; connect again"
    assert len(fake.requests) == 1 and sleeps == []


def test_invalid_token_on_a_public_query_is_unauthorized_too(
    fake_anilist: Fake, sleeps: Sleeps
) -> None:
    with pytest.raises(Unauthorized):
        client_for(fake_anilist[1], sleeps, token="not-a-token").search_media("bebop")


def test_no_token_where_one_is_needed_is_unauthorized(anilist: AniListClient) -> None:
    with pytest.raises(Unauthorized) as caught:
        anilist.viewer()
    assert caught.value.status == 401


def test_api_disabled_is_unavailable_without_retries(fake_anilist: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_anilist
    fake.fail_next(403)

    with pytest.raises(Unavailable) as caught:
        client_for(url, sleeps).search_media("bebop")

    assert caught.value.status == 403
    assert len(fake.requests) == 1


def test_a_non_json_answer_is_a_bad_response(fake_anilist: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_anilist
    fake.non_json = True

    with pytest.raises(BadResponse):
        client_for(url, sleeps).search_media("bebop")
    assert len(fake.requests) == 1


def test_errors_inside_a_200_are_a_bad_response(fake_anilist: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_anilist
    fake.errors_in_200 = "Something broke"

    with pytest.raises(BadResponse) as caught:
        client_for(url, sleeps).search_media("bebop")

    assert caught.value.detail == "Something broke"
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "body",
    [{"data": None}, {"data": {"Page": None}}, {"data": {"Page": {"media": [{"id": 1}]}}}, []],
    ids=["no data", "no Page", "media without type", "not an object"],
)
def test_answers_missing_what_was_asked_are_a_bad_response(
    fake_anilist: Fake, sleeps: Sleeps, body: Any
) -> None:
    fake, url = fake_anilist
    fake.fail_next(200, body=body)

    with pytest.raises(BadResponse):
        client_for(url, sleeps).search_media("bebop")


def test_fields_missing_from_every_object_are_a_bad_response(
    fake_anilist: Fake, sleeps: Sleeps
) -> None:
    fake, url = fake_anilist
    fake.missing_fields = {"id"}

    with pytest.raises(BadResponse):
        client_for(url, sleeps).media(1)


# --- helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fuzzy", "iso"),
    [
        ({"year": 2024, "month": 5, "day": 17}, "2024-05-17"),
        ({"year": 2024, "month": 5, "day": None}, "2024-05"),
        ({"year": 2024, "month": None, "day": None}, "2024"),
        ({"year": None, "month": None, "day": None}, None),
    ],
)
def test_fuzzy_dates_round_trip(fuzzy: dict[str, int | None], iso: str | None) -> None:
    assert fuzzy_to_iso(fuzzy) == iso
    assert iso_to_fuzzy(iso) == fuzzy


def test_a_day_without_a_month_is_dropped() -> None:
    assert fuzzy_to_iso({"year": 2024, "month": None, "day": 17}) == "2024"
    assert fuzzy_to_iso(None) is None


@pytest.mark.parametrize("text", ["24", "2024-13", "2024-02-30", "2024/05/17", "May 2024"])
def test_malformed_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        iso_to_fuzzy(text)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "120"}, 120),
        ({"Retry-After": "Thu, 01 Jan 1970 00:01:40 GMT"}, 90),
        ({"X-RateLimit-Reset": "130"}, 120),
        ({"X-RateLimit-Retry-After": "40"}, 30),
        ({}, 60),
    ],
)
def test_retry_after_is_read_from_any_rate_limit_header(
    headers: dict[str, str], seconds: float
) -> None:
    assert retry_after_from(headers, now=10) == pytest.approx(seconds)


def test_the_recorded_media_answer_normalises() -> None:
    media = normalise_media(sample("media_by_id.json")["data"]["Media"])

    assert media["anilist_id"] == 99426
    assert media["mal_id"] == 35839
    assert media["type"] == "anime"
    assert media["episodes"] == 13
    assert media["year"] == 2018
    assert media["status"] == "finished"
    assert media["titles"]["english"] == "A Place Further Than the Universe"
    assert "Yorimoi" in media["synonyms"]
    assert media["cover_url"].endswith("/cover/medium/bx99426-ti5BL69Ip3kZ.png")
    assert media["next_airing_at"] is None
    assert media["season"] == "winter"
    assert media["genres"] == ["Adventure", "Comedy", "Drama"]
    assert media["synopsis"].startswith("Mari Tamaki is in her second year of high school")
    assert "<" not in media["synopsis"]
    assert media["studios"] == []  # the recording did not ask for them


def test_a_description_loses_its_markup_and_keeps_its_paragraphs() -> None:
    raw = {"id": 1, "type": "ANIME", "studios": {"nodes": [{"name": "Madhouse"}, {}]},
           "description": "A <i>mage</i> &amp; her friends.<br><br>\n(Source: Crunchyroll)",
           "genres": ["Fantasy", None]}  # fmt: skip
    media = normalise_media(raw)
    assert media["synopsis"] == "A mage & her friends.\n\n(Source: Crunchyroll)"
    assert (media["genres"], media["studios"]) == (["Fantasy"], ["Madhouse"])
    assert normalise_media({"id": 1, "type": "MANGA", "description": "  "})["synopsis"] is None


def test_the_recorded_save_answer_normalises() -> None:
    entry = normalise_entry(sample("save_media_list_entry.json")["data"]["SaveMediaListEntry"])

    assert entry["entry_id"] == 467729768
    assert entry["media_id"] == 143598  # from media { id } when mediaId is not selected
    assert entry["status"] == "current"
    assert entry["started_at"] == "2025-04-08"
    assert entry["completed_at"] is None
    assert entry["updated_at"] == 1753848841
    assert entry["media"] is None  # only { id } was selected: not a catalogue record
