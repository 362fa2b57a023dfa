"""Failed sign-ins back off per account and per address, in a store every process shares."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from sqlalchemy import select as sql_select

from tests.conftest import REPO, TEST_CONFIG, Browser
from tests.fakes import FakeClock
from tests.test_auth_api import error_of
from tracker.extensions import db
from tracker.models import AuthThrottle
from tracker.services import accounts, throttle
from tracker.services.errors import Throttled, Unauthorized

FREE = 5  # the default TRACKER_LOGIN_FREE_FAILURES


# --- the rule, with the clock in hand (database and Redis alike) -----------------------


@pytest.fixture(params=["database", "redis"])
def store(request, app: Flask) -> Iterator[throttle.ThrottleStore]:
    """The app's throttle store: its database, or Redis under a prefix of this test's own."""
    if request.param == "database":
        with app.app_context():
            engine = db.engine
        yield throttle.DatabaseThrottleStore(engine)
        return
    client = request.getfixturevalue("redis_client")
    prefix = f"tracker-test:throttle:{uuid.uuid4().hex}:"
    with app.app_context():
        fallback = throttle.DatabaseThrottleStore(db.engine)
    yield throttle.RedisThrottleStore(client, fallback, prefix)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


@pytest.fixture
def ctx(app: Flask, store) -> Iterator[None]:
    """An app context whose throttle uses ``store``."""
    with app.app_context():
        saved = app.extensions.get("tracker.throttle")
        app.extensions["tracker.throttle"] = store
        yield
        if saved is None:
            app.extensions.pop("tracker.throttle")
        else:
            app.extensions["tracker.throttle"] = saved


T0 = 1_800_000_000.0


def retry_after(keys, now: float) -> int | None:
    try:
        throttle.check(keys, now=now)
    except Throttled as exc:
        return exc.retry_after
    return None


def fail_until_blocked(keys, now: float, times: int) -> float:
    """``times`` failures, each as soon as the last block allows; returns the time."""
    for _ in range(times):
        wait = retry_after(keys, now)
        now += wait or 0
        throttle.failed(keys, now=now)
    return now


def test_the_free_failures_pass_then_each_one_doubles_the_wait(ctx):
    keys = throttle.sign_in_keys("alice", "192.0.2.1")
    for _ in range(FREE):
        throttle.failed(keys, now=T0)
        assert retry_after(keys, T0) is None
    waits = []
    now = T0
    for _ in range(5):
        throttle.failed(keys, now=now)
        waits.append(retry_after(keys, now))
        now += waits[-1]
        assert retry_after(keys, now) is None  # the wait is over exactly then
    assert waits == [1, 2, 4, 8, 16]


def test_an_account_waits_at_most_a_minute_and_an_address_longer(ctx):
    account, address = throttle.sign_in_keys("alice", "192.0.2.1")
    now = fail_until_blocked([account], T0, 20)
    assert retry_after([account], now) == 60
    now = fail_until_blocked([address], T0, 20)
    assert retry_after([address], now) == 900


def test_a_blocked_key_blocks_the_attempt_whichever_it_is(ctx):
    fail_until_blocked(throttle.sign_in_keys("alice", "192.0.2.1"), T0, FREE + 1)
    # The same account from elsewhere, and someone else from the same address.
    assert retry_after(throttle.sign_in_keys("ALICE", "198.51.100.7"), T0) == 1
    assert retry_after(throttle.sign_in_keys("bob", "192.0.2.1"), T0) == 1
    assert retry_after(throttle.sign_in_keys("bob", "198.51.100.7"), T0) is None


def test_a_success_forgets_the_account_but_not_the_address(ctx):
    keys = throttle.sign_in_keys("alice", "192.0.2.1")
    now = fail_until_blocked(keys, T0, FREE + 2)
    now += retry_after(keys, now)
    throttle.succeeded(keys)
    account, address = keys
    throttle.failed([account], now=now)
    assert retry_after([account], now) is None  # counting from one again
    throttle.failed([address], now=now)
    assert retry_after([address], now) == 4  # the address's eighth failure


def test_a_quiet_hour_forgets_the_failures(ctx):
    keys = throttle.sign_in_keys("alice", "192.0.2.1")
    now = fail_until_blocked(keys, T0, FREE + 3)
    now += throttle.FORGET_AFTER
    throttle.failed(keys, now=now)
    assert retry_after(keys, now) is None


def test_the_ipv6_neighbours_of_an_address_count_together(ctx):
    fail_until_blocked(throttle.sign_in_keys("a", "2001:db8:1:2::1"), T0, FREE + 1)
    assert retry_after(throttle.sign_in_keys("b", "2001:db8:1:2:ffff::9"), T0) == 1
    assert retry_after(throttle.sign_in_keys("b", "2001:db8:1:3::1"), T0) is None


def test_a_long_username_still_gets_a_key_of_its_own(ctx):
    long_name = "x" * 5000
    keys = throttle.sign_in_keys(long_name, "192.0.2.1")
    assert all(len(k.name) <= throttle.MAX_KEY for k in keys)
    fail_until_blocked(keys[:1], T0, FREE + 1)
    assert retry_after(throttle.sign_in_keys(long_name.upper(), "::1"), T0) == 1
    assert retry_after(throttle.sign_in_keys("x" * 4999, "::1"), T0) is None


def test_simultaneous_failures_all_count(ctx, store):
    name = "account:crowd"
    barrier = threading.Barrier(8)
    counts: list[int] = []

    def fail() -> None:
        barrier.wait()
        for _ in range(5):
            counts.append(store.count_failure(name, T0))

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(counts) == list(range(1, 41))


def test_quiet_counters_are_removed_from_the_database(app: Flask):
    with app.app_context():
        throttle.failed(throttle.sign_in_keys("old", "192.0.2.1"), now=T0)
        throttle.failed(throttle.sign_in_keys("new", "192.0.2.2"), now=T0 + 3000)
        assert throttle.forget_quiet(now=T0 + throttle.FORGET_AFTER + 1) == 2
        left = db.session.scalars(sql_select(AuthThrottle.key)).all()
        assert sorted(left) == ["account:new", "address:192.0.2.2"]


def test_redis_is_the_store_when_configured(app: Flask):
    config = {"REDIS_URL": "redis://127.0.0.1:6379/0"}
    with app.app_context():
        assert isinstance(throttle.store_for(config, db.engine), throttle.RedisThrottleStore)
        assert isinstance(throttle.store_for({}, db.engine), throttle.DatabaseThrottleStore)


# --- the login page and the token endpoint ----------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def timed_app(app_factory, clock) -> Flask:
    return app_factory(THROTTLE_CLOCK=clock)


@pytest.fixture
def person(timed_app: Flask) -> Browser:
    browser = Browser(timed_app.test_client())
    assert browser.register().status_code == 302
    browser.client.post("/logout", data={"csrf_token": browser.csrf_token()})
    return browser


def test_the_login_page_backs_off_after_the_free_failures(person, clock):
    statuses = [person.login(password="wrong-guess").status_code for _ in range(FREE + 1)]
    assert statuses == [401] * (FREE + 1)
    refused = person.login()  # even the right password, while blocked
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    page = refused.get_data(as_text=True)
    assert "Too many failed sign-ins; try again in 1 second." in page
    assert 'name="password"' in page  # the form, to try again
    clock.now += 1
    assert person.login().status_code == 302


def test_the_token_endpoint_backs_off_after_the_free_failures(person, clock):
    client = person.client

    def token(password: str):
        return client.post("/api/auth/token", data={"username": "alice", "password": password})

    assert [token("wrong-guess").status_code for _ in range(FREE + 2)][-2:] == [401, 429]
    clock.now += 1
    assert token("wrong-guess").status_code == 401  # the seventh failure: two seconds
    refused = token("password123")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"
    assert error_of(refused) == {
        "code": "rate_limited",
        "message": "Too many failed sign-ins; try again in 2 seconds.",
        "fields": {},
    }
    clock.now += 2
    assert token("password123").status_code == 200


def test_a_blocked_attempt_never_checks_the_password(person, monkeypatch):
    for _ in range(FREE + 1):
        person.login(password="wrong-guess")
    checked = []
    monkeypatch.setattr(accounts, "authenticate", lambda *a: checked.append(a))
    assert person.login().status_code == 429
    assert person.client.post("/api/auth/token", data={"username": "alice",
                              "password": "password123"}).status_code == 429  # fmt: skip
    assert checked == []


def test_a_successful_sign_in_starts_the_account_afresh(person):
    for _ in range(FREE):
        person.login(password="wrong-guess")
    assert person.login().status_code == 302
    person.client.post("/logout", data={"csrf_token": person.csrf_token()})
    attempt = {"username": "alice", "password": "wrong-guess"}
    other_address = {"REMOTE_ADDR": "198.51.100.7"}
    statuses = [
        person.client.post("/api/auth/token", data=attempt, environ_base=other_address).status_code
        for _ in range(FREE + 1)
    ]
    assert statuses == [401] * (FREE + 1)


def test_an_account_is_throttled_from_every_address(person):
    attempt = {"username": "alice", "password": "wrong-guess"}
    for n in range(FREE + 1):
        address = {"REMOTE_ADDR": f"198.51.100.{n + 1}"}
        person.client.post("/api/auth/token", data=attempt, environ_base=address)
    fresh = {"REMOTE_ADDR": "203.0.113.50"}
    refused = person.client.post("/api/auth/token", data=attempt, environ_base=fresh)
    assert refused.status_code == 429


def test_an_address_is_throttled_for_every_account(person):
    for n in range(FREE + 1):
        person.client.post("/api/auth/token", data={"username": f"guess{n}", "password": "x"})
    refused = person.client.post("/api/auth/token", data={"username": "alice",
                                 "password": "password123"})  # fmt: skip
    assert refused.status_code == 429


def addresses_counted(app: Flask) -> list[str]:
    with app.app_context():
        keys = db.session.scalars(sql_select(AuthThrottle.key)).all()
        db.session.remove()
    return sorted(k for k in keys if k.startswith("address:"))


@pytest.mark.parametrize(
    "hops, forwarded, counted",
    [
        (0, "203.0.113.9", "address:127.0.0.1"),  # no proxy trusted: the header is a claim
        (1, "203.0.113.9", "address:203.0.113.9"),
        (1, "10.6.6.6, 203.0.113.9", "address:203.0.113.9"),  # only the proxy's own hop
        (2, "10.6.6.6, 203.0.113.9", "address:10.6.6.6"),
    ],
)
def test_the_client_address_comes_from_trusted_proxies_only(app_factory, hops, forwarded, counted):
    app = app_factory(TRUSTED_PROXIES=hops)
    app.test_client().post(
        "/api/auth/token",
        data={"username": "alice", "password": "x"},
        headers={"X-Forwarded-For": forwarded},
    )
    assert addresses_counted(app) == [counted]


def test_the_api_and_the_page_share_the_counts_in_redis(app, redis_client, clock):
    prefix = f"tracker-test:throttle:{uuid.uuid4().hex}:"
    with app.app_context():
        fallback = throttle.DatabaseThrottleStore(db.engine)
    app.extensions["tracker.throttle"] = throttle.RedisThrottleStore(redis_client, fallback, prefix)
    try:
        browser = Browser(app.test_client())
        for _ in range(FREE - 1):
            assert browser.login(password="wrong-guess").status_code == 401
        attempt = {"username": "alice", "password": "wrong-guess"}
        for expected in (401, 401, 429):
            assert browser.client.post("/api/auth/token", data=attempt).status_code == expected
        assert browser.login().status_code == 429
        assert redis_client.hget(f"{prefix}account:alice", "failures") == str(FREE + 1).encode()
    finally:
        app.extensions.pop("tracker.throttle")
        for key in redis_client.scan_iter(f"{prefix}*"):
            redis_client.delete(key)


def test_sign_ins_are_counted_in_the_database_while_redis_is_out_of_reach(app_factory, clock):
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0", THROTTLE_CLOCK=clock)  # nothing there
    browser = Browser(app.test_client())
    assert browser.register().status_code == 302
    browser.client.post("/logout", data={"csrf_token": browser.csrf_token()})
    for _ in range(FREE):
        assert browser.login(password="wrong-guess").status_code == 401
    assert browser.login(password="wrong-guess").status_code == 401
    assert browser.login().status_code == 429  # blocked, not a 500
    with app.app_context():
        assert db.session.get(AuthThrottle, "account:alice").failures == FREE + 1


def test_unthrottled_failures_still_say_wrong_password(app_factory):
    client = app_factory().test_client()
    response = client.post("/api/auth/token", data={"username": "nobody", "password": "x"})
    assert response.status_code == 401
    assert "Retry-After" not in response.headers


def test_the_throttle_raises_only_for_wrong_passwords(app: Flask):
    """``guard`` counts ``Unauthorized`` and nothing else."""
    keys = [throttle.Key("account:guarded", 60)]
    with app.app_context():

        def broken():
            raise RuntimeError("not a failed sign-in")

        for _ in range(FREE + 3):
            with pytest.raises(RuntimeError):
                throttle.guard(keys, broken, now=T0)
        for _ in range(FREE + 1):
            with pytest.raises(Unauthorized):
                throttle.guard(keys, lambda: accounts.authenticate("nobody", "x"), now=T0)
        with pytest.raises(Throttled):
            throttle.guard(keys, lambda: "never run", now=T0)


# --- two worker processes -----------------------------------------------------------------

SERVER = """
import json, sys
from werkzeug.serving import make_server
from tracker import create_app

config = json.loads(sys.argv[1])
config["THROTTLE_CLOCK"] = lambda: 1_800_000_000.0  # frozen: no block runs out mid-test
server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""
STARTUP_DEADLINE = 60.0


def start_server(database_url: str, deadline: float) -> tuple[subprocess.Popen, str]:
    config = json.dumps({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, config],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
    line = process.stdout.readline() if ready else ""
    if not line.strip().isdigit():
        process.kill()
        pytest.fail(f"the server process did not start (exit code {process.poll()})")
    return process, f"http://127.0.0.1:{line.strip()}"


def wait_until_healthy(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/health", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)  # polling a server that is starting, bounded by the deadline
    pytest.fail(f"{url} never answered")


@pytest.fixture
def two_processes(app: Flask) -> Iterator[list[str]]:
    """Two server processes on the test database, as two workers of one deployment."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    started: list[subprocess.Popen] = []
    urls = []
    try:
        for _ in range(2):
            process, url = start_server(app.config["SQLALCHEMY_DATABASE_URI"], deadline)
            started.append(process)
            urls.append(url)
        for url in urls:
            wait_until_healthy(url, deadline)
        yield urls
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_the_backoff_holds_across_two_worker_processes(two_processes):
    first, second = two_processes
    alice = {"username": "alice", "password": "password123"}
    created = requests.post(f"{first}/api/auth/register", json=alice, timeout=10)
    assert created.status_code == 201

    def token(url: str, password: str) -> requests.Response:
        form = {"username": "alice", "password": password}
        return requests.post(f"{url}/api/auth/token", data=form, timeout=10)

    statuses = [token((first, second)[n % 2], "wrong-guess").status_code for n in range(FREE + 1)]
    assert statuses == [401] * (FREE + 1)  # three failures in each process
    for url in (first, second):
        refused = token(url, "password123")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
    # The login page of either process says the same.
    page = requests.Session()
    form = page.get(f"{first}/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    login = {"username": "alice", "password": "password123", "csrf_token": csrf}
    answer = page.post(f"{first}/login", data=login, allow_redirects=False, timeout=10)
    assert answer.status_code == 429
    assert "Too many failed sign-ins" in answer.text
