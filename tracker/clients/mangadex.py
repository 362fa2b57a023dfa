"""MangaDex REST client: manga search, the second source (NOTES.md, "MangaDex API v5").

Reading is anonymous; MangaDex asks for about 5 requests per second per IP and a
real User-Agent. Results use the same ``MediaRecord`` shape as AniList's, with
MangaDex's statuses mapped onto AniList's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracker.clients.errors import BadResponse, NotFound, Unavailable
from tracker.clients.ratelimit import MemoryBudget, RequestBudget
from tracker.clients.records import MediaRecord, Titles
from tracker.clients.transport import RemoteClient

MAX_LIMIT = 100  # MangaDex refuses a larger page
CONTENT_RATINGS = ("safe", "suggestive")
STATUSES = {
    "ongoing": "releasing",
    "completed": "finished",
    "hiatus": "hiatus",
    "cancelled": "cancelled",
}


class MangaDexClient(RemoteClient):
    """Searches MangaDex; options beyond the URLs are ``RemoteClient``'s."""

    source = "MangaDex"

    def __init__(
        self,
        url: str,
        *,
        covers_url: str = "https://uploads.mangadex.org/covers",
        site_url: str = "https://mangadex.org/title",
        **options: Any,
    ) -> None:
        super().__init__(url.rstrip("/"), **options)
        self.covers_url = covers_url.rstrip("/")
        self.site_url = site_url.rstrip("/")

    def default_budget(self) -> RequestBudget:
        return MemoryBudget(300, burst=5, label="mangadex")  # MangaDex's per-IP limit: 5/s

    def search_manga(
        self, query: str, limit: int = 10, interactive: bool = False
    ) -> list[MediaRecord]:
        params = {
            "title": query,
            "limit": max(1, min(limit, MAX_LIMIT)),
            "includes[]": ["cover_art"],
            "contentRating[]": list(CONTENT_RATINGS),
            "order[relevance]": "desc",
        }
        body = self._get("/manga", params, interactive=interactive)
        try:
            return [self._normalise(manga) for manga in body["data"]]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadResponse(
                f"unexpected manga list: {type(exc).__name__} {exc}", source=self.source
            ) from exc

    def _get(self, path: str, params: Mapping[str, Any], *, interactive: bool) -> dict[str, Any]:
        response = self.transport.send(
            "GET",
            self.url + path,
            params=params,
            interactive=interactive,
            headers={"Accept": "application/json"},
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        status = response.status_code
        if status == 404:
            raise NotFound(_detail(body, status), source=self.source, status=status)
        if status == 403:  # MangaDex/Cloudflare refusing this IP: not our request's fault
            raise Unavailable(_detail(body, status), source=self.source, status=status)
        if status >= 400 or not isinstance(body, dict) or body.get("result") != "ok":
            raise BadResponse(_detail(body, status), source=self.source, status=status)
        return body

    def _normalise(self, manga: Mapping[str, Any]) -> MediaRecord:
        manga_id = str(manga["id"])
        attrs = manga["attributes"]
        titles, synonyms = _titles(attrs.get("title") or {}, attrs.get("altTitles") or [])
        links = attrs.get("links") or {}
        return {
            "source": "mangadex",
            "external_id": manga_id,
            "anilist_id": _int(links.get("al")),
            "mal_id": _int(links.get("mal")),
            "type": "manga",
            "titles": titles,
            "synonyms": synonyms,
            "cover_url": self._cover_url(manga_id, manga.get("relationships") or []),
            "format": "MANGA",
            "site_url": f"{self.site_url}/{manga_id}",
            "episodes": None,
            "chapters": _int(attrs.get("lastChapter")),
            "volumes": _int(attrs.get("lastVolume")),
            "status": STATUSES.get(attrs.get("status") or ""),
            "year": _int(attrs.get("year")),
            "next_airing_episode": None,
            "next_airing_at": None,
        }

    def _cover_url(self, manga_id: str, relationships: list[Mapping[str, Any]]) -> str | None:
        for rel in relationships:
            file_name = (rel.get("attributes") or {}).get("fileName")
            if rel.get("type") == "cover_art" and file_name:
                return f"{self.covers_url}/{manga_id}/{file_name}.256.jpg"
        return None


def _titles(
    main: Mapping[str, str], alternatives: list[Mapping[str, str]]
) -> tuple[Titles, list[str]]:
    """AniList-style titles from MangaDex's language maps, plus the rest as synonyms.

    ``ja-ro`` is romaji, ``en`` English, ``ja`` native; the main title wins over
    alternatives. A title in another language only is kept as romaji so that
    every result has a name.
    """
    pairs = list(main.items()) + [pair for alt in alternatives for pair in alt.items()]

    def first(lang: str) -> str | None:
        return next((text for code, text in pairs if code == lang and text), None)

    titles: Titles = {"romaji": first("ja-ro"), "english": first("en"), "native": first("ja")}
    if not any(titles.values()) and pairs:
        titles["romaji"] = next((text for _, text in pairs if text), None)
    used = set(titles.values())
    synonyms = list(dict.fromkeys(text for _, text in pairs if text and text not in used))
    return titles, synonyms


def _int(value: Any) -> int | None:
    """An int from MangaDex's strings ("12"), None for "", "12.5", null."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _detail(body: Any, status: int) -> str:
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        found = [
            str(e.get("detail") or e.get("title")) for e in body["errors"] if isinstance(e, dict)
        ]
        if found:
            return "; ".join(found)
    return f"HTTP {status}" if status >= 400 else "not a MangaDex answer"
