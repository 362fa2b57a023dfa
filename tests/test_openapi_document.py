"""What the OpenAPI document promises, checked against the server by hand.

tests/test_openapi_fuzz.py lets schemathesis look for disagreements; these pin the
decisions behind the document one by one.
"""

from __future__ import annotations

import re

import pytest

from tests.test_auth_api import error_of
from tracker.dates import PARTIAL_DATE_PATTERN
from tracker.schemas import WebUrl

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(client):
    return client.get("/api/openapi.json").get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def test_no_operation_hides_behind_a_catch_all_answer(spec):
    for name, operation in operations(spec):
        assert "default" not in operation["responses"], name


def test_every_operation_that_reads_the_caller_documents_401_and_503(spec):
    for name, operation in operations(spec):
        if operation.get("security") == []:
            continue
        assert {"401", "503"} <= set(operation["responses"]), name


def test_every_operation_with_a_path_id_documents_404(spec):
    for name, operation in operations(spec):
        if "{" in name:
            assert "404" in operation["responses"], name


def test_the_anilist_callback_is_documented_as_the_page_it_answers(spec, client):
    responses = spec["paths"]["/api/anilist/callback"]["get"]["responses"]
    assert set(responses["400"]["content"]) == {"text/html"}
    answer = client.get("/api/anilist/callback", query_string={"state": "made-up"})
    assert answer.status_code == 400
    assert answer.mimetype == "text/html"


def test_partial_dates_and_cover_urls_carry_their_patterns(spec):
    item = spec["components"]["schemas"]["ItemEdit"]["properties"]
    assert item["started_on"]["pattern"] == PARTIAL_DATE_PATTERN
    assert item["cover_url"]["format"] == "uri"
    assert item["cover_url"]["pattern"] == WebUrl.PATTERN.pattern


@pytest.mark.parametrize(
    "url", ["https://s4.anilist.co/file/cover/bx1-x.jpg", "http://a.b:8080/c?d=e#f"]
)
def test_a_cover_url_as_the_pattern_says_is_kept(api, url):
    assert api.add(cover_url=url)["cover_url"] == url


@pytest.mark.parametrize("url", ["https://ä.example/c.jpg", "https://a b/c.jpg", "ftp://a.b/c"])
def test_a_cover_url_that_is_no_http_uri_is_refused(api, url):
    response = api.post(
        "/api/library/items", json={"title": "x", "type": "anime", "cover_url": url}
    )
    assert response.status_code == 422
    assert "cover_url" in error_of(response)["fields"]


@pytest.mark.parametrize("flag", [0, 1, "true", None])
def test_private_takes_only_true_or_false(api, flag):
    response = api.post("/api/library/items", json={"title": "x", "type": "anime", "private": flag})
    assert response.status_code == 422
    assert "private" in error_of(response)["fields"]


def test_patch_without_a_body_is_refused(api):
    item = api.add()
    response = api.patch(f"/api/library/items/{item['id']}")
    assert response.status_code == 422
    assert "_schema" in error_of(response)["fields"]


def test_a_body_that_is_not_json_is_refused_rather_than_ignored(api):
    item = api.add()
    response = api.patch(f"/api/library/items/{item['id']}", data="progress=5",
                         content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert api.get(f"/api/library/items/{item['id']}").get_json()["progress"] == 0


def test_increment_without_a_body_adds_one(api):
    item = api.add(progress=2)
    response = api.post(f"/api/library/items/{item['id']}/increment")
    assert response.status_code == 200
    assert response.get_json()["progress"] == 3


def test_the_increment_body_is_documented_optional_and_the_patch_body_required(spec):
    item = spec["paths"]["/api/library/items/{item_id}"]
    assert item["patch"]["requestBody"]["required"] is True
    increment = spec["paths"]["/api/library/items/{item_id}/increment"]["post"]
    assert increment["requestBody"]["required"] is False


@pytest.mark.parametrize("path", ["/api/sources/autocomplete", "/api/sources/search"])
@pytest.mark.parametrize("q", ["", "   ", "\x1f", "\u3000", "\x00"])
def test_a_search_for_nothing_is_refused_as_documented(api, spec, path, q):
    response = api.get(path, query_string={"q": q})
    assert response.status_code == 422
    assert "q" in error_of(response)["fields"]
    (param,) = (p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "q")
    assert not re.search(param["schema"]["pattern"], q)


def test_max_without_a_title_names_what_is_missing(api):
    response = api.get("/api/sources/max", query_string={"type": "anime"})
    assert response.status_code == 422
    assert "q" in error_of(response)["fields"]


def test_a_page_past_the_ceiling_is_refused_not_clamped(api):
    response = api.get("/api/library/items", query_string={"page": 10**30})
    assert response.status_code == 422
    assert "page" in error_of(response)["fields"]


# NUL characters: PostgreSQL can neither store nor compare them, so they never reach it.


def test_a_nul_in_a_title_or_note_is_dropped(api):
    item = api.add(title="Fri\x00eren", notes="great\x00")
    assert (item["title"], item["notes"]) == ("Frieren", "great")


@pytest.mark.parametrize("path", ["/api/sources/search", "/api/library/items"])
def test_a_nul_in_a_search_is_dropped(api, path):
    api.add()
    response = api.get(path, query_string={"q": "Frie\x00ren"})
    assert response.status_code == 200


def test_a_search_for_only_nul_is_a_search_for_nothing(api):
    response = api.get("/api/sources/autocomplete", query_string={"q": "\x00"})
    assert response.status_code == 422
    assert "q" in error_of(response)["fields"]


def test_a_username_with_nul_is_refused_before_the_database(client):
    response = client.post("/api/auth/token", data={"username": "al\x00ice", "password": "x"})
    assert response.status_code == 422
    assert "username" in error_of(response)["fields"]
