"""The profile: preferences over the API and in settings, and the pages that follow them
(scores in the chosen format, titles in the chosen language, times in the chosen zone,
the library in the chosen sort)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import ApiClient
from tests.test_fast_path import counted, fill_library
from tests.test_library_pages import add, one, row_post, seed_media, stored, text, toast_of
from tests.test_settings_pages import come_back_from_anilist, person
from tracker.extensions import db
from tracker.models import User

ME = "/api/auth/me"
PROFILE = "/settings/profile"
DEFAULTS = {"display_name": None, "title_language": "romaji", "score_format": "POINT_100",
            "timezone": "UTC", "default_sort": "-updated"}  # fmt: skip


def preferences_of(app, username: str = "alice") -> dict:
    with app.app_context():
        return db.session.scalar(select(User.preferences).where(User.username == username))


def set_profile(client, **changes) -> dict:
    response = client.patch(ME, json=changes)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- the API -----------------------------------------------------------------------------


def test_me_shows_the_account_and_every_preference_with_its_default(api: ApiClient):
    body = api.get(ME).get_json()
    assert {key: body[key] for key in DEFAULTS} == DEFAULTS
    assert body["username"] == "alice" and body["is_admin"] is False
    assert {"id", "created_at", "preferences"} <= set(body)


def test_patch_changes_only_the_fields_sent_and_answers_the_profile(app, api: ApiClient):
    body = set_profile(api, display_name="  Alice L.  ", timezone="Asia/Tokyo")
    assert body["display_name"] == "Alice L."  # trimmed
    assert body["timezone"] == "Asia/Tokyo" and body["score_format"] == "POINT_100"
    body = set_profile(api, score_format="POINT_5", title_language="native", default_sort="title")
    assert (body["display_name"], body["timezone"]) == ("Alice L.", "Asia/Tokyo")
    assert api.get(ME).get_json()["score_format"] == "POINT_5"
    assert preferences_of(app)["default_sort"] == "title"


@pytest.mark.parametrize("cleared", [None, "", "   "])
def test_an_empty_display_name_clears_it(api: ApiClient, cleared):
    set_profile(api, display_name="Alice")
    assert set_profile(api, display_name=cleared)["display_name"] is None


HOSTILE = [
    ({"display_name": "x" * 10_000}, "display_name"),
    ({"display_name": "x" * 81}, "display_name"),
    ({"display_name": "Al\x00ice"}, "display_name"),
    ({"display_name": "Al\nice"}, "display_name"),
    ({"display_name": "\u202eecila"}, "display_name"),
    ({"display_name": 5}, "display_name"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"timezone": "../../etc"}, "timezone"),
    ({"timezone": "Europe/Paris\x00"}, "timezone"),
    ({"timezone": "europe/paris"}, "timezone"),
    ({"timezone": ""}, "timezone"),
    ({"timezone": None}, "timezone"),
    ({"default_sort": "random"}, "default_sort"),
    ({"default_sort": "--title"}, "default_sort"),
    ({"default_sort": ["title"]}, "default_sort"),
    ({"score_format": "POINT_7"}, "score_format"),
    ({"score_format": 100}, "score_format"),
    ({"score_format": True}, "score_format"),
    ({"title_language": "klingon"}, "title_language"),
    ({"title_language": {"romaji": True}}, "title_language"),
    ({"is_admin": True}, "is_admin"),
    ({"username": "root"}, "username"),
]


@pytest.mark.parametrize(("body", "field"), HOSTILE)
def test_a_refused_value_is_a_422_naming_it_and_changes_nothing(app, api: ApiClient, body, field):
    set_profile(api, display_name="Alice", timezone="Europe/Paris")
    before = preferences_of(app)
    response = api.patch(ME, json={"default_sort": "title", **body})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert preferences_of(app) == before
    assert api.get(ME).get_json()["is_admin"] is False


@pytest.mark.parametrize("body", ["[]", '"POINT_5"', "null", "{"])
def test_a_body_that_is_not_an_object_is_refused(app, api: ApiClient, body):
    response = api.patch(ME, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert preferences_of(app) == {}


def test_me_needs_a_caller(client):
    assert client.patch(ME, json={"timezone": "UTC"}).status_code == 401


def test_one_person_changes_only_their_own_profile(app, api: ApiClient, other_api: ApiClient):
    set_profile(other_api, score_format="POINT_3", display_name="Mallory")
    assert api.get(ME).get_json()["score_format"] == "POINT_100"
    assert preferences_of(app, "alice") == {}


def test_the_api_keeps_speaking_0_to_100_whatever_the_format(api: ApiClient):
    set_profile(api, score_format="POINT_5")
    item = api.add(score=85)
    assert api.get(f"/api/library/items/{item['id']}").get_json()["score"] == 85
    assert api.patch(f"/api/library/items/{item['id']}", json={"score": 4}).get_json()["score"] == 4


def test_the_api_list_keeps_its_own_default_sort(api: ApiClient):
    set_profile(api, default_sort="title")
    for title in ("Banana", "Apple"):
        api.add(title=title)
    api.patch(f"/api/library/items/{api.get('/api/library/items').get_json()[-1]['id']}",
              json={"progress": 1})  # fmt: skip
    titles = [item["title"] for item in api.get("/api/library/items").get_json()]
    assert titles[0] == "Banana"  # -updated, not the page's title order


# --- the score format from AniList -------------------------------------------------------


def test_connecting_anilist_brings_its_score_format_when_none_was_chosen(anilist_app, viewer):
    alice = person(anilist_app)
    assert come_back_from_anilist(alice).status_code == 302
    assert alice.get(ME).get_json()["score_format"] == "POINT_10"


def test_a_chosen_score_format_stays_when_anilist_connects(anilist_app, viewer):
    alice = person(anilist_app)
    assert alice.patch(ME, json={"score_format": "POINT_3"}).status_code == 200
    assert come_back_from_anilist(alice).status_code == 302
    assert alice.get(ME).get_json()["score_format"] == "POINT_3"


# --- the settings section ----------------------------------------------------------------


def test_the_settings_page_shows_the_profile_form_with_the_current_values(htmx):
    htmx.patch(ME, json={"timezone": "Asia/Tokyo", "score_format": "POINT_5"})
    html = htmx.browser.client.get("/settings").get_data(as_text=True)
    assert one(html, "form", id="profile-form")["action"] == PROFILE
    assert "selected>Asia/Tokyo</option>" in html
    assert one(html, "option", value="POINT_5")["selected"] == ""
    assert "coming soon" not in html.split('id="profile"')[1].split("</section>")[0]


def test_saving_the_profile_without_javascript_redirects_back_with_a_flash(app, logged_in):
    csrf = logged_in.csrf_token()
    form = {**DEFAULTS, "display_name": "Alice", "timezone": "Europe/Paris", "csrf_token": csrf}
    response = logged_in.client.post(PROFILE, data=form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/settings#profile")
    page = logged_in.client.get("/settings").get_data(as_text=True)
    assert "Profile saved." in page and "Log out Alice" in page
    assert preferences_of(app)["timezone"] == "Europe/Paris"


def test_saving_the_profile_with_htmx_swaps_the_form_and_toasts(app, htmx):
    response = htmx.post(PROFILE, data={**DEFAULTS, "display_name": "", "score_format": "POINT_3"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="profile-form"')
    assert one(html, "option", value="POINT_3")["selected"] == ""
    assert toast_of(response) == {"message": "Profile saved.", "level": "success"}
    assert preferences_of(app)["score_format"] == "POINT_3"


def test_a_refused_profile_answers_422_with_the_message_beside_the_field(app, htmx):
    response = htmx.post(PROFILE, data={**DEFAULTS, "display_name": "x" * 81,
                                        "timezone": "Mars/Olympus"})  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert one(html, "input", id="profile-display_name")["aria-invalid"] == "true"
    assert one(html, "select", id="profile-timezone")["aria-invalid"] == "true"
    assert "Not a time zone this server knows" in text(html)
    assert toast_of(response)["level"] == "error"
    assert preferences_of(app) == {}


def test_a_refused_profile_without_javascript_shows_the_page_with_the_errors(app, logged_in):
    form = {**DEFAULTS, "default_sort": "random", "csrf_token": logged_in.csrf_token()}
    response = logged_in.client.post(PROFILE, data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<h1" in html and one(html, "select", id="profile-default_sort")["aria-invalid"]
    assert preferences_of(app) == {}


# --- scores on the pages -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("score_format", "shown"),
    [("POINT_100", "85"), ("POINT_10_DECIMAL", "8.5"), ("POINT_10", "9")],
)
def test_the_row_shows_a_number_score_in_the_chosen_format(htmx, score_format, shown):
    item_id = add(htmx, score="85")
    htmx.patch(ME, json={"score_format": score_format})
    html = htmx.get("/").get_data(as_text=True)
    score = one(html, "input", id=f"score-{item_id}")
    assert score["value"] == shown
    assert score["max"] == ("100" if score_format == "POINT_100" else "10")


def test_the_row_offers_stars_with_words_and_saving_four_stores_80(app, htmx):
    item_id = add(htmx, score="85")
    htmx.patch(ME, json={"score_format": "POINT_5"})
    html = htmx.get("/").get_data(as_text=True)
    assert one(html, "option", selected="", value="4")["aria-label"] == "4 of 5 stars"
    response = row_post(htmx, item_id, score="5")
    assert response.status_code == 200
    assert stored(app, item_id).score == 100
    assert one(response.get_data(as_text=True), "option", value="5")["selected"] == ""


def test_smileys_save_as_anilist_stores_them(app, htmx):
    item_id = add(htmx)
    htmx.patch(ME, json={"score_format": "POINT_3"})
    assert row_post(htmx, item_id, score="2").status_code == 200
    assert stored(app, item_id).score == 60
    html = htmx.get(f"/items/{item_id}").get_data(as_text=True)
    assert "😐" in html
    assert one(html, "option", aria_label="Neutral")["selected"] == ""


def test_a_score_the_format_refuses_answers_422_in_the_row_and_keeps_the_score(app, htmx):
    item_id = add(htmx, score="85")
    htmx.patch(ME, json={"score_format": "POINT_10_DECIMAL"})
    response = row_post(htmx, item_id, score="8.55")
    assert response.status_code == 422
    assert "one decimal" in text(response.get_data(as_text=True))
    assert stored(app, item_id).score == 85


def test_saving_the_item_form_with_a_rounded_score_untouched_keeps_the_score(app, htmx):
    item_id = add(htmx, score="85")
    htmx.patch(ME, json={"score_format": "POINT_5"})
    form = {"title": "Frieren", "status": "planning", "progress": "0", "score": "4",
            "score_was": "85", "notes": "rewatch soon"}  # fmt: skip
    assert htmx.post(f"/items/{item_id}", data=form).status_code == 200
    item = stored(app, item_id)
    assert (item.score, item.notes) == (85, "rewatch soon")


def test_the_item_page_shows_the_score_in_the_persons_format(htmx):
    item_id = add(htmx, score="85")
    htmx.patch(ME, json={"score_format": "POINT_10"})
    html = htmx.get(f"/items/{item_id}").get_data(as_text=True)
    assert one(html, "input", id=f"score-{item_id}")["value"] == "9"


def test_history_shows_scores_in_the_chosen_format(htmx):
    item_id = add(htmx, score="85")
    row_post(htmx, item_id, score="60")
    htmx.patch(ME, json={"score_format": "POINT_10_DECIMAL"})
    assert "Score: 8.5 → 6.0" in text(htmx.get(f"/items/{item_id}").get_data(as_text=True))


# --- time zone, title language, default sort ----------------------------------------------


def test_item_times_show_in_the_chosen_zone_with_its_name(app, htmx):
    item_id = add(htmx)
    htmx.patch(ME, json={"timezone": "Asia/Tokyo"})
    created = stored(app, item_id).created_at
    html = htmx.get(f"/items/{item_id}").get_data(as_text=True)
    expected = f"{created.astimezone(ZoneInfo('Asia/Tokyo')):%Y-%m-%d %H:%M} Asia/Tokyo"
    assert expected in text(html)
    assert " UTC" not in text(html)


def test_titles_from_the_catalogue_follow_the_chosen_language(app, htmx):
    seed_media(app, title_romaji="Sousou no Frieren", title_english="Frieren: Beyond Journey's End")
    item_id = add(htmx, title="Sousou no Frieren", source="anilist", anilist_id="154587")
    htmx.patch(ME, json={"title_language": "english"})
    html = htmx.get("/").get_data(as_text=True)
    assert "Frieren: Beyond Journey's End" in text(html)
    assert one(html, "tr", id=f"item-{item_id}")["aria-label"] == "Frieren: Beyond Journey's End"


def test_a_title_the_person_typed_stays_whatever_the_language(app, htmx):
    seed_media(app, title_romaji="Sousou no Frieren", title_english="Frieren: Beyond Journey's End")
    item_id = add(htmx, title="My Frieren", source="anilist", anilist_id="154587")
    htmx.patch(ME, json={"title_language": "english"})
    assert one(htmx.get("/").get_data(as_text=True), "tr", id=f"item-{item_id}")["aria-label"] == (
        "My Frieren"
    )


def test_the_library_uses_the_default_sort_when_the_url_names_none(htmx):
    for title in ("Banana", "Apple", "Cherry"):
        add(htmx, title=title)
    htmx.patch(ME, json={"default_sort": "title"})
    html = htmx.browser.client.get("/library").get_data(as_text=True)  # the page, with filters
    assert text(html).index("Apple") < text(html).index("Banana") < text(html).index("Cherry")
    assert one(html, "option", value="title")["selected"] == ""
    newest_first = text(htmx.get("/?sort=-created").get_data(as_text=True))
    assert newest_first.index("Cherry") < newest_first.index("Apple")


def test_preferences_cost_no_statement_on_the_library_page_or_the_plus_one(app, htmx):
    item_id = fill_library(app, "alice", 20, linked=True)
    with counted(app) as plain_page:
        assert htmx.get("/").status_code == 200
    with counted(app) as plain_step:
        assert row_post(htmx, item_id, "/increment", by="1").status_code == 200
    htmx.patch(ME, json={"score_format": "POINT_5", "timezone": "Asia/Tokyo",
                         "title_language": "english", "default_sort": "title"})  # fmt: skip
    with counted(app) as page:
        assert htmx.get("/").status_code == 200
    with counted(app) as step:
        response = row_post(htmx, item_id, "/increment", by="1")
    assert response.status_code == 200
    assert len(page) == len(plain_page) and len(step) == len(plain_step)
