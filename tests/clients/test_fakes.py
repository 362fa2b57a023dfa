"""The fakes answer like the real services, so tests built on them mean something."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import need_shared
from tests.fakes.anilist import FakeAniList, FakeUser

Fake = tuple[FakeAniList, str]
Viewer = tuple[FakeUser, str]

# The fields the recorded SaveMediaListEntry answer selected.
SAVE_LIKE_SAMPLE = """
mutation ($mediaId: Int) {
  SaveMediaListEntry(mediaId: $mediaId, status: CURRENT, progress: 3) {
    id status score progress priority notes userId updatedAt progressVolumes repeat private
    startedAt { year month day } completedAt { year month day } media { id }
  }
}
"""

SEARCH_LIKE_SAMPLE = """
query {
  Page(page: 1, perPage: 10) {
    pageInfo { total perPage currentPage lastPage hasNextPage }
    media(search: "bebop") {
      id type format status season seasonYear startDate { year month day }
      coverImage { extraLarge large medium color } title { romaji english native }
    }
  }
}
"""


def sample(name: str) -> Any:
    return json.loads(need_shared(f"anilist/samples/{name}").read_text())


def keys(value: Any) -> Any:
    """The nesting of a JSON value without its data: what "same shape" compares."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return None


def post(url: str, query: str, variables: dict | None = None, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=5
    )


def test_save_answer_has_the_recorded_shape(fake_anilist: Fake, viewer: Viewer) -> None:
    recorded = sample("save_media_list_entry.json")

    answer = post(fake_anilist[1], SAVE_LIKE_SAMPLE, {"mediaId": 1}, token=viewer[1])

    assert answer.status_code == 200
    assert keys(answer.json()) == keys(recorded)


def test_search_answer_has_the_recorded_shape(fake_anilist: Fake) -> None:
    recorded = sample("search_media_page.json")

    answer = post(fake_anilist[1], SEARCH_LIKE_SAMPLE)

    assert keys(answer.json()) == keys(recorded)


def test_not_found_has_the_recorded_shape(fake_anilist: Fake) -> None:
    recorded = sample("error_404_not_found.json")

    answer = post(fake_anilist[1], "query ($id: Int) {\n  Media(id: $id) { id }\n}", {"id": 0})

    assert answer.status_code == recorded["http_status"]
    assert keys(answer.json()) == keys(recorded["body"])
    assert answer.json()["errors"][0]["message"] == "Not Found."
    assert answer.json()["errors"][0]["locations"] == [{"line": 2, "column": 3}]


def test_injected_rate_limit_matches_the_recording(fake_anilist: Fake) -> None:
    recorded = sample("error_429_rate_limit.json")["rate_limited"]
    fake, url = fake_anilist
    fake.fail_next(429)

    answer = post(url, "{ Viewer { id } }")

    assert answer.status_code == 429
    assert answer.json() == recorded["body"]
    assert answer.headers["Retry-After"] == recorded["headers"]["Retry-After"]


def test_an_injected_failure_lasts_the_given_number_of_requests(fake_anilist: Fake) -> None:
    fake, url = fake_anilist
    fake.fail_next(500, times=2)

    statuses = [post(url, "{ Media(id: 1) { id } }").status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert fake.operations == ["Media", "Media", "Media"]


def test_aliases_and_fragments_are_answered(fake_anilist: Fake) -> None:
    query = """
    query { first: Media(id: 1) { ...F } second: Media(id: 5) { ... on Media { id } } }
    fragment F on Media { id title { romaji } }
    """

    data = post(fake_anilist[1], query).json()["data"]

    assert data == {"first": {"id": 1, "title": {"romaji": "Cowboy Bebop"}}, "second": {"id": 5}}


def test_pages_say_whether_more_follow(fake_anilist: Fake) -> None:
    fake, url = fake_anilist
    fake.add_media(3)
    query = """query ($page: Int) { Page(page: $page, perPage: 2) {
        pageInfo { hasNextPage } media(search: "generated") { id } } }"""

    pages = [post(url, query, {"page": n}).json()["data"]["Page"] for n in (1, 2)]

    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, False]
    assert [len(p["media"]) for p in pages] == [2, 1]


def test_an_unknown_field_is_a_400(fake_anilist: Fake) -> None:
    answer = post(fake_anilist[1], "{ Studio(id: 1) { id } }")

    assert answer.status_code == 400
    assert "Studio" in answer.json()["errors"][0]["message"]


# --- OAuth ---------------------------------------------------------------------------------


def exchange(fake: FakeAniList, url: str, **overrides: str) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "redirect_uri": fake.redirect_uri,
        **overrides,
    }
    return requests.post(f"{url}/api/v2/oauth/token", data=form, timeout=5)


def test_a_code_is_exchanged_for_a_working_token(fake_anilist: Fake) -> None:
    fake, url = fake_anilist
    user = fake.add_user("kenji")

    answer = exchange(fake, url, code=fake.issue_code(user.id))

    assert answer.status_code == 200
    token = answer.json()["access_token"]
    assert answer.json()["token_type"] == "Bearer"
    assert post(url, "{ Viewer { id name } }", token=token).json()["data"]["Viewer"] == {
        "id": user.id,
        "name": "kenji",
    }
    assert fake.requests[0][0] == "oauth/token"


def test_a_code_works_only_once(fake_anilist: Fake) -> None:
    fake, url = fake_anilist
    code = fake.issue_code(fake.add_user().id)
    exchange(fake, url, code=code)

    again = exchange(fake, url, code=code)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("override", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "wrong"}, 401, "invalid_client"),
        ({"redirect_uri": "http://evil.test/cb"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"code": "never-issued"}, 400, "invalid_grant"),
    ],
)
def test_a_bad_token_request_is_refused(
    fake_anilist: Fake, override: dict[str, str], status: int, error: str
) -> None:
    fake, url = fake_anilist
    form = {"code": fake.issue_code(fake.add_user().id), **override}

    answer = exchange(fake, url, **form)

    assert (answer.status_code, answer.json()["error"]) == (status, error)


def test_authorize_redirects_back_with_a_code_and_the_state(fake_anilist: Fake) -> None:
    fake, url = fake_anilist
    user = fake.add_user()
    fake.authorize_as = user.id
    params = {"client_id": fake.client_id, "response_type": "code", "state": "xyz"}

    answer = requests.get(
        f"{url}/api/v2/oauth/authorize", params=params, allow_redirects=False, timeout=5
    )

    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == fake.redirect_uri
    assert query["state"] == ["xyz"]
    assert fake.codes[query["code"][0]] == user.id
