"""``GET /metrics``: who may read it, that its figures move when things happen, and the
admin's Operations section that says the same in words.

Counters belong to the process and only grow, so every test reads a figure before and
after what it does (the delta), and passes whatever ran before it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from tests.conftest import REPO, Browser, api_client_for, make_app, oauth_config, remote_config
from tests.fakes import FakeClock, closed_url
from tests.test_admin_pages import make_admin
from tests.test_anilist_sync import connect, work
from tracker import metrics
from tracker.clients import AniListClient, RateLimited
from tracker.clients.ratelimit import MemoryBudget
from tracker.clients.transport import _outcome_of
from tracker.config import ConfigError
from tracker.extensions import db
from tracker.models import Job, SyncOutbox, User, UserSession, utcnow
from tracker.services.operations import Overview, RemoteFigures
from tracker.settings.operations import describe

TOKEN = "metrics-token-for-the-tests-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def families(response) -> list:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(text_string_to_metric_families(response.get_data(as_text=True)))


def figure(client, name: str, **labels: str) -> float:
    """One figure from a scrape with the token (summed over the labels not given)."""
    return metrics.total(families(client.get("/metrics", headers=BEARER)), name, **labels)


@pytest.fixture
def metrics_app(app_factory):
    return app_factory(METRICS_TOKEN=TOKEN)


@pytest.fixture
def scraper(metrics_app):
    return metrics_app.test_client()


# --- who may read it --------------------------------------------------------------------


def test_metrics_are_off_without_a_token_or_an_allow_list(client):
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 404
    assert "tracker_" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token-of-some-length", f"Bearer {TOKEN}x",
     f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", f"Token {TOKEN}", TOKEN],
)  # fmt: skip
def test_a_missing_or_wrong_token_is_refused_without_figures(scraper, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = scraper.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "tracker_" not in response.get_data(as_text=True)


def test_the_token_opens_the_figures_in_prometheus_text(scraper):
    response = scraper.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.content_type.startswith("text/plain; version=0.0.4")
    names = {family.name for family in families(response)}
    assert {"tracker_http_requests", "tracker_http_request_duration_seconds",
            "tracker_remote_requests", "tracker_search_cache_lookups",
            "tracker_rate_budget_waits", "tracker_rate_budget_wait_seconds",
            "tracker_push_latency_seconds", "tracker_outbox_changes",
            "tracker_outbox_oldest_change_age_seconds", "tracker_jobs",
            "tracker_database_up"} <= names  # fmt: skip


def test_a_scraper_asking_for_openmetrics_gets_it(scraper):
    response = scraper.get(
        "/metrics", headers={**BEARER, "Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.status_code == 200
    assert response.content_type.startswith("application/openmetrics-text")
    assert response.get_data(as_text=True).rstrip().endswith("# EOF")


@pytest.fixture
def allow_list_app(app_factory):
    return app_factory(METRICS_ALLOW=["10.1.0.0/16", "192.0.2.7", "2001:db8::/32"])


@pytest.mark.parametrize("address", ["10.1.2.3", "192.0.2.7", "2001:db8::1", "::ffff:10.1.0.9"])
def test_an_allowed_address_reads_without_a_token(allow_list_app, address):
    client = allow_list_app.test_client()
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert families(response)


@pytest.mark.parametrize("address", ["10.2.0.1", "192.0.2.8", "127.0.0.1", "2001:db9::1"])
def test_any_other_address_is_refused(allow_list_app, address):
    client = allow_list_app.test_client()
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address}, headers=BEARER)
    assert response.status_code == 403
    assert "tracker_" not in response.get_data(as_text=True)


def test_the_address_is_the_one_a_trusted_proxy_forwarded(app_factory):
    behind_proxy = app_factory(METRICS_ALLOW="10.1.0.0/16", TRUSTED_PROXIES=1)
    response = behind_proxy.test_client().get(
        "/metrics",
        environ_base={"REMOTE_ADDR": "172.16.0.1"},
        headers={"X-Forwarded-For": "10.1.0.5"},
    )
    assert response.status_code == 200


def test_a_forwarded_address_is_not_believed_without_a_trusted_proxy(allow_list_app):
    response = allow_list_app.test_client().get(
        "/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"},
        headers={"X-Forwarded-For": "10.1.0.5"},
    )  # fmt: skip
    assert response.status_code == 403


def test_with_both_an_allowed_address_or_the_token_will_do(app_factory):
    both = app_factory(METRICS_TOKEN=TOKEN, METRICS_ALLOW=["10.1.0.0/16"]).test_client()
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert both.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.0.1"}).status_code == 200
    assert both.get("/metrics", environ_base=outside, headers=BEARER).status_code == 200
    assert both.get("/metrics", environ_base=outside).status_code == 401


@pytest.mark.parametrize(
    "config",
    [{"METRICS_TOKEN": "short"}, {"METRICS_TOKEN": f" {TOKEN} "},
     {"METRICS_ALLOW": ["10.0.0.0/33"]}, {"METRICS_ALLOW": "localhost"},
     {"METRICS_ALLOW": {"10.0.0.1": True}}],
)  # fmt: skip
def test_a_weak_token_or_a_bad_allow_list_stops_the_start(migrated, config):
    with pytest.raises(ConfigError, match="TRACKER_METRICS_"):
        make_app(migrated, **config)


def test_a_scrape_makes_no_session_and_sets_no_cookie(metrics_app):
    anonymous = metrics_app.test_client().get("/metrics", headers=BEARER)
    assert anonymous.status_code == 200
    assert "Set-Cookie" not in anonymous.headers
    # A browser that happens to carry a login cookie is not touched either.
    browser = Browser(metrics_app.test_client())
    assert browser.register().status_code == 302
    with metrics_app.app_context():
        sessions = db.session.scalar(select(func.count()).select_from(UserSession))
    with_cookie = browser.client.get("/metrics", headers=BEARER)
    assert with_cookie.status_code == 200
    assert "Set-Cookie" not in with_cookie.headers
    with metrics_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == sessions


def test_a_scraper_is_never_rate_limited(app_factory):
    limited = app_factory(METRICS_TOKEN=TOKEN, RATELIMIT_ENABLED=True,
                          RATELIMIT_DEFAULT="2 per minute").test_client()  # fmt: skip
    assert [limited.get("/metrics", headers=BEARER).status_code for _ in range(4)] == [200] * 4
    assert [limited.get("/api/health").status_code for _ in range(3)][-1] == 429


# --- requests ---------------------------------------------------------------------------


def test_a_request_counts_under_its_endpoint_and_status_class(scraper):
    labels = {"endpoint": "health.health", "method": "GET", "status": "2xx"}
    before = figure(scraper, "tracker_http_requests_total", **labels)
    timed = figure(scraper, "tracker_http_request_duration_seconds_count",
                   endpoint="health.health", status="2xx")  # fmt: skip
    assert scraper.get("/api/health").status_code == 200
    assert figure(scraper, "tracker_http_requests_total", **labels) == before + 1
    assert figure(scraper, "tracker_http_request_duration_seconds_count",
                  endpoint="health.health", status="2xx") == timed + 1  # fmt: skip


def test_unknown_paths_and_methods_create_no_new_labels(scraper):
    def label_sets():
        return {tuple(sorted(sample.labels.items()))
                for family in families(scraper.get("/metrics", headers=BEARER))
                if family.name.startswith("tracker_http_")
                for sample in family.samples}  # fmt: skip

    scraper.get("/no/such/page")
    scraper.open("/no/such/page", method="BREW")
    known = label_sets()
    unmatched = figure(scraper, "tracker_http_requests_total", endpoint="unmatched")
    for _ in range(25):
        scraper.get(f"/{uuid.uuid4()}/{uuid.uuid4()}?q={uuid.uuid4()}")
        scraper.open(f"/{uuid.uuid4()}", method=f"X{uuid.uuid4().hex[:8].upper()}")
    assert label_sets() == known
    assert figure(scraper, "tracker_http_requests_total", endpoint="unmatched") == unmatched + 50


def test_a_refused_scrape_counts_as_a_request_too(scraper):
    labels = {"endpoint": "monitoring.scrape", "status": "4xx"}
    before = figure(scraper, "tracker_http_requests_total", **labels)
    scraper.get("/metrics")
    assert figure(scraper, "tracker_http_requests_total", **labels) == before + 1


# --- remote sources ---------------------------------------------------------------------


@pytest.fixture
def remote_scraper(app_factory, fake_anilist, fake_mangadex, sleeps):
    app = app_factory(**remote_config(fake_anilist[1], fake_mangadex[1], sleeps),
                      METRICS_TOKEN=TOKEN)  # fmt: skip
    return app.test_client()


def search(client, source: str, media_type: str = "anime") -> dict:
    api = api_client_for(client.application, f"u{uuid.uuid4().hex[:10]}")
    query = f"frieren {uuid.uuid4().hex[:6]}"  # a new query: never a cached answer
    response = api.get("/api/sources/search",
                       query_string={"q": query, "type": media_type, "source": source})  # fmt: skip
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def remote_counts(client, source: str) -> dict[str, float]:
    parsed = families(client.get("/metrics", headers=BEARER))
    name = "tracker_remote_requests_total"
    return {
        outcome: metrics.total(parsed, name, source=source, outcome=outcome)
        for outcome in metrics.REMOTE_OUTCOMES
    }


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: after[key] - before[key] for key in after if after[key] != before[key]}


def test_anilist_requests_count_by_outcome(remote_scraper, fake_anilist):
    fake = fake_anilist[0]
    before = remote_counts(remote_scraper, "anilist")
    search(remote_scraper, "anilist")
    assert moved(before, remote_counts(remote_scraper, "anilist")) == {"ok": 1}

    before = remote_counts(remote_scraper, "anilist")
    fake.fail_next(429)
    assert search(remote_scraper, "anilist")["sources"]["anilist"] == "rate_limited"
    assert moved(before, remote_counts(remote_scraper, "anilist")) == {"rate_limited": 1}


def test_a_server_error_and_its_retry_count_apart(remote_scraper, fake_anilist):
    before = remote_counts(remote_scraper, "anilist")
    fake_anilist[0].fail_next(500)
    assert search(remote_scraper, "anilist")["sources"]["anilist"] == "ok"
    assert moved(before, remote_counts(remote_scraper, "anilist")) == {
        "server_error": 1, "ok": 1}  # fmt: skip


def test_a_refusal_counts_as_a_client_error(remote_scraper, fake_anilist):
    before = remote_counts(remote_scraper, "anilist")
    fake_anilist[0].fail_next(400)
    search(remote_scraper, "anilist")
    assert moved(before, remote_counts(remote_scraper, "anilist")) == {"client_error": 1}


def test_mangadex_requests_count_under_their_own_source(remote_scraper, fake_mangadex):
    before = remote_counts(remote_scraper, "mangadex")
    fake_mangadex[0].fail_next(503, times=3)  # every attempt of one search
    assert search(remote_scraper, "mangadex", "manga")["sources"]["mangadex"] == "unavailable"
    search(remote_scraper, "mangadex", "manga")
    assert moved(before, remote_counts(remote_scraper, "mangadex")) == {
        "server_error": 3, "ok": 1}  # fmt: skip


def test_a_connection_refused_counts_as_a_network_error(app_factory, fake_mangadex, sleeps):
    app = app_factory(**remote_config(closed_url(), fake_mangadex[1], sleeps),
                      METRICS_TOKEN=TOKEN)  # fmt: skip
    client = app.test_client()
    before = remote_counts(client, "anilist")
    search(client, "anilist")
    assert moved(before, remote_counts(client, "anilist")) == {"network_error": 3}


def test_a_timeout_is_told_from_other_network_errors():
    assert _outcome_of(requests.ConnectTimeout()) == metrics.TIMEOUT
    assert _outcome_of(requests.ReadTimeout()) == metrics.TIMEOUT
    assert _outcome_of(requests.ConnectionError()) == metrics.NETWORK_ERROR


def test_the_search_cache_counts_a_miss_then_a_hit(remote_scraper):
    api = api_client_for(remote_scraper.application, "alice")
    query = {"q": f"bebop {uuid.uuid4().hex[:6]}", "type": "anime", "source": "anilist"}

    def lookups(result: str) -> float:
        return figure(remote_scraper, "tracker_search_cache_lookups_total", source="anilist",
                      result=result)  # fmt: skip

    hits, misses = lookups("hit"), lookups("miss")
    api.get("/api/sources/search", query_string=query)
    assert (lookups("hit"), lookups("miss")) == (hits, misses + 1)
    api.get("/api/sources/search", query_string=query)
    assert (lookups("hit"), lookups("miss")) == (hits + 1, misses + 1)


# --- the request budget -----------------------------------------------------------------


def budget_figure(name: str, budget: str) -> float:
    return metrics.total(metrics.collect().collect(), name, budget=budget)


def test_a_wait_for_the_budget_is_counted_with_its_seconds():
    clock = FakeClock()
    label = f"test-{uuid.uuid4().hex[:8]}"
    budget = MemoryBudget(60, burst=1, clock=clock, sleep=clock.sleep, label=label)
    assert budget.acquire()
    assert budget_figure("tracker_rate_budget_waits_total", label) == 0
    assert budget.acquire(timeout=5)
    assert budget_figure("tracker_rate_budget_waits_total", label) == 1
    assert budget_figure("tracker_rate_budget_wait_seconds_total", label) == pytest.approx(1.0)


def test_a_request_the_spent_budget_refuses_is_counted(fake_anilist):
    clock = FakeClock()
    client = AniListClient(fake_anilist[1], budget=MemoryBudget(60, burst=1, clock=clock))
    before = budget_figure("tracker_rate_budget_refusals_total", "anilist")
    client.search_media("frieren", "anime", interactive=True)
    with pytest.raises(RateLimited):
        client.search_media("bebop", "anime", interactive=True)
    assert budget_figure("tracker_rate_budget_refusals_total", "anilist") == before + 1


# --- what waits in the database ---------------------------------------------------------


def a_user(app) -> int:
    api_client_for(app, f"u{uuid.uuid4().hex[:10]}")
    with app.app_context():
        return db.session.scalars(select(User.id).order_by(User.id.desc())).first()


def queue(app, user_id: int, *, age: float, last_error=None, failed=False) -> None:
    with app.app_context():
        created = utcnow() - timedelta(seconds=age)
        item = db.session.scalar(select(SyncOutbox.item_id).order_by(SyncOutbox.item_id.desc()))
        db.session.add(SyncOutbox(user_id=user_id, item_id=(item or 0) + 1, op="save",
                                  attempts=0, next_attempt_at=created, created_at=created,
                                  updated_at=created, last_error=last_error,
                                  failed_at=created if failed else None))  # fmt: skip
        db.session.commit()


def gauges(client) -> dict[tuple[str, tuple], float]:
    parsed = families(client.get("/metrics", headers=BEARER))
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in parsed for sample in family.samples}  # fmt: skip


def test_outbox_depth_and_oldest_age_by_state(metrics_app, scraper):
    user = a_user(metrics_app)
    queue(metrics_app, user, age=40)
    queue(metrics_app, user, age=10)
    queue(metrics_app, user, age=300, last_error="AniList unreachable: HTTP 503")
    queue(metrics_app, user, age=7200, last_error="AniList refused this entry", failed=True)
    found = gauges(scraper)

    def gauge(name, state):
        return found[(name, (("state", state),))]

    counts = {s: gauge("tracker_outbox_changes", s) for s in ("pending", "error", "quarantined")}
    assert counts == {"pending": 2, "error": 1, "quarantined": 1}
    ages = {s: gauge("tracker_outbox_oldest_change_age_seconds", s)
            for s in ("pending", "error", "quarantined")}  # fmt: skip
    assert 40 <= ages["pending"] < 100
    assert 300 <= ages["error"] < 360
    assert 7200 <= ages["quarantined"] < 7260
    assert found[("tracker_database_up", ())] == 1


def test_an_empty_outbox_reads_zero_in_every_state(scraper):
    found = gauges(scraper)
    for state in ("pending", "error", "quarantined"):
        assert found[("tracker_outbox_changes", (("state", state),))] == 0
        assert found[("tracker_outbox_oldest_change_age_seconds", (("state", state),))] == 0


def test_jobs_by_kind_and_state(metrics_app, scraper):
    user = a_user(metrics_app)
    with metrics_app.app_context():
        now = utcnow()
        for kind, state, age in [("anilist_sync", "queued", 30), ("anilist_sync", "queued", 5),
                                 ("anilist_sync", "running", 60), ("library_import", "done", 9),
                                 ("library_import", "failed", 9)]:  # fmt: skip
            db.session.add(Job(user_id=user, kind=kind, state=state, done=0, params={},
                               created_at=now - timedelta(seconds=age)))  # fmt: skip
        db.session.commit()
    found = gauges(scraper)

    def jobs(kind, state):
        return found.get(("tracker_jobs", (("kind", kind), ("state", state))))

    assert jobs("anilist_sync", "queued") == 2
    assert jobs("anilist_sync", "running") == 1
    assert jobs("library_import", "done") == 1
    assert jobs("library_import", "failed") == 1
    oldest = found[("tracker_jobs_oldest_age_seconds",
                    (("kind", "anilist_sync"), ("state", "queued")))]  # fmt: skip
    assert 30 <= oldest < 90
    assert ("tracker_jobs_oldest_age_seconds",
            (("kind", "library_import"), ("state", "done"))) not in found  # fmt: skip


def test_a_database_that_does_not_answer_still_gives_the_counted_figures(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/missing/dir/tracker.db", METRICS_TOKEN=TOKEN)
    response = app.test_client().get("/metrics", headers=BEARER)
    found = {family.name for family in families(response)}
    assert "tracker_http_requests" in found
    assert "tracker_outbox_changes" not in found
    assert metrics.total(families(app.test_client().get("/metrics", headers=BEARER)),
                         "tracker_database_up") == 0  # fmt: skip


# --- a change on its way to AniList, end to end -------------------------------------------


@pytest.fixture
def connected_scraper(app_factory, fake_anilist, fake_mangadex, sleeps, viewer):
    url = fake_anilist[1]
    app = app_factory(**remote_config(url, fake_mangadex[1], sleeps), **oauth_config(url),
                      METRICS_TOKEN=TOKEN)  # fmt: skip
    alice = api_client_for(app, "alice")
    connect(alice)
    return app, alice


def test_a_queued_change_shows_in_the_outbox_until_pushed_and_its_latency_is_observed(
    connected_scraper,
):
    app, alice = connected_scraper
    scraper = app.test_client()
    pushes = figure(scraper, "tracker_push_latency_seconds_count")
    saves = figure(scraper, "tracker_remote_requests_total", source="anilist", outcome="ok")
    alice.add(source="anilist", anilist_id=154587, title="Frieren", status="current")
    assert figure(scraper, "tracker_outbox_changes", state="pending") == 1
    work(app)
    assert figure(scraper, "tracker_outbox_changes", state="pending") == 0
    assert figure(scraper, "tracker_push_latency_seconds_count") == pushes + 1
    assert figure(scraper, "tracker_push_latency_seconds_sum") > 0
    assert figure(scraper, "tracker_remote_requests_total", source="anilist",
                  outcome="ok") >= saves + 1  # fmt: skip


def test_a_started_job_shows_as_queued(connected_scraper):
    app, alice = connected_scraper
    assert alice.post("/api/anilist/sync").status_code == 202
    scraper = app.test_client()
    assert figure(scraper, "tracker_jobs", state="queued") == 1


# --- several processes ------------------------------------------------------------------


def test_processes_sharing_a_directory_add_up(scraper, tmp_path, monkeypatch):
    """A worker process counts into PROMETHEUS_MULTIPROC_DIR; the web scrape reads it."""
    code = ("from tracker import metrics\n"
            "metrics.record_remote('AniList', metrics.OK, 0.2)\n"
            "metrics.record_push(3.0)\n")  # fmt: skip
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
                   "PYTHONPATH": str(REPO)}  # fmt: skip
    for _ in range(2):  # two worker processes
        subprocess.run([sys.executable, "-c", code], env=environment, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    parsed = families(scraper.get("/metrics", headers=BEARER))
    ok = metrics.total(parsed, "tracker_remote_requests_total", source="anilist", outcome="ok")
    assert ok == 2
    assert metrics.total(parsed, "tracker_push_latency_seconds_sum") == pytest.approx(6.0)


def test_a_missing_multiprocess_directory_stops_the_start(migrated, tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        make_app(migrated)


# --- the admin's Operations section -----------------------------------------------------


@pytest.fixture
def admin(app, logged_in):
    make_admin(app, "alice")
    return logged_in


def test_an_admin_reads_the_figures_in_words(app, admin):
    with app.app_context():
        alice = db.session.scalar(select(User.id).where(User.username == "alice"))
    queue(app, alice, age=40)
    admin.client.get("/api/health")
    page = admin.client.get("/settings")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="operations"' in body and 'href="#operations"' in body
    assert "1 pending, oldest" in body
    assert "AniList</dt>" in body and "MangaDex</dt>" in body
    assert "This process only" in body


def test_the_section_refreshes_as_a_fragment(app, admin):
    fragment = admin.client.get("/settings/operations", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert body.lstrip().startswith('<div id="operations-body"')
    assert "0 pending" in body
    assert admin.client.get("/settings/operations").status_code == 200  # the whole page


def test_others_never_see_the_section(app, logged_in):
    assert 'id="operations"' not in logged_in.client.get("/settings").get_data(as_text=True)
    assert logged_in.client.get("/settings/operations").status_code == 404
    assert app.test_client().get("/settings/operations").status_code == 404


def test_the_words_say_what_the_figures_count():
    outcomes = dict.fromkeys(metrics.REMOTE_OUTCOMES, 0) | {
        "ok": 1198,
        "rate_limited": 3,
        "server_error": 2,
        "timeout": 1,
    }
    overview = Overview(
        multiprocess=True, requests=5120, server_errors=2, mean_request_seconds=0.023,
        remotes=[RemoteFigures("AniList", 1204, outcomes, 0.21),
                 RemoteFigures("MangaDex", 0, dict.fromkeys(metrics.REMOTE_OUTCOMES, 0), None)],
        cache_hits=80, cache_misses=20, budget_waits=4, budget_wait_seconds=12.0,
        budget_refusals=2, pushes=57, mean_push_seconds=3.2,
        outbox={"pending": metrics.Backlog(12, 40.0), "error": metrics.Backlog(1, 300.0),
                "quarantined": metrics.Backlog(0, None)},
        jobs={("anilist_sync", "running"): metrics.Backlog(2, 75.0),
              ("library_import", "queued"): metrics.Backlog(1, 12.0),
              ("library_import", "done"): metrics.Backlog(30, 9000.0)},
    )  # fmt: skip
    words = dict(describe(overview))
    assert words["AniList"] == ("1,204 requests, 3 rate-limited, 2 server errors, 1 timed out; "
                                "210 ms on average.")  # fmt: skip
    assert words["MangaDex"] == "0 requests."
    assert words["Requests"] == "5,120 answered, 2 with a server error; 23 ms on average."
    assert words["Search cache"] == "80 hits, 20 misses (80 % answered from the cache)."
    assert (
        words["Request budget"] == "Waited 4 times (12 s in all); 2 not sent because it was spent."
    )
    assert words["Pushes"] == "57 changes reached AniList, 3.2 s after the change on average."
    assert words["Outbox"] == ("12 pending, oldest 40 s; 1 failed and waiting to retry, oldest "
                               "5 min; 0 refused by AniList until edited.")  # fmt: skip
    assert words["Jobs"] == (
        "2 running, 1 queued, 30 done (the oldest queued for 12 s). "
        "AniList sync: 2 running; file import preview: 1 queued, 30 done."
    )
    assert "Every web and worker process" in words["Counted"]


def test_quiet_figures_read_as_such():
    nothing = dict.fromkeys(metrics.REMOTE_OUTCOMES, 0)
    overview = Overview(
        multiprocess=False, requests=0, server_errors=0, mean_request_seconds=None,
        remotes=[RemoteFigures("AniList", 0, nothing, None)], cache_hits=0, cache_misses=0,
        budget_waits=0, budget_wait_seconds=0.0, budget_refusals=0, pushes=0,
        mean_push_seconds=None, outbox=None, jobs={},
    )  # fmt: skip
    words = dict(describe(overview))
    assert words["Request budget"] == "No waits; 0 not sent because it was spent."
    assert words["Outbox"] == "The database did not answer."
    assert words["Jobs"] == "None."
    assert words["Requests"] == "0 answered."
    assert "This process only" in words["Counted"]
