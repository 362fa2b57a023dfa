"""Local title search through the text index: FTS5 trigram on SQLite, pg_trgm on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from tests.conftest import api_client_for
from tests.test_sources import autocomplete, seed_local
from tracker.extensions import db
from tracker.models import Media
from tracker.services import catalog

TITLES = [
    "Shingeki no Kyojin",
    "Shingeki no Kyojin Season 2",
    "Kyojin no Hoshi",
    "Hoshi no Koe",
    "Kimi no Na wa",
    "Kimi ni Todoke",
    "Sousou no Frieren",
    "葬送のフリーレン",
    "進撃の巨人",
    "100% Orange Juice",
    "under_score",
    'The "Quoted" One',
    "Tom AND Jerry",
    "Star*Driver",
    "NEAR the Sea",
    "Mob Psycho 100",
]


def search(app, query: str, **kw) -> list[str]:
    with app.app_context():
        return [m.title_preferred for m in catalog.search_local(query, limit=100, **kw)]


def scan(app, query: str) -> set[str]:
    """What the catalogue found before it had an index: a substring scan."""
    needle = catalog.normalise(query)
    with app.app_context():
        found = select(Media.title_preferred).where(
            Media.search_text.contains(needle, autoescape=True)
        )
        return set(db.session.scalars(found))


@pytest.fixture
def catalogue(app):
    seed_local(app, TITLES)
    return app


@contextmanager
def statements(app) -> Iterator[dict[str, int]]:
    """Counts the SQL statements and commits the app's engine runs inside the block."""
    counts = {"statements": 0, "commits": 0}

    def on_statement(*_args):
        counts["statements"] += 1

    def on_commit(*_args):
        counts["commits"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


FIXED_QUERIES = ["kyojin", "no k", "hoshi", "KIMI", "frieren", "フリーレン", "100", "season 2",
                 "sh", "xyzzy", "o k", "巨人"]  # fmt: skip


@pytest.mark.parametrize("query", [q for q in FIXED_QUERIES if len(catalog.normalise(q)) >= 3])
def test_the_index_finds_the_same_titles_as_the_old_scan(catalogue, query):
    assert set(search(catalogue, query)) == scan(catalogue, query)


def test_a_whole_title_comes_first_then_title_starts_then_the_rest(catalogue):
    assert search(catalogue, "kyojin no hoshi")[0] == "Kyojin no Hoshi"
    found = search(catalogue, "kyojin")
    # Prefix matches before substring matches, whatever the alphabet says.
    assert found == ["Kyojin no Hoshi", "Shingeki no Kyojin", "Shingeki no Kyojin Season 2"]


def test_an_exact_title_outranks_longer_titles_that_start_with_it(catalogue):
    assert search(catalogue, "shingeki no kyojin") == [
        "Shingeki no Kyojin",
        "Shingeki no Kyojin Season 2",
    ]


def test_a_synonym_or_other_title_counts_as_a_title_start(app):
    with app.app_context():
        catalog.upsert_records([
            {"source": "anilist", "external_id": "1", "type": "anime",
             "titles": {"romaji": "Zzz", "english": "Attack on Titan"}},
            {"source": "anilist", "external_id": "2", "type": "anime",
             "titles": {"romaji": "Aaa on Titan"}},
        ])  # fmt: skip
        db.session.commit()
    assert search(app, "attack") == ["Zzz"]
    assert search(app, "on titan") == ["Aaa on Titan", "Zzz"]


def test_cjk_titles_are_found_by_a_substring(catalogue):
    assert search(catalogue, "フリーレン") == ["葬送のフリーレン"]
    assert search(catalogue, "の巨人") == ["進撃の巨人"]


def test_short_queries_find_titles_that_start_with_them(catalogue):
    assert search(catalogue, "ki") == ["Kimi ni Todoke", "Kimi no Na wa"]
    assert search(catalogue, "進") == ["進撃の巨人"]
    assert search(catalogue, "h") == ["Hoshi no Koe"]  # not every title with an h in it


def test_short_queries_stop_scanning_after_a_bounded_number_of_candidates(app, monkeypatch):
    seed_local(app, [f"Aa {n:03}" for n in range(30)])
    monkeypatch.setattr(catalog, "SHORT_QUERY_SCAN", 5)
    assert len(search(app, "aa")) == 5


def test_the_type_narrows_indexed_and_short_searches(app):
    seed_local(app, ["Kimi no Anime"], media_type="anime")
    seed_local(app, ["Kimi no Manga"], media_type="manga")  # seeds reuse the same ids
    with app.app_context():
        db.session.execute(
            Media.__table__.insert(),
            {"source": "anilist", "external_id": "9", "media_type": "manga", "synonyms": [],
             "title_preferred": "Kimi no Manga 2", "search_text": "kimi no manga 2"},
        )  # fmt: skip
        db.session.commit()
    assert search(app, "kimi", media_type="manga") == ["Kimi no Manga 2"]
    assert search(app, "ki", media_type="manga") == ["Kimi no Manga 2"]


def test_the_index_follows_renamed_and_deleted_titles(catalogue):
    with catalogue.app_context():
        media = db.session.scalar(select(Media).where(Media.title_preferred == "Kimi no Na wa"))
        media.search_text = catalog.search_text_for(["Your Name"])
        db.session.delete(
            db.session.scalar(select(Media).where(Media.title_preferred == "Hoshi no Koe"))
        )
        db.session.commit()
    assert search(catalogue, "your name") == ["Kimi no Na wa"]
    assert search(catalogue, "na wa") == []
    assert search(catalogue, "koe") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("100%", ["100% Orange Juice"]),
        ("ki_i", []),  # _ is a character, not a wildcard
        ("der_", ["under_score"]),
        ('"quoted"', ['The "Quoted" One']),
        ('"', []),
        ('""', []),
        ("and", ["Tom AND Jerry"]),
        ("m AND j", ["Tom AND Jerry"]),
        ("*", []),
        ("r*d", ["Star*Driver"]),
        ("star*", ["Star*Driver"]),
        ("NEAR", ["NEAR the Sea"]),
        ("NEAR(a b)", []),
        ("kimi OR hoshi", []),
        ("-kimi", []),
        ("kimi:", []),
        ("^kim", []),
        ("'", []),
        ("\\", []),
    ],
)
def test_odd_characters_are_only_characters(catalogue, api, query, expected):
    assert search(catalogue, query) == expected
    body = autocomplete(api, query, type="anime")  # the remote side is down in tests
    assert [r["title"] for r in body["results"]] == expected


@pytest.mark.parametrize("query", ["kimi no", "k"])  # through the index, and a short query
def test_autocomplete_answered_locally_takes_at_most_two_statements_and_no_commit(app, api, query):
    seed_local(app, [f"Kimi no Title {n}" for n in range(12)])
    autocomplete(api, "kimi")  # warm: the first request of a client may set up more
    with statements(app) as counts:
        body = autocomplete(api, query)
    assert len(body["results"]) == catalog.SUGGESTIONS
    assert counts["statements"] <= 2  # the user lookup and the search (it knows what is owned)
    assert counts["commits"] == 0


def test_title_starts_outrank_other_matches_however_many_titles_match(app, monkeypatch):
    seed_local(app, [f"Aa kimi {n}" for n in range(6)] + ["Kimi last"])  # the start comes last
    monkeypatch.setattr(catalog, "TIER_CANDIDATES", 3)
    assert search(app, "kimi") == ["Kimi last", "Aa kimi 0", "Aa kimi 1", "Aa kimi 2"]


def test_titles_holding_the_same_trigrams_in_another_order_are_not_matches(app):
    seed_local(app, ["Sora no Hoshi", "Hoshi no Sora", "Hoshino Sorano"])
    assert search(app, "hoshi no sora") == ["Hoshi no Sora"]
    assert search(app, "i no s") == ["Hoshi no Sora"]


def test_the_add_form_suggestions_take_at_most_two_statements_and_no_commit(app, htmx):
    seed_local(app, [f"Kimi no Title {n}" for n in range(12)])
    htmx.get("/suggestions?q=kimi")  # warm: the first request of a client may set up more
    with statements(app) as counts:
        response = htmx.get("/suggestions?q=kimi+no")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("Kimi no Title") >= catalog.SUGGESTIONS
    assert counts["statements"] <= 2  # the user lookup and the search (it knows what is owned)
    assert counts["commits"] == 0


def test_local_suggestions_mark_the_askers_own_titles_only(app, api):
    seed_local(app, ["Kimi no Uta", "Kimi no Hoshi", "Kimi no Sora"])  # AniList 800001…3
    api.add(title="Kimi no Hoshi", source="anilist", anilist_id=800_002)
    mine = {r["title"]: r["in_library"] for r in autocomplete(api, "kimi no")["results"]}
    assert mine == {"Kimi no Hoshi": True, "Kimi no Sora": False, "Kimi no Uta": False}
    theirs = autocomplete(api_client_for(app, "bob"), "kimi no")["results"]
    assert [r["in_library"] for r in theirs] == [False, False, False]
