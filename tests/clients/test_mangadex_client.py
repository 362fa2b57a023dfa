"""MangaDexClient against the fake MangaDex over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeClock, Sleeps, closed_url
from tests.fakes.mangadex import FakeMangaDex
from tracker.clients import (
    BadResponse,
    MangaDexClient,
    MemoryBudget,
    NotFound,
    RateLimited,
    Unavailable,
)

Fake = tuple[FakeMangaDex, str]


def client_for(url: str, sleeps: Sleeps, **options: Any) -> MangaDexClient:
    options.setdefault("budget", MemoryBudget(6000))
    return MangaDexClient(url, sleep=sleeps, **options)


def test_search_returns_normalised_manga(mangadex: MangaDexClient, fake_mangadex: Fake) -> None:
    (frieren,) = mangadex.search_manga("frieren")

    manga = fake_mangadex[0].manga[0]
    cover_file = manga["relationships"][1]["attributes"]["fileName"]
    assert frieren["source"] == "mangadex"
    assert frieren["external_id"] == manga["id"]
    assert frieren["type"] == "manga"
    assert frieren["titles"] == {
        "romaji": "Sousou no Frieren",
        "english": "Frieren: Beyond Journey's End",
        "native": "葬送のフリーレン",
    }
    assert frieren["synonyms"] == ["장송의 프리렌"]
    assert frieren["anilist_id"] == 118586
    assert frieren["mal_id"] == 126287
    assert frieren["status"] == "releasing"
    assert frieren["year"] == 2020
    assert frieren["chapters"] is None  # lastChapter is "" while it runs
    assert frieren["cover_url"] == (
        f"https://covers.test/covers/{manga['id']}/{cover_file}.256.jpg"
    )
    assert frieren["site_url"].endswith(f"/title/{manga['id']}")


def test_search_finds_alternative_titles(mangadex: MangaDexClient) -> None:
    (berserk,) = mangadex.search_manga("ベルセルク")

    assert berserk["titles"]["english"] == "Berserk"
    assert berserk["titles"]["romaji"] == "Beruseruku"
    assert berserk["chapters"] == 375
    assert berserk["volumes"] == 42
    assert berserk["status"] == "hiatus"


def test_a_chapter_count_that_is_not_a_whole_number_is_unknown(mangadex: MangaDexClient) -> None:
    (manga,) = mangadex.search_manga("日本語")

    assert manga["chapters"] is None  # "12.5"
    assert manga["volumes"] == 2
    assert manga["status"] == "finished"
    assert manga["titles"] == {"romaji": None, "english": None, "native": "日本語タイトル"}


def test_a_title_in_another_language_only_still_names_the_result(
    mangadex: MangaDexClient, fake_mangadex: Fake
) -> None:
    fake_mangadex[0].add_manga("나 혼자만 레벨업", lang="ko", cover_file=None)

    (manga,) = mangadex.search_manga("레벨업")

    assert manga["titles"]["romaji"] == "나 혼자만 레벨업"
    assert manga["cover_url"] is None


def test_search_sends_a_user_agent_and_asks_for_covers(
    mangadex: MangaDexClient, fake_mangadex: Fake
) -> None:
    mangadex.search_manga("berserk", limit=500)

    operation, params, headers = fake_mangadex[0].requests[-1]
    assert operation == "GET /manga"
    assert params["title"] == ["berserk"]
    assert params["limit"] == ["100"]  # MangaDex refuses more
    assert params["includes[]"] == ["cover_art"]
    assert params["contentRating[]"] == ["safe", "suggestive"]
    assert headers["User-Agent"] == "Tracker/0.1 (+self-hosted)"


def test_adult_titles_are_left_out(mangadex: MangaDexClient, fake_mangadex: Fake) -> None:
    fake_mangadex[0].add_manga("Berserk of Gluttony", content_rating="erotica")

    assert [m["titles"]["english"] for m in mangadex.search_manga("berserk")] == ["Berserk"]


def test_rate_limit_answer_raises_and_closes_the_budget(
    fake_mangadex: Fake, sleeps: Sleeps, clock: FakeClock
) -> None:
    fake, url = fake_mangadex
    fake.fail_next(429)  # X-RateLimit-Retry-After: now + 30, as a unix time
    budget = MemoryBudget(6000, clock=clock)

    with pytest.raises(RateLimited) as caught:
        client_for(url, sleeps, budget=budget).search_manga("berserk")

    assert 25 <= caught.value.retry_after <= 31
    assert caught.value.source == "MangaDex"
    assert budget.seconds_until_free() == pytest.approx(caught.value.retry_after)
    assert len(fake.requests) == 1


def test_server_errors_are_retried_then_unavailable(fake_mangadex: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_mangadex
    fake.fail_next(503, times=3)

    with pytest.raises(Unavailable) as caught:
        client_for(url, sleeps, retries=2).search_manga("berserk")

    assert caught.value.message == "MangaDex unreachable"
    assert len(fake.requests) == 3 and len(sleeps) == 2


def test_a_server_error_then_success_returns_results(fake_mangadex: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_mangadex
    fake.fail_next(500)

    assert client_for(url, sleeps).search_manga("berserk")
    assert len(fake.requests) == 2


def test_a_refused_connection_is_unavailable(sleeps: Sleeps) -> None:
    with pytest.raises(Unavailable):
        client_for(closed_url(), sleeps, retries=1).search_manga("berserk")
    assert len(sleeps) == 1


def test_a_timeout_is_unavailable(fake_mangadex: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_mangadex
    fake.delay = 5

    with pytest.raises(Unavailable) as caught:
        client_for(url, sleeps, timeout=(1, 0.05), retries=0).search_manga("berserk")
    assert caught.value.detail == "timed out"


def test_interactive_search_makes_one_attempt(fake_mangadex: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_mangadex
    fake.down = True

    with pytest.raises(Unavailable):
        client_for(url, sleeps, retries=3).search_manga("berserk", interactive=True)
    assert len(fake.requests) == 1 and sleeps == []


def test_a_spent_budget_raises_without_sending(
    fake_mangadex: Fake, sleeps: Sleeps, clock: FakeClock
) -> None:
    fake, url = fake_mangadex
    client = client_for(url, sleeps, budget=MemoryBudget(300, burst=5, clock=clock))

    for _ in range(5):
        client.search_manga("berserk", interactive=True)
    with pytest.raises(RateLimited):
        client.search_manga("berserk", interactive=True)
    assert len(fake.requests) == 5


def test_the_default_budget_is_five_per_second() -> None:
    budget = MangaDexClient("http://mangadex.test").transport.budget

    assert isinstance(budget, MemoryBudget)
    assert (budget.rate, budget.burst) == (5, 5)


def test_a_non_json_answer_is_a_bad_response(fake_mangadex: Fake, sleeps: Sleeps) -> None:
    fake, url = fake_mangadex
    fake.non_json = True

    with pytest.raises(BadResponse):
        client_for(url, sleeps).search_manga("berserk")
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"result": "error", "errors": []},
        {"result": "ok", "data": [{"id": "x"}]},
        {"result": "ok"},
    ],
    ids=["error result", "manga without attributes", "no data"],
)
def test_unexpected_answers_are_a_bad_response(
    fake_mangadex: Fake, sleeps: Sleeps, body: dict[str, Any]
) -> None:
    fake, url = fake_mangadex
    fake.fail_next(200, body=body)

    with pytest.raises(BadResponse):
        client_for(url, sleeps).search_manga("berserk")


def test_a_refused_request_is_a_bad_response_with_mangadex_detail(
    fake_mangadex: Fake, sleeps: Sleeps
) -> None:
    fake, url = fake_mangadex
    fake.fail_next(400)

    with pytest.raises(BadResponse) as caught:
        client_for(url, sleeps).search_manga("berserk")
    assert caught.value.detail == "Injected by the fake"
    assert len(fake.requests) == 1


def test_a_missing_endpoint_is_not_found(fake_mangadex: Fake, sleeps: Sleeps) -> None:
    with pytest.raises(NotFound):
        client_for(fake_mangadex[1] + "/v9", sleeps).search_manga("berserk")
