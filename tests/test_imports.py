"""Importing a file through the API: a preview that changes nothing, an apply that is one
transaction, matching through the catalogue and AniList (the fake, over real HTTP) or
without AniList, and pushing to a connected account only when asked."""

from __future__ import annotations

import gzip
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import ApiClient, api_client_for, need_shared, remote_config
from tests.fakes.anilist import make_media
from tests.test_anilist_sync import connect, work
from tests.test_import_mal import anime_entry, export, manga_entry
from tracker.extensions import db
from tracker.models import ItemEvent, Job, LibraryItem, Media, SyncOutbox, utcnow
from tracker.portability import mal
from tracker.services import imports, sync

LEFT_OUT = {9989, 5081, 36999}  # MAL ids the fake AniList does not know


def upload(api: ApiClient, data: bytes, name: str = "animelist.xml", **query):
    query = "&".join(f"{k}={str(v).lower()}" for k, v in query.items())
    return api.post(f"/api/library/import?{query}", data={"file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")  # fmt: skip


def run(app, api: ApiClient, started) -> dict:
    """Let the worker run the job started; the job as the API shows it."""
    assert started.status_code == 202, started.get_json()
    with app.app_context():
        sync.run_next_job()
    job = api.get(started.headers["Location"]).get_json()
    assert job["state"] in ("done", "failed"), job
    return job


def import_file(app, api, data: bytes, name: str = "animelist.xml", **query) -> dict:
    return run(app, api, upload(api, data, name, **query))


def apply(app, api, job: dict, **query) -> dict:
    query = "&".join(f"{k}={str(v).lower()}" for k, v in query.items())
    return run(app, api, api.post(f"/api/library/import/{job['id']}/apply?{query}"))


def items_of(app) -> list[LibraryItem]:
    with app.app_context():
        items = db.session.scalars(select(LibraryItem).order_by(LibraryItem.id)).all()
        for item in items:
            item.media  # noqa: B018 - loaded before the session goes
        db.session.expunge_all()
        return items


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def anilist_knows(fake, path: str, *, media_type: str = "ANIME", but=frozenset()) -> None:
    """The fake AniList gets a title for every MAL id of the file (except ``but``)."""
    for row in mal.read(need_shared(path).read_bytes()).rows:
        if row.mal_id not in but:
            fake.media[300_000 + row.mal_id] = make_media(
                300_000 + row.mal_id, row.title, type=media_type, id_mal=row.mal_id,
                episodes=row.max_progress if media_type == "ANIME" else None,
                chapters=row.max_progress if media_type == "MANGA" else None)  # fmt: skip


def mal_id_requests(fake) -> list[dict]:
    """The variables of each ``Page.media(idMal_in:, type:)`` request the fake received."""
    return [v for op, v, _ in fake.requests if op == "Page" and "ids" in v and "type" in v]


@pytest.fixture
def app(remote_app):
    """Matching asks the fake AniList, never the real one."""
    return remote_app


@pytest.fixture
def api(remote_api):
    return remote_api


@pytest.fixture
def other_api(remote_app):
    return api_client_for(remote_app, "mallory")


@pytest.fixture
def online(remote_app, remote_api, fake):
    anilist_knows(fake, "mal/animelist_example.xml", but=LEFT_OUT)
    return remote_app, remote_api


# --- every entry accounted for ---------------------------------------------------------


def test_a_preview_changes_nothing_and_its_apply_imports_every_entry(online, fake):
    app, api = online
    data = need_shared("mal/animelist_example.xml").read_bytes()
    preview = import_file(app, api, data)
    result = preview["result"]
    assert (result["added"], result["updated"], result["unchanged"], result["skipped"]) == (
        69, 0, 0, 0)  # fmt: skip
    assert {u["title"] for u in result["unmatched"]} == {
        "Ano Hi Mita Hana no Namae wo Bokutachi wa Mada Shiranai.", "Bakemonogatari",
        "Zoku Owarimonogatari"}  # fmt: skip
    assert all("AniList knows no anime with MAL id" in u["reason"] for u in result["unmatched"])
    assert result["would_push"] == 0  # no AniList account connected
    assert count(app, LibraryItem) == 0
    # Two requests of 50 and 19 ids; every answer is in the catalogue now.
    asked = mal_id_requests(fake)
    assert sorted(len(v["ids"]) for v in asked) == [19, 50]
    assert {v["type"] for v in asked} == {"ANIME"}
    file_ids = {r.mal_id for r in mal.read(data).rows}
    with app.app_context():
        known = set(db.session.scalars(select(Media.mal_id).where(Media.mal_id.in_(file_ids))))
    assert known == file_ids - LEFT_OUT

    applied = apply(app, api, preview)
    assert applied["result"]["added"] == 69 and applied["kind"] == "library_import_apply"
    items = items_of(app)
    assert len(items) == 69
    assert sum(1 for i in items if i.media is not None) == 66
    bebop_like = next(i for i in items if i.title == "Bakemonogatari")
    assert bebop_like.media is None and bebop_like.max_progress_override == 15
    assert count(app, ItemEvent) == 69
    # The second time AniList is asked only for what the catalogue still lacks.
    assert set(mal_id_requests(fake)[-1]["ids"]) == LEFT_OUT


def test_every_row_of_the_yamtrack_and_manga_files_is_accounted_for(online, fake):
    app, api = online
    anilist_knows(fake, "mal/mangalist_example.xml", media_type="MANGA")
    for path, rows in (("yamtrack/yamtrack_export_example.csv", 110),
                       ("mal/mangalist_example.xml", 39)):  # fmt: skip
        job = import_file(app, api, need_shared(path).read_bytes(), path.split("/")[1],
                          dry_run=False)  # fmt: skip
        result = job["result"]
        assert result["added"] + result["updated"] + result["unchanged"] + result["skipped"] == rows
        for entry in result["unmatched"]:
            assert entry["reason"] and entry["row"] >= 1
    # Yamtrack's library is the MAL files' (same MAL ids): the manga file found them all.
    assert job["result"]["unchanged"] == 39 and job["result"]["added"] == 0
    assert count(app, LibraryItem) == 108


def test_the_movie_and_the_show_are_counted_and_named(online):
    app, api = online
    data = need_shared("yamtrack/yamtrack_export_example.csv").read_bytes()
    result = import_file(app, api, data, "export.csv")["result"]
    assert result["skipped"] == 2
    assert [(u["row"], u["title"]) for u in result["unmatched"][:2]] == [
        (2, "Spirited Away"), (3, "Breaking Bad")]  # fmt: skip


def test_ids_crowded_off_a_full_page_are_asked_again(online, fake):
    app, api = online
    for k in range(1, 51):  # 50 MAL ids, two AniList titles each: 100 answers to one request
        for copy in (0, 1):
            fake.media[400_000 + 2 * k + copy] = make_media(
                400_000 + 2 * k + copy, f"Twin {k}", id_mal=70_000 + k)  # fmt: skip
    data = export(*(anime_entry(70_000 + k, f"Twin {k}") for k in range(1, 51)))
    result = import_file(app, api, data)["result"]
    assert result["added"] == 50 and result["unmatched"] == []
    assert [len(v["ids"]) for v in mal_id_requests(fake)] == [50, 25]


@pytest.mark.parametrize("format", ["json", "csv"])
def test_this_apps_own_export_comes_back_into_another_library(online, format):
    app, api = online
    api.add(title="Frieren", source="anilist", anilist_id=154587, status="current", progress=3,
            score=85, notes="Line one, \"two\"", started_on="2024-05")  # fmt: skip
    api.add(title="Dungeon Meshi", type="manga", progress=40, max_progress=97)
    exported = api.get(f"/api/library/export?format={format}")
    assert exported.status_code == 200
    bob = api_client_for(app, "bob")
    job = import_file(app, bob, exported.get_data(), f"tracker.{format}", dry_run=False)
    assert job["result"]["added"] == 2 and job["result"]["format"] == format
    mine = {i["title"]: i for i in bob.get("/api/library/items").get_json()}
    frieren = mine["Frieren"]
    assert (frieren["anilist_id"], frieren["progress"], frieren["score"], frieren["notes"],
            frieren["started_on"]) == (154587, 3, 85, 'Line one, "two"', "2024-05")  # fmt: skip
    assert (mine["Dungeon Meshi"]["progress"], mine["Dungeon Meshi"]["max_progress"]) == (40, 97)


# What an item and its history are, compared across two accounts (ids differ).
SAME = ("title", "type", "source", "status", "progress", "progress_volumes", "max_progress",
        "score", "notes", "repeat", "cover_url", "anilist_id", "mal_id", "mangadex_id",
        "started_on", "completed_on", "created_at", "updated_at", "custom_lists")  # fmt: skip


def library_of(api: ApiClient) -> dict[str, dict]:
    """Every item with its whole history, by title, as the API shows them."""
    items = api.get("/api/library/items?per_page=200").get_json()
    library = {}
    for item in items:
        events = api.get(f"/api/library/items/{item['id']}/events?per_page=200").get_json()
        library[item["title"]] = {
            **{key: item[key] for key in SAME},
            "events": [{k: v for k, v in e.items() if k not in ("id", "item_id")} for e in events],
        }
    return library


def test_a_json_export_restores_the_library_and_its_history_exactly(online):
    app, api = online
    frieren = api.add(title="Frieren", source="anilist", anilist_id=154587, status="planning",
                      score=85, notes="Line one,\n\"two\" ='formula' 🦊")  # fmt: skip
    for _ in range(3):
        api.post(f"/api/library/items/{frieren['id']}/increment")
    api.patch(f"/api/library/items/{frieren['id']}", json={"started_on": "2024-05"})
    zine = api.add(title="Homemade zine", type="manga", progress=2, max_progress=9)
    api.patch(f"/api/library/items/{zine['id']}", json={"status": "paused", "score": 40})
    before = library_of(api)
    assert len(before["Frieren"]["events"]) == 5  # created, three steps, the date

    exported = api.get("/api/library/export?format=json")
    bob = api_client_for(app, "bob")
    job = import_file(app, bob, exported.get_data(), "tracker.json", dry_run=False)
    assert job["result"]["added"] == 2

    assert library_of(bob) == before


# --- twice, modes, history -------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(online):
    app, api = online
    data = need_shared("mal/animelist_example.xml").read_bytes()
    import_file(app, api, data, dry_run=False)
    events = count(app, ItemEvent)
    for mode in ("add", "overwrite"):
        result = import_file(app, api, data, dry_run=False, mode=mode)["result"]
        assert (result["added"], result["updated"], result["unchanged"]) == (0, 0, 69)
    assert count(app, LibraryItem) == 69 and count(app, ItemEvent) == events


def test_add_leaves_an_existing_item_alone_and_overwrite_records_what_it_changes(online):
    app, api = online
    mine = api.add(title="Cowboy Bebop", source="anilist", anilist_id=1, status="current",
                   progress=5, score=60, notes="my notes")  # fmt: skip
    data = export(anime_entry(1, "Cowboy Bebop", my_score="9", my_watched_episodes="26",
                              my_times_watched="1"))  # fmt: skip
    added = import_file(app, api, data, dry_run=False, mode="add")["result"]
    assert (added["added"], added["unchanged"]) == (0, 1)
    assert api.get(f"/api/library/items/{mine['id']}").get_json()["progress"] == 5

    result = import_file(app, api, data, dry_run=False, mode="overwrite")["result"]
    assert result["updated"] == 1
    item = api.get(f"/api/library/items/{mine['id']}").get_json()
    assert (item["status"], item["progress"], item["score"], item["repeat"]) == (
        "completed", 26, 90, 1)  # fmt: skip
    assert item["notes"] == "my notes"  # the file's empty comments clear nothing
    latest = api.get(f"/api/library/items/{mine['id']}/events").get_json()[0]
    assert latest["origin"] == "import"
    assert latest["changes"]["progress"] == [5, 26] and latest["changes"]["score"] == [60, 90]


def test_a_title_without_an_id_matches_only_the_same_title(online):
    app, api = online
    kept = api.add(title="Mushishi", type="anime", progress=3)
    data = need_shared("yamtrack/yamtrack_export_example.csv").read_bytes()
    head, _ = data.split(b"\r\n", 1)
    rows = [
        b'"","manual","anime","  MUSHISHI ","","","","8.0","10","Paused","0","","","",""',
        b'"","manual","anime","Mushishi Zoku Shou","","","","","1","Planning","0","","","",""',
    ]
    result = import_file(app, api, b"\r\n".join([head, *rows]), "x.csv", dry_run=False,
                         mode="overwrite")["result"]  # fmt: skip
    assert (result["updated"], result["added"]) == (1, 1)
    item = api.get(f"/api/library/items/{kept['id']}").get_json()
    assert (item["progress"], item["status"], item["score"]) == (10, "paused", 80)


def test_a_duplicate_row_and_an_impossible_progress_are_skipped_by_row(online):
    app, api = online
    data = export(anime_entry(1, "Cowboy Bebop"), anime_entry(1, "Cowboy Bebop again"),
                  anime_entry(5, "Five", my_watched_episodes="500"))  # fmt: skip
    result = import_file(app, api, data, dry_run=False)["result"]
    assert result["added"] == 1 and result["skipped"] == 2
    reasons = {u["row"]: u["reason"] for u in result["unmatched"]}
    assert reasons[2] == "The same title as row 1."
    assert reasons[3].startswith("Progress 500 is past the last episode")


# --- offline ---------------------------------------------------------------------------


def test_without_anilist_the_catalogue_matches_and_the_rest_comes_by_title(
    app_factory, fake_mangadex, sleeps
):
    app = app_factory(**remote_config("http://127.0.0.1:9/graphql", fake_mangadex[1], sleeps))
    api = api_client_for(app, "alice")
    with app.app_context():
        db.session.add(Media(source="anilist", external_id="1", anilist_id=1, mal_id=1,
                             media_type="anime", title_preferred="Cowboy Bebop", episodes=26,
                             synonyms=[], search_text="cowboy bebop"))  # fmt: skip
        db.session.commit()
    data = export(anime_entry(1, "Cowboy Bebop"), anime_entry(30, "Evangelion"),
                  manga_entry(1, "Monster"))  # fmt: skip
    result = import_file(app, api, data, dry_run=False)["result"]
    assert result["added"] == 3
    assert [u["title"] for u in result["unmatched"]] == ["Evangelion", "Monster"]
    assert "AniList could not be reached" in result["unmatched"][0]["reason"]
    assert "MAL id 30" in result["unmatched"][0]["reason"]
    linked = {i.title: i.anilist_id for i in items_of(app)}
    assert linked == {"Cowboy Bebop": 1, "Evangelion": None, "Monster": None}


# --- refusals --------------------------------------------------------------------------


def test_a_file_that_cannot_be_read_is_refused_at_once(api):
    refused = upload(api, b"<html>nope</html>", "list.xml")
    assert refused.status_code == 422
    assert "not a MyAnimeList export" in refused.get_json()["error"]["message"]
    assert api.post("/api/library/import").status_code == 422  # no file
    assert upload(api, export(), mode="replace").status_code == 422
    assert upload(api, export(), format="xls").status_code == 422


def test_a_gzipped_export_is_taken(app, api):
    job = import_file(app, api, gzip.compress(export(anime_entry())), "animelist.xml.gz")
    assert job["result"]["added"] == 1


def test_an_upload_over_the_limit_says_which_limit(app_factory):
    app = app_factory(UPLOAD_MAX_MB=1, MAX_CONTENT_LENGTH=2**20)
    api = api_client_for(app, "alice")
    refused = upload(api, b"x" * (2**20 + 10))
    assert refused.status_code == 413
    assert (
        "1 MB this server takes (TRACKER_UPLOAD_MAX_MB)" in refused.get_json()["error"]["message"]
    )


def test_another_persons_import_is_not_found(app, api, other_api):
    job = import_file(app, api, export(anime_entry()))
    assert other_api.post(f"/api/library/import/{job['id']}/apply").status_code == 404
    assert other_api.get(f"/api/jobs/{job['id']}").status_code == 404
    assert other_api.post("/api/library/import/99999/apply").status_code == 404
    assert count(app, LibraryItem) == 0


def test_a_preview_is_applied_only_while_its_file_is_kept(app, api):
    job = import_file(app, api, export(anime_entry()))
    with app.app_context():
        assert imports.forget_old_files(utcnow() + timedelta(days=2)) == 1
    refused = api.post(f"/api/library/import/{job['id']}/apply")
    assert refused.status_code == 409
    assert "upload it again" in refused.get_json()["error"]["message"]


def test_a_failure_half_way_leaves_nothing(app, api, monkeypatch):
    job = import_file(app, api, export(*(anime_entry(i, f"Title {i}") for i in range(1, 6))))
    real, calls = imports._new_item, []

    def breaks_on_the_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "_new_item", breaks_on_the_fourth)
    started = api.post(f"/api/library/import/{job['id']}/apply")
    with app.app_context(), pytest.raises(RuntimeError):
        sync.run_next_job()
    failed = api.get(started.headers["Location"]).get_json()
    assert failed["state"] == "failed" and "nothing was imported" in failed["error"]
    assert count(app, LibraryItem) == 0 and count(app, ItemEvent) == 0


def test_the_anilist_job_list_ignores_imports(app, api):
    upload(api, export(anime_entry()))
    with app.app_context():
        user_id = db.session.scalar(select(Job.user_id))
        assert sync.active_job(user_id) is None
        assert imports.PREVIEW in {j.kind for j in db.session.scalars(select(Job))}


# --- a connected AniList account ---------------------------------------------------------


@pytest.fixture
def on_anilist(anilist_app, fake, viewer):
    """alice, connected: Cowboy Bebop on her AniList list (paused at 10), synced here."""
    fake.add_entry(viewer.id, 1, status="PAUSED", progress=10, score=70)
    alice = api_client_for(anilist_app, "alice")
    connect(alice)
    work(anilist_app)  # the merge connecting starts
    (item,) = items_of(anilist_app)
    assert item.anilist_entry_id is not None and item.progress == 10
    return alice


FILE = export(anime_entry(1, "Cowboy Bebop", my_watched_episodes="26", my_score="9"),
              anime_entry(5, "Cowboy Bebop: Tengoku no Tobira", my_status="Plan to Watch",
                          my_watched_episodes="0"))  # fmt: skip


def test_the_preview_says_how_many_changes_anilist_would_get(anilist_app, on_anilist):
    result = import_file(anilist_app, on_anilist, FILE, mode="overwrite")["result"]
    assert result["would_push"] == 2  # Bebop's changes and the new movie
    assert result["left_for_anilist"] == 1 and result["unchanged"] == 1 and result["added"] == 1


def test_without_push_an_old_file_never_overwrites_the_anilist_list(
    anilist_app, on_anilist, fake, viewer
):
    result = import_file(anilist_app, on_anilist, FILE, dry_run=False, mode="overwrite")["result"]
    assert (result["added"], result["updated"], result["left_for_anilist"]) == (1, 0, 1)
    assert count(anilist_app, SyncOutbox) == 0
    # A full sync later: AniList's entry and the item both still hold AniList's values.
    sync_job = on_anilist.post("/api/anilist/sync?full=true")
    assert sync_job.status_code == 202
    work(anilist_app, now=utcnow() + timedelta(minutes=1))
    (entry,) = fake.entries_of(viewer.id)
    assert (entry.media_id, entry.status, entry.progress, entry.score) == (1, "PAUSED", 10, 70)
    bebop = next(i for i in items_of(anilist_app) if i.anilist_id == 1)
    assert (bebop.status, bebop.progress, bebop.score) == ("paused", 10, 70)


def test_without_push_a_later_edit_sends_anilists_values_not_the_files(
    anilist_app, on_anilist, fake, viewer
):
    import_file(anilist_app, on_anilist, FILE, dry_run=False, mode="overwrite")
    bebop = next(i for i in items_of(anilist_app) if i.anilist_id == 1)
    assert on_anilist.post(f"/api/library/items/{bebop.id}/increment").status_code == 200
    work(anilist_app)
    (entry,) = fake.entries_of(viewer.id)
    assert (entry.status, entry.progress, entry.score) == ("PAUSED", 11, 70)


def test_with_push_the_files_values_go_to_anilist(anilist_app, on_anilist, fake, viewer):
    result = import_file(anilist_app, on_anilist, FILE, dry_run=False, mode="overwrite",
                         push=True)["result"]  # fmt: skip
    assert (result["added"], result["updated"]) == (1, 1)
    assert count(anilist_app, SyncOutbox) == 2
    work(anilist_app)
    entries = {e.media_id: e for e in fake.entries_of(viewer.id)}
    assert (entries[1].status, entries[1].progress, entries[1].score) == ("COMPLETED", 26, 90)
    assert entries[5].status == "PLANNING"
