"""Accounts over the JSON API: register, token, me."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token

from tracker.models import User


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"])
    return body["error"]


def test_register_creates_an_account(client):
    response = client.post(
        "/api/auth/register", json={"username": "Alice", "password": "s3cret-pw"}
    )
    assert response.status_code == 201
    assert response.get_json()["username"] == "Alice"
    assert isinstance(response.get_json()["id"], int)


def test_passwords_are_stored_with_argon2(app, client):
    client.post("/api/auth/register", json={"username": "alice", "password": "s3cret-pw"})
    with app.app_context():
        stored = User.query.filter_by(username="alice").one().password_hash
    assert stored.startswith("$argon2id$")
    assert "s3cret-pw" not in stored


@pytest.mark.parametrize("second", ["alice", "ALICE", "aLiCe"])
def test_usernames_are_unique_case_insensitively(client, second):
    client.post("/api/auth/register", json={"username": "Alice", "password": "password1"})
    response = client.post("/api/auth/register", json={"username": second, "password": "pw123456"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": "password1"}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": "al", "password": "password1"}, "username"),
        ({"username": "a" * 41, "password": "password1"}, "username"),
        ({"username": "bad name!", "password": "password1"}, "username"),
        ({"username": "alice", "password": "short"}, "password"),
        ({"username": 5, "password": "password1"}, "username"),
    ],
)
def test_register_rejects_bad_input(client, body, field):
    response = client.post("/api/auth/register", json=body)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_register_rejects_invalid_json(client):
    response = client.post("/api/auth/register", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_register_rejects_a_body_that_is_not_an_object(client):
    response = client.post("/api/auth/register", json=["alice", "password1"])
    assert response.status_code == 422


def test_token_is_issued_for_the_right_password(client):
    client.post("/api/auth/register", json={"username": "alice", "password": "password1"})
    response = client.post("/api/auth/token", data={"username": "ALICE", "password": "password1"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == "alice"


@pytest.mark.parametrize(
    "form", [{"username": "alice", "password": "wrong-pass"}, {"username": "bob", "password": "x"}]
)
def test_token_refuses_wrong_credentials(client, form):
    client.post("/api/auth/register", json={"username": "alice", "password": "password1"})
    response = client.post("/api/auth/token", data=form)
    assert response.status_code == 401
    assert error_of(response)["message"] == "Wrong username or password."


def test_token_requires_both_fields(client):
    response = client.post("/api/auth/token", data={"username": "alice"})
    assert response.status_code == 422
    assert "password" in error_of(response)["fields"]


def test_me_without_a_token_is_401(client):
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer a.b.c", "Basic abc", "Bearer"])
def test_me_with_a_garbage_token_is_401(client, header):
    response = client.get("/api/auth/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"


def test_me_with_an_expired_token_is_401(app, client):
    client.post("/api/auth/register", json={"username": "alice", "password": "password1"})
    with app.app_context():
        user = User.query.filter_by(username="alice").one()
        token = create_access_token(identity=user, expires_delta=timedelta(seconds=-5))
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in error_of(response)["message"]


def test_a_token_signed_with_another_key_is_401(app, client):
    import jwt as pyjwt

    forged = pyjwt.encode(
        {"sub": "1", "type": "access"},
        "a-key-that-is-not-ours-but-is-long-enough",
        algorithm="HS256",
    )
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_registration_is_rate_limited(app_factory):
    """Flask-Limiter guards sign-ups; sign-ins have their own shared backoff (test_throttle)."""
    app = app_factory(RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = exhaust_register_limit(client)
    assert statuses[:20] == [422] * 20
    assert statuses[20] == 429
    assert error_of(client.post("/api/auth/register", json={}))["code"] == "rate_limited"


def exhaust_register_limit(client) -> list[int]:
    return [client.post("/api/auth/register", json={}).status_code for _ in range(21)]


@pytest.mark.parametrize("limited_first", [True, False])
def test_a_rate_limit_stays_with_its_app(app_factory, limited_first):
    """The limiter singleton keeps no app's switch or counts for another app."""
    if limited_first:
        limited, unlimited = app_factory(RATELIMIT_ENABLED=True), app_factory()
    else:
        unlimited, limited = app_factory(), app_factory(RATELIMIT_ENABLED=True)
    assert exhaust_register_limit(limited.test_client())[-1] == 429
    assert exhaust_register_limit(unlimited.test_client()) == [422] * 21
    assert exhaust_register_limit(limited.test_client())[0] == 429


def test_two_limited_apps_count_apart(app_factory):
    first, second = app_factory(RATELIMIT_ENABLED=True), app_factory(RATELIMIT_ENABLED=True)
    assert exhaust_register_limit(first.test_client())[-1] == 429
    assert exhaust_register_limit(second.test_client())[:20] == [422] * 20  # its own twenty
