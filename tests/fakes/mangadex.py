"""A fake MangaDex API: ``GET /manga`` search with the shapes of API v5.

    fake = FakeMangaDex()
    fake.add_manga("Berserk", last_chapter="375", year=1989)
    base_url, stop = serve(fake)

Fault switches come from ``FakeService`` (``down``, ``delay``, ``non_json``,
``fail_next``); ``fail_next(429)`` sends MangaDex's ``X-RateLimit-Retry-After``.
"""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes import FakeService, respond

NAMESPACE = uuid.UUID("8b0a3a5e-6c1e-4f7a-9d38-2f1f1f1f1f1f")
DEFAULT_RATINGS = ["safe", "suggestive", "erotica"]  # MangaDex's default filter
MAX_LIMIT = 100


def fake_uuid(label: str) -> str:
    """Stable UUIDs, so tests can name a manga's id before the fake exists."""
    return str(uuid.uuid5(NAMESPACE, label))


class FakeMangaDex(FakeService):
    def __init__(self) -> None:
        super().__init__()
        self.manga: list[dict[str, Any]] = []
        self._serial = itertools.count(1)
        self.add_manga(
            "Sousou no Frieren",
            lang="ja-ro",
            alt_titles=[
                {"en": "Frieren: Beyond Journey's End"},
                {"ja": "葬送のフリーレン"},
                {"ko": "장송의 프리렌"},
            ],
            status="ongoing",
            last_chapter="",
            year=2020,
            links={"al": "118586", "mal": "126287"},
        )
        self.add_manga(
            "Berserk",
            alt_titles=[{"ja": "ベルセルク"}, {"ja-ro": "Beruseruku"}],
            status="hiatus",
            last_chapter="375",
            last_volume="42",
            year=1989,
            links={"al": "30002"},
        )
        self.add_manga(
            "日本語タイトル",
            lang="ja",
            status="completed",
            last_chapter="12.5",
            last_volume="2",
            year=None,
        )

    def add_manga(
        self,
        title: str,
        *,
        lang: str = "en",
        alt_titles: list[dict[str, str]] | None = None,
        status: str = "completed",
        last_chapter: str | None = None,
        last_volume: str | None = None,
        year: int | None = None,
        content_rating: str = "safe",
        links: dict[str, str] | None = None,
        cover_file: str | None = "auto",
    ) -> dict[str, Any]:
        """A manga in API v5's shape; ``cover_file=None`` gives it no cover art."""
        n = next(self._serial)
        manga_id = fake_uuid(f"manga-{n}")
        relationships: list[dict[str, Any]] = [{"id": fake_uuid(f"author-{n}"), "type": "author"}]
        if cover_file:
            relationships.append(
                {
                    "id": fake_uuid(f"cover-{n}"),
                    "type": "cover_art",
                    "attributes": {
                        "fileName": f"{fake_uuid(f'file-{n}')}.jpg"
                        if cover_file == "auto"
                        else cover_file,
                        "volume": None,
                        "locale": "ja",
                    },
                }
            )
        manga = {
            "id": manga_id,
            "type": "manga",
            "attributes": {
                "title": {lang: title},
                "altTitles": list(alt_titles or []),
                "description": {"en": ""},
                "links": links,
                "originalLanguage": "ja",
                "lastVolume": last_volume,
                "lastChapter": last_chapter,
                "publicationDemographic": None,
                "status": status,
                "year": year,
                "contentRating": content_rating,
                "tags": [],
                "state": "published",
            },
            "relationships": relationships,
        }
        self.manga.append(manga)
        return manga

    def default_error_body(self, status: int) -> Any:
        return {
            "result": "error",
            "errors": [
                {
                    "id": fake_uuid(f"error-{status}"),
                    "status": status,
                    "title": f"HTTP {status}",
                    "detail": "Injected by the fake",
                    "context": None,
                }
            ],
        }

    def default_error_headers(self, status: int) -> dict[str, str]:
        if status == 429:
            # A unix time, not a number of seconds.
            return {"X-RateLimit-Retry-After": str(int(time.time()) + 30)}
        return {}

    def handle(self, request: Request, operation: str, variables: dict[str, Any]) -> Response:
        if request.method != "GET" or request.path != "/manga":
            return respond(self.default_error_body(404), 404)
        args = request.args
        try:
            limit = int(args.get("limit", 10))
            offset = int(args.get("offset", 0))
        except ValueError:
            return _bad_request("limit and offset must be integers")
        if not 0 <= limit <= MAX_LIMIT:
            return _bad_request(f"limit must be between 0 and {MAX_LIMIT}")
        ratings = args.getlist("contentRating[]") or DEFAULT_RATINGS
        needle = args.get("title", "").casefold()
        found = [
            m
            for m in self.manga
            if m["attributes"]["contentRating"] in ratings and _matches(m, needle)
        ]
        with_covers = "cover_art" in args.getlist("includes[]")
        page = [_view(m, with_covers) for m in found[offset : offset + limit]]
        return respond(
            {
                "result": "ok",
                "response": "collection",
                "data": page,
                "limit": limit,
                "offset": offset,
                "total": len(found),
            }
        )


def _matches(manga: dict[str, Any], needle: str) -> bool:
    attrs = manga["attributes"]
    names = list(attrs["title"].values()) + [t for alt in attrs["altTitles"] for t in alt.values()]
    return not needle or any(needle in name.casefold() for name in names)


def _view(manga: dict[str, Any], with_covers: bool) -> dict[str, Any]:
    """Related objects carry attributes only when asked for with ``includes[]``."""
    relationships = [
        rel if with_covers or rel["type"] != "cover_art" else {"id": rel["id"], "type": rel["type"]}
        for rel in manga["relationships"]
    ]
    return {**manga, "relationships": relationships}


def _bad_request(detail: str) -> Response:
    return respond(
        {
            "result": "error",
            "errors": [
                {
                    "id": fake_uuid("bad-request"),
                    "status": 400,
                    "title": "Bad Request",
                    "detail": detail,
                    "context": None,
                }
            ],
        },
        400,
    )
