"""Personal API tokens: made with a name and an optional expiry, shown once, kept hashed,
accepted wherever a JWT is until revoked or expired, and never anyone else's business."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from tests.conftest import ApiClient, HtmxClient
from tests.test_fast_path import counted
from tests.test_library_pages import elements, one, toast_of
from tests.test_sessions import api_client_for_existing
from tracker.extensions import db
from tracker.models import ApiToken, User, utcnow
from tracker.services import tokens

TOKENS = "/api/auth/tokens"


def make_token(api: ApiClient, name: str = "backup script", **fields) -> dict:
    response = api.post(TOKENS, json={"name": name, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def with_token(app, token: str) -> ApiClient:
    return ApiClient(app.test_client(), token)


def error_of(response) -> dict:
    return response.get_json()["error"]


def stored(app, token_id: int) -> ApiToken:
    with app.app_context():
        row = db.session.get(ApiToken, token_id)
        db.session.expunge(row)
        return row


# --- making and listing ---------------------------------------------------------------


def test_a_new_token_is_answered_once_with_its_prefix(api):
    made = make_token(api)
    assert made["token"].startswith("trk_") and len(made["token"]) == 47
    assert made["prefix"] == made["token"][:12]
    assert made["name"] == "backup script"
    assert made["expires_at"] is None and made["last_used_at"] is None
    listed = api.get(TOKENS).get_json()
    assert listed == [{key: value for key, value in made.items() if key != "token"}]


def test_the_database_holds_only_the_tokens_hash(app, api):
    made = make_token(api)
    row = stored(app, made["id"])
    assert row.token_hash == hashlib.sha256(made["token"].encode()).hexdigest()
    secret = made["token"][len(row.prefix) :]
    with app.app_context():
        for table in ("api_tokens", "user_sessions", "users"):
            dump = " ".join(map(str, db.session.execute(text(f"SELECT * FROM {table}")).all()))
            assert secret not in dump


def test_tokens_are_listed_newest_first(api):
    first, second = make_token(api, "first"), make_token(api, "second")
    assert [t["id"] for t in api.get(TOKENS).get_json()] == [second["id"], first["id"]]


def test_an_expiry_in_the_future_is_kept_in_utc(api):
    made = make_token(api, expires_at="2999-01-01T02:00:00+02:00")
    assert made["expires_at"].startswith("2999-01-01T00:00:00")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "evil\nname"}, "name"),
        ({"name": "evil name\n"}, "name"),
        ({"name": "nul\x00"}, "name"),
        ({"name": "bidi \u202etxt.exe"}, "name"),
        ({"name": "zero\u200bwidth"}, "name"),
        ({"name": 5}, "name"),
        ({}, "name"),
        ({"name": "past", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "bad", "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "year 1", "expires_at": "0001-01-01T00:00:00+01:00"}, "expires_at"),
        ({"name": "year 9999", "expires_at": "9999-12-31T23:59:59-01:00"}, "expires_at"),
    ],
)
def test_hostile_names_and_expiries_are_refused_and_nothing_is_made(app, api, body, field):
    response = api.post(TOKENS, json=body)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    with app.app_context():
        assert db.session.scalar(select(ApiToken.id)) is None


def test_a_name_is_kept_as_typed_but_trimmed(api):
    made = make_token(api, "  <script>alert(1)</script> ✓ ")
    assert made["name"] == "<script>alert(1)</script> ✓"


# --- using a token ----------------------------------------------------------------------


def test_a_token_works_wherever_a_jwt_does(app, api):
    script = with_token(app, make_token(api)["token"])
    assert script.get("/api/auth/me").get_json()["username"] == "alice"
    item = script.add(title="Dungeon Meshi", type="manga")
    assert script.post(f"/api/library/items/{item['id']}/increment").status_code == 200
    assert [i["title"] for i in api.get("/api/library/items").get_json()] == ["Dungeon Meshi"]


def test_a_token_may_make_and_list_tokens_but_only_its_owners(app, api, other_api):
    script = with_token(app, make_token(api, "rotating")["token"])
    newer = make_token(script, "rotated")
    assert {t["name"] for t in script.get(TOKENS).get_json()} == {"rotating", "rotated"}
    assert other_api.get(TOKENS).get_json() == []
    assert with_token(app, newer["token"]).get("/api/auth/me").status_code == 200


def test_a_revoked_token_is_refused_like_a_bad_jwt(app, api):
    made = make_token(api)
    script = with_token(app, made["token"])
    assert api.delete(f"{TOKENS}/{made['id']}").status_code == 204
    refused = script.get("/api/auth/me")
    assert refused.status_code == 401
    assert error_of(refused)["code"] == "invalid_token"
    assert api.get(TOKENS).get_json() == []
    assert api.delete(f"{TOKENS}/{made['id']}").status_code == 404  # already revoked


def test_an_expired_token_is_refused(app, api):
    made = make_token(api)
    with app.app_context():
        db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert with_token(app, made["token"]).get("/api/auth/me").status_code == 401
    assert api.get(TOKENS).get_json()[0]["id"] == made["id"]  # still listed, to explain why


@pytest.mark.parametrize(
    "credential",
    [
        "trk_" + "A" * 43,  # well formed, unknown
        "trk_",
        "trk_short",
        "trk_" + "A" * 42 + "\x00",
        "trk_" + "A" * 44,
        "trk_" + "é" * 43,
    ],
)
def test_unknown_tokens_are_refused_with_the_jwt_error_shape(app, api, credential):
    make_token(api)
    response = with_token(app, credential).get("/api/auth/me")
    assert response.status_code == 401
    assert set(error_of(response)) == {"code", "message", "fields"}
    assert error_of(response)["code"] == "invalid_token"


def test_a_disabled_accounts_tokens_are_refused(app, api):
    script = with_token(app, make_token(api)["token"])
    with app.app_context():
        db.session.execute(update(User).values(disabled_at=utcnow()))
        db.session.commit()
    assert script.get("/api/auth/me").status_code == 401


def test_nobody_revokes_another_users_token(app, api, other_api):
    made = make_token(api)
    refused = other_api.delete(f"{TOKENS}/{made['id']}")
    assert refused.status_code == 404
    assert other_api.delete(f"{TOKENS}/999999").status_code == 404
    assert with_token(app, made["token"]).get("/api/auth/me").status_code == 200


def test_logging_out_with_a_token_revokes_that_token_only(app, api):
    first, second = make_token(api, "first"), make_token(api, "second")
    assert with_token(app, first["token"]).post("/api/auth/logout").status_code == 204
    assert with_token(app, first["token"]).get("/api/auth/me").status_code == 401
    assert with_token(app, second["token"]).get("/api/auth/me").status_code == 200
    assert api.get("/api/auth/me").status_code == 200


def test_last_use_is_recorded_but_not_written_on_every_call(app, api):
    made = make_token(api)
    script = with_token(app, made["token"])
    script.get("/api/auth/me")
    first_use = stored(app, made["id"]).last_used_at
    assert first_use is not None and utcnow() - first_use < timedelta(minutes=1)
    with counted(app) as statements:
        script.get("/api/auth/me")
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert stored(app, made["id"]).last_used_at == first_use
    # A minute on, the next call writes it again.
    with app.app_context():
        earlier = first_use - tokens.LAST_USED_EVERY - timedelta(seconds=1)
        db.session.execute(update(ApiToken).values(last_used_at=earlier))
        db.session.commit()
    script.get("/api/auth/me")
    assert stored(app, made["id"]).last_used_at > first_use


def test_a_token_call_costs_the_statements_a_jwt_call_does(app, api):
    script = with_token(app, make_token(api)["token"])
    script.get("/api/library/items")  # records the first use
    costs = {}
    for name, client in (("jwt", api), ("token", script)):
        with counted(app) as statements:
            assert client.get("/api/library/items").status_code == 200
        costs[name] = len(statements)
    assert costs["token"] == costs["jwt"], costs


def test_the_openapi_document_says_a_bearer_may_be_a_personal_token(client):
    spec = client.get("/api/openapi.json").get_json()
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert "personal API token" in scheme["description"]
    assert {"get", "post"} <= set(spec["paths"]["/api/auth/tokens"])
    assert "404" in spec["paths"]["/api/auth/tokens/{token_id}"]["delete"]["responses"]


# --- the settings section -------------------------------------------------------------


def test_creating_a_token_in_settings_shows_it_once(app, htmx: HtmxClient):
    response = htmx.post("/settings/tokens", data={"name": "phone", "expires_in": "30"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "shown only once" in toast_of(response)["message"]
    token = one(response.get_data(as_text=True), "input", id="new-token-value")["value"]
    assert with_token(app, token).get("/api/auth/me").status_code == 200
    again = htmx.browser.client.get("/settings").get_data(as_text=True)
    assert token not in again
    assert token[:12] + "…" in again
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
    assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)


def test_creating_a_token_without_javascript_answers_the_page_with_it(logged_in):
    response = logged_in.client.post(
        "/settings/tokens",
        data={"name": "cron", "expires_in": "never", "csrf_token": logged_in.csrf_token()},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1" in page and one(page, "input", id="new-token-value")["value"].startswith("trk_")


@pytest.mark.parametrize(
    "form, field",
    [({"name": "", "expires_in": "30"}, "name"), ({"name": "x", "expires_in": "7"}, "expires_in"),
     ({"name": "a\x07b"}, "name")],
)  # fmt: skip
def test_a_refused_token_form_says_why_beside_the_field(app, htmx, form, field):
    response = htmx.post("/settings/tokens", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert elements(html, "p", **{"class": "inline-error"})
    assert elements(html, aria_invalid="true")
    with app.app_context():
        assert db.session.scalar(select(ApiToken.id)) is None


def test_revoking_in_settings_swaps_the_list_and_toasts(app, logged_in):
    api = api_client_for_existing(app, "alice")
    made = make_token(api, "old laptop")
    htmx = HtmxClient(logged_in)
    response = htmx.post(f"/settings/tokens/{made['id']}/revoke")
    assert response.status_code == 200
    assert toast_of(response)["message"] == "Revoked the API token “old laptop”."
    assert "old laptop" not in response.get_data(as_text=True).split("</form>", 1)[1]
    assert with_token(app, made["token"]).get("/api/auth/me").status_code == 401


def test_revoking_without_javascript_redirects_to_the_section(app, logged_in):
    api = api_client_for_existing(app, "alice")
    made = make_token(api)
    response = logged_in.client.post(
        f"/settings/tokens/{made['id']}/revoke", data={"csrf_token": logged_in.csrf_token()}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/settings#api-tokens")
    assert "Revoked" in logged_in.client.get("/settings").get_data(as_text=True)


def test_another_users_token_cannot_be_revoked_from_settings(app, other_api, htmx):
    made = make_token(other_api)
    response = htmx.post(f"/settings/tokens/{made['id']}/revoke")
    assert response.status_code == 404
    assert toast_of(response)["level"] == "error"
    assert with_token(app, made["token"]).get("/api/auth/me").status_code == 200


def test_the_token_list_shows_prefix_dates_and_hostile_names_escaped(app, logged_in):
    api = api_client_for_existing(app, "alice")
    make_token(api, '<img src=x onerror="alert(1)">', expires_at="2999-01-01T00:00:00Z")
    page = logged_in.client.get("/settings").get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x" in page
    assert "2999-01-01 00:00 UTC" in page


def test_expiry_choices_end_when_they_say(app):
    with app.app_context():
        assert tokens.expiry_in("never") is None
        year = tokens.expiry_in("365") - datetime.now(UTC)
        assert timedelta(days=364) < year <= timedelta(days=365)
