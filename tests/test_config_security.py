"""Production secrets and cookies, and what browsers and proxies may keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from cryptography.fernet import Fernet
from flask_migrate import upgrade

from tests.conftest import TEST_CONFIG, api_client_for
from tracker import create_app
from tracker.config import ConfigError
from tracker.services import accounts

GOOD_SECRET = "s" * 32


@pytest.fixture
def production(monkeypatch):
    """A production environment with good secrets, ready for one to be spoilt."""
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE", "DEMO_USER"):
        monkeypatch.delenv(f"TRACKER_{name}", raising=False)
    monkeypatch.setenv("TRACKER_ENV", "production")
    monkeypatch.setenv("TRACKER_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("TRACKER_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("TRACKER_SQLALCHEMY_DATABASE_URI", "sqlite://")
    return monkeypatch


@pytest.mark.parametrize("secret", ["x", "s" * 31, "é" * 15])  # "é" is two bytes
def test_production_refuses_a_short_secret_key(production, secret):
    production.setenv("TRACKER_SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY must be at least 32 bytes"):
        create_app()


@pytest.mark.parametrize(
    "key",
    [
        "not-a-key",
        "c2hvcnQ=",  # base64, but 5 bytes
        "x" * 44,  # the right length, not base64 of 32 bytes
        TEST_CONFIG["SECRET_KEY"],
    ],
)
def test_production_refuses_an_encryption_key_that_is_not_fernet(production, key):
    production.setenv("TRACKER_ENCRYPTION_KEY", key)
    with pytest.raises(ConfigError, match="TRACKER_ENCRYPTION_KEY is not a Fernet key"):
        create_app()


def test_production_starts_with_good_secrets(production):
    app = create_app()
    assert app.config["SECRET_KEY"] == GOOD_SECRET


def test_development_keeps_its_generated_secrets(monkeypatch):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    monkeypatch.delenv("TRACKER_ENCRYPTION_KEY", raising=False)
    app = create_app({**TEST_CONFIG, "SECRET_KEY": None, "ENCRYPTION_KEY": None,
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})  # fmt: skip
    Fernet(app.config["ENCRYPTION_KEY"])  # a valid key
    assert len(app.config["SECRET_KEY"]) >= 32


def test_the_remember_cookie_has_the_session_cookies_flags_in_production(production):
    config = create_app().config
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)


def test_plain_http_drops_secure_from_both_cookies(production):
    production.setenv("TRACKER_SESSION_COOKIE_SECURE", "false")
    config = create_app().config
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["REMEMBER_COOKIE_SECURE"] is False


def test_the_remember_duration_may_be_given_in_seconds(production):
    production.setenv("TRACKER_REMEMBER_COOKIE_DURATION", "3600")
    assert create_app().config["REMEMBER_COOKIE_DURATION"] == timedelta(hours=1)


def test_keep_me_logged_in_sets_a_secure_http_only_month_long_cookie(production, tmp_path):
    production.setenv("TRACKER_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'p.db'}")
    production.setenv("TRACKER_PASSWORD_HASH_PARAMS", '{"time_cost": 1, "memory_cost": 1024}')
    app = create_app()
    with app.app_context():
        upgrade()
        accounts.register("alice", "password123")
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post(
        "/login",
        data={"username": "alice", "password": "password123", "remember": "1"},
        base_url="https://localhost",
    )
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    remember = cookies["remember_token"]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in remember
    expires = parsedate_to_datetime(remember.split("Expires=")[1].split(";")[0])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert "Secure" in cookies["session"]


# --- Cache-Control -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/register", "/api/health", "/api/openapi.json",
                                  "/docs", "/no-such-page", "/api/no-such-thing"])  # fmt: skip
def test_anonymous_dynamic_answers_are_not_stored(client, path):
    assert client.get(path).headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/?status=current", "/settings"])
def test_pages_of_a_signed_in_person_are_not_stored(logged_in, path):
    response = logged_in.client.get(path, follow_redirects=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_fragments_and_api_answers_are_not_stored(app, htmx):
    api = api_client_for(app, "bob")
    item = api.add(title="Frieren")
    answers = [
        htmx.get("/"),
        htmx.post("/items", data={"title": "Mushishi", "type": "anime"}),
        api.get("/api/library/items"),
        api.get(f"/api/library/items/{item['id']}"),
        api.post(f"/api/library/items/{item['id']}/increment", json={"by": 1}),
        api.get("/api/auth/me"),
        api.get("/api/library/items/999999"),  # an error too
    ]
    assert [a.headers.get("Cache-Control") for a in answers] == ["no-store"] * len(answers)


def test_static_files_keep_their_own_caching(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
