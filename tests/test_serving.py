"""Serving in production: gunicorn.conf.py, the check ``make serve`` runs first, and
gunicorn itself serving the app from a temporary SQLite database."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
import requests
from cryptography.fernet import Fernet
from flask_migrate import upgrade
from gunicorn.config import Config

from tests.conftest import CSRF_INPUT, TEST_CONFIG
from tracker import create_app, preflight
from tracker.extensions import db
from tracker.services import accounts

REPO = Path(__file__).resolve().parent.parent
CONF_SETTINGS = ("TRACKER_BIND", "PORT", "WEB_CONCURRENCY", "TRACKER_WEB_THREADS",
                 "TRACKER_WEB_TIMEOUT", "TRACKER_WEB_GRACEFUL_TIMEOUT", "TRACKER_WEB_KEEPALIVE",
                 "TRACKER_LOG_LEVEL", "PROMETHEUS_MULTIPROC_DIR")  # fmt: skip
SECRETS = {
    "TRACKER_SECRET_KEY": "a-production-secret-key-of-at-least-32-bytes",
    "TRACKER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
}


def load_conf(monkeypatch, **env: str) -> ModuleType:
    """gunicorn.conf.py executed as gunicorn executes it, under the environment given."""
    for name in CONF_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf", REPO / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gunicorn_settings(module: ModuleType) -> Config:
    """The module's settings through gunicorn's own validation, as ``-c`` applies them."""
    config = Config()
    for name, value in vars(module).items():
        if name in config.settings:
            config.set(name, value)
    return config


# --- gunicorn.conf.py -------------------------------------------------------------------


def test_the_defaults_suit_a_host_behind_a_proxy(monkeypatch):
    conf = load_conf(monkeypatch)
    config = gunicorn_settings(conf)
    cores = len(os.sched_getaffinity(0))
    assert config.bind == ["127.0.0.1:8000"]  # loopback: the proxy faces the world
    assert config.workers == min(2 * cores + 1, conf.MAX_WORKERS)
    assert 3 <= config.workers <= conf.MAX_WORKERS
    assert (config.threads, config.worker_class_str) == (4, "gthread")
    assert (config.timeout, config.graceful_timeout, config.keepalive) == (30, 30, 5)
    assert config.preload_app is False
    # Forwarded headers are judged by the app's ProxyFix alone (TRACKER_TRUSTED_PROXIES).
    assert config.forwarded_allow_ips == []
    assert "%({x-request-id}o)s" in config.access_log_format


def test_the_access_line_hides_secrets_in_urls(monkeypatch):
    config = gunicorn_settings(load_conf(monkeypatch))
    logger = config.logger_class(config)
    secret = "cal_" + "s3cr3t" * 6
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/anilist/callback?code=oauth-code-123&state=x",
        "PATH_INFO": f"/calendar/{secret}.ics",
        "QUERY_STRING": "code=oauth-code-123&state=x",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://example.org/calendar/{secret}.ics",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[("X-Request-ID", "r1")])
    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, timedelta(0))
    line = config.access_log_format % atoms
    assert "rid=r1" in line
    assert "oauth-code-123" not in line
    assert secret not in str([atoms[key] for key in ("r", "U", "q", "f")])


def test_the_environment_overrides_each_setting(monkeypatch):
    conf = load_conf(monkeypatch, WEB_CONCURRENCY="12", TRACKER_WEB_THREADS="2",
                     TRACKER_BIND="unix:/run/tracker.sock, 0.0.0.0:9000",
                     TRACKER_WEB_TIMEOUT="60", TRACKER_LOG_LEVEL="warning")  # fmt: skip
    config = gunicorn_settings(conf)
    assert config.bind == ["unix:/run/tracker.sock", "0.0.0.0:9000"]
    assert (config.workers, config.threads, config.timeout) == (12, 2, 60)  # past the cap
    assert config.loglevel == "warning"
    assert load_conf(monkeypatch, PORT="9001").bind == ["127.0.0.1:9001"]


@pytest.mark.parametrize("value", ["many", "0", "-2"])
def test_a_bad_number_stops_the_start_with_its_name(monkeypatch, value):
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be"):
        load_conf(monkeypatch, WEB_CONCURRENCY=value)


def _server():
    warnings: list[str] = []
    return SimpleNamespace(log=SimpleNamespace(warning=warnings.append)), warnings


def test_child_exit_does_nothing_without_prometheus_multiprocess(monkeypatch):
    conf = load_conf(monkeypatch)
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # not even importable
    server, warnings = _server()
    conf.child_exit(server, SimpleNamespace(pid=4242))
    assert warnings == []


def test_child_exit_warns_when_prometheus_client_is_missing(monkeypatch, tmp_path):
    conf = load_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    server, warnings = _server()
    conf.child_exit(server, SimpleNamespace(pid=4242))
    assert warnings == ["PROMETHEUS_MULTIPROC_DIR is set but prometheus_client is missing"]


def test_child_exit_marks_the_worker_dead_for_prometheus(monkeypatch, tmp_path):
    multiprocess = pytest.importorskip("prometheus_client.multiprocess")
    conf = load_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    dead: list[int] = []
    monkeypatch.setattr(multiprocess, "mark_process_dead", dead.append)
    conf.child_exit(_server()[0], SimpleNamespace(pid=4242))
    assert dead == [4242]


# --- the check before `make serve` ------------------------------------------------------


def _environment(**tracker: str) -> dict[str, str]:
    """This process's environment without any TRACKER_* setting, plus ``tracker``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    return {**kept, **tracker}


def test_make_serve_refuses_to_start_without_the_secrets(tmp_path):
    checked = subprocess.run(
        [sys.executable, "-m", "tracker.preflight"],
        env=_environment(TRACKER_ENV="production",
                         TRACKER_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}"),
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert checked.returncode == 1
    assert checked.stderr.startswith("Cannot serve: TRACKER_SECRET_KEY, TRACKER_ENCRYPTION_KEY")
    assert "must be set in production" in checked.stderr
    assert "Traceback" not in checked.stderr
    assert "make serve" in (REPO / "Makefile").read_text()  # the target runs this check first


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("TRACKER_SECRET_KEY", "short", "at least 32 bytes"),
        ("TRACKER_ENCRYPTION_KEY", "not-a-fernet-key", "not a Fernet key"),
        ("TRACKER_ENV", "development", "serves production only"),
    ],
)
def test_the_check_names_what_is_wrong(monkeypatch, tmp_path, setting, value, says):
    for name in [n for n in os.environ if n.startswith("TRACKER_")]:
        monkeypatch.delenv(name)
    environment = {**SECRETS, "TRACKER_ENV": "production", setting: value,
                   "TRACKER_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}  # fmt: skip
    for name, given in environment.items():
        monkeypatch.setenv(name, given)
    (problem,) = preflight.problems()
    assert says in problem


def test_the_check_passes_with_the_secrets(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("TRACKER_")]:
        monkeypatch.delenv(name)
    for name, given in {**SECRETS, "TRACKER_ENV": "production"}.items():
        monkeypatch.setenv(name, given)
    monkeypatch.setenv("TRACKER_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'x.db'}")
    assert preflight.problems() == []


# --- gunicorn serving the app -----------------------------------------------------------


def _until(ready, timeout: float, what: str, process: subprocess.Popen):
    """Poll ``ready`` until it returns something true (bounded; fails if gunicorn ended)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = ready()
        if answer:
            return answer
        assert process.poll() is None, f"gunicorn ended while waiting for {what}"
        assert time.monotonic() < deadline, f"gave up waiting {timeout:.0f} s for {what}"
        time.sleep(0.05)  # the poll's interval, not a wait for something to happen


def _health(base: str) -> requests.Response | None:
    try:
        answer = requests.get(f"{base}/api/health", timeout=5)
    except requests.RequestException:  # refused, or queued while the workers boot
        return None
    return answer if answer.status_code == 200 else None


@pytest.mark.serving
def test_gunicorn_serves_pages_and_stops_cleanly(tmp_path):
    """Two workers on a socket bound here, production settings, SQLite in a temp file."""
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    hashing = TEST_CONFIG["PASSWORD_HASH_PARAMS"]
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database})
    with app.app_context():
        upgrade()
        accounts.register("alice", "password123")
        db.engine.dispose()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.set_inheritable(True)
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    environment = _environment(
        **SECRETS, TRACKER_ENV="production", TRACKER_SQLALCHEMY_DATABASE_URI=database,
        TRACKER_SESSION_COOKIE_SECURE="false", TRACKER_PASSWORD_HASH_PARAMS=json.dumps(hashing),
        TRACKER_BIND=f"fd://{listener.fileno()}", WEB_CONCURRENCY="2",
    )  # fmt: skip
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=REPO, env=environment, pass_fds=[listener.fileno()], stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    listener.close()  # gunicorn has its own copy
    try:
        health = _until(lambda: _health(base), 60, "the first answer", server)
        assert health.json()["database"] == "ok"
        person = requests.Session()
        token = CSRF_INPUT.search(person.get(f"{base}/login", timeout=10).text).group(1)
        # A client's own X-Forwarded-Proto is believed by no one (no proxy is trusted):
        # were the request taken for HTTPS, CSRF would want a Referer and refuse it.
        landed = person.post(
            f"{base}/login", data={"username": "alice", "password": "password123",
                                   "csrf_token": token},
            headers={"X-Forwarded-Proto": "https"}, timeout=10,
        )  # fmt: skip
        assert landed.status_code == 200 and "Your library" in landed.text
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    said = log.read_text()
    assert code == 0, said
    assert "Shutting down: Master" in said and "Traceback" not in said
    # The access log line, with the request id's place (``-`` until the app sends one).
    assert re.search(r'^127\.0\.0\.1 "GET /api/health HTTP/1\.1" 200 \d+ \d+ms rid=\S+', said,
                     re.MULTILINE), said  # fmt: skip
