"""The settings page's import: upload, the preview polled as an htmx fragment, the choice
and Apply; the same with JavaScript off."""

from __future__ import annotations

import io

import pytest

from tests.test_anilist_sync import work
from tests.test_import_mal import anime_entry, export
from tests.test_settings_pages import come_back_from_anilist, person

FILE = export(anime_entry(1, "Cowboy Bebop"), anime_entry(2, "Bad", my_status="Sometimes"))


def upload(client, data: bytes = FILE, name: str = "animelist.xml"):
    return client.post("/settings/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")  # fmt: skip


@pytest.fixture
def alice(remote_app):
    return person(remote_app)


def test_the_settings_page_has_the_upload_form(alice):
    page = alice.browser.client.get("/settings").get_data(as_text=True)
    section = page.split('id="import-export"')[1].split("</section>")[0]
    assert 'action="/settings/import"' in section and 'enctype="multipart/form-data"' in section
    assert 'type="file" name="file"' in section


def test_upload_then_preview_then_apply_with_htmx(remote_app, alice):
    started = upload(alice)
    assert started.status_code == 200
    html = started.get_data(as_text=True)
    assert "waiting to start" in html and 'hx-trigger="load delay:1s"' in html
    job_url = html.split('hx-get="')[1].split('"')[0]
    work(remote_app)
    preview = alice.get(job_url).get_data(as_text=True)
    assert "Importing would add</strong>\n      1 new, 0 updated" in preview
    assert "Row 2 “Bad”: Unknown status" in preview
    assert 'name="mode" value="add" checked' in preview and 'value="overwrite"' in preview
    assert 'name="push"' not in preview  # no AniList account: nothing to send
    assert "hx-trigger" not in preview  # finished: polling stops

    apply_url = preview.split('hx-post="')[1].split('"')[0]
    applied = alice.post(apply_url, data={"mode": "overwrite"})
    assert applied.status_code == 200
    work(remote_app)
    done_url = applied.get_data(as_text=True).split('hx-get="')[1].split('"')[0]
    done = alice.get(done_url).get_data(as_text=True)
    assert "Imported:</strong>\n      1 new" in done and "Apply" not in done
    library = alice.browser.client.get("/library").get_data(as_text=True)
    assert "Cowboy Bebop" in library


def test_the_import_works_without_javascript(remote_app, alice):
    client = alice.browser.client
    token = alice.token
    started = client.post("/settings/import", data={"file": (io.BytesIO(FILE), "a.xml"),
                                                    "csrf_token": token},
                          content_type="multipart/form-data")  # fmt: skip
    assert started.status_code == 303
    work(remote_app)
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "<h1" in page and "Importing would add" in page
    apply_url = page.split('class="import-apply"')[0].rsplit('action="', 1)[1].split('"')[0]
    applied = client.post(apply_url, data={"mode": "add", "csrf_token": token})
    assert applied.status_code == 303
    work(remote_app)
    assert "Imported:" in client.get(applied.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("htmx", [True, False])
def test_an_unreadable_file_is_refused_in_place(alice, htmx):
    if htmx:
        refused = upload(alice, b"<html/>", "list.xml")
    else:
        refused = alice.browser.client.post(
            "/settings/import", data={"file": (io.BytesIO(b"<html/>"), "list.xml"),
                                      "csrf_token": alice.token},
            content_type="multipart/form-data")  # fmt: skip
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="import-error"' in html and "not a MyAnimeList export" in html
    assert ("<h1" in html) is not htmx


def test_another_persons_import_is_not_found(remote_app, alice):
    upload(alice)
    work(remote_app)
    mallory = person(remote_app, "mallory")
    assert mallory.get("/settings/import/jobs/1").status_code == 404
    assert mallory.post("/settings/import/1/apply", data={"mode": "add"}).status_code == 404


def test_the_push_choice_shows_only_with_anilist_connected(anilist_app, viewer):
    alice = person(anilist_app)
    assert come_back_from_anilist(alice).status_code == 302
    work(anilist_app)
    html = upload(alice).get_data(as_text=True)
    work(anilist_app)
    preview = alice.get(html.split('hx-get="')[1].split('"')[0]).get_data(as_text=True)
    assert 'type="checkbox" name="push" value="1">' in preview
    assert "(1 title)" in preview  # Cowboy Bebop, which AniList knows
