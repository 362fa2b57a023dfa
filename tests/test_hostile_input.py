"""Nothing one person sends makes the server answer 500: numbers too big for the database,
OPTIONS with any credentials, JSON too deep to parse, bodies too large to take."""

from __future__ import annotations

import io
import re

import pytest
import requests
from werkzeug.routing import IntegerConverter

from tests.browser.harness import serving
from tests.test_auth_api import error_of
from tracker.routing import MAX_ID, IdConverter

# Past PostgreSQL's INTEGER, past SQLite's (and BIGINT), and past what int() will parse.
HUGE = ["0", str(MAX_ID + 1), str(2**63), "9" * 20, "1" * 5000]
ID_PARAM = re.compile(r"<id:\w+>")
BODY_METHODS = {"POST", "PATCH", "PUT"}


def id_routes(app) -> list[tuple[str, str]]:
    """Every (method, rule) with an id in its path, the API's and the pages'."""
    return [
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if ID_PARAM.search(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def test_every_integer_in_a_path_is_a_bounded_id(app):
    plain = [
        rule.rule
        for rule in app.url_map.iter_rules()
        for converter in rule._converters.values()
        if isinstance(converter, IntegerConverter) and not isinstance(converter, IdConverter)
    ]
    assert plain == []
    assert len(id_routes(app)) >= 10  # items, rows, jobs, on the pages and the API


def test_ids_document_as_bounded_integers(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/library/items/{item_id}", "/api/jobs/{job_id}"):
        (param,) = paths[path]["parameters"]
        assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID}


@pytest.mark.parametrize("number", HUGE)
def test_an_id_out_of_range_is_404_on_every_api_route(app, api, number):
    api.add()
    for method, rule in id_routes(app):
        if not rule.startswith("/api/"):
            continue
        extra = {"json": {}} if method in BODY_METHODS else {}
        response = api.request(method, ID_PARAM.sub(number, rule), **extra)
        assert response.status_code == 404, (method, rule)
        assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("number", HUGE)
def test_an_id_out_of_range_is_404_on_every_page_and_fragment(app, htmx, number):
    for method, rule in id_routes(app):
        if rule.startswith("/api/"):
            continue
        url = ID_PARAM.sub(number, rule)
        assert htmx.request(method, url).status_code == 404, (method, rule)
        page = htmx.browser.client.open(url, method=method, data={"csrf_token": htmx.token})
        assert page.status_code == 404, (method, rule)


@pytest.mark.parametrize("number", HUGE[1:])
@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/library/items?page={}", "page"),
        ("/api/library/items?per_page={}", "per_page"),
        ("/api/sources/max?anilist_id={}", "anilist_id"),
    ],
)
def test_a_query_number_out_of_range_is_422(api, url, field, number):
    response = api.get(url.format(number))
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


@pytest.mark.parametrize("number", HUGE[1:])
@pytest.mark.parametrize("param", ["page", "per_page"])
def test_the_library_page_sets_aside_a_number_out_of_range(htmx, number, param):
    for response in (
        htmx.get(f"/?{param}={number}"),
        htmx.browser.client.get(f"/?{param}={number}"),
    ):
        assert response.status_code == 200
        assert f"{param}={number[:20]}" in response.get_data(as_text=True)


API_PATHS = [
    "/api/library/items",
    "/api/library/items/1",
    "/api/library/items/1/increment",
    "/api/library/summary",
    "/api/sources/",
    "/api/sources/search",
    "/api/jobs/1",
    "/api/anilist/status",
    "/api/auth/me",
]


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic YTpi", "valid"])
def test_options_says_which_methods_a_path_allows(api, path, authorization):
    headers = {}
    if authorization:
        headers["Authorization"] = (
            f"Bearer {api.token}" if authorization == "valid" else authorization
        )
    response = api.client.options(path, headers=headers)
    assert response.status_code == 200
    assert "OPTIONS" in response.headers["Allow"]


@pytest.mark.parametrize(
    "body",
    [
        "[" * 1000 + "]" * 1000,
        '{"a":' * 1000 + "1" + "}" * 1000,
        '{"title": "x", "notes": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"title": "x", "type": "anime", "progress": ' + "9" * 5000 + "}",
    ],
    ids=["arrays", "objects", "deep-field", "long-integer"],
)
@pytest.mark.parametrize(
    "method, path", [("POST", "/api/library/items"), ("PATCH", "/api/library/items/{id}"),
                     ("POST", "/api/auth/register")],
)  # fmt: skip
def test_json_too_deep_or_too_long_to_read_is_400(api, body, method, path):
    url = path.format(id=api.add()["id"])
    response = api.request(method, url, data=body, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def chunked(total: int, head: bytes = b"", tail: bytes = b""):
    """A body sent in 1 MB chunks, with no Content-Length."""
    yield head
    for _ in range(total // 2**20):
        yield b"x" * 2**20
    yield tail


def test_a_20_mb_chunked_body_to_the_api_is_413(app, api):
    with serving(app) as url:
        response = requests.post(
            f"{url}/api/library/items",
            data=chunked(20 * 2**20, b'{"type": "anime", "title": "', b'"}'),
            headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
            timeout=30,
        )
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_20_mb_chunked_form_is_413_with_a_page(app):
    with serving(app) as url:
        response = requests.post(
            f"{url}/login",
            data=chunked(20 * 2**20, b"username="),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )
    assert response.status_code == 413
    assert "Error 413" in response.text and '<h1 id="error-heading">Too large</h1>' in response.text


def test_a_json_body_over_a_megabyte_is_413(api):
    body = '{"type": "anime", "title": "' + "x" * 2**20 + '"}'
    response = api.post("/api/library/items", data=body, content_type="application/json")
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_the_largest_body_follows_the_upload_limit(app_factory):
    assert app_factory(UPLOAD_MAX_MB=2).config["MAX_CONTENT_LENGTH"] == 3 * 2**20


def test_a_multipart_body_as_large_as_an_upload_is_read(app_factory):
    client = app_factory(UPLOAD_MAX_MB=2).test_client()

    def send(size: int):
        return client.post("/login", data={"file": (io.BytesIO(b"x" * size), "list.csv")})

    assert send(2 * 2**20).status_code == 400  # read, then refused for its missing CSRF token
    assert send(4 * 2**20).status_code == 413
