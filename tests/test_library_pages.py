"""The library in the browser: pages, and the htmx fragments every row action answers with."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from tests.conftest import Browser, HtmxClient, remote_config
from tracker.extensions import db
from tracker.models import LibraryItem, Media, Origin, SyncOutbox
from tracker.services import catalog, library

# --- reading the HTML ------------------------------------------------------------


class Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {k: v if v is not None else "" for k, v in attrs}))


def elements(html: str, tag: str | None = None, **attrs: str) -> list[dict[str, str]]:
    """Attributes of the elements with this tag and these attribute values (``_`` = ``-``)."""
    wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
    return [
        found
        for name, found in Elements(html).found
        if (tag is None or name == tag) and all(found.get(k) == v for k, v in wanted.items())
    ]


def one(html: str, tag: str | None = None, **attrs: str) -> dict[str, str]:
    matches = elements(html, tag, **attrs)
    assert len(matches) == 1, f"expected one <{tag} {attrs}>, found {len(matches)}"
    return matches[0]


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def toast_of(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])["toast"]


def triggers(response) -> dict:
    return json.loads(response.headers.get("HX-Trigger") or "{}")


def row_id(html: str) -> int:
    return int(re.search(r'<tr id="item-(\d+)"', html).group(1))


# --- helpers ---------------------------------------------------------------------


def add(htmx, title="Frieren", type="anime", **fields) -> int:
    """Add a title through the add form; the new row's id."""
    response = htmx.post("/items", data={"title": title, "type": type, **fields})
    assert response.status_code == 200, response.get_data(as_text=True)
    return row_id(response.get_data(as_text=True))


def row_post(htmx, item_id: int, path: str = "", **data):
    """A row control's request: htmx targets the row (``closest tr``)."""
    return htmx.post(f"/items/{item_id}{path}", data=data, headers={"HX-Target": f"item-{item_id}"})


def increment(htmx, item_id: int, by: int = 1):
    return row_post(htmx, item_id, "/increment", by=str(by))


def seed_media(app, title="Frieren: Beyond Journey's End", **fields) -> None:
    values = {"source": "anilist", "external_id": "154587", "anilist_id": 154587,
              "media_type": "anime", "episodes": 28, "format": "TV", "year": 2023,
              "cover_url": "https://img.example/frieren.jpg", **fields}  # fmt: skip
    with app.app_context():
        db.session.add(
            Media(title_preferred=title, synonyms=[], search_text=catalog.search_text_for([title]),
                  **values)
        )  # fmt: skip
        db.session.commit()


def pick_form(option: dict[str, str], status: str = "planning") -> dict[str, str]:
    """What the search bar posts for a suggestion (static/js/combobox.js reads these and
    leaves out the empty ones)."""
    fields = ("title", "type", "source", "anilist_id", "mangadex_id", "cover_url", "max_progress")
    values = {name: unescape(option["data-" + name.replace("_", "-")]) for name in fields}
    return {"status": status, **{name: value for name, value in values.items() if value}}


def options(html: str) -> list[dict[str, str]]:
    """The suggestions' options for catalogue titles (not the one that adds by hand)."""
    return [found for found in elements(html, "li", role="option") if "data-by-hand" not in found]


def stored(app, item_id: int) -> LibraryItem | None:
    with app.app_context():
        item = db.session.get(LibraryItem, item_id)
        if item is not None:
            db.session.expunge(item)
        return item


# --- the library page ------------------------------------------------------------


def test_the_library_page_renders_each_row_with_its_controls(htmx, logged_in):
    item_id = add(htmx, max_progress="28")
    page = logged_in.client.get("/library").get_data(as_text=True)
    row = one(page, "tr", id=f"item-{item_id}")
    assert row["tabindex"] == "0" and "data-item-row" in row
    assert row["hx-target"] == "closest tr" and row["hx-swap"] == "outerHTML"
    assert one(page, "select", id=f"status-{item_id}")["hx-post"] == f"/items/{item_id}"
    plus = one(page, "button", id=f"increment-{item_id}")
    assert plus["hx-post"] == f"/items/{item_id}/increment" and "data-increment" in plus
    assert one(page, "input", id=f"score-{item_id}")["type"] == "number"
    assert "Remove “Frieren”" in one(page, "button", hx_delete=f"/items/{item_id}")["hx-confirm"]
    assert "of 28" in text(page)


def test_a_row_shows_the_cover_lazily_with_alt_text(app, htmx, logged_in):
    seed_media(app)
    htmx.post("/items", data={"title": "Frieren", "type": "anime", "source": "anilist",
                              "anilist_id": "154587"})  # fmt: skip
    page = logged_in.client.get("/library").get_data(as_text=True)
    image = one(page, "img", src="https://img.example/frieren.jpg")
    assert image["alt"] == "Cover of Frieren" and image["loading"] == "lazy"


def test_a_row_without_a_cover_shows_a_placeholder(htmx, logged_in):
    add(htmx, title="Homemade Title")
    page = logged_in.client.get("/library").get_data(as_text=True)
    assert one(page, "span", aria_label="No cover for Homemade Title")["role"] == "img"


@pytest.mark.parametrize(
    ("media_type", "current", "repeating"),
    [("anime", "Watching", "Rewatching"), ("manga", "Reading", "Rereading")],
)
def test_status_names_follow_the_media_type(htmx, media_type, current, repeating):
    item_id = add(htmx, type=media_type)
    row = increment(htmx, item_id).get_data(as_text=True)
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', row)
    assert dict(options) == {"current": current, "repeating": repeating, "planning": "Planning",
                             "completed": "Completed", "paused": "Paused",
                             "dropped": "Dropped"}  # fmt: skip


def test_every_control_on_the_library_page_has_a_label(htmx, logged_in):
    add(htmx)
    page = logged_in.client.get("/library").get_data(as_text=True)
    labelled = {label["for"] for label in elements(page, "label") if "for" in label}
    controls = [
        found
        for tag in ("input", "select", "textarea")
        for found in elements(page, tag)
        if found.get("type") not in ("hidden", "checkbox")
    ]
    assert controls
    assert all(control.get("id") in labelled for control in controls), controls


def test_pages_carry_no_inline_script_or_style(htmx, logged_in):
    item_id = add(htmx)
    for url in ("/", f"/items/{item_id}", "/settings", "/items/new"):
        page = logged_in.client.get(url).get_data(as_text=True)
        assert "<style" not in page, url
        assert not any("style" in found for _, found in Elements(page).found), url
        assert all("src" in found for found in elements(page, "script")), url


def test_the_summary_counts_titles_by_status(htmx, logged_in):
    add(htmx, title="A", status="current")
    add(htmx, title="B", status="current")
    add(htmx, title="C", status="completed")
    summary = logged_in.client.get("/library/summary", headers={"HX-Request": "true"})
    html = summary.get_data(as_text=True)
    assert text(html) == "All 3 Watching / Reading 2 Completed 1"
    assert one(html, "a", aria_current="page")["href"] == "/library"


def test_the_status_tabs_filter_the_list_and_mark_the_current_one(htmx, logged_in):
    add(htmx, title="A", status="current")
    add(htmx, title="C", status="completed")
    page = logged_in.client.get("/?type=anime").get_data(as_text=True)
    tab = one(page, "a", href="/library?type=anime&status=completed")
    assert tab["hx-get"] == tab["href"] and tab["hx-push-url"] == "true"
    assert tab["hx-target"] == "#library-list" and "aria-current" not in tab
    answer = htmx.get("/?type=anime&status=completed").get_data(as_text=True)
    assert titles_in(answer) == ["C"]
    tabs = one(answer, "nav", id="status-tabs")
    assert tabs["hx-swap-oob"] == "true"  # the tabs follow the list
    assert one(answer, "a", aria_current="page")["href"] == "/library?type=anime&status=completed"
    assert one(answer, "input", name="status")["value"] == "completed"


def test_the_tabs_asked_again_keep_the_filters_of_the_page(htmx):
    add(htmx, title="A", status="current")
    html = htmx.get("/library/summary?status=current&q=a").get_data(as_text=True)
    assert one(html, "a", aria_current="page")["href"] == "/library?status=current&q=a"


# --- progress ----------------------------------------------------------------------


def test_increment_answers_the_changed_row_and_a_toast(htmx):
    item_id = add(htmx, status="current", max_progress="28")
    response = increment(htmx, item_id)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="item-{item_id}"')
    assert "<html" not in html
    assert re.search(rf'<output id="progress-{item_id}"[^>]*>1</output>', html)
    assert toast_of(response) == {"message": "Frieren: episode 1 of 28", "level": "success"}


def test_decrement_answers_the_changed_row(htmx):
    item_id = add(htmx, status="current")
    increment(htmx, item_id)
    increment(htmx, item_id)
    html = increment(htmx, item_id, by=-1).get_data(as_text=True)
    assert re.search(rf'<output id="progress-{item_id}"[^>]*>1</output>', html)


def test_minus_is_disabled_at_zero_and_plus_at_the_max(htmx, logged_in):
    item_id = add(htmx, status="current", max_progress="1")
    page = logged_in.client.get("/library").get_data(as_text=True)
    assert "disabled" in one(page, "button", id=f"decrement-{item_id}")
    assert "disabled" not in one(page, "button", id=f"increment-{item_id}")
    at_max = increment(htmx, item_id).get_data(as_text=True)
    assert "disabled" in one(at_max, "button", id=f"increment-{item_id}")
    assert "disabled" not in one(at_max, "button", id=f"decrement-{item_id}")


def test_the_first_episode_moves_a_planned_title_to_watching_and_refreshes_the_counts(htmx):
    item_id = add(htmx)
    response = increment(htmx, item_id)
    assert 'value="current" selected' in response.get_data(as_text=True)
    assert triggers(response)["library-changed"] is True
    assert toast_of(response)["message"] == "Frieren: episode 1, now Watching"


def test_progress_past_the_max_is_refused_with_the_row_saying_why(app, htmx):
    item_id = add(htmx, status="current", max_progress="1")
    increment(htmx, item_id)
    response = increment(htmx, item_id)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = one(html, "p", id=f"item-{item_id}-error")
    assert error["role"] == "alert" and error["class"] == "inline-error"
    assert "Already at 1 of 1 episodes" in text(html)
    assert toast_of(response)["level"] == "error"
    assert stored(app, item_id).progress == 1  # refused, not clamped


def test_progress_below_zero_is_refused(app, htmx):
    item_id = add(htmx)
    response = increment(htmx, item_id, by=-1)
    assert response.status_code == 422
    assert "Progress can't go below 0." in text(response.get_data(as_text=True))
    assert stored(app, item_id).progress == 0


# --- editing in the row ----------------------------------------------------------------


def test_changing_the_status_answers_the_row_and_refreshes_the_counts(app, htmx):
    item_id = add(htmx)
    response = row_post(htmx, item_id, status="paused")
    assert response.status_code == 200
    assert 'value="paused" selected' in response.get_data(as_text=True)
    assert triggers(response)["library-changed"] is True
    assert toast_of(response)["message"] == "Frieren: now Paused"
    assert stored(app, item_id).status == "paused"


def test_changing_the_score_answers_the_row(app, htmx):
    item_id = add(htmx)
    response = row_post(htmx, item_id, score="85")
    assert one(response.get_data(as_text=True), "input", id=f"score-{item_id}")["value"] == "85"
    assert toast_of(response)["message"] == "Saved Frieren"
    assert "library-changed" not in triggers(response)  # no count moved
    assert stored(app, item_id).score == 85


def test_clearing_the_score_stores_none(app, htmx):
    item_id = add(htmx, score="70")
    row_post(htmx, item_id, score="")
    assert stored(app, item_id).score is None


def test_an_invalid_score_answers_422_with_the_message_in_the_row(app, htmx):
    item_id = add(htmx, score="70")
    response = row_post(htmx, item_id, score="150")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="item-{item_id}"')
    assert one(html, "p", role="alert")["id"] == f"item-{item_id}-error"
    assert "Score: Use a whole number from 0 to 100." in text(html)
    score = one(html, "input", id=f"score-{item_id}")
    assert score["aria-invalid"] == "true" and score["value"] == "70"
    assert toast_of(response)["level"] == "error"
    assert stored(app, item_id).score == 70


def test_an_unknown_status_answers_422_in_the_row(htmx):
    item_id = add(htmx)
    response = row_post(htmx, item_id, status="binging")
    assert response.status_code == 422
    assert "Status: Must be one of" in text(response.get_data(as_text=True))


# --- removing ----------------------------------------------------------------------------


def test_remove_answers_a_placeholder_and_a_toast(app, htmx):
    item_id = add(htmx)
    response = htmx.delete(f"/items/{item_id}", headers={"HX-Target": f"item-{item_id}"})
    assert response.status_code == 200
    assert text(response.get_data(as_text=True)) == ""  # nothing shows where the row was
    assert toast_of(response)["message"] == "Removed Frieren"
    assert triggers(response)["library-changed"] is True
    assert stored(app, item_id) is None


def test_removing_an_item_already_gone_still_removes_the_row(htmx):
    item_id = add(htmx)
    htmx.delete(f"/items/{item_id}")
    response = htmx.delete(f"/items/{item_id}")
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert toast_of(response) == {"message": "That item was already gone.", "level": "info"}


# --- stale rows, other people's items, expired sessions -----------------------------------


def test_a_row_action_on_an_item_deleted_in_another_tab_says_it_no_longer_exists(htmx):
    item_id = add(htmx)
    htmx.delete(f"/items/{item_id}")  # the other tab
    response = increment(htmx, item_id)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert one(html, "tr")["id"] == f"item-{item_id}"
    assert "This item no longer exists" in text(html)
    assert "no longer exists" in toast_of(response)["message"]


def test_another_users_item_answers_a_404_fragment_and_stays_unchanged(app, htmx, other_api):
    theirs = other_api.add(title="Mallory's", status="current")
    for response in (increment(htmx, theirs["id"]), row_post(htmx, theirs["id"], score="1")):
        assert response.status_code == 404
        assert "This item no longer exists" in text(response.get_data(as_text=True))
        assert "Mallory" not in response.get_data(as_text=True)
    assert htmx.delete(f"/items/{theirs['id']}").status_code == 200  # nothing to remove here
    item = stored(app, theirs["id"])
    assert (item.progress, item.score) == (0, None)


def test_a_row_action_after_logging_out_elsewhere_sends_the_page_to_login(htmx, logged_in):
    item_id = add(htmx)
    logged_in.client.post("/logout", data={"csrf_token": htmx.token})
    response = row_post(htmx, item_id, "/increment", by="1")
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_a_row_action_after_the_session_expired_sends_the_page_to_login(app, htmx):
    item_id = add(htmx)
    expired = app.test_client()  # the page is still open; its session cookie is gone
    response = expired.post(
        f"/items/{item_id}/increment",
        data={"by": "1"},
        headers={"HX-Request": "true", "X-CSRFToken": htmx.token,
                 "HX-Current-URL": "http://localhost/?type=anime"},
    )  # fmt: skip
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/?type%3Danime"
    assert stored(app, item_id).progress == 0


# --- adding ----------------------------------------------------------------------------------


def test_adding_by_hand_answers_a_fresh_form_and_the_new_row_on_top(app, htmx):
    response = htmx.post("/items", data={"title": " Homemade ", "type": "manga",
                                         "max_progress": "12", "q": "home"})  # fmt: skip
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert one(html, "input", id="add-title")["value"] == ""
    assert one(html, "details", id="add-panel")
    assert one(html, "tbody")["hx-swap-oob"] == "afterbegin:#rows"
    assert "of 12" in text(html)
    assert toast_of(response) == {"message": "Added Homemade as Planning", "level": "success"}
    assert triggers(response)["library-changed"] is True
    item = stored(app, row_id(html))
    assert (item.title, item.media_id, item.max_progress_override) == ("Homemade", None, 12)


def test_adding_without_a_title_shows_the_error_inline(htmx):
    response = htmx.post("/items", data={"title": "", "type": "anime", "q": "typed"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert one(html, "input", id="add-title")["aria-invalid"] == "true"
    assert one(html, "p", id="add-title-error")["role"] == "alert"
    assert "open" in one(html, "details", id="add-panel")  # the form stays in sight
    assert toast_of(response)["level"] == "error"


def test_adding_a_duplicate_shows_the_conflict_inline(app, htmx):
    seed_media(app)
    form = {"title": "Frieren", "type": "anime", "source": "anilist", "anilist_id": "154587"}
    first = add(htmx, **form)
    response = htmx.post("/items", data=form)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert one(html, "p", id="add-form-error")["role"] == "alert"
    assert "“Frieren” is already in your library. Open it in your library" in text(html)
    assert one(html, "a", href=f"/items/{first}")
    assert one(html, "input", name="anilist_id")["value"] == "154587"  # the pick is kept
    assert toast_of(response)["message"] == "“Frieren” is already in your library."


@pytest.mark.parametrize("again", ["Homemade", "  homemade ", "ＨＯＭＥＭＡＤＥ"])
def test_a_title_typed_by_hand_twice_is_refused_with_a_link(app, htmx, again):
    first = add(htmx, title="Homemade", type="manga")
    response = htmx.post("/items", data={"title": again, "type": "manga"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "“Homemade” is already in your library." in text(html)
    assert one(html, "a", href=f"/items/{first}")
    with app.app_context():
        assert db.session.query(LibraryItem).count() == 1


def test_the_same_title_typed_as_the_other_type_is_a_different_title(htmx):
    add(htmx, title="Homemade", type="manga")
    add(htmx, title="Homemade", type="anime")


def test_adding_from_the_search_bar_answers_the_suggestions_put_away_and_the_row(app, htmx):
    response = htmx.post(
        "/items", data={"title": "Homemade", "type": "anime", "status": "current"},
        headers={"HX-Target": "suggestions"},
    )  # fmt: skip
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert one(html, "div", id="suggestions")
    assert "hidden" in one(html, "ul", role="listbox")
    assert one(html, "tbody")["hx-swap-oob"] == "afterbegin:#rows"
    assert not elements(html, "details")
    assert toast_of(response)["message"] == "Added Homemade as Watching"
    assert stored(app, row_id(html)).status == "current"


def test_a_duplicate_from_the_search_bar_says_so_in_the_suggestions(htmx):
    first = add(htmx, title="Homemade")
    response = htmx.post("/items", data={"title": "homemade", "type": "anime"},
                         headers={"HX-Target": "suggestions"})  # fmt: skip
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert one(html, "div", id="suggestions")
    assert one(html, "p", role="alert")
    assert "“Homemade” is already in your library. Open it in your library" in text(html)
    assert one(html, "a", href=f"/items/{first}")


def test_adding_without_htmx_redirects_to_the_library(htmx, logged_in):
    response = logged_in.client.post(
        "/items", data={"title": "Plain", "type": "anime", "csrf_token": htmx.token}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/library"
    assert "Added Plain" in logged_in.client.get("/library").get_data(as_text=True)


# --- suggestions -------------------------------------------------------------------------------
# Suggestions ask AniList on a local miss, so these tests put the fakes behind the search.


@pytest.fixture
def search_app(app_factory, fake_anilist, fake_mangadex, sleeps) -> Flask:
    return app_factory(**remote_config(fake_anilist[1], fake_mangadex[1], sleeps))


@pytest.fixture
def searcher(search_app) -> HtmxClient:
    """alice, logged in to ``search_app``, making htmx requests."""
    browser = Browser(search_app.test_client())
    assert browser.register().status_code == 302
    return HtmxClient(browser)


@pytest.fixture
def remote_knows_nothing(fake_anilist, fake_mangadex) -> None:
    """AniList and MangaDex answer every search with no titles: what shows is the local
    catalogue."""
    fake_anilist[0].media.clear()
    fake_mangadex[0].manga.clear()


def suggest(searcher, query: str):
    return searcher.get(f"/suggestions?{query}")


@pytest.mark.usefixtures("remote_knows_nothing")
def test_suggestions_list_catalogue_matches_as_a_fragment(search_app, searcher):
    seed_media(search_app)
    response = suggest(searcher, "q=frie&type=anime")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert elements(html, "div")[0]["id"] == "suggestions"
    assert "Frieren: Beyond Journey's End" in text(html)
    assert "Anime · TV · 2023 · 28 episodes · AniList" in text(html)
    (option,) = options(html)
    assert option["aria-selected"] == "false" and option["id"] == "suggestion-1"
    assert one(html, "ul", role="listbox")["id"] == "suggestion-list"
    by_hand = one(html, "li", id="suggestion-by-hand")
    assert by_hand["role"] == "option" and by_hand["data-title"] == "frie"


@pytest.mark.usefixtures("remote_knows_nothing")
def test_suggestions_search_anime_and_manga_together_with_a_chip(search_app, searcher):
    seed_media(search_app)
    seed_media(search_app, "Frieren (manga)", external_id="118586", anilist_id=118586,
               media_type="manga", episodes=None, chapters=140, format="MANGA")  # fmt: skip
    html = suggest(searcher, "q=frie").get_data(as_text=True)
    assert sorted(option["data-type"] for option in options(html)) == ["anime", "manga"]
    chips = sorted(c["class"] for c in elements(html, "span") if "chip" in c.get("class", ""))
    assert chips == ["chip chip-anime", "chip chip-manga"]


@pytest.mark.usefixtures("remote_knows_nothing")
def test_suggestions_say_when_nothing_matches(searcher):
    html = suggest(searcher, "q=zzz").get_data(as_text=True)
    assert "Nothing in the catalogue or on AniList matches “zzz”" in text(html)
    assert options(html) == []
    assert one(html, "li", role="option")["data-title"] == "zzz"  # "Add “zzz” by hand…"
    assert "Add “zzz” by hand" in text(html)


@pytest.mark.usefixtures("remote_knows_nothing")
def test_suggestions_keep_to_the_chosen_type(search_app, searcher):
    seed_media(search_app)
    assert "Frieren" not in suggest(searcher, "q=frie&type=manga").get_data(as_text=True)


@pytest.mark.usefixtures("remote_knows_nothing")
def test_suggestions_mark_titles_already_in_the_library(search_app, searcher):
    seed_media(search_app)
    add(searcher, title="Frieren", source="anilist", anilist_id="154587")
    html = suggest(searcher, "q=frie").get_data(as_text=True)
    assert "In your library" in text(html)
    # Adding it again is refused with a link to it (the row's add says where it is).
    response = searcher.post("/items", data=pick_form(options(html)[0]),
                             headers={"HX-Target": "suggestions"})  # fmt: skip
    assert response.status_code == 409
    assert "Open it in your library" in text(response.get_data(as_text=True))


@pytest.mark.usefixtures("remote_knows_nothing")
def test_picking_a_suggestion_fills_the_add_form_and_puts_the_list_away(search_app, searcher):
    seed_media(search_app)
    option = options(suggest(searcher, "q=frie").get_data(as_text=True))[0]
    fields = {k: v for k, v in pick_form(option).items() if k != "status"}
    response = searcher.get("/items/new", query_string=fields)
    html = response.get_data(as_text=True)
    assert one(html, "form")["id"] == "add-form"
    assert one(html, "input", id="add-title")["value"] == "Frieren: Beyond Journey's End"
    assert one(html, "input", id="add-max")["value"] == "28"
    assert "selected" in one(html, "option", value="anime")
    hidden = {found["name"]: found["value"] for found in elements(html, "input", type="hidden")}
    assert hidden["source"] == "anilist" and hidden["anilist_id"] == "154587"
    assert hidden["cover_url"] == "https://img.example/frieren.jpg"
    assert one(html, "div", id="suggestions")["hx-swap-oob"] == "true"


@pytest.mark.usefixtures("remote_knows_nothing")
def test_adding_a_picked_suggestion_links_the_catalogue_entry(search_app, searcher):
    seed_media(search_app)
    option = options(suggest(searcher, "q=frie").get_data(as_text=True))[0]
    response = searcher.post("/items", data=pick_form(option),
                             headers={"HX-Target": "suggestions"})  # fmt: skip
    assert toast_of(response)["message"] == "Added Frieren: Beyond Journey's End as Planning"
    item = stored(search_app, row_id(response.get_data(as_text=True)))
    with search_app.app_context():
        media = db.session.get(LibraryItem, item.id).media
        assert (media.anilist_id, media.total) == (154587, 28)
    assert item.max_progress_override is None  # the catalogue's total, not an override


@pytest.mark.usefixtures("remote_knows_nothing")
def test_the_suggestions_url_loaded_directly_is_a_full_page(search_app, searcher):
    seed_media(search_app)
    page = searcher.browser.client.get("/suggestions?q=frie").get_data(as_text=True)
    assert "<html" in page and "Frieren: Beyond Journey's End" in text(page)
    assert "Titles matching “frie”" in text(page)


def test_suggestions_come_from_anilist_on_a_local_miss(searcher, fake_anilist):
    html = suggest(searcher, "q=bebop&type=anime").get_data(as_text=True)
    assert "Cowboy Bebop" in text(html) and "Anime · TV · 1998 · 26 episodes" in text(html)
    assert fake_anilist[0].operations == ["Page"]  # one search on AniList
    assert "showing titles saved here" not in text(html)


def test_picking_an_anilist_suggestion_fills_in_its_id_cover_and_total(searcher):
    html = suggest(searcher, "q=cowboy bebop&type=anime").get_data(as_text=True)
    picks = [pick_form(option) for option in options(html)]
    (form,) = [pick for pick in picks if pick["title"] == "Cowboy Bebop"]
    assert (form["source"], form["anilist_id"], form["max_progress"]) == ("anilist", "1", "26")
    assert form["cover_url"].endswith("/bx1.jpg")


def test_suggestions_say_when_anilist_is_unreachable(search_app, searcher, fake_anilist):
    seed_media(search_app)
    fake_anilist[0].down = True
    html = suggest(searcher, "q=frie&type=anime").get_data(as_text=True)
    notice = "AniList is unreachable — showing titles saved here."
    assert notice in text(html)
    assert "Frieren: Beyond Journey's End" in text(html)  # the local catalogue still answers


def test_suggestions_say_when_anilist_is_busy(searcher, fake_anilist):
    fake_anilist[0].fail_next(429, headers={"Retry-After": "30"})
    html = suggest(searcher, "q=bebop&type=anime").get_data(as_text=True)
    assert "AniList is busy — showing titles saved here; try again in a minute." in text(html)


def test_an_empty_search_answers_an_empty_list_and_asks_nobody(searcher, fake_anilist):
    response = suggest(searcher, "q=++")
    assert response.status_code == 200
    assert text(response.get_data(as_text=True)) == ""
    assert fake_anilist[0].requests == []


def test_an_overlong_search_says_why_in_the_list(searcher, fake_anilist):
    response = suggest(searcher, f"q={'x' * (catalog.MAX_QUERY + 1)}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert one(html, "div")["id"] == "suggestions"  # the next search still has its target
    assert f"Search for at most {catalog.MAX_QUERY} characters." in text(html)
    assert fake_anilist[0].requests == []


# --- where an item stands with AniList -------------------------------------------------------


def set_sync_state(app, item_id: int, state: str) -> None:
    """Put an item in a sync state as the outbox and the worker leave it."""
    with app.app_context():
        item = db.session.get(LibraryItem, item_id)
        if state == "synced":
            item.synced_at = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
        else:
            error = "AniList unreachable: HTTP 503" if state == "error" else None
            db.session.add(SyncOutbox(user_id=item.user_id, item_id=item.id, op="save",
                                      anilist_media_id=154587, last_error=error))  # fmt: skip
        db.session.commit()


@pytest.mark.parametrize(
    ("state", "label", "meaning"),
    [
        ("synced", "Synced", "Saved on AniList (last at 2024-05-17 09:30 UTC)"),
        ("pending", "Pending", "Changed here; waiting to be sent to AniList"),
        (
            "error",
            "Sync error",
            "AniList did not accept the last try; it is retried automatically."
            " Reason: AniList unreachable: HTTP 503",
        ),
    ],
)
def test_a_row_shows_where_it_stands_with_anilist(app, htmx, logged_in, state, label, meaning):
    item_id = add(htmx)
    set_sync_state(app, item_id, state)
    row = logged_in.client.get("/library").get_data(as_text=True).split(f'id="item-{item_id}"')[1]
    badge = one(row, "span", **{"class": f"badge sync-badge sync-{state}"})
    assert badge["title"] == meaning
    assert f"Anime {label}" in text(row)


def test_a_title_not_linked_to_anilist_has_no_sync_badge(htmx, logged_in):
    add(htmx)
    assert "sync-badge" not in logged_in.client.get("/library").get_data(as_text=True)


def test_a_changed_row_keeps_its_sync_badge(app, htmx):
    item_id = add(htmx)
    set_sync_state(app, item_id, "pending")
    assert "Pending" in text(increment(htmx, item_id).get_data(as_text=True))


def test_the_item_page_says_where_the_item_stands_with_anilist(app, htmx, logged_in):
    item_id = add(htmx)
    set_sync_state(app, item_id, "synced")
    page = text(logged_in.client.get(f"/items/{item_id}").get_data(as_text=True))
    assert "AniList sync Saved on AniList; last synced 2024-05-17 09:30 UTC" in page
    assert "Synced" in page.split("Your entry")[0]  # the badge by the title


def record_conflict(app, item_id: int, changes: dict) -> None:
    with app.app_context():
        item = db.session.get(LibraryItem, item_id)
        library.record_event(item, "conflict", changes, Origin.ANILIST)
        db.session.commit()


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"winner": "local", "remote": {"status": "paused", "progress": 10, "notes": None}},
         "Changed here and on AniList; the change made here was newer and was kept. "
         "Field Here (applied) AniList Status Planning Paused Progress 0 10 "
         "Use AniList’s value here too Keep the value from here"),
        ({"winner": "remote", "local": {"status": "current", "progress": 12, "score": 80}},
         "Changed here and on AniList; AniList’s change was newer and was applied. "
         "Field Here AniList (applied) Status Watching Planning Progress 12 0 Score 80 – "
         "Use the value from here and send it to AniList Keep AniList’s value"),
        ({"remote": "deleted on AniList", "entry_id": 400000001},
         "Deleted on AniList; kept here. A change made here adds it to AniList again. "
         "Keep it here"),
    ],
    ids=["local-won", "anilist-won", "deleted-on-anilist"],
)  # fmt: skip
def test_the_history_explains_a_sync_conflict(app, htmx, logged_in, changes, said):
    item_id = add(htmx)
    record_conflict(app, item_id, changes)
    page = logged_in.client.get(f"/items/{item_id}").get_data(as_text=True)
    history = text(page.split('id="history-heading"')[1])
    assert f"anilist Conflict {said}" in history


# --- browsing: filters, sorting, paging ---------------------------------------------------------


def titles_in(html: str) -> list[str]:
    return re.findall(r'<a href="/items/\d+">([^<]+)</a>', html)


@pytest.fixture
def shelf(htmx) -> None:
    add(htmx, title="Bocchi", type="anime", status="completed")
    add(htmx, title="Apothecary", type="manga", status="current")
    add(htmx, title="Chainsaw", type="manga", status="paused")


@pytest.mark.usefixtures("shelf")
def test_filtering_with_htmx_answers_only_the_list(htmx):
    response = htmx.get("/?type=manga&status=&q=&sort=title")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and one(html, "tbody")["id"] == "rows"
    assert titles_in(html) == ["Apothecary", "Chainsaw"]
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.usefixtures("shelf")
def test_the_same_filter_url_loaded_directly_is_the_full_page(logged_in):
    response = logged_in.client.get("/?type=manga&sort=title")
    html = response.get_data(as_text=True)
    assert "<html" in html and titles_in(html) == ["Apothecary", "Chainsaw"]
    filters = html.split('<details id="more-filters"')[1].split("</details>")[0]
    assert "selected" in one(filters, "option", value="manga")
    assert "selected" in one(filters, "option", value="title")
    assert {one(filters, "select", id=name)["form"] for name in ("filter-type", "filter-sort")} == {
        "filters"
    }
    assert "open" in html.split('<details id="more-filters"')[1].split(">")[0]
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.usefixtures("shelf")
def test_the_filter_form_swaps_the_list_and_pushes_the_url(logged_in):
    form = one(logged_in.client.get("/library").get_data(as_text=True), "form", id="filters")
    assert (form["method"], form["action"], form["hx-get"]) == ("get", "/library", "/library")
    assert form["hx-target"] == "#library-list" and form["hx-push-url"] == "true"


@pytest.mark.usefixtures("shelf")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=paused", ["Chainsaw"]),
        ("q=APOTH", ["Apothecary"]),
        ("sort=-title", ["Chainsaw", "Bocchi", "Apothecary"]),
        ("sort=title&type=anime", ["Bocchi"]),
    ],
)
def test_filters_and_sorting_choose_the_rows(htmx, query, expected):
    assert titles_in(htmx.get(f"/?{query}").get_data(as_text=True)) == expected


@pytest.mark.usefixtures("shelf")
def test_paging_links_keep_the_filters_and_push_the_url(htmx):
    first = htmx.get("/?sort=title&per_page=2").get_data(as_text=True)
    assert titles_in(first) == ["Apothecary", "Bocchi"]
    link, bottom = elements(first, "a", rel="next")  # the pager is above and below the list
    assert link == bottom
    assert link["hx-push-url"] == "true" and link["hx-target"] == "#library-list"
    assert parse_qs(urlsplit(unescape(link["href"])).query) == {
        "sort": ["title"], "per_page": ["2"], "page": ["2"]}  # fmt: skip
    second = htmx.get(unescape(link["href"])).get_data(as_text=True)
    assert titles_in(second) == ["Chainsaw"]
    assert "Page 2 of 2" in text(second)
    previous = urlsplit(unescape(elements(second, "a", rel="prev")[0]["href"]))
    assert previous.path == "/library"
    assert parse_qs(previous.query) == {"sort": ["title"], "per_page": ["2"]}


@pytest.mark.usefixtures("shelf")
def test_invalid_query_values_fall_back_to_defaults_with_a_note(logged_in):
    response = logged_in.client.get("/?per_page=999&type=book&sort=title")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "per_page=999" in text(html) and "type=book" in text(html)
    assert one(html, "div", role="alert")["class"] == "notice"
    assert titles_in(html) == ["Apothecary", "Bocchi", "Chainsaw"]  # valid sort kept


@pytest.mark.usefixtures("shelf")
def test_a_page_past_the_end_says_so(htmx):
    html = htmx.get("/?page=9").get_data(as_text=True)
    assert "There is no page 9." in text(html)


# --- one item --------------------------------------------------------------------------------


def test_the_item_page_edits_in_place_with_the_rows_controls_and_one_form(htmx, logged_in):
    item_id = add(htmx, max_progress="28", status="current")
    increment(htmx, item_id)
    row_post(htmx, item_id, score="90")
    page = logged_in.client.get(f"/items/{item_id}").get_data(as_text=True)
    article = one(page, "article")
    assert (article["hx-target"], article["hx-swap"]) == ("this", "outerHTML")
    # The row's controls, at the top, posting to the row's routes.
    assert one(page, "select", id=f"status-{item_id}")["hx-post"] == f"/items/{item_id}"
    assert "selected" in one(page, "option", value="current")
    plus = one(page, "button", id=f"increment-{item_id}")
    assert plus["hx-post"] == f"/items/{item_id}/increment" and plus["value"] == "1"
    assert one(page, "output", id=f"progress-{item_id}") is not None and "1 of 28" in text(page)
    assert one(page, "input", id=f"score-{item_id}")["value"] == "90"
    # Every other field once, in the one form; nothing is repeated in a list of facts.
    for name in ("title", "max_progress", "progress_volumes", "repeat", "started_on",
                 "completed_on", "cover_url", "private", "notes"):  # fmt: skip
        assert elements(page, id=f"edit-{name}"), name
    for name in ("status", "progress", "score"):
        assert not elements(page, id=f"edit-{name}"), name
    assert "Source Added by hand" in text(page) and "AniList id –" in text(page)
    history = page.split('id="history-heading"')[1]
    assert text(history).count("web") == 3
    assert "Score: – → 90" in text(history) and "Progress: 0 → 1" in text(history)
    assert "Created" in text(history)


def test_plus_on_the_item_page_answers_the_item_block(app, htmx):
    item_id = add(htmx, max_progress="28", status="current")
    response = htmx.post(f"/items/{item_id}/increment", data={"by": "1"},
                         headers={"HX-Target": "item-detail"})  # fmt: skip
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert one(html, "article")["id"] == "item-detail"
    assert one(html, "output", id=f"progress-{item_id}") is not None
    assert "Progress: 0 → 1" in text(html.split('id="history-heading"')[1])
    assert toast_of(response)["message"] == "Frieren: episode 1 of 28"
    assert triggers(response)["library-changed"] is True
    status = htmx.post(f"/items/{item_id}", data={"status": "paused"},
                       headers={"HX-Target": "item-detail"})  # fmt: skip
    assert toast_of(status)["message"] == "Frieren: now Paused"
    assert stored(app, item_id).status == "paused"


def test_the_item_page_groups_a_run_of_plus_ones(htmx, logged_in):
    item_id = add(htmx, max_progress="28", status="current")
    for _ in range(14):
        increment(htmx, item_id)
    row_post(htmx, item_id, notes="halfway")
    increment(htmx, item_id)
    history = text(logged_in.client.get(f"/items/{item_id}").get_data(as_text=True).split(
        'id="history-heading"')[1])  # fmt: skip
    # Newest first: the lone +1, the note, then 2→14 as one entry (the first +1 also
    # stamped the start date, so it stands alone), then the add.
    assert history.count("Progress: 14 → 15") == 1
    assert "Episodes 1 → 14 13 changes" in history
    assert history.count("Progress:") == 2
    assert "today" in history


def test_editing_on_the_item_page_answers_the_detail_fragment(app, htmx):
    item_id = add(htmx)
    response = htmx.post(f"/items/{item_id}", data={"title": "Frieren", "status": "current",
                         "progress": "3", "max_progress": "", "score": "88", "notes": "Great",
                         "started_on": "2024-05", "private": "true"},
                         headers={"HX-Target": "item-detail"})  # fmt: skip
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert one(html, "article")["id"] == "item-detail"
    assert toast_of(response)["message"] == "Saved Frieren"
    item = stored(app, item_id)
    assert (item.progress, item.score, item.notes, item.started_on, item.private) == (
        3, 88, "Great", "2024-05", True)  # fmt: skip


def test_an_invalid_edit_on_the_item_page_keeps_what_was_typed(app, htmx):
    item_id = add(htmx, max_progress="10")
    response = htmx.post(f"/items/{item_id}", data={"progress": "11", "started_on": "May"},
                         headers={"HX-Target": "item-detail"})  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert one(html, "input", id="edit-started_on")["aria-invalid"] == "true"
    assert one(html, "input", id="edit-started_on")["value"] == "May"
    assert "Use YYYY, YYYY-MM or YYYY-MM-DD" in text(html)
    assert stored(app, item_id).started_on is None


@pytest.mark.parametrize("typed", ["2024-00", "2024-05-00", "２０２４"])
def test_the_item_page_refuses_a_date_with_no_real_month_or_day(app, htmx, typed):
    item_id = add(htmx)
    response = htmx.post(f"/items/{item_id}", data={"started_on": typed},
                         headers={"HX-Target": "item-detail"})  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert one(html, "input", id="edit-started_on")["aria-invalid"] == "true"
    assert one(html, "input", id="edit-started_on")["value"] == typed
    assert stored(app, item_id).started_on is None


def test_a_refused_edit_on_the_item_page_names_the_field(app, htmx):
    item_id = add(htmx, max_progress="10")
    response = htmx.post(f"/items/{item_id}", data={"progress": "11"},
                         headers={"HX-Target": "item-detail"})  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    message = one(html, "p", id=f"item-{item_id}-error")
    assert message["role"] == "alert"
    assert one(html, "span", **{"class": "progress"})["aria-describedby"] == f"item-{item_id}-error"
    assert "Progress: Progress 11 is past the last episode (10)" in text(html)
    assert stored(app, item_id).progress == 0


def test_editing_without_htmx_redirects_back_to_the_item(htmx, logged_in):
    item_id = add(htmx)
    response = logged_in.client.post(
        f"/items/{item_id}", data={"notes": "plain form", "csrf_token": htmx.token}
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/items/{item_id}"
    assert "plain form" in logged_in.client.get(f"/items/{item_id}").get_data(as_text=True)


def test_the_item_page_of_another_users_item_is_not_found(logged_in, other_api):
    theirs = other_api.add(title="Mallory's")
    response = logged_in.client.get(f"/items/{theirs['id']}")
    assert response.status_code == 404
    assert "Mallory" not in response.get_data(as_text=True)


# --- settings and navigation --------------------------------------------------------------------


def test_the_settings_page_has_its_three_sections(logged_in):
    page = logged_in.client.get("/settings").get_data(as_text=True)
    headings = re.findall(r"<h2 [^>]*>([^<]+)</h2>", page)
    assert headings == [
        "Profile",
        "Password",
        "API tokens",
        "Sessions",
        "AniList",
        "Calendar feed",
        "Import &amp; export",
        "Delete account",
    ]
    assert "coming soon" not in text(page)  # import and export are both there


def test_the_navigation_links_every_page_and_marks_the_current_one(logged_in):
    page = logged_in.client.get("/settings").get_data(as_text=True)
    assert one(page, "a", aria_current="page")["href"] == "/settings"
    assert elements(page, "a", href="/") and elements(page, "a", href="/docs")


def test_the_settings_page_needs_a_login(client):
    response = client.get("/settings")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_rows_and_the_item_page_say_when_a_title_aired_and_what_it_is(app, htmx, logged_in):
    seed_media(app, season="fall", synopsis="An elf mage outlives her party.\n\nThen travels.",
               genres=["Adventure", "Fantasy"], studios=["Madhouse"])  # fmt: skip
    item_id = add(htmx, title="Frieren", source="anilist", anilist_id="154587")
    add(htmx, title="Homemade")
    listing = logged_in.client.get("/library").get_data(as_text=True)
    row = listing.split(f'<tr id="item-{item_id}"')[1].split("</tr>")[0]
    assert "Anime · TV · Fall 2023" in text(row)
    page = logged_in.client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "Anime · TV · Fall 2023 · 28 episodes" in text(page)
    assert "An elf mage outlives her party." in text(page)
    assert "Adventure Fantasy" in text(page) and "Studio Madhouse" in text(page)
