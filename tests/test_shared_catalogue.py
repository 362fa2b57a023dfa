"""The catalogue is shared: only AniList's and MangaDex's answers write it. What one person
types for a title (its name, cover, total) stays on their own item."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import ApiClient, Browser, api_client_for
from tracker.extensions import db
from tracker.models import Media

FRIEREN = 154587  # in the fake AniList: "Sousou no Frieren", 28 episodes
EVIL_TITLE = "Evil title"
EVIL_COVER = "https://evil.example/x.png"


@pytest.fixture
def mallory(remote_app: Flask) -> ApiClient:
    """Adds Frieren first, under a title and cover of her own."""
    api = api_client_for(remote_app, "mallory")
    api.add(title=EVIL_TITLE, type="anime", source="anilist", anilist_id=FRIEREN,
            cover_url=EVIL_COVER, max_progress=99)  # fmt: skip
    return api


@pytest.fixture
def bob(remote_app: Flask, mallory) -> ApiClient:
    return api_client_for(remote_app, "bob")


def shows_nothing_of_mallorys(answer) -> bool:
    text = answer.get_data(as_text=True)
    return EVIL_TITLE.lower() not in text.lower() and "evil.example" not in text


def test_a_first_sight_stores_only_the_id(remote_app, mallory):
    with remote_app.app_context():
        media = db.session.scalar(select(Media).where(Media.anilist_id == FRIEREN))
        assert (media.source, media.external_id) == ("anilist", str(FRIEREN))
        assert media.title_preferred == ""
        assert media.search_text == ""
        assert media.cover_url is None
        assert media.episodes is None
        assert media.fetched_at is None


def test_the_adder_still_sees_their_own_title_cover_and_total(mallory):
    (item,) = mallory.get("/api/library/items").get_json()
    assert item["title"] == EVIL_TITLE
    assert item["cover_url"] == EVIL_COVER
    assert item["max_progress"] == 99
    assert item["anilist_id"] == FRIEREN


@pytest.mark.parametrize("query", ["evil", "Evil title", "evil titl"])
def test_others_never_find_the_typed_title(bob, query):
    for path in ("/api/sources/autocomplete", "/api/sources/search"):
        answer = bob.get(path, query_string={"q": query})
        assert answer.status_code == 200
        assert shows_nothing_of_mallorys(answer), answer.get_json()


def test_others_ask_for_the_total_and_get_anilists_answer(bob):
    answer = bob.get(f"/api/sources/max?anilist_id={FRIEREN}")
    assert answer.get_json()["title"] == "Sousou no Frieren"
    assert answer.get_json()["max"] == 28


def test_with_anilist_down_the_stub_tells_nothing(bob, fake_anilist):
    fake_anilist[0].down = True
    body = bob.get(f"/api/sources/max?anilist_id={FRIEREN}").get_json()
    assert body["title"] is None
    assert body["max"] is None
    assert body["sources"] == {"anilist": "unavailable"}


def test_anothers_item_for_the_same_id_shows_nothing_of_the_first(bob):
    item = bob.add(title="Frieren", type="anime", source="anilist", anilist_id=FRIEREN)
    assert (item["title"], item["cover_url"], item["max_progress"]) == ("Frieren", None, None)
    assert bob.get("/api/library/items?q=evil").get_json() == []
    assert shows_nothing_of_mallorys(bob.get(f"/api/library/items/{item['id']}"))


def test_once_anilist_fills_the_stub_each_keeps_their_own(bob, mallory):
    item = bob.add(title="Frieren", type="anime", source="anilist", anilist_id=FRIEREN)
    refreshed = bob.post(f"/api/library/items/{item['id']}/refresh").get_json()["item"]
    assert refreshed["cover_url"].endswith(f"bx{FRIEREN}.jpg")  # AniList's cover
    assert refreshed["max_progress"] == 28
    (own,) = mallory.get("/api/library/items").get_json()
    assert (own["title"], own["cover_url"], own["max_progress"]) == (EVIL_TITLE, EVIL_COVER, 99)
    suggestions = bob.get("/api/sources/autocomplete?q=frieren").get_json()["results"]
    frieren = next(s for s in suggestions if s["anilist_id"] == FRIEREN)
    assert frieren["title"] == "Sousou no Frieren"
    assert frieren["cover_url"] != EVIL_COVER


def test_others_pages_show_nothing_of_the_first(remote_app, mallory):
    browser = Browser(remote_app.test_client())
    assert browser.register("carol").status_code == 302
    client = browser.client
    added = client.post("/items", data={"title": "Frieren", "type": "anime", "source": "anilist",
                        "anilist_id": FRIEREN, "csrf_token": browser.csrf_token()})  # fmt: skip
    assert added.status_code in (200, 201, 302, 303)
    pages = [client.get("/"), client.get("/?q=evil"),
             client.get("/suggestions?q=evil", headers={"HX-Request": "true"})]  # fmt: skip
    for page in pages:
        assert shows_nothing_of_mallorys(page)
    assert "Frieren" in pages[0].get_data(as_text=True)


def test_ids_typed_beside_another_sources_id_stay_out_of_the_catalogue(remote_app, mallory):
    """Claiming a MangaDex title is some AniList id would link everyone's copy to it."""
    mallory.add(title="Some manga", type="manga", source="mangadex", mangadex_id="md-evil",
                anilist_id=FRIEREN, mal_id=52991)  # fmt: skip
    with remote_app.app_context():
        media = db.session.scalar(select(Media).where(Media.external_id == "md-evil"))
        assert (media.source, media.anilist_id, media.mal_id) == ("mangadex", None, None)
        assert media.title_preferred == ""
