"""The app as a whole: configuration, health, the API document, headers, CLI."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from tests.conftest import TEST_CONFIG, make_app
from tracker import create_app
from tracker.config import ConfigError
from tracker.extensions import db
from tracker.models import User


def test_production_refuses_to_start_without_its_secrets(monkeypatch):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    monkeypatch.delenv("TRACKER_ENCRYPTION_KEY", raising=False)
    monkeypatch.setenv("TRACKER_ENV", "production")
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY, TRACKER_ENCRYPTION_KEY"):
        create_app()


def test_production_refuses_the_demo_user(monkeypatch):
    monkeypatch.setenv("TRACKER_ENV", "production")
    monkeypatch.setenv("TRACKER_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("TRACKER_ENCRYPTION_KEY", TEST_CONFIG["ENCRYPTION_KEY"])
    monkeypatch.setenv("TRACKER_DEMO_USER", "true")
    with pytest.raises(ConfigError, match="TRACKER_DEMO_USER"):
        create_app()


def test_environment_variables_configure_the_app(monkeypatch, app_factory):
    monkeypatch.setenv("TRACKER_ANILIST_RATE_PER_MINUTE", "12")
    monkeypatch.setenv("TRACKER_ANILIST_GRAPHQL_URL", "http://127.0.0.1:9/graphql")
    app = app_factory()
    assert app.config["ANILIST_RATE_PER_MINUTE"] == 12
    assert app.config["ANILIST_GRAPHQL_URL"] == "http://127.0.0.1:9/graphql"


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("TRACKER_ENV", "production")
    monkeypatch.setenv("TRACKER_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("TRACKER_ENCRYPTION_KEY", TEST_CONFIG["ENCRYPTION_KEY"])
    monkeypatch.setenv("TRACKER_SQLALCHEMY_DATABASE_URI", "sqlite://")
    assert create_app().config["SESSION_COOKIE_SECURE"] is True


def test_health_reports_the_database(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
    assert response.get_json()["database"] == "ok"


def test_health_says_when_the_database_is_gone(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'missing-dir' / 'nope.db'}")
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_the_openapi_document_is_valid_and_complete(client):
    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    paths = spec["paths"]
    for path in ("/api/auth/register", "/api/auth/token", "/api/auth/me", "/api/library/items",
                 "/api/library/items/{item_id}", "/api/library/items/{item_id}/increment",
                 "/api/library/summary", "/api/health"):  # fmt: skip
        assert path in paths, path
    params = {p["name"] for p in paths["/api/library/items"]["get"]["parameters"]}
    assert {"type", "status", "q", "sort", "page", "per_page"} <= params
    assert "ApiError" in spec["components"]["schemas"]


def test_docs_page_loads_local_assets_only(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "<script>" not in html and "http" not in html.split("<body>")[0].replace(
        'content="width', ""
    )


def test_pages_carry_a_strict_content_security_policy(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert client.get("/login").headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_scripts_or_styles(client):
    html = client.get("/login").get_data(as_text=True)
    assert "<script>" not in html
    assert "style=" not in html
    assert "<style" not in html


def test_seed_demo_creates_the_demo_user_once(app, runner):
    first = runner.invoke(args=["tracker", "seed-demo"])
    second = runner.invoke(args=["tracker", "seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "demo / demo1234" in first.output
    with app.app_context():
        assert User.query.filter_by(username="demo").count() == 1


def test_the_demo_user_can_get_a_token(app, runner, client):
    runner.invoke(args=["tracker", "seed-demo"])
    response = client.post("/api/auth/token", data={"username": "demo", "password": "demo1234"})
    assert response.status_code == 200


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("a SQLite setting; this run is on PostgreSQL")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
