"""Configuration: defaults, then ``TRACKER_*`` environment, then a test mapping.

Names are a contract (DESIGN §4); other programs set them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask

from tracker import logs

DEFAULTS: dict[str, object] = {
    "ENV": "production",
    "SECRET_KEY": None,
    "ENCRYPTION_KEY": None,
    "SQLALCHEMY_DATABASE_URI": None,
    # hide_parameters: a logged database error shows its SQL, never the values bound to
    # it (a token hash, an encrypted AniList token, someone's notes).
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
    "ANILIST_GRAPHQL_URL": "https://graphql.anilist.co",
    "ANILIST_AUTHORIZE_URL": "https://anilist.co/api/v2/oauth/authorize",
    "ANILIST_TOKEN_URL": "https://anilist.co/api/v2/oauth/token",
    "ANILIST_CLIENT_ID": None,
    "ANILIST_CLIENT_SECRET": None,
    "ANILIST_RATE_PER_MINUTE": 30,
    "ANILIST_REDIRECT_URI": None,  # default: this server's /api/anilist/callback
    "ANILIST_PULL_INTERVAL": 900,  # seconds between automatic pulls; 0 turns them off
    "WORKER_POLL_SECONDS": 1.0,
    # Minutes between the worker's airing refreshes (next episodes, relations); 0: off.
    "AIRING_REFRESH_MINUTES": 60,
    "JOB_RETENTION_DAYS": 7,  # finished jobs older than this are removed by the worker
    "MANGADEX_API_URL": "https://api.mangadex.org",
    "SEARCH_CACHE_TTL": 6 * 3600,  # seconds a remote search answer is reused
    "SEARCH_FAILURE_TTL": 60,  # seconds a failed search is not retried
    "REMOTE_OPTIONS": {},  # extra client options (tests: sleep, retries, timeouts)
    "REDIS_URL": None,
    "DEMO_USER": False,  # `flask tracker dev` makes demo / demo1234 before it serves
    "REGISTRATION_OPEN": True,  # false: only operators make accounts (flask tracker create-user)
    # Where people reach this server: the CLI, which has no request, builds links from it.
    "PUBLIC_URL": "http://127.0.0.1:5000",
    "INPROCESS_WORKER": False,  # `flask tracker dev` runs the worker in a thread of its own
    "LOG_FORMAT": "text",  # or json: one JSON object per line
    "LOG_LEVEL": "INFO",
    "JWT_ACCESS_TOKEN_EXPIRES": timedelta(days=1),
    "JWT_TOKEN_LOCATION": ["headers"],
    "JWT_ERROR_MESSAGE_KEY": "message",
    "WTF_CSRF_TIME_LIMIT": None,  # tied to the session, which already expires
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    # "Keep me logged in" lasts a month (Flask-Login's default is a year); seconds or a
    # timedelta. Secure whenever the session cookie is (below).
    "REMEMBER_COOKIE_DURATION": timedelta(days=30),
    "UPLOAD_MAX_MB": 50,  # the largest import file; MAX_CONTENT_LENGTH follows from it
    "LOGIN_FREE_FAILURES": 5,  # failed sign-ins per account or address before any wait
    "LOGIN_MAX_WAIT_ACCOUNT": 60,  # seconds: the longest wait failures impose on an account
    "LOGIN_MAX_WAIT_ADDRESS": 900,  # seconds: the same for a client address
    "THROTTLE_CLOCK": time.time,  # tests replace it
    "TRUSTED_PROXIES": 0,  # proxy hops whose X-Forwarded-For/-Proto are believed
    "METRICS_TOKEN": None,  # bearer token for /metrics; off (404) with no allow-list either
    "METRICS_ALLOW": [],  # addresses or networks that may read /metrics without the token
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "PASSWORD_HASH_PARAMS": {},  # argon2 defaults; tests lower them
    # flask-smorest / OpenAPI
    "API_TITLE": "Tracker API",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Either a JWT from POST /api/auth/token (it lasts a day "
                    "and ends at logout or a password change), or a personal API token "
                    "(`trk_…`) made in Settings → API tokens or with POST /api/auth/tokens "
                    "(it lasts until it is revoked or expires).",
                }
            }
        },
        "security": [{"bearerAuth": []}],
        "info": {
            "description": "Your anime and manga library. Authenticate with a bearer token "
            "(a JWT from POST /api/auth/token, or a personal API token), or with the "
            "browser session (plus X-CSRFToken)."
        },
    },
}

PRODUCTION_SECRETS = ("SECRET_KEY", "ENCRYPTION_KEY")
MIN_SECRET_BYTES = 32  # what HS256 wants of a key, and more than anyone guesses


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot run safely."""


def load_config(app: Flask, overrides: dict | None = None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("TRACKER")
    if overrides:
        app.config.from_mapping(overrides)
    _fill_development_defaults(app)
    _check(app)


def is_production(app: Flask) -> bool:
    return app.config["ENV"] not in ("development", "testing")


def _fill_development_defaults(app: Flask) -> None:
    cfg = app.config
    if not cfg.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        cfg["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'tracker.db'}"
    if is_production(app):
        return
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = secrets.token_urlsafe(32)
    if not cfg.get("ENCRYPTION_KEY"):
        # Stable across restarts of one checkout, so stored AniList tokens stay readable.
        seed = hashlib.sha256(f"tracker-dev-encryption:{app.instance_path}".encode()).digest()
        cfg["ENCRYPTION_KEY"] = base64.urlsafe_b64encode(seed).decode()


def _check(app: Flask) -> None:
    cfg = app.config
    problem = logs.check_config(app)
    if problem:
        raise ConfigError(problem)
    if is_production(app):
        missing = [f"TRACKER_{name}" for name in PRODUCTION_SECRETS if not cfg.get(name)]
        if missing:
            raise ConfigError(
                f"{', '.join(missing)} must be set in production "
                "(or set TRACKER_ENV=development for a local run)."
            )
        _check_secrets(cfg)
        if cfg.get("DEMO_USER"):
            raise ConfigError("TRACKER_DEMO_USER is for development only.")
    for name in ("JWT_ACCESS_TOKEN_EXPIRES", "REMEMBER_COOKIE_DURATION"):
        if isinstance(cfg[name], int | float):
            cfg[name] = timedelta(seconds=cfg[name])
    cfg.setdefault("JWT_SECRET_KEY", cfg["SECRET_KEY"])
    if cfg.get("MAX_CONTENT_LENGTH") is None:  # the file plus a little multipart framing
        cfg["MAX_CONTENT_LENGTH"] = (cfg["UPLOAD_MAX_MB"] + 1) * 1024 * 1024
    if cfg.get("REDIS_URL") and cfg["RATELIMIT_STORAGE_URI"] == "memory://":
        cfg["RATELIMIT_STORAGE_URI"] = cfg["REDIS_URL"]
    if is_production(app) and "TRACKER_SESSION_COOKIE_SECURE" not in os.environ:
        cfg["SESSION_COOKIE_SECURE"] = True  # behind HTTPS; set it to false for plain HTTP
    cfg.setdefault("REMEMBER_COOKIE_SECURE", cfg["SESSION_COOKIE_SECURE"])


def _check_secrets(cfg) -> None:
    """A guessable secret key forges sessions and tokens; a key that is not a Fernet key
    fails only when the first AniList token is stored. Both stop the start instead."""
    secret = cfg["SECRET_KEY"]
    if len(secret.encode() if isinstance(secret, str) else secret) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"TRACKER_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes; make one with "
            '`python -c "import secrets; print(secrets.token_urlsafe(48))"`.'
        )
    try:
        Fernet(cfg["ENCRYPTION_KEY"])
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            "TRACKER_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes); "
            'make one with `python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`.'
        ) from exc
