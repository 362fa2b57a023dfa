"""AniList GraphQL client (DESIGN §6; API facts in ../shared/anilist/NOTES.md).

Every document the app sends is a module constant listed in ``ALL_DOCUMENTS``;
the tests validate each one against AniList's schema. The typed methods return
plain, snake_case records; ``execute`` is the one place that talks HTTP.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any, TypedDict

from tracker.clients.errors import (
    BadResponse,
    ClientError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from tracker.clients.ratelimit import MemoryBudget, RequestBudget
from tracker.clients.records import MediaRecord
from tracker.clients.transport import DEFAULT_RETRY_AFTER, RemoteClient
from tracker.dates import fuzzy_date_to_partial, partial_to_fuzzy_date

MAX_PER_PAGE = 50  # AniList's cap for Page(perPage)
MAX_PER_CHUNK = 500  # AniList's cap for MediaListCollection(perChunk)
MAX_AIRING = 25  # AniList's cap for Media.airingSchedule(perPage)
LIST_STATUSES = ("current", "planning", "completed", "dropped", "paused", "repeating")
MEDIA_TYPES = ("anime", "manga")

# --- GraphQL documents ------------------------------------------------------------

_MEDIA_FIELDS = """
fragment MediaFields on Media {
  id
  idMal
  type
  format
  status(version: 2)
  title { romaji english native }
  synonyms
  coverImage { large medium }
  siteUrl
  episodes
  chapters
  volumes
  duration
  season
  seasonYear
  startDate { year }
  description(asHtml: false)
  genres
  studios(isMain: true) { nodes { name } }
  nextAiringEpisode { episode airingAt }
}
"""

_ENTRY_FIELDS = """
fragment EntryFields on MediaList {
  id
  mediaId
  status
  score(format: POINT_100)
  progress
  progressVolumes
  repeat
  notes
  private
  hiddenFromStatusLists
  customLists(asArray: true)
  startedAt { year month day }
  completedAt { year month day }
  updatedAt
  createdAt
}
"""

SEARCH_MEDIA = (
    """
query SearchMedia($search: String!, $type: MediaType, $page: Int, $perPage: Int) {
  Page(page: $page, perPage: $perPage) {
    pageInfo { hasNextPage }
    media(search: $search, type: $type, sort: SEARCH_MATCH) { ...MediaFields }
  }
}
"""
    + _MEDIA_FIELDS
)

MEDIA_BY_ID = (
    """
query MediaById($id: Int!) {
  Media(id: $id) { ...MediaFields }
}
"""
    + _MEDIA_FIELDS
)

MEDIA_BY_IDS = (
    """
query MediaByIds($ids: [Int]) {
  Page(perPage: 50) {
    media(id_in: $ids) { ...MediaFields }
  }
}
"""
    + _MEDIA_FIELDS
)

# MAL's anime and manga ids are separate numberings: the type says which one is meant.
MEDIA_BY_MAL_IDS = (
    """
query MediaByMalIds($ids: [Int], $type: MediaType) {
  Page(perPage: 50) {
    media(idMal_in: $ids, type: $type) { ...MediaFields }
  }
}
"""
    + _MEDIA_FIELDS
)

# The coming episodes and the related titles of up to 50 titles: what up next, the
# calendar and the sequel prompt read. A related title comes with just enough to be a
# catalogue row (a later backfill reads the rest if someone adds it).
AIRING_PER_TITLE = 8  # about two months of a weekly show
MEDIA_AIRING_AND_RELATIONS = (
    """
query MediaAiringAndRelations($ids: [Int], $airing: Int) {
  Page(perPage: 50) {
    media(id_in: $ids) {
      ...MediaFields
      airingSchedule(notYetAired: true, perPage: $airing) { nodes { episode airingAt } }
      relations {
        edges {
          relationType(version: 2)
          node {
            id type format status(version: 2) episodes chapters siteUrl
            title { romaji english native }
            coverImage { large medium }
          }
        }
      }
    }
  }
}
"""
    + _MEDIA_FIELDS
)

VIEWER = """
query Viewer {
  Viewer {
    id
    name
    mediaListOptions { scoreFormat }
    options { titleLanguage }
  }
}
"""

MEDIA_LIST_COLLECTION = (
    """
query MediaListCollection($userId: Int!, $type: MediaType!, $chunk: Int, $perChunk: Int) {
  MediaListCollection(
    userId: $userId, type: $type, chunk: $chunk, perChunk: $perChunk,
    forceSingleCompletedList: true
  ) {
    hasNextChunk
    lists {
      name
      isCustomList
      status
      entries { ...EntryFields media { ...MediaFields } }
    }
  }
}
"""
    + _ENTRY_FIELDS
    + _MEDIA_FIELDS
)

# The entries of both lists changed most recently, newest first, leaving out those
# already read (by media id): asking again always gives the next unread ones, even if
# entries moved or went away meanwhile (no page boundary to miss anything at).
MEDIA_LIST_UPDATES = (
    """
query MediaListUpdates(
  $userId: Int!, $animePerPage: Int, $mangaPerPage: Int, $animeRead: [Int], $mangaRead: [Int]
) {
  anime: Page(perPage: $animePerPage) {
    pageInfo { hasNextPage }
    mediaList(userId: $userId, type: ANIME, sort: [UPDATED_TIME_DESC, MEDIA_ID],
              mediaId_not_in: $animeRead) { ...EntryFields media { ...MediaFields } }
  }
  manga: Page(perPage: $mangaPerPage) {
    pageInfo { hasNextPage }
    mediaList(userId: $userId, type: MANGA, sort: [UPDATED_TIME_DESC, MEDIA_ID],
              mediaId_not_in: $mangaRead) { ...EntryFields media { ...MediaFields } }
  }
}
"""
    + _ENTRY_FIELDS
    + _MEDIA_FIELDS
)

SAVE_ENTRY = (
    """
mutation SaveEntry(
  $id: Int, $mediaId: Int, $status: MediaListStatus, $scoreRaw: Int, $progress: Int,
  $progressVolumes: Int, $repeat: Int, $notes: String, $private: Boolean,
  $startedAt: FuzzyDateInput, $completedAt: FuzzyDateInput, $customLists: [String]
) {
  SaveMediaListEntry(
    id: $id, mediaId: $mediaId, status: $status, scoreRaw: $scoreRaw, progress: $progress,
    progressVolumes: $progressVolumes, repeat: $repeat, notes: $notes, private: $private,
    startedAt: $startedAt, completedAt: $completedAt, customLists: $customLists
  ) { ...EntryFields }
}
"""
    + _ENTRY_FIELDS
)

DELETE_ENTRY = """
mutation DeleteEntry($id: Int!) {
  DeleteMediaListEntry(id: $id) { deleted }
}
"""

ALL_DOCUMENTS = (
    SEARCH_MEDIA,
    MEDIA_BY_ID,
    MEDIA_BY_IDS,
    MEDIA_BY_MAL_IDS,
    MEDIA_AIRING_AND_RELATIONS,
    VIEWER,
    MEDIA_LIST_COLLECTION,
    MEDIA_LIST_UPDATES,
    SAVE_ENTRY,
    DELETE_ENTRY,
)

# --- records ----------------------------------------------------------------------


class ListEntry(TypedDict):
    """One AniList list entry. ``score`` is 0-100 (0 = not scored, as on AniList);
    dates are partial ISO strings; ``updated_at``/``created_at`` unix seconds."""

    entry_id: int
    media_id: int
    status: str | None
    score: int
    progress: int
    progress_volumes: int | None
    repeat: int
    notes: str | None
    private: bool
    hidden_from_status_lists: bool
    custom_lists: list[str]
    started_at: str | None
    completed_at: str | None
    updated_at: int | None
    created_at: int | None
    media: MediaRecord | None


class AiringSlot(TypedDict):
    episode: int
    airing_at: int  # unix seconds


class Related(TypedDict):
    relation: str  # AniList's MediaRelation in lower case: sequel, prequel, side_story, …
    media: MediaRecord  # a lean record: titles, type, format, status, totals, cover


class AiringAndRelations(TypedDict):
    """One title as the airing refresh reads it: the full record, its coming episodes
    and its related titles. Anything AniList sent that makes no sense is left out."""

    media: MediaRecord
    airing: list[AiringSlot]
    related: list[Related]


class ListChunk(TypedDict):
    entries: list[ListEntry]
    has_next_chunk: bool


class ListPage(TypedDict):
    entries: list[ListEntry]
    has_next_page: bool


class ViewerInfo(TypedDict):
    id: int
    name: str
    score_format: str | None  # AniList's ScoreFormat, e.g. "POINT_10_DECIMAL"
    title_language: str | None  # AniList's UserTitleLanguage, e.g. "ROMAJI"


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


# save_entry leaves a field alone when it is UNSET; None there means "clear it".
UNSET: Any = _Unset()

# --- client -----------------------------------------------------------------------


class AniListClient(RemoteClient):
    """Talks to AniList's GraphQL endpoint for one token (or anonymously).

    Options beyond ``token`` are ``RemoteClient``'s. ``interactive=True``
    (autocomplete) means: never wait for the budget, one attempt, a short timeout.
    """

    source = "AniList"

    def __init__(self, url: str, *, token: str | None = None, **options: Any) -> None:
        super().__init__(url, **options)
        self.token = token
        self.keep = 0  # requests of the shared budget this client leaves for others

    def default_budget(self) -> RequestBudget:
        return MemoryBudget(30, label="anilist")  # AniList's "degraded" rate, per process

    def with_token(self, token: str | None) -> AniListClient:
        """The same client (session, budget, settings) acting for another token."""
        clone = copy.copy(self)
        clone.token = token
        return clone

    def keeping(self, requests: int) -> AniListClient:
        """The same client, leaving ``requests`` of the shared budget for others: what a
        pull uses, so that pushes always find the budget open."""
        clone = copy.copy(self)
        clone.keep = requests
        return clone

    # -- transport -------------------------------------------------------------

    def execute(
        self, query: str, variables: Mapping[str, Any] | None = None, *, interactive: bool = False
    ) -> dict[str, Any]:
        """Run one document and return its ``data``; raise a ``ClientError`` otherwise.

        Variables that are None are left out, so GraphQL treats them as not given.
        """
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = {
            "query": query,
            "variables": {k: v for k, v in (variables or {}).items() if v is not None},
        }
        response = self.transport.send(
            "POST", self.url, json=payload, headers=headers, interactive=interactive,
            keep=self.keep,
        )  # fmt: skip
        try:
            body = response.json()
        except ValueError:
            body = None
        errors = body.get("errors") if isinstance(body, dict) else None
        if response.status_code >= 400 or errors:
            raise self._error(response.status_code, errors)
        if not isinstance(body, dict):
            raise BadResponse("answer is not a JSON object", status=response.status_code)
        data = body.get("data")
        if not isinstance(data, dict):
            raise BadResponse("answer has no data", status=response.status_code)
        return data

    def _error(self, http_status: int, errors: Any) -> ClientError:
        """The typed error for an HTTP error status and/or a GraphQL ``errors`` list."""
        errors = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
        messages = [str(e.get("message", "")) for e in errors]
        detail = "; ".join(m for m in messages if m) or f"HTTP {http_status}"
        status = http_status
        if status < 400:  # errors inside a 200: their own status says what happened
            status = next((e["status"] for e in errors if isinstance(e.get("status"), int)), 0)
        if status == 401 or any("invalid token" in m.lower() for m in messages):
            return Unauthorized(detail, status=http_status)
        if status == 404:
            return NotFound(detail, status=http_status)
        if status == 403:
            return Unavailable(f"API disabled ({detail})", status=http_status)
        if status == 429:  # a 429 inside a 200 body; the transport handles real ones
            self.transport.budget.penalise(DEFAULT_RETRY_AFTER)
            return RateLimited(DEFAULT_RETRY_AFTER, detail, status=http_status)
        return BadResponse(detail, status=http_status)

    # -- media -----------------------------------------------------------------

    def search_media(
        self,
        query: str,
        media_type: str | None = None,
        page: int = 1,
        per_page: int = 10,
        interactive: bool = False,
    ) -> list[MediaRecord]:
        variables = {
            "search": query,
            "type": _media_type(media_type) if media_type else None,
            "page": page,
            "perPage": min(per_page, MAX_PER_PAGE),
        }
        data = self.execute(SEARCH_MEDIA, variables, interactive=interactive)
        with _reading("Page.media"):
            return [normalise_media(m) for m in data["Page"]["media"]]

    def media(self, anilist_id: int, *, interactive: bool = False) -> MediaRecord:
        """One title by AniList id; ``NotFound`` when AniList has no such id."""
        data = self.execute(MEDIA_BY_ID, {"id": anilist_id}, interactive=interactive)
        with _reading("Media"):
            return normalise_media(data["Media"])

    def media_by_ids(self, ids: Iterable[int]) -> list[MediaRecord]:
        """Titles for up to 50 ids in one request (unknown ids are simply absent)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        if len(wanted) > MAX_PER_PAGE:
            raise ValueError(f"at most {MAX_PER_PAGE} ids per request, got {len(wanted)}")
        data = self.execute(MEDIA_BY_IDS, {"ids": wanted})
        with _reading("Page.media"):
            return [normalise_media(m) for m in data["Page"]["media"]]

    def media_by_mal_ids(self, mal_ids: Iterable[int], media_type: str) -> list[MediaRecord]:
        """Titles for up to 50 MyAnimeList ids of one type in one request (ids AniList
        does not know are simply absent)."""
        wanted = list(dict.fromkeys(mal_ids))
        if not wanted:
            return []
        if len(wanted) > MAX_PER_PAGE:
            raise ValueError(f"at most {MAX_PER_PAGE} ids per request, got {len(wanted)}")
        data = self.execute(MEDIA_BY_MAL_IDS, {"ids": wanted, "type": _media_type(media_type)})
        with _reading("Page.media"):
            return [normalise_media(m) for m in data["Page"]["media"]]

    def airing_and_relations(
        self, ids: Iterable[int], per_title: int = AIRING_PER_TITLE
    ) -> list[AiringAndRelations]:
        """Up to 50 titles with their coming episodes and related titles, one request.
        Unknown ids are simply absent; a title whose own record is unreadable is left
        out, and so is any episode or relation that is (never the whole answer)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        if len(wanted) > MAX_PER_PAGE:
            raise ValueError(f"at most {MAX_PER_PAGE} ids per request, got {len(wanted)}")
        data = self.execute(
            MEDIA_AIRING_AND_RELATIONS, {"ids": wanted, "airing": min(per_title, MAX_AIRING)}
        )
        with _reading("Page.media"):
            found = data["Page"]["media"]
            if not isinstance(found, list):
                raise TypeError("media is not a list")
        answers = []
        for raw in found:
            answer = normalise_airing_and_relations(raw)
            if answer is not None:
                answers.append(answer)
        return answers

    # -- the user's list ----------------------------------------------------------

    def viewer(self) -> ViewerInfo:
        """Who the token belongs to, with the list settings the app mirrors."""
        data = self.execute(VIEWER)
        with _reading("Viewer"):
            viewer = data["Viewer"]
            return {
                "id": int(viewer["id"]),
                "name": str(viewer["name"]),
                "score_format": (viewer.get("mediaListOptions") or {}).get("scoreFormat"),
                "title_language": (viewer.get("options") or {}).get("titleLanguage"),
            }

    def media_list_collection(
        self, user_id: int, media_type: str, chunk: int = 1, per_chunk: int = MAX_PER_CHUNK
    ) -> ListChunk:
        """One chunk of a user's list. Custom lists are read too (entries hidden from
        status lists live only there) and every entry appears once."""
        variables = {
            "userId": user_id,
            "type": _media_type(media_type),
            "chunk": chunk,
            "perChunk": min(per_chunk, MAX_PER_CHUNK),
        }
        data = self.execute(MEDIA_LIST_COLLECTION, variables)
        with _reading("MediaListCollection"):
            collection = data["MediaListCollection"]
            entries: dict[int, ListEntry] = {}
            for group in collection["lists"] or []:
                for raw in group["entries"] or []:
                    if raw["id"] not in entries:
                        entries[raw["id"]] = normalise_entry(raw)
            return {
                "entries": list(entries.values()),
                "has_next_chunk": bool(collection.get("hasNextChunk")),
            }

    def list_updates(
        self,
        user_id: int,
        read: Mapping[str, Iterable[int]],
        wanted: Iterable[str] = MEDIA_TYPES,
        per_page: int = MAX_PER_PAGE,
    ) -> dict[str, ListPage]:
        """The most recently changed entries of each wanted list (media type), newest
        first, leaving out the media ids in ``read[type]``: one request for both lists.
        A type not wanted is asked for one entry only and left out of the answer."""
        wanted = {_media_type(t).lower() for t in wanted}
        variables: dict[str, Any] = {"userId": user_id}
        for media_type in MEDIA_TYPES:
            variables[f"{media_type}PerPage"] = min(per_page, MAX_PER_PAGE) if (
                media_type in wanted) else 1  # fmt: skip
            variables[f"{media_type}Read"] = list(read.get(media_type, ())) or None
        data = self.execute(MEDIA_LIST_UPDATES, variables)
        with _reading("Page.mediaList"):
            return {
                media_type: {
                    "entries": [normalise_entry(raw) for raw in data[media_type]["mediaList"]],
                    "has_next_page": bool(data[media_type]["pageInfo"]["hasNextPage"]),
                }
                for media_type in MEDIA_TYPES
                if media_type in wanted
            }

    def save_entry(
        self,
        *,
        media_id: int | None = None,
        entry_id: int | None = None,
        status: str | None = UNSET,
        progress: int | None = UNSET,
        progress_volumes: int | None = UNSET,
        score_raw: int | None = UNSET,
        repeat: int | None = UNSET,
        notes: str | None = UNSET,
        private: bool | None = UNSET,
        started_at: str | date | None = UNSET,
        completed_at: str | date | None = UNSET,
        custom_lists: list[str] | None = UNSET,
    ) -> ListEntry:
        """Create (by ``media_id``) or update (by ``entry_id``) an entry.

        Only the fields given are sent. ``notes=None`` and ``started_at=None`` /
        ``completed_at=None`` clear those fields on AniList; for the numeric
        fields and ``status`` None means "leave as is". ``score_raw`` is 0-100
        whatever the user's score format. ``custom_lists`` names every custom list the
        entry is in (AniList leaves them as they are when it is not sent).
        """
        if media_id is None and entry_id is None:
            raise ValueError("save_entry needs media_id (to create) or entry_id (to update)")
        variables: dict[str, Any] = {"id": entry_id, "mediaId": media_id}
        given: dict[str, Any] = {
            "status": status,
            "progress": progress,
            "progressVolumes": progress_volumes,
            "scoreRaw": score_raw,
            "repeat": repeat,
            "notes": notes,
            "private": private,
            "startedAt": started_at,
            "completedAt": completed_at,
            "customLists": custom_lists,
        }
        for name, value in given.items():
            if value is UNSET:
                continue
            if name in ("startedAt", "completedAt"):
                value = iso_to_fuzzy(value)  # all-null parts clear the date
            elif name == "notes":
                value = value or ""  # AniList clears notes on an empty string
            elif name == "status" and value is not None:
                value = _enum(value, LIST_STATUSES, "status")
            variables[name] = value
        data = self.execute(SAVE_ENTRY, variables)
        with _reading("SaveMediaListEntry"):
            return normalise_entry(data["SaveMediaListEntry"])

    def delete_entry(self, entry_id: int) -> bool:
        """Delete a list entry by its entry id (not the media id)."""
        data = self.execute(DELETE_ENTRY, {"id": entry_id})
        with _reading("DeleteMediaListEntry"):
            return bool(data["DeleteMediaListEntry"]["deleted"])


# --- normalisation ------------------------------------------------------------------


@contextmanager
def _reading(what: str) -> Iterator[None]:
    """Turn a surprise in the answer's shape into ``BadResponse``."""
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise BadResponse(f"unexpected {what}: {type(exc).__name__} {exc}") from exc


_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
MAX_SYNOPSIS = 5000
MAX_DURATION = 24 * 60  # minutes; anything longer is a data error


def plain_text(description: Any) -> str | None:
    """AniList's description without its markup (``<br>``, ``<i>`` even with
    ``asHtml: false``) and entities, blank lines kept as paragraph breaks."""
    if not isinstance(description, str) or not description.strip():
        return None
    text = html.unescape(_TAG.sub("", _BREAK.sub("\n", description)))
    text = re.sub(r"\n{3,}", "\n\n", text.replace("\r", "")).strip()
    return text[:MAX_SYNOPSIS] or None


def normalise_media(media: Mapping[str, Any]) -> MediaRecord:
    title = media.get("title") or {}
    cover = media.get("coverImage") or {}
    airing = media.get("nextAiringEpisode") or {}
    start = media.get("startDate") or {}
    return {
        "source": "anilist",
        "external_id": str(media["id"]),
        "anilist_id": int(media["id"]),
        "mal_id": media.get("idMal"),
        "type": str(media["type"]).lower(),
        "titles": {
            "romaji": title.get("romaji"),
            "english": title.get("english"),
            "native": title.get("native"),
        },
        "synonyms": [s for s in media.get("synonyms") or [] if s],
        "cover_url": cover.get("large") or cover.get("medium") or cover.get("extraLarge"),
        "format": media.get("format"),
        "site_url": media.get("siteUrl"),
        "episodes": media.get("episodes"),
        "chapters": media.get("chapters"),
        "volumes": media.get("volumes"),
        "duration": _minutes(media.get("duration")),
        "status": _lower(media.get("status")),
        # Manga have no season: fall back to the start date.
        "year": media.get("seasonYear") or start.get("year"),
        "season": _lower(media.get("season")),
        "synopsis": plain_text(media.get("description")),
        "genres": [g for g in media.get("genres") or [] if isinstance(g, str) and g],
        "studios": [
            node["name"]
            for node in (media.get("studios") or {}).get("nodes") or []
            if isinstance(node, dict) and isinstance(node.get("name"), str)
        ],
        "next_airing_episode": airing.get("episode"),
        "next_airing_at": airing.get("airingAt"),
    }


# AniList's MediaRelation (version 2), lower case: what ``media_relations`` may hold.
RELATIONS = ("adaptation", "prequel", "sequel", "parent", "side_story", "character",
             "summary", "alternative", "spin_off", "other", "source", "compilation",
             "contains")  # fmt: skip
MAX_ANILIST_ID = 2**31 - 1
MAX_EPISODE = 100_000
# Unix seconds a schedule may name: 1990 to 2100 (anything else is a data error).
EARLIEST_AIRING, LATEST_AIRING = 631_152_000, 4_102_444_800


def normalise_airing_and_relations(raw: Any) -> AiringAndRelations | None:
    """One title of the airing refresh's answer, or None when its own record is
    unreadable; bad episodes and relations are dropped one by one."""
    try:
        media = _checked_media(raw)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None
    nodes = ((raw.get("airingSchedule") or {}) if isinstance(raw.get("airingSchedule"), dict)
             else {}).get("nodes")  # fmt: skip
    airing: dict[int, AiringSlot] = {}
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, dict):
            continue
        episode = whole_number(node.get("episode"), 1, MAX_EPISODE)
        at = whole_number(node.get("airingAt"), EARLIEST_AIRING, LATEST_AIRING)
        if episode is not None and at is not None:
            airing.setdefault(episode, {"episode": episode, "airing_at": at})
    edges = ((raw.get("relations") or {}) if isinstance(raw.get("relations"), dict)
             else {}).get("edges")  # fmt: skip
    related: dict[int, Related] = {}
    for edge in edges if isinstance(edges, list) else []:
        if not isinstance(edge, dict):
            continue
        relation = edge.get("relationType")
        relation = relation.lower() if isinstance(relation, str) else None
        if relation not in RELATIONS:
            continue
        try:
            node = _checked_media(edge.get("node"))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            continue
        if node["anilist_id"] != media["anilist_id"]:
            related.setdefault(node["anilist_id"], {"relation": relation, "media": node})
    return {"media": media, "airing": list(airing.values()), "related": list(related.values())}


def _checked_media(raw: Any) -> MediaRecord:
    """``normalise_media`` for a record that may be hostile: a bad id or type raises
    ValueError; a bad total, title or airing value is dropped rather than stored."""
    if not isinstance(raw, dict):
        raise TypeError("not an object")
    anilist_id = whole_number(raw.get("id"), 1, MAX_ANILIST_ID)
    if anilist_id is None or raw.get("type") not in ("ANIME", "MANGA"):
        raise ValueError("no usable id or type")
    record = normalise_media(raw)
    for name in ("episodes", "chapters", "volumes"):
        record[name] = whole_number(record.get(name), 0, MAX_EPISODE)
    record["mal_id"] = whole_number(record.get("mal_id"), 1, MAX_ANILIST_ID)
    record["titles"] = {k: _short_text(v) for k, v in record["titles"].items()}  # type: ignore[assignment]
    record["synonyms"] = [s for s in map(_short_text, record["synonyms"]) if s]
    for name in ("format", "status", "season"):
        value = record.get(name)
        record[name] = value if isinstance(value, str) and len(value) <= 8 + 8 * (
            name != "season") else None  # fmt: skip
    record["year"] = whole_number(record.get("year"), 1900, 2200)
    record["cover_url"] = _web_url(record.get("cover_url"))
    record["site_url"] = _web_url(record.get("site_url"))
    episode = whole_number(record.get("next_airing_episode"), 1, MAX_EPISODE)
    at = whole_number(record.get("next_airing_at"), EARLIEST_AIRING, LATEST_AIRING)
    record["next_airing_episode"], record["next_airing_at"] = (
        (episode, at) if episode is not None and at is not None else (None, None))  # fmt: skip
    return record


def whole_number(value: Any, low: int, high: int) -> int | None:
    """``value`` when it is an integer (not a bool) from ``low`` to ``high``, else None."""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def _short_text(value: Any, limit: int = 500) -> str | None:
    return value[:limit] if isinstance(value, str) and value.strip() else None


def _web_url(value: Any) -> str | None:
    ok = isinstance(value, str) and len(value) <= 1000 and value.startswith("https://")
    return value if ok else None


def normalise_entry(raw: Mapping[str, Any]) -> ListEntry:
    media = raw.get("media")
    return {
        "entry_id": int(raw["id"]),
        "media_id": int(raw.get("mediaId") or (media or {})["id"]),
        "status": _lower(raw.get("status")),
        "score": round(raw.get("score") or 0),
        "progress": raw.get("progress") or 0,
        "progress_volumes": raw.get("progressVolumes"),
        "repeat": raw.get("repeat") or 0,
        "notes": raw.get("notes") or None,
        "private": bool(raw.get("private")),
        "hidden_from_status_lists": bool(raw.get("hiddenFromStatusLists")),
        "custom_lists": _custom_list_names(raw.get("customLists")),
        "started_at": fuzzy_to_iso(raw.get("startedAt")),
        "completed_at": fuzzy_to_iso(raw.get("completedAt")),
        "updated_at": raw.get("updatedAt"),
        "created_at": raw.get("createdAt"),
        # A mutation may select only media { id }: that is no catalogue record.
        "media": normalise_media(media) if media and "type" in media else None,
    }


def _custom_list_names(value: Any) -> list[str]:
    """Names of the custom lists an entry is in; ``asArray`` gives [{name, enabled}],
    without it AniList sends {name: enabled}."""
    if isinstance(value, Mapping):
        return [name for name, enabled in value.items() if enabled]
    return [item["name"] for item in value or [] if item.get("enabled")]


def fuzzy_to_iso(fuzzy: Mapping[str, Any] | None) -> str | None:
    """AniList FuzzyDate → "2024", "2024-05", "2024-05-17" or None (keeps what is known)."""
    fuzzy = fuzzy or {}
    return fuzzy_date_to_partial(fuzzy.get("year"), fuzzy.get("month"), fuzzy.get("day"))


def iso_to_fuzzy(value: str | date | None) -> dict[str, int | None]:
    """Partial ISO date → FuzzyDateInput; None or "" → all parts null (clears the date)."""
    text = value.isoformat() if isinstance(value, date) else value
    year, month, day = partial_to_fuzzy_date(text)
    return {"year": year, "month": month, "day": day}


def _minutes(value: Any) -> int | None:
    """An episode's length in minutes, or None when AniList sends nothing sensible."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_DURATION:
        return value
    return None


def _lower(value: Any) -> str | None:
    return str(value).lower() if value else None


def _enum(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value.lower() not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")
    return value.upper()


def _media_type(value: str) -> str:
    return _enum(value, MEDIA_TYPES, "media type")
