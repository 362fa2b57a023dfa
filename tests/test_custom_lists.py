"""AniList custom lists: kept with each item on import and pull, shown on the item page,
offered as a library filter (page and API), and never cleared by a push."""

from __future__ import annotations

import pytest

from tests.conftest import ApiClient, api_client_for
from tests.test_anilist_sync import connect, graphql, run_job, work
from tests.test_library_pages import add, elements, one, text
from tracker.extensions import db
from tracker.models import LibraryItem

ODD_NAMES = ['Say "hi"', "<script>alert(1)</script>", "Best 🍙 of 2024", "L" * 300]


@pytest.fixture
def connected(anilist_app, viewer) -> ApiClient:
    """alice, connected to ayaka's AniList."""
    alice = api_client_for(anilist_app, "alice")
    connect(alice)
    return alice


@pytest.fixture
def listed(fake, viewer):
    """Frieren on ayaka's AniList, in two custom lists."""
    return fake.add_entry(viewer.id, 154587, status="CURRENT", progress=3,
                          custom_lists={"Favourites", "Comfy"})  # fmt: skip


def items_by_anilist_id(api: ApiClient) -> dict[int, dict]:
    return {i["anilist_id"]: i for i in api.get("/api/library/items").get_json()}


def test_an_import_stores_the_custom_lists_of_each_entry(anilist_app, connected, listed):
    run_job(anilist_app, connected, "/api/anilist/import")
    assert sorted(items_by_anilist_id(connected)[154587]["custom_lists"]) == ["Comfy", "Favourites"]


def test_a_pull_follows_custom_lists_changed_on_anilist(anilist_app, connected, listed, fake):
    run_job(anilist_app, connected, "/api/anilist/import")
    listed.custom_lists = {"Comfy"}
    listed.updated_at = fake.clock()
    run_job(anilist_app, connected, "/api/anilist/sync")
    assert items_by_anilist_id(connected)[154587]["custom_lists"] == ["Comfy"]


def test_a_push_keeps_the_custom_lists_on_anilist(anilist_app, connected, listed, fake):
    run_job(anilist_app, connected, "/api/anilist/import")
    item = items_by_anilist_id(connected)[154587]
    connected.patch(f"/api/library/items/{item['id']}", json={"progress": 4})
    work(anilist_app)
    (sent,) = graphql(fake, "SaveMediaListEntry")
    assert sorted(sent["customLists"]) == ["Comfy", "Favourites"]
    assert (listed.progress, listed.custom_lists) == (4, {"Comfy", "Favourites"})


def test_an_item_in_no_custom_list_sends_none_so_anilist_keeps_its_own(anilist_app, connected,
                                                                       fake, viewer):  # fmt: skip
    entry = fake.add_entry(viewer.id, 1, status="CURRENT", custom_lists={"Favourites"})
    item = connected.add(source="anilist", anilist_id=1, title="Cowboy Bebop")
    work(anilist_app)
    (sent,) = graphql(fake, "SaveMediaListEntry")
    assert "customLists" not in sent
    assert entry.custom_lists == {"Favourites"}
    assert item["custom_lists"] == []


# --- the library: shown and filtered ------------------------------------------------------


def put_in_lists(app, item_id: int, names: list[str]) -> None:
    with app.app_context():
        db.session.get(LibraryItem, item_id).custom_lists = names
        db.session.commit()


def test_the_item_page_names_its_custom_lists_with_links_to_the_filter(app, htmx, logged_in):
    item_id = add(htmx)
    put_in_lists(app, item_id, ["Favourites"])
    page = logged_in.client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "AniList lists Favourites" in text(page)
    assert one(page, "a", href="/library?list=Favourites")


@pytest.mark.parametrize("name", ODD_NAMES, ids=["quotes", "script", "emoji", "long"])
def test_the_library_filters_by_a_custom_list_with_any_name(app, htmx, logged_in, name):
    inside, outside = add(htmx, "Frieren"), add(htmx, "Dungeon Meshi")
    put_in_lists(app, inside, [name, "Other"])
    put_in_lists(app, outside, ["Other"])
    page = logged_in.client.get("/", query_string={"list": name}).get_data(as_text=True)
    assert [row["id"] for row in elements(page, "tr", data_item_row="")] == [f"item-{inside}"]
    assert "<script>alert(1)" not in page
    options = [o["value"] for o in elements(page, "option") if o["value"] in (name, "Other")]
    assert sorted(options) == sorted([name, "Other"])


def test_the_list_filter_is_offered_only_when_there_are_custom_lists(htmx, logged_in):
    add(htmx)
    assert elements(logged_in.client.get("/").get_data(as_text=True), "select", name="list") == []


@pytest.mark.parametrize("name", ODD_NAMES, ids=["quotes", "script", "emoji", "long"])
def test_the_api_filters_by_a_custom_list(app, api, name):
    inside, outside = api.add(title="Frieren"), api.add(title="Dungeon Meshi")
    put_in_lists(app, inside["id"], [name])
    put_in_lists(app, outside["id"], ["Other"])
    response = api.get("/api/library/items", query_string={"list": name})
    assert [i["id"] for i in response.get_json()] == [inside["id"]]
    assert response.headers["X-Total-Count"] == "1"
    assert response.get_json()[0]["custom_lists"] == [name]
