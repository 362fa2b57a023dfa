"""Settings → AniList: connecting, the connection's state, and import/sync jobs, as the
htmx fragments the page swaps. AniList is the fake, over real HTTP; the worker is run
by hand between polls (``work``), so no test waits."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import Browser, HtmxClient
from tests.test_anilist_sync import work
from tests.test_library_pages import add, elements, one, text, toast_of, triggers
from tracker.extensions import db
from tracker.models import Job

STATUS, CONNECT = "/settings/anilist", "/settings/anilist/connect"
IMPORT, SYNC = "/settings/anilist/import", "/settings/anilist/sync"


def person(app, username: str = "alice") -> HtmxClient:
    browser = Browser(app.test_client())
    assert browser.register(username).status_code == 302
    return HtmxClient(browser)


@pytest.fixture
def alice(anilist_app) -> HtmxClient:
    return person(anilist_app)


def approve_on_anilist(alice: HtmxClient) -> str:
    """Follow "Connect AniList" to the fake's consent page; the callback's query string."""
    to_anilist = alice.browser.client.get(CONNECT)
    assert to_anilist.status_code == 302
    back = requests.get(to_anilist.headers["Location"], allow_redirects=False, timeout=5)
    assert back.status_code == 302, back.text
    return urlsplit(back.headers["Location"]).query


def come_back_from_anilist(alice: HtmxClient):
    return alice.browser.client.get(f"/api/anilist/callback?{approve_on_anilist(alice)}")


@pytest.fixture
def connected(alice, viewer) -> HtmxClient:
    assert come_back_from_anilist(alice).status_code == 302
    return alice


@pytest.fixture
def anilist_list(fake, viewer) -> None:
    fake.add_entry(viewer.id, 1, status="PAUSED", progress=10, score=85)
    fake.add_entry(viewer.id, 154587, status="CURRENT", progress=3)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def section(client: HtmxClient) -> str:
    response = client.get(STATUS)
    assert response.status_code == 200
    return html_of(response)


def poll(client: HtmxClient, fragment: str):
    """What htmx does with a job fragment: ask its hx-get URL."""
    return client.get(one(fragment, "div", hx_trigger="load delay:1s")["hx-get"])


# --- not configured ------------------------------------------------------------------------


def test_without_credentials_the_section_says_how_to_set_them(htmx):
    html = section(htmx)
    said = text(html)
    assert "AniList is not set up on this server." in said
    assert "TRACKER_ANILIST_CLIENT_ID" in said and "TRACKER_ANILIST_CLIENT_SECRET" in said
    assert "http://localhost/api/anilist/callback" in said  # the redirect URL to register
    assert not elements(html, "a", href=CONNECT)


def test_connecting_without_credentials_goes_back_to_settings_with_the_reason(htmx):
    response = htmx.browser.client.get(CONNECT)
    assert response.status_code == 303
    assert response.headers["Location"] == "/settings#anilist"
    page = html_of(htmx.browser.client.get("/settings"))
    assert "TRACKER_ANILIST_CLIENT_ID" in text(one_flash(page))


def one_flash(page: str) -> str:
    return page.split('<ul class="flashes">')[1].split("</ul>")[0]


# --- connecting ----------------------------------------------------------------------------


def test_a_disconnected_account_is_offered_the_connect_button(alice):
    html = section(alice)
    assert "Connect AniList" in text(one_link(html, CONNECT))
    assert "not set up" not in text(html)


def one_link(html: str, href: str) -> str:
    """The inside of the one link to ``href``."""
    one(html, "a", href=href)
    return html.split(f'href="{href}"')[1].split(">", 1)[1].split("</a>")[0]


def test_connect_sends_the_browser_to_anilist_with_a_state(alice, fake_anilist):
    response = alice.browser.client.get(CONNECT)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{fake_anilist[1]}/api/v2/oauth/authorize?")
    assert "client_id=tracker-test-client" in location and "state=" in location


def test_coming_back_from_anilist_lands_on_settings_saying_connected(alice, viewer):
    landing = come_back_from_anilist(alice)
    assert landing.headers["Location"] == "/settings?connected=ayaka"
    page = html_of(alice.browser.client.get(landing.headers["Location"]))
    assert one(page, "p", role="status")
    assert "Connected to AniList as ayaka." in text(page)
    assert "Connected as ayaka" in text(page)


def test_a_connected_notice_needs_a_real_connection(alice):
    page = html_of(alice.browser.client.get("/settings?connected=mallory"))
    assert "mallory" not in page


# --- connected -----------------------------------------------------------------------------


def test_the_connected_section_shows_the_account_and_its_state(connected):
    html = section(connected)
    assert text(one_link(html, "https://anilist.co/user/ayaka")) == "ayaka"
    said = text(html)
    assert "Connected as ayaka OK" in said
    assert "Last sync Never" in said
    assert "Waiting to be sent 0 changes" in said
    assert "Last error –" in said


def test_the_connected_section_offers_sync_import_and_disconnect(connected):
    html = section(connected)
    for url, label in ((SYNC, "Sync now"), (IMPORT, "Import from AniList")):
        form = one(html, "form", hx_post=url)
        assert (form["hx-target"], form["hx-swap"]) == ("#anilist-job", "innerHTML")
        assert form["action"] == url  # a plain form without JavaScript
        assert label in text(html.split(f'hx-post="{url}"')[1].split("</form>")[0])
    disconnect = one(html, "form", hx_post="/settings/anilist/disconnect")
    assert disconnect["hx-confirm"].startswith("Disconnect AniList account ayaka?")


def test_changes_waiting_for_anilist_are_counted(connected):
    add(connected, title="Cowboy Bebop", source="anilist", anilist_id="1")
    assert "Waiting to be sent 1 change" in text(section(connected))


def test_the_last_error_is_shown(anilist_app, connected, fake):
    fake.down = True
    add(connected, title="Cowboy Bebop", source="anilist", anilist_id="1")
    work(anilist_app)
    assert "Last error Waiting for AniList: AniList unreachable" in text(section(connected))


def test_a_refused_token_asks_prominently_for_reconnecting(anilist_app, connected, fake, viewer):
    fake.revoke(next(t for t, uid in fake.tokens.items() if uid == viewer.id))
    add(connected, title="Cowboy Bebop", source="anilist", anilist_id="1")
    work(anilist_app)
    html = section(connected)
    alert = html.split('role="alert"')[1].split("</div>")[0]
    assert "AniList needs reconnecting." in text(alert)
    assert "Reconnect AniList" in text(one_link(html, CONNECT))
    assert "Needs reconnecting" in text(html)
    assert "reconnect in Settings" in text(html)  # the last error
    assert not elements(html, "form", hx_post=SYNC)


def test_disconnecting_answers_the_disconnected_section(connected):
    response = connected.post("/settings/anilist/disconnect")
    assert response.status_code == 200
    assert one(html_of(response), "div", id="anilist-status")
    assert "Connect AniList" in text(one_link(html_of(response), CONNECT))
    assert toast_of(response)["message"].startswith("Disconnected from AniList.")


def test_disconnecting_twice_says_it_was_already_done(connected):
    connected.post("/settings/anilist/disconnect")
    response = connected.post("/settings/anilist/disconnect")
    assert response.status_code == 200
    assert toast_of(response) == {"message": "AniList was already disconnected.", "level": "info"}


def test_the_section_reloads_itself_when_the_server_says_anilist_changed(connected):
    status = one(section(connected), "div", id="anilist-status")
    assert (status["hx-get"], status["hx-trigger"]) == (STATUS, "anilist-changed from:body")


# --- jobs ----------------------------------------------------------------------------------


def test_import_answers_a_fragment_that_polls_its_job(connected):
    response = connected.post(IMPORT)
    assert response.status_code == 200
    html = html_of(response)
    poller = one(html, "div", hx_trigger="load delay:1s")
    assert poller["hx-get"].startswith("/settings/anilist/jobs/")
    assert poller["hx-swap"] == "outerHTML"
    assert "Import from AniList: waiting to start…" in text(html)


def test_a_job_under_way_shows_again_after_a_reload(connected):
    connected.post(IMPORT)
    page = connected.browser.client.get("/settings")
    html = html_of(page)
    poller = one(html, "div", hx_trigger="load delay:1s")
    assert poller["hx-get"].startswith("/settings/anilist/jobs/")
    assert "Import from AniList: waiting to start…" in text(html)


@pytest.mark.usefixtures("anilist_list")
def test_a_finished_import_shows_its_result_and_stops_polling(anilist_app, connected):
    started = html_of(connected.post(IMPORT))
    work(anilist_app)
    response = poll(connected, started)
    html = html_of(response)
    assert "Import from AniList: done — 2 added, 0 updated, 0 unchanged, 0 conflicts." in text(html)
    assert "hx-trigger" not in html
    assert triggers(response)["anilist-changed"] is True
    assert toast_of(response)["message"] == "Import from AniList finished."


def test_a_running_job_shows_its_progress_and_keeps_polling(anilist_app, connected):
    started = html_of(connected.post(IMPORT))
    with anilist_app.app_context():
        db.session.query(Job).update({"state": "running", "done": 120, "total": 120})
        db.session.commit()
    html = html_of(poll(connected, started))
    assert "Import from AniList: running — 120 entries read" in text(html)
    assert one(html, "div", hx_trigger="load delay:1s")


@pytest.mark.usefixtures("anilist_list")
def test_sync_now_runs_a_sync_and_shows_its_result(anilist_app, connected, fake, viewer):
    connected.post(IMPORT)
    work(anilist_app)
    entry = next(e for e in fake.entries_of(viewer.id) if e.media_id == 1)
    entry.progress, entry.updated_at = 20, entry.updated_at + 100
    started = html_of(connected.post(SYNC))
    assert "Sync with AniList: waiting to start…" in text(started)
    work(anilist_app)
    done = text(html_of(poll(connected, started)))
    assert "Sync with AniList: done — 0 added, 1 updated, 1 unchanged, 0 conflicts." in done


@pytest.mark.usefixtures("anilist_list")
def test_sync_everything_reads_the_whole_anilist_list(anilist_app, connected, fake):
    html = section(connected)
    button = one(html, "button", name="full")
    in_sync_form = html.split(f'hx-post="{SYNC}"')[1].split("</form>")[0]
    assert 'name="full"' in in_sync_form and "Sync everything" in text(in_sync_form)
    work(anilist_app)  # the import that connecting started
    fake.requests.clear()
    connected.post(SYNC, data={"full": button["value"]})
    work(anilist_app)
    assert fake.operations == ["MediaListCollection", "MediaListCollection"]


def test_a_failed_job_says_why(anilist_app, connected, fake, viewer):
    work(anilist_app)  # the import that connecting started
    fake.revoke(next(t for t, uid in fake.tokens.items() if uid == viewer.id))
    started = html_of(connected.post(SYNC))
    work(anilist_app)
    response = poll(connected, started)
    html = html_of(response)
    assert one(html, "p", role="alert")
    reason = "AniList refused the token: reconnect in Settings."
    assert f"Sync with AniList failed: {reason}" in text(html)
    assert "hx-trigger" not in html
    assert toast_of(response)["level"] == "error"


def test_another_users_job_is_not_found(anilist_app, connected):
    job_url = one(html_of(connected.post(IMPORT)), "div", hx_trigger="load delay:1s")["hx-get"]
    response = person(anilist_app, "mallory").get(job_url)
    assert response.status_code == 404
    assert text(html_of(response)) == "No such job."
    assert "Import" not in html_of(response)


def test_starting_a_job_without_a_connection_says_so(alice):
    response = alice.post(IMPORT)
    assert response.status_code == 404
    assert text(html_of(response)) == "Connect an AniList account first."
    assert triggers(response)["anilist-changed"] is True  # the section catches up


def test_import_without_htmx_shows_the_job_on_the_settings_page(connected):
    client = connected.browser.client
    response = client.post(IMPORT, data={"csrf_token": connected.token})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/settings/anilist/jobs/")
    page = html_of(client.get(response.headers["Location"]))
    assert "<html" in page and "Connected as ayaka" in text(page)
    assert "Import from AniList: waiting to start…" in text(page.split('id="anilist-job"')[1])


@pytest.mark.usefixtures("anilist_list")
def test_after_an_import_the_section_and_the_rows_say_synced(anilist_app, connected):
    connected.post(IMPORT)
    work(anilist_app)
    assert "Last sync Never" not in text(section(connected))
    rows = html_of(connected.browser.client.get("/library"))
    assert len(elements(rows, "span", **{"class": "badge sync-badge sync-synced"})) == 2


# --- the page as a whole -------------------------------------------------------------------


def test_every_control_on_the_connected_settings_page_has_a_label(connected):
    page = html_of(connected.browser.client.get("/settings"))
    labelled = {label["for"] for label in elements(page, "label") if "for" in label}
    controls = [found for tag in ("input", "select", "textarea") for found in elements(page, tag)
                if found.get("type") != "hidden"]  # fmt: skip
    assert all(control.get("id") in labelled for control in controls), controls
    buttons = page.split("<button")[1:]
    assert buttons and all(text(b.split(">", 1)[1].split("</button>")[0]) for b in buttons)


def test_the_connected_settings_page_carries_no_inline_script_or_style(connected):
    page = html_of(connected.browser.client.get("/settings"))
    assert "<style" not in page and " style=" not in page
    assert all("src" in found for found in elements(page, "script"))
