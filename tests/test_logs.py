"""Logs: a request id on every line (taken from X-Request-ID when sane, sent back, and
carried by the worker into the AniList calls it makes for that request), JSON lines
when configured, and never a secret."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from flask import current_app
from sqlalchemy import select

from tests.conftest import ApiClient, Browser, oauth_config, remote_config
from tests.test_anilist_sync import connect, work
from tracker import logs
from tracker.config import ConfigError
from tracker.extensions import db
from tracker.models import AniListAccount, Job, SyncOutbox

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def log_output():
    """Install the app's log handler (as wsgi.py does) writing to a buffer; the
    process's logging is put back as it was afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffers: list[io.StringIO] = []

    def install(app) -> io.StringIO:
        buffers.append(io.StringIO())
        logs.configure_logging(app, buffers[-1])
        return buffers[-1]

    yield install
    root.handlers[:] = handlers
    root.setLevel(level)


def json_lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


# --- the request id -----------------------------------------------------------------


def test_a_sane_request_id_is_kept_and_sent_back(client):
    response = client.get("/api/health", headers={"X-Request-ID": "edge-7f3a:01.b_c"})
    assert response.headers["X-Request-ID"] == "edge-7f3a:01.b_c"


@pytest.mark.parametrize(
    "incoming",
    ["", "x" * 129, "has space", "semi;colon", "new\\nline", "<script>", "é-accent", "a/b"],
)
def test_an_unsafe_request_id_is_replaced_by_a_new_one(client, incoming):
    response = client.get("/api/health", headers={"X-Request-ID": incoming})
    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


def test_every_answer_has_an_id_even_an_early_refusal(client):
    ids = [
        client.get("/api/health").headers["X-Request-ID"],
        client.get("/no-such-page").headers["X-Request-ID"],
        client.post(
            "/api/auth/token", data="x" * (2 * 1024 * 1024), content_type="text/plain"
        ).headers["X-Request-ID"],
        client.get("/static/css/app.css").headers["X-Request-ID"],
    ]
    assert all(GENERATED.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_every_line_logged_during_a_request_carries_its_id(app_factory, log_output):
    app = app_factory(LOG_FORMAT="json")

    @app.route("/log-probe")
    def probe():
        current_app.logger.warning("from the app's logger")
        logging.getLogger("tracker.services.somewhere").info("from a service")
        logging.getLogger("sqlalchemy.somewhere").error("from a library")
        return "ok"

    buffer = log_output(app)
    logging.getLogger("tracker").info("before any request")
    response = app.test_client().get("/log-probe", headers={"X-Request-ID": "probe-1"})
    lines = json_lines(buffer)
    assert response.headers["X-Request-ID"] == "probe-1"
    during = [line for line in lines if line["message"] != "before any request"]
    assert [line["request_id"] for line in during] == ["probe-1"] * 4
    assert next(line for line in lines if line["message"] == "before any request")[
        "request_id"] is None  # fmt: skip


def test_json_lines_say_what_each_request_was(app_factory, log_output):
    app = app_factory(LOG_FORMAT="json")
    buffer = log_output(app)
    app.test_client().get("/api/health", headers={"X-Request-ID": "r-1"})
    (line,) = [line for line in json_lines(buffer) if line["logger"] == "tracker.request"]
    assert line["request_id"] == "r-1"
    assert (line["method"], line["path"], line["endpoint"], line["status"]) == (
        "GET", "/api/health", "health.health", 200)  # fmt: skip
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


def test_text_lines_are_the_default(app_factory, log_output):
    app = app_factory()
    buffer = log_output(app)
    app.test_client().get("/api/health", headers={"X-Request-ID": "r-2"})
    app.logger.info("outside")
    text = buffer.getvalue()
    assert "INFO tracker.request [r-2] GET /api/health 200 in " in text
    assert "INFO tracker [-] outside" in text


def test_a_request_line_leaves_out_the_query_string(app_factory, log_output):
    app = app_factory(LOG_FORMAT="json")
    buffer = log_output(app)
    app.test_client().get("/api/anilist/callback?code=sekrit-code-123&state=s")
    text = buffer.getvalue()
    assert "/api/anilist/callback" in text and "sekrit-code-123" not in text


@pytest.mark.parametrize("setting,value", [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD")])
def test_an_unknown_log_setting_stops_the_start(app_factory, setting, value):
    with pytest.raises(ConfigError, match=f"TRACKER_{setting}"):
        app_factory(**{setting: value})


# --- the worker carries the id to AniList ---------------------------------------------


@pytest.fixture
def sync_app(app_factory, fake_anilist, fake_mangadex, sleeps):
    url = fake_anilist[1]
    return app_factory(**remote_config(url, fake_mangadex[1], sleeps), **oauth_config(url),
                       LOG_LEVEL="DEBUG", LOG_FORMAT="json")  # fmt: skip


def test_the_worker_logs_a_push_and_a_sync_under_the_request_that_queued_them(
    sync_app, fake, viewer, log_output
):
    alice = ApiClient(sync_app.test_client())
    alice.post("/api/auth/register", json={"username": "alice", "password": "password123"})
    token = alice.post("/api/auth/token", data={"username": "alice", "password": "password123"})
    alice.token = token.get_json()["access_token"]
    connect(alice)
    work(sync_app)  # the first sync, queued when the account was connected
    buffer = log_output(sync_app)
    added = alice.post("/api/library/items", headers={"X-Request-ID": "add-1"},
                       json={"source": "anilist", "anilist_id": 1, "title": "Cowboy Bebop",
                             "type": "anime"})  # fmt: skip
    assert added.status_code == 201
    with sync_app.app_context():
        assert db.session.scalar(select(SyncOutbox.request_id)) == "add-1"
    work(sync_app)  # the push
    queued = alice.post("/api/anilist/sync", headers={"X-Request-ID": "sync-1"})
    assert queued.status_code in (200, 202), queued.get_json()
    with sync_app.app_context():
        assert db.session.scalar(select(Job.request_id).order_by(Job.id.desc())) == "sync-1"
    work(sync_app)  # the sync job: a pull
    calls = [line for line in json_lines(buffer) if line["logger"] == "tracker.clients.transport"]
    by_request = {c["request_id"] for c in calls}
    assert by_request == {"add-1", "sync-1"}, calls
    push = [c for c in calls if c["request_id"] == "add-1"]
    assert push and all(c["status"] == 200 and c["source"] == "AniList" for c in push)
    assert len([c for c in calls if c["request_id"] == "sync-1"]) >= 1


# --- no secret is ever logged ----------------------------------------------------------


def test_the_redaction_filter_cuts_out_anything_shaped_like_a_secret(app_factory, log_output):
    app = app_factory(LOG_FORMAT="json", ANILIST_CLIENT_SECRET="client-secret-value-42")
    buffer = log_output(app)
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz"
    personal = "trk_" + "A" * 43
    fernet = "gAAAAABl" + "x" * 60
    log = logging.getLogger("tracker.somewhere")
    log.info("header Authorization: Bearer %s", jwt)
    log.info("a token %s and %s", personal, fernet)
    log.info("form password=hunter2-long&client_secret=abc123secret")
    log.info("json %s", json.dumps({"password": "p4ssw0rd-json", "access_token": "tok-json-1"}))
    log.info("callback /api/anilist/callback?code=oauth-code-77&state=ok")
    log.info("configured %s and %s", app.config["SECRET_KEY"], "client-secret-value-42")
    log.info("cookie: session=cookie-value-99", extra={"detail": f"Bearer {jwt}"})
    try:
        raise ValueError(f"bad token {personal}")
    except ValueError:
        log.exception("failed")
    out = buffer.getvalue()
    for secret in (jwt, personal, fernet, "hunter2-long", "abc123secret", "p4ssw0rd-json",
                   "tok-json-1", "oauth-code-77", app.config["SECRET_KEY"],
                   "client-secret-value-42", "cookie-value-99"):  # fmt: skip
        assert secret not in out, secret
    assert out.count("[redacted]") >= 11
    assert "state=ok" in out  # what is not a secret stays readable


def test_a_full_flow_logs_no_secret(app_factory, fake_anilist, fake_mangadex, sleeps, fake,
                                    viewer, caplog, log_output):  # fmt: skip
    """Register, log in (form and API), fail a login, make a personal token, connect
    AniList, push and pull: everything logged at DEBUG, by anyone, holds no secret."""
    url = fake_anilist[1]
    app = app_factory(**remote_config(url, fake_mangadex[1], sleeps), **oauth_config(url),
                      LOG_LEVEL="DEBUG", LOG_FORMAT="json")  # fmt: skip
    caplog.set_level(logging.DEBUG)
    output = log_output(app)
    password, wrong = "correct-horse-battery-9", "wrong-pony-staple-7"

    person = Browser(app.test_client())
    assert person.register("alice", password).status_code == 302
    again = Browser(app.test_client())
    assert again.login("alice", wrong).status_code == 401  # refused: the form again
    assert again.login("alice", password).status_code == 302
    refused = app.test_client().post("/api/auth/token",
                                     data={"username": "alice", "password": wrong})  # fmt: skip
    assert refused.status_code == 401
    jwt = app.test_client().post("/api/auth/token",
                                 data={"username": "alice", "password": password})  # fmt: skip
    alice = ApiClient(app.test_client(), jwt.get_json()["access_token"])
    personal = alice.post("/api/auth/tokens", json={"name": "script"}).get_json()["token"]
    scripted = ApiClient(app.test_client(), personal)
    assert scripted.get("/api/library/items").status_code == 200

    connect(alice)  # the fake's consent page, the callback, the code exchanged
    work(app)  # the first sync
    (media,) = fake.add_media(1)
    fake.add_entry(viewer.id, media["id"], status="CURRENT", progress=4)  # something to pull
    scripted.post("/api/library/items", json={"source": "anilist", "anilist_id": 1,
                                              "title": "Cowboy Bebop", "progress": 3,
                                              "type": "anime"})  # fmt: skip
    work(app)  # the push
    assert alice.post("/api/anilist/sync").status_code in (200, 202)
    work(app)  # the pull
    assert [op for op in fake.operations if op == "SaveMediaListEntry"]

    with app.app_context():
        encrypted = db.session.scalar(select(AniListAccount.access_token_encrypted))
    codes = [variables["code"] for op, variables, _ in fake.requests if op == "oauth/token"]
    cookies = [c.value for c in person.client._cookies.values()] + [
        c.value for c in again.client._cookies.values()]  # fmt: skip
    secrets = {
        "password": password,
        "wrong password": wrong,
        "JWT": alice.token,
        "personal token": personal,
        "client secret": app.config["ANILIST_CLIENT_SECRET"],
        "secret key": app.config["SECRET_KEY"],
        "encryption key": app.config["ENCRYPTION_KEY"],
        "encrypted token": encrypted,
        **{f"AniList token {i}": t for i, t in enumerate(fake.tokens)},
        **{f"OAuth code {i}": c for i, c in enumerate(codes)},
        **{f"cookie {i}": c for i, c in enumerate(cookies) if len(c) >= 16},
    }
    assert fake.tokens and codes and cookies and encrypted
    everything = caplog.text  # as each record was logged, before any filter of ours
    written = output.getvalue()  # what the app's handler wrote
    assert "tracker.request" in everything and "tracker.clients.transport" in everything
    assert len(caplog.records) > 30
    for name, value in secrets.items():
        assert value not in everything, f"the {name} was logged"
        assert value not in written, f"the {name} was written"
