"""What to watch next: the sequel a completed title offers in its toast, adding it in one
click, and the item page's related titles (tracker/services/relations.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.conftest import Browser, HtmxClient
from tests.test_fast_path import counted
from tests.test_library_pages import (
    add,
    elements,
    increment,
    one,
    row_post,
    text,
    toast_of,
    triggers,
)
from tracker.extensions import db
from tracker.models import LibraryItem, Media, MediaRelation
from tracker.services import library, relations

FETCHED = datetime(2026, 12, 1, tzinfo=UTC)


# --- the catalogue, written directly (the AniList refresh fills it in the app) --------------


def catalogue(app, title: str, anilist_id: int, **fields) -> int:
    """A catalogue title from AniList; its catalogue id."""
    values = {"source": "anilist", "external_id": str(anilist_id), "anilist_id": anilist_id,
              "media_type": "anime", "title_romaji": title, "title_preferred": title,
              "synonyms": [], "search_text": title.lower(), "episodes": 12, "format": "TV",
              **fields}  # fmt: skip
    with app.app_context():
        media = Media(**values)
        db.session.add(media)
        db.session.commit()
        return media.id


def relate(app, media_id: int, *related: tuple[int, str], fetched: bool = True) -> None:
    """``media_id``'s relations as AniList lists them: (catalogue id, relation)."""
    with app.app_context():
        for related_id, relation in related:
            db.session.add(
                MediaRelation(media_id=media_id, related_id=related_id, relation=relation)
            )
        if fetched:
            db.session.get(Media, media_id).relations_fetched_at = FETCHED
        db.session.commit()


def in_library(htmx, anilist_id: int, title: str, **fields) -> int:
    """Add a catalogue title as the search bar does; the item's id."""
    return add(htmx, title, source="anilist", anilist_id=str(anilist_id), **fields)


def items_of(app, username: str = "alice") -> list[tuple[str, str, int | None]]:
    from tracker.models import User

    with app.app_context():
        rows = db.session.execute(
            select(LibraryItem.title, LibraryItem.status, LibraryItem.media_id)
            .join(User, User.id == LibraryItem.user_id)
            .where(User.username == username)
            .order_by(LibraryItem.id)
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def frieren(app, htmx) -> dict[str, int]:
    """Frieren (12 episodes, 11 watched) in alice's library; AniList lists a sequel, a
    prequel, a side story and the manga it adapts."""
    ids = {
        "frieren": catalogue(app, "Frieren", 1001),
        "season2": catalogue(app, "Frieren Season 2", 1002, year=2027),
        "prequel": catalogue(app, "Frieren Zero", 1003),
        "side": catalogue(app, "Frieren: Mini Stories", 1004, format="ONA"),
        "manga": catalogue(app, "Frieren (manga)", 1005, media_type="manga", format="MANGA",
                           episodes=None, chapters=140),
    }  # fmt: skip
    relate(app, ids["frieren"], (ids["season2"], "sequel"), (ids["prequel"], "prequel"),
           (ids["side"], "side_story"), (ids["manga"], "source"))  # fmt: skip
    ids["item"] = in_library(htmx, 1001, "Frieren", status="current", progress="11")
    return ids


def plan_url(media_id: int) -> str:
    return f"/catalogue/{media_id}/planning"


# --- the offer --------------------------------------------------------------------------


def test_a_plus_one_to_the_last_episode_offers_the_sequel(htmx, frieren):
    response = increment(htmx, frieren["item"])
    assert response.status_code == 200
    toast = toast_of(response)
    assert toast["message"] == "Frieren: episode 12 of 12, now Completed"
    assert toast["offer"] == {"label": "Add Frieren Season 2 to planning",
                              "url": plan_url(frieren["season2"]), "method": "post",
                              "values": {}, "target": None}  # fmt: skip


def test_setting_completed_from_the_row_offers_the_sequel_beside_undo(htmx, frieren):
    toast = toast_of(row_post(htmx, frieren["item"], status="completed"))
    assert toast["action"]["label"] == "Undo"
    assert toast["offer"]["url"] == plan_url(frieren["season2"])


@pytest.mark.parametrize("how", ["plus one", "status", "form"])
def test_completing_on_the_item_page_offers_the_sequel(htmx, frieren, how):
    item_id, headers = frieren["item"], {"HX-Target": "item-detail"}
    if how == "plus one":
        response = htmx.post(f"/items/{item_id}/increment", data={"by": "1"}, headers=headers)
    elif how == "status":
        response = htmx.post(f"/items/{item_id}", data={"status": "completed"}, headers=headers)
    else:  # the whole form, as the Save button sends it
        form = {"title": "Frieren", "status": "completed", "notes": "", "max_progress": "12"}
        response = htmx.post(f"/items/{item_id}", data=form, headers=headers)
    assert response.status_code == 200
    assert toast_of(response)["offer"]["url"] == plan_url(frieren["season2"])


def test_a_paused_title_asks_first_and_mark_completed_then_offers_the_sequel(htmx, frieren):
    row_post(htmx, frieren["item"], status="paused")
    asked = toast_of(increment(htmx, frieren["item"]))
    assert asked["action"]["label"] == "Mark completed" and "offer" not in asked
    action = asked["action"]
    answer = row_post(htmx, frieren["item"], **action["values"])
    assert toast_of(answer)["offer"]["url"] == plan_url(frieren["season2"])


def test_no_offer_when_the_sequel_is_already_in_the_library(htmx, frieren):
    in_library(htmx, 1002, "Frieren Season 2")
    assert "offer" not in toast_of(increment(htmx, frieren["item"]))


def test_no_offer_when_the_sequel_was_typed_by_hand_under_its_title(htmx, frieren):
    add(htmx, "  frieren SEASON 2 ", status="planning")  # no catalogue link
    assert "offer" not in toast_of(increment(htmx, frieren["item"]))


def test_a_hand_typed_title_of_the_other_type_does_not_hide_the_offer(htmx, frieren):
    add(htmx, "Frieren Season 2", type="manga", status="planning")
    assert toast_of(increment(htmx, frieren["item"]))["offer"]


def test_no_offer_for_a_title_without_relations(app, htmx):
    catalogue(app, "Bocchi the Rock!", 2001)
    item_id = in_library(htmx, 2001, "Bocchi the Rock!", status="current", progress="11")
    toast = toast_of(increment(htmx, item_id))
    assert toast["message"].endswith("now Completed") and "offer" not in toast


def test_no_offer_for_a_title_typed_by_hand(htmx):
    item_id = add(htmx, "Homemade", status="current", max_progress="2", progress="1")
    toast = toast_of(increment(htmx, item_id))
    assert toast["message"].endswith("now Completed") and "offer" not in toast


def test_no_offer_for_a_step_that_does_not_complete(app, htmx, frieren):
    row_post(htmx, frieren["item"], progress="5")
    with counted(app) as statements:
        toast = toast_of(increment(htmx, frieren["item"]))
    assert "offer" not in toast
    assert not [s for s in statements if "media_relations" in s]


def test_only_a_sequel_is_offered_not_a_prequel_or_a_side_story(app, htmx):
    main = catalogue(app, "Main", 3001)
    relate(app, main, (catalogue(app, "Before", 3002), "prequel"),
           (catalogue(app, "Aside", 3003), "side_story"),
           (catalogue(app, "Alt", 3004), "alternative"))  # fmt: skip
    item_id = in_library(htmx, 3001, "Main", status="current")
    assert "offer" not in toast_of(row_post(htmx, item_id, status="completed"))


def test_of_several_sequels_the_first_by_catalogue_id_is_offered(app, htmx):
    main = catalogue(app, "Main", 3001)
    first, second = catalogue(app, "Movie", 3002), catalogue(app, "Season 2", 3003)
    relate(app, main, (second, "sequel"), (first, "sequel"))
    item_id = in_library(htmx, 3001, "Main", status="current")
    assert toast_of(row_post(htmx, item_id, status="completed"))["offer"]["url"] == (
        plan_url(first)
    )
    in_library(htmx, 3002, "Movie")  # once the first is there, the next is offered
    row_post(htmx, item_id, status="current")
    assert toast_of(row_post(htmx, item_id, status="completed"))["offer"]["url"] == (
        plan_url(second)
    )


def test_a_title_completed_again_offers_nothing_new_when_already_completed(htmx, frieren):
    row_post(htmx, frieren["item"], status="completed")
    toast = toast_of(row_post(htmx, frieren["item"], score="80"))
    assert "offer" not in toast


def test_a_long_sequel_title_is_shortened_in_the_button(app, htmx):
    main = catalogue(app, "Main", 3001)
    relate(app, main, (catalogue(app, "Sequel " + "x" * 200, 3002), "sequel"))
    item_id = in_library(htmx, 3001, "Main", status="current")
    label = toast_of(row_post(htmx, item_id, status="completed"))["offer"]["label"]
    assert label.startswith("Add Sequel xxx") and label.endswith("… to planning")
    assert len(label) < 90


def test_another_users_library_does_not_hide_the_offer(app, client, frieren):
    bob = Browser(app.test_client())
    bob.register("bob")
    bob_htmx = HtmxClient(bob)
    in_library(bob_htmx, 1002, "Frieren Season 2")
    alice = HtmxClient(Browser(client))
    assert toast_of(increment(alice, frieren["item"]))["offer"]["url"] == (
        plan_url(frieren["season2"])
    )


# --- one click adds it --------------------------------------------------------------------


def test_the_offer_adds_the_sequel_as_planning_with_a_toast_and_a_link(app, htmx, frieren):
    response = htmx.post(
        plan_url(frieren["season2"]), headers={"HX-Current-URL": "http://localhost/library"}
    )
    assert response.status_code == 200
    added = items_of(app)[-1]
    assert added == ("Frieren Season 2", "planning", frieren["season2"])
    item_id = max(int(row["id"].removeprefix("item-")) for row in elements(
        response.get_data(as_text=True), "tr", data_item_row=""))  # fmt: skip
    assert toast_of(response) == {
        "message": "Added Frieren Season 2 to Planning",
        "level": "success",
        "link": {"label": "Open", "url": f"/items/{item_id}"},
    }
    assert "library-changed" in triggers(response)
    # On the library list, the new row goes on top of it.
    assert one(response.get_data(as_text=True), "tbody")["hx-swap-oob"] == "afterbegin:#rows"


def test_added_from_the_item_pages_toast_the_related_entry_is_marked(app, htmx, frieren):
    page = f"http://localhost/items/{frieren['item']}"
    response = htmx.post(plan_url(frieren["season2"]), headers={"HX-Current-URL": page})
    html = response.get_data(as_text=True)
    entry = one(html, "li")
    assert entry["id"] == f"related-{frieren['season2']}" and entry["hx-swap-oob"] == "true"
    assert "In your library: Planning" in text(html)
    assert not elements(html, "tbody")


def test_adding_twice_adds_once_and_says_it_is_there(app, htmx, frieren):
    first = htmx.post(plan_url(frieren["season2"]))
    second = htmx.post(plan_url(frieren["season2"]))
    assert first.status_code == 200 and second.status_code == 409
    assert second.headers["HX-Reswap"] == "none"
    toast = toast_of(second)
    assert toast["message"] == "“Frieren Season 2” is already in your library."
    assert toast["level"] == "info" and toast["link"]["url"].startswith("/items/")
    assert [row for row in items_of(app) if row[2] == frieren["season2"]] == [
        ("Frieren Season 2", "planning", frieren["season2"])
    ]


def test_a_race_the_unique_index_settles_is_a_toast_not_a_500(app, htmx, frieren, monkeypatch):
    """Two clicks at once both pass the duplicate check; the unique index refuses one."""
    htmx.post(plan_url(frieren["season2"]))
    monkeypatch.setattr(library, "_refuse_duplicate", lambda *args: None)
    response = htmx.post(plan_url(frieren["season2"]))
    assert response.status_code == 409
    assert "already in your library" in toast_of(response)["message"]
    assert len([row for row in items_of(app) if row[2] == frieren["season2"]]) == 1


@pytest.mark.parametrize("path", ["/catalogue/987654/planning", "/catalogue/0/planning",
                                  "/catalogue/99999999999/planning", "/catalogue/abc/planning",
                                  "/catalogue/-1/planning"])  # fmt: skip
def test_a_bogus_or_unknown_catalogue_id_is_not_found(app, htmx, frieren, path):
    response = htmx.post(path)
    assert response.status_code == 404
    assert len(items_of(app)) == 1


def test_an_unknown_catalogue_id_says_so_in_a_toast(htmx):
    response = htmx.post(plan_url(987654))
    assert response.status_code == 404 and response.headers["HX-Reswap"] == "none"
    assert toast_of(response) == {"message": "No such title in the catalogue.", "level": "error"}


def test_a_catalogue_title_that_cannot_be_added_from_here_is_refused(app, htmx):
    with app.app_context():
        odd = Media(source="anilist", external_id="x", anilist_id=None, media_type="anime",
                    title_preferred="Odd", synonyms=[], search_text="odd")  # fmt: skip
        db.session.add(odd)
        db.session.commit()
        odd_id = odd.id
    response = htmx.post(plan_url(odd_id))
    assert response.status_code == 422
    assert toast_of(response)["level"] == "error"
    assert items_of(app) == []


def test_adding_needs_a_login_and_a_csrf_token(app, client, logged_in, frieren):
    anonymous = Browser(app.test_client())
    token = anonymous.csrf_token()
    refused = anonymous.client.post(plan_url(frieren["season2"]), data={"csrf_token": token})
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert client.post(plan_url(frieren["season2"])).status_code == 400  # no CSRF token
    assert len(items_of(app)) == 1


def test_without_javascript_the_add_leads_to_the_new_item(app, logged_in, frieren):
    token = logged_in.csrf_token()
    response = logged_in.client.post(plan_url(frieren["season2"]), data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/items/")
    page = logged_in.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added Frieren Season 2 to Planning" in page
    again = logged_in.client.post(plan_url(frieren["season2"]), data={"csrf_token": token})
    assert again.status_code == 303 and again.headers["Location"] == response.headers["Location"]
    missing = logged_in.client.post(plan_url(987654), data={"csrf_token": token})
    assert missing.status_code == 404


# --- the item page ------------------------------------------------------------------------


def test_the_item_page_lists_relations_grouped_sequels_first(app, htmx, frieren):
    html = htmx.browser.client.get(f"/items/{frieren['item']}").get_data(as_text=True)
    kinds = [text(h) for h in _between(html, "<h3", "</h3>")]
    assert kinds == ["Sequel", "Prequel", "Side story", "Source"]
    assert _entries(html) == [frieren[k] for k in ("season2", "prequel", "side", "manga")]
    assert "Anime · TV · 2027 · 12 episodes" in text(_entry(html, frieren["season2"]))
    assert "Manga · 140 chapters" in text(_entry(html, frieren["manga"]))
    assert "Anime · ONA" in text(_entry(html, frieren["side"]))


def test_the_item_page_marks_related_titles_in_the_library(app, htmx, frieren):
    prequel_item = in_library(htmx, 1003, "Frieren Zero", status="completed")
    html = htmx.browser.client.get(f"/items/{frieren['item']}").get_data(as_text=True)
    prequel = _entry(html, frieren["prequel"])
    assert f'href="/items/{prequel_item}"' in prequel
    assert "In your library: Completed" in text(prequel)
    assert "Add" not in text(prequel)
    sequel = _entry(html, frieren["season2"])
    assert one(sequel, "form")["hx-post"] == plan_url(frieren["season2"])
    assert "Add Frieren Season 2 to planning" in text(sequel)


def test_a_related_title_typed_by_hand_is_marked_as_in_the_library(app, htmx, frieren):
    typed = add(htmx, "Frieren Season 2", status="planning")  # no catalogue link
    html = htmx.browser.client.get(f"/items/{frieren['item']}").get_data(as_text=True)
    sequel = _entry(html, frieren["season2"])
    assert f'href="/items/{typed}"' in sequel
    assert "In your library: Planning" in text(sequel) and "Add" not in text(sequel)
    assert _entries(html).count(frieren["season2"]) == 1


def test_a_linked_item_wins_over_one_typed_by_hand(app, htmx, frieren):
    add(htmx, "Frieren Season 2", status="planning")
    linked = in_library(htmx, 1002, "Frieren Season 2", status="current")
    html = htmx.browser.client.get(f"/items/{frieren['item']}").get_data(as_text=True)
    sequel = _entry(html, frieren["season2"])
    assert f'href="/items/{linked}"' in sequel and "In your library: Watching" in text(sequel)
    assert _entries(html).count(frieren["season2"]) == 1


def test_adding_from_the_related_section_swaps_the_entry_in_place(app, htmx, frieren):
    target = {"HX-Target": f"related-{frieren['side']}"}
    response = htmx.post(plan_url(frieren["side"]), headers=target)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert one(html, "li")["id"] == f"related-{frieren['side']}"
    assert "hx-swap-oob" not in one(html, "li")
    assert "In your library: Planning" in text(html)
    again = htmx.post(plan_url(frieren["side"]), headers=target)
    assert again.status_code == 409 and "In your library: Planning" in text(
        again.get_data(as_text=True)
    )


def test_another_users_library_is_not_marked(app, client, frieren):
    bob = Browser(app.test_client())
    bob.register("bob")
    in_library(HtmxClient(bob), 1002, "Frieren Season 2")
    html = client.get(f"/items/{frieren['item']}").get_data(as_text=True)
    assert "In your library" not in text(_entry(html, frieren["season2"]))


def test_another_users_item_page_is_not_found(app, frieren):
    bob = Browser(app.test_client())
    bob.register("bob")
    assert bob.client.get(f"/items/{frieren['item']}").status_code == 404


def test_relations_not_fetched_yet_say_when_they_come(app, htmx):
    catalogue(app, "Pluto", 4001)
    item_id = in_library(htmx, 4001, "Pluto")
    html = htmx.browser.client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "appear here after the next catalogue refresh" in text(html)


def test_relations_fetched_and_empty_say_so_briefly(app, htmx):
    media_id = catalogue(app, "Pluto", 4001)
    relate(app, media_id)
    item_id = in_library(htmx, 4001, "Pluto")
    html = htmx.browser.client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "AniList lists no sequels, prequels or other related titles" in text(html)


def test_a_title_typed_by_hand_shows_no_related_section(htmx):
    item_id = add(htmx, "Homemade")
    html = htmx.browser.client.get(f"/items/{item_id}").get_data(as_text=True)
    assert 'id="related"' not in html


def test_an_htmx_swap_of_the_item_block_leaves_the_related_section_alone(app, htmx, frieren):
    headers = {"HX-Target": "item-detail"}
    with counted(app) as statements:
        response = htmx.post(f"/items/{frieren['item']}", data={"score": "80"}, headers=headers)
    assert 'id="related"' not in response.get_data(as_text=True)
    assert not [s for s in statements if "media_relations" in s]


def test_the_item_page_costs_the_same_statements_for_one_relation_or_twenty(app, htmx):
    counts = []
    for size, base in ((1, 5000), (20, 6000)):
        main = catalogue(app, f"Main {size}", base)
        others = [catalogue(app, f"Related {base + n}", base + n) for n in range(1, size + 1)]
        kinds = ["sequel", "prequel", "side_story", "adaptation", "character", "other"]
        relate(app, main, *[(m, kinds[n % len(kinds)]) for n, m in enumerate(others)])
        item_id = in_library(htmx, base, f"Main {size}")
        for media_id in others[::2]:  # half of them in the library
            htmx.post(plan_url(media_id))
        with counted(app) as statements:
            page = htmx.browser.client.get(f"/items/{item_id}")
        assert page.status_code == 200
        assert len(_entries(page.get_data(as_text=True))) == size
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_an_unknown_relation_kind_is_listed_under_other(app, htmx):
    main = catalogue(app, "Main", 3001)
    relate(app, main, (catalogue(app, "Odd", 3002), "fan_remix"), (main, "sequel"))
    item_id = in_library(htmx, 3001, "Main")
    html = htmx.browser.client.get(f"/items/{item_id}").get_data(as_text=True)
    assert [text(h) for h in _between(html, "<h3", "</h3>")] == ["Other"]  # not itself


# --- the service ---------------------------------------------------------------------------


def test_sequel_offer_reads_one_statement_and_skips_titles_in_the_library(app, htmx, frieren):
    with app.app_context():
        user_id = db.session.scalar(select(LibraryItem.user_id))
    with counted(app) as statements, app.app_context():
        offered = [m.id for m in relations.sequel_offer(user_id, frieren["frieren"])]
    assert offered == [frieren["season2"]] and len(statements) == 1
    htmx.post(plan_url(frieren["season2"]))
    with app.app_context():
        assert relations.sequel_offer(user_id, frieren["frieren"]) == []
        assert relations.sequel_offer(user_id, None) == []


def test_a_stub_catalogue_title_is_named_by_its_anilist_id(app, htmx):
    main = catalogue(app, "Main", 3001)
    stub = catalogue(app, "", 3002, title_romaji=None)
    relate(app, main, (stub, "sequel"))
    item_id = in_library(htmx, 3001, "Main", status="current")
    offer = toast_of(row_post(htmx, item_id, status="completed"))["offer"]
    assert offer["label"] == "Add AniList 3002 to planning"
    assert htmx.post(offer["url"]).status_code == 200
    assert items_of(app)[-1] == ("AniList 3002", "planning", stub)


# --- the JSON API ---------------------------------------------------------------------------


@pytest.fixture
def api_frieren(app, api) -> dict[str, int]:
    main = catalogue(app, "Frieren", 1001)
    sequel = catalogue(app, "Frieren Season 2", 1002, cover_url="https://img.example/2.jpg")
    relate(app, main, (sequel, "sequel"))
    item = api.add(source="anilist", anilist_id=1001, status="current", progress=11)
    return {"item": item["id"], "sequel": sequel}


def test_the_api_offers_the_sequel_when_a_step_completes_the_item(api, api_frieren):
    body = api.post(
        f"/api/library/items/{api_frieren['item']}/increment", json={"by": 1}
    ).get_json()
    assert body["status"] == "completed"
    assert body["sequel"] == {"anilist_id": 1002, "type": "anime", "title": "Frieren Season 2",
                              "format": "TV", "cover_url": "https://img.example/2.jpg"}  # fmt: skip


def test_the_api_offers_the_sequel_when_a_patch_completes_the_item(api, api_frieren):
    url = f"/api/library/items/{api_frieren['item']}"
    body = api.patch(url, json={"status": "completed"}).get_json()
    assert body["sequel"]["anilist_id"] == 1002
    assert "sequel" not in api.patch(url, json={"score": 70}).get_json()
    added = api.post("/api/library/items", json={"source": "anilist", "anilist_id": 1002,
                                                 "type": "anime", "title": "S2"})  # fmt: skip
    assert added.status_code == 201


def test_the_api_says_nothing_of_sequels_for_a_step_that_does_not_complete(api, api_frieren):
    body = api.post(f"/api/library/items/{api_frieren['item']}/increment", json={"by": -1})
    assert body.status_code == 200 and "sequel" not in body.get_json()


def test_the_openapi_document_describes_the_sequel(client):
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    edited = next(s for name, s in schemas.items() if name.startswith("EditedItem"))
    assert "sequel" in edited["properties"]
    assert "sequel" not in (edited.get("required") or [])


# --- helpers --------------------------------------------------------------------------------


def _between(html: str, start: str, end: str) -> list[str]:
    parts, at = [], 0
    while (found := html.find(start, at)) != -1:
        close = html.index(end, found)
        parts.append(html[found : close + len(end)])
        at = close
    return parts


def _entries(html: str) -> list[int]:
    """The catalogue ids of the Related section's entries, in order."""
    return [
        int(found) for found in re.findall(r'<li id="related-(\d+)" class="related-entry', html)
    ]


def _entry(html: str, media_id: int) -> str:
    start = html.index(f'id="related-{media_id}"')
    return html[start : html.index("</li>", start)]
