"""Exporting a library: ``GET /api/library/export`` (bearer token or browser session),
``flask tracker export`` and the settings card's links.

The file streams: 5,000 items go out in pages, memory stays flat and the statements
grow with pages, not items. Nobody's export holds another person's items.
"""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from datetime import timedelta

import pytest
from defusedxml import ElementTree
from sqlalchemy import insert, select

from tests.test_fast_path import counted
from tracker.extensions import db
from tracker.models import ItemEvent, LibraryItem, Media, User, utcnow
from tracker.portability import EXPORT_VERSION
from tracker.portability.tracker_files import CSV_COLUMNS, ITEM_FIELDS, read_csv, read_json
from tracker.services import exports

EXPORT = "/api/library/export"


def fill(app, username: str, size: int, *, media_type: str = "anime", mal_from: int = 1,
         notes: str | None = None, events: bool = False) -> None:  # fmt: skip
    """``size`` linked titles with MAL ids (and one history row each, when asked)."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        now = utcnow()
        start = db.session.scalar(select(db.func.count(Media.id))) or 0
        db.session.execute(
            insert(Media),
            [{"source": "anilist", "external_id": str(500_000 + start + n),
              "anilist_id": 500_000 + start + n, "mal_id": mal_from + n,
              "media_type": media_type, "title_preferred": f"Title {n}", "episodes": 12,
              "chapters": 40, "volumes": 4, "format": "TV", "search_text": f"title {n}",
              "synonyms": []} for n in range(size)],
        )  # fmt: skip
        media_ids = db.session.scalars(
            select(Media.id).where(Media.anilist_id >= 500_000 + start).order_by(Media.id)
        ).all()
        db.session.execute(
            insert(LibraryItem),
            [{"user_id": user_id, "media_id": media_id, "media_type": media_type,
              "title": f"{username} {media_type} {n}", "status": "current", "progress": n % 12,
              "score": n % 101, "notes": notes, "repeat": 0, "private": False,
              "created_at": now, "updated_at": now, "custom_lists": ["Favourites"]}
             for n, media_id in enumerate(media_ids)],
        )  # fmt: skip
        if events:
            item_ids = db.session.scalars(
                select(LibraryItem.id).where(LibraryItem.user_id == user_id)
            ).all()
            db.session.execute(
                insert(ItemEvent),
                [{"item_id": item_id, "user_id": user_id, "at": now, "origin": "web",
                  "kind": "created", "changes": {"status": [None, "current"]}}
                 for item_id in item_ids],
            )  # fmt: skip
        db.session.commit()


def body_of(response) -> bytes:
    return b"".join(response.response)


# --- the API ----------------------------------------------------------------------------


def test_the_json_export_holds_every_item_with_its_history(api):
    made = api.add(title="Frieren", progress=1, score=80, started_on="2024-05")
    api.patch(f"/api/library/items/{made['id']}", json={"progress": 2, "notes": "-5 stars"})
    api.add(title="Dungeon Meshi", type="manga", status="planning", max_progress=97)
    response = api.get(f"{EXPORT}?format=json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = json.loads(body_of(response))
    assert (document["format"], document["version"], document["username"]) == (
        "tracker", EXPORT_VERSION, "alice",
    )  # fmt: skip
    frieren, meshi = document["items"]
    assert list(frieren) == [*ITEM_FIELDS, "events"]
    assert (frieren["title"], frieren["progress"], frieren["notes"]) == ("Frieren", 2, "-5 stars")
    assert meshi["max_progress"] == 97 and meshi["source"] == "manual"
    assert [(e["kind"], e["origin"]) for e in frieren["events"]] == [
        ("created", "api"), ("updated", "api"),
    ]  # fmt: skip
    assert frieren["events"][1]["changes"]["progress"] == [1, 2]


def test_the_json_export_reads_back_as_the_library_and_history_the_api_shows(api):
    first = api.add(title="Frieren ]]> 🍙", progress=3, score=85, notes="=1+1\r\nline",
                    started_on="2024", completed_on="2024-05-17", max_progress=28)  # fmt: skip
    api.patch(f"/api/library/items/{first['id']}", json={"status": "repeating", "repeat": 2,
              "private": True, "cover_url": "https://example.org/c.png"})  # fmt: skip
    api.add(title="\u202eRTL", type="manga", progress_volumes=3)
    parsed = read_json(io.BytesIO(body_of(api.get(EXPORT))))
    assert parsed.skipped == []
    shown = api.get("/api/library/items?sort=created").get_json()
    assert len(parsed.rows) == len(shown) == 2
    for row, item in zip(parsed.rows, shown, strict=True):
        for name in ("title", "status", "progress", "progress_volumes", "score", "notes",
                     "repeat", "private", "started_on", "completed_on", "cover_url",
                     "custom_lists", "anilist_id", "mal_id", "mangadex_id", "source"):  # fmt: skip
            assert getattr(row, name) == item[name], name
        assert row.type == item["type"]
        assert row.max_progress == item["max_progress"]
        assert row.created_at.isoformat() == item["created_at"].replace("Z", "+00:00")
        history = api.get(f"/api/library/items/{item['id']}/events").get_json()
        assert [(e["kind"], e["changes"]) for e in row.events] == [
            (e["kind"], e["changes"]) for e in reversed(history)
        ]


def test_the_csv_export_is_a_spreadsheet_with_formulas_neutralised(api):
    api.add(title='=HYPERLINK("http://evil")', notes="-5 stars", progress=4)
    response = api.get(f"{EXPORT}?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    data = body_of(response)
    assert not data.startswith(b"\xef\xbb\xbf")
    header, row = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert header == list(CSV_COLUMNS)
    cells = dict(zip(header, row, strict=True))
    assert cells["title"] == '\'=HYPERLINK("http://evil")'
    assert cells["notes"] == "'-5 stars"
    [back] = read_csv(io.BytesIO(data)).rows
    assert (back.title, back.notes, back.progress) == ('=HYPERLINK("http://evil")', "-5 stars", 4)


def test_the_mal_export_holds_one_type_and_only_titles_with_a_mal_id(app, api):
    fill(app, "alice", 3, media_type="anime", mal_from=100)
    fill(app, "alice", 2, media_type="manga", mal_from=200)
    api.add(title="Typed by hand")  # no MAL id
    response = api.get(f"{EXPORT}?format=mal&type=anime")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.headers["X-Total-Count"] == "3"
    text = body_of(response).decode()
    root = ElementTree.fromstring(text.encode())
    assert [int(e.text) for e in root.iter("series_animedb_id")] == [100, 101, 102]
    assert root.findtext("myinfo/user_total_anime") == "3"
    assert root.findtext("myinfo/user_total_watching") == "3"
    assert "1 entry without a MyAnimeList id left out" in text
    manga = ElementTree.fromstring(body_of(api.get(f"{EXPORT}?format=mal&type=manga")))
    assert [int(e.text) for e in manga.iter("manga_mangadb_id")] == [200, 201]


@pytest.mark.parametrize(
    ("query", "filename"),
    [
        ("", "tracker-library-{}.json"),
        ("?format=csv", "tracker-library-{}.csv"),
        ("?format=json&type=manga", "tracker-manga-{}.json"),
        ("?format=mal&type=anime", "tracker-anime-{}.xml"),
    ],
)
def test_the_file_comes_as_an_attachment_named_for_its_type_and_day(api, query, filename):
    response = api.get(f"{EXPORT}{query}")
    body_of(response)
    today = utcnow().date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{filename.format(today)}"'
    )


def test_the_type_filter_keeps_one_type(api):
    api.add(title="Frieren")
    api.add(title="Dungeon Meshi", type="manga")
    document = json.loads(body_of(api.get(f"{EXPORT}?type=manga")))
    assert [item["title"] for item in document["items"]] == ["Dungeon Meshi"]
    rows = read_csv(io.BytesIO(body_of(api.get(f"{EXPORT}?format=csv&type=anime")))).rows
    assert [row.title for row in rows] == ["Frieren"]


def test_a_mal_export_without_a_type_is_refused_saying_why(api):
    response = api.get(f"{EXPORT}?format=mal")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["fields"] == {
        "type": ["A MyAnimeList file holds one type: choose anime or manga."]
    }


@pytest.mark.parametrize("query", ["?format=xlsx", "?type=novel", "?format=", "?format=MAL"])
def test_unknown_formats_and_types_are_refused(api, query):
    response = api.get(f"{EXPORT}{query}")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]


def test_another_persons_items_never_appear(app, api, other_api):
    api.add(title="Alice's")
    other_api.add(title="Mallory's secret", notes="private")
    # MAL ids no timestamp or small id can contain (a microsecond field has six digits).
    fill(app, "mallory", 3, mal_from=7_654_321)
    for query in ("?format=json", "?format=csv", "?format=mal&type=anime"):
        data = body_of(api.get(f"{EXPORT}{query}"))
        assert b"Mallory" not in data and b"mallory" not in data, query
        assert not any(str(mal_id).encode() in data for mal_id in range(7_654_321, 7_654_324))
    mine = json.loads(body_of(other_api.get(EXPORT)))
    assert {item["title"] for item in mine["items"]} >= {"Mallory's secret"}
    assert "Alice's" not in {item["title"] for item in mine["items"]}


def test_the_export_needs_a_caller(client):
    response = client.get(EXPORT)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"]


def test_the_browser_session_downloads_without_a_csrf_token(logged_in):
    response = logged_in.client.get(f"{EXPORT}?format=csv")
    assert response.status_code == 200
    assert body_of(response).decode().startswith(",".join(CSV_COLUMNS))


def test_the_openapi_document_names_the_three_media_types(client):
    spec = client.get("/api/openapi.json").get_json()
    answer = spec["paths"]["/api/library/export"]["get"]["responses"]
    assert set(answer["200"]["content"]) == {"application/json", "text/csv", "application/xml"}
    assert "422" in answer and "401" in answer


# --- streaming at size ------------------------------------------------------------------


@pytest.mark.parametrize("format_", ["json", "csv", "mal"])
def test_five_thousand_items_stream_in_flat_memory_and_few_statements(app, api, format_):
    fill(app, "alice", 5_000, notes="A note of some length. " * 20, events=True)
    with counted(app) as statements:
        response = api.get(f"{EXPORT}?format={format_}&type=anime")
        assert response.status_code == 200
        assert response.is_streamed
        tracemalloc.start()
        try:
            size = chunks = 0
            for chunk in response.response:
                size += len(chunk)
                chunks += 1
                if chunks == 1_000:
                    _, early_peak = tracemalloc.get_traced_memory()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert chunks > 5_000  # a piece per item, not one body
    # What is held is a page of items, whatever the library's size.
    assert peak < size / 4, (peak, size)
    assert peak < early_peak * 1.5, (peak, early_peak)
    pages = 5_000 // exports.PAGE_SIZE + 1
    assert len(statements) <= 2 * pages + 6, "\n".join(statements)


# --- the command line -------------------------------------------------------------------


def tracker(runner, *args: str):
    return runner.invoke(args=["tracker", *args])


def test_the_command_writes_the_export_to_standard_output(app, runner, api):
    api.add(title="Frieren")
    result = tracker(runner, "export", "alice", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = read_csv(io.BytesIO(result.stdout_bytes)).rows
    assert [row.title for row in rows] == ["Frieren"]


def test_the_command_writes_a_file_with_a_progress_bar(app, runner, api, tmp_path):
    fill(app, "alice", 3, mal_from=10)
    api.add(title="Typed by hand")
    target = tmp_path / "anime.xml"
    result = tracker(runner, "export", "alice", "--format", "mal", "--type", "anime",
                     "--output", str(target))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Wrote 3 items" in result.stderr
    assert "Left out 1 without a MyAnimeList id" in result.stderr
    root = ElementTree.parse(target).getroot()
    assert [int(e.text) for e in root.iter("series_animedb_id")] == [10, 11, 12]


def test_the_json_written_by_the_command_is_the_apis(app, runner, api, tmp_path):
    api.add(title="Frieren", notes="history")
    target = tmp_path / "library.json"
    assert tracker(runner, "export", "alice", "--output", str(target)).exit_code == 0
    from_file = json.loads(target.read_text("utf-8"))
    from_api = json.loads(body_of(api.get(EXPORT)))
    assert from_file["items"] == from_api["items"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody",), "No user"),
        (("alice", "--format", "mal"), "choose anime or manga"),
        (("alice", "--format", "xlsx"), "Invalid value for '--format'"),
    ],
)
def test_the_command_refuses_without_a_traceback(app, runner, api, args, message):
    result = tracker(runner, "export", *args)
    assert result.exit_code != 0
    assert message.lower() in result.output.lower()
    assert "Traceback" not in result.output


# --- the settings page ------------------------------------------------------------------


def test_settings_offers_the_four_downloads(logged_in):
    page = logged_in.client.get("/settings").get_data(as_text=True)
    card = page.split('id="import-export"')[1].split("</section>")[0]
    for href in ("?format=json", "?format=csv", "?format=mal&amp;type=anime",
                 "?format=mal&amp;type=manga"):  # fmt: skip
        assert f'href="{EXPORT}{href}"' in card
    assert "downloading your library" not in card


def test_the_library_timestamps_survive_to_the_microsecond(app, api):
    made = api.add(title="Frieren")
    moment = utcnow().replace(microsecond=123456) - timedelta(days=400)
    with app.app_context():
        item = db.session.get(LibraryItem, made["id"])
        item.created_at = moment
        db.session.commit()
    [row] = read_json(io.BytesIO(body_of(api.get(EXPORT)))).rows
    assert row.created_at == moment
