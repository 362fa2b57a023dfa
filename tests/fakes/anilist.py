"""A fake AniList: GraphQL answered by top-level field, plus the OAuth endpoints.

The document is parsed with ``graphql.parse`` (no schema), each top-level field is
resolved from ``FakeAniList``'s state and the answer is cut down to exactly the
fields the query selected, so it has the JSON shape of the recorded samples in
``../shared/anilist/samples``. Errors look like AniList's too:
``{"errors": [{"message", "status", "locations"}], "data": {field: null}}``.

Typical use::

    fake = FakeAniList()
    user = fake.add_user("ayaka")
    token = fake.issue_token(user.id)
    fake.add_entry(user.id, media_id=1, status="CURRENT", progress=3)
    base_url, stop = serve(fake)   # GraphQL at base_url, OAuth under /api/v2/oauth/
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    parse,
    value_from_ast_untyped,
)
from graphql.language import get_location
from werkzeug.wrappers import Request, Response

from tests.fakes import FakeService, respond

TOKEN_PATH = "/api/v2/oauth/token"
AUTHORIZE_PATH = "/api/v2/oauth/authorize"
ONE_YEAR = 365 * 24 * 3600
NULL_DATE = {"year": None, "month": None, "day": None}

# What AniList calls each status list, per media type.
LIST_NAMES = {
    "ANIME": {"CURRENT": "Watching", "REPEATING": "Rewatching"},
    "MANGA": {"CURRENT": "Reading", "REPEATING": "Rereading"},
}
COMMON_LIST_NAMES = {
    "COMPLETED": "Completed",
    "PAUSED": "Paused",
    "DROPPED": "Dropped",
    "PLANNING": "Planning",
}
REASONS = {
    400: "Bad Request.",
    401: "Unauthorized.",
    403: "Forbidden.",
    404: "Not Found.",
    429: "Too Many Requests.",
    500: "Internal Server Error.",
    502: "Bad Gateway.",
    503: "Service Unavailable.",
}


def make_media(
    id: int,
    romaji: str | None,
    *,
    type: str = "ANIME",
    english: str | None = None,
    native: str | None = None,
    synonyms: tuple[str, ...] = (),
    format: str | None = None,
    status: str = "FINISHED",
    id_mal: int | None = None,
    episodes: int | None = None,
    chapters: int | None = None,
    volumes: int | None = None,
    start: tuple[int | None, int | None, int | None] = (None, None, None),
    season: str | None = None,
    next_airing: tuple[int, int] | None = None,
    studios: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A catalogue record with the fields and nesting of AniList's ``Media``."""
    kind = type.lower()
    cover = f"https://s4.anilist.co/file/anilistcdn/media/{kind}/cover"
    year, month, day = start
    return {
        "id": id,
        "idMal": id_mal,
        "type": type,
        "format": format or ("TV" if type == "ANIME" else "MANGA"),
        "status": status,
        "title": {"romaji": romaji, "english": english, "native": native},
        "synonyms": list(synonyms),
        "coverImage": {
            "extraLarge": f"{cover}/large/bx{id}.jpg",
            "large": f"{cover}/medium/bx{id}.jpg",
            "medium": f"{cover}/small/bx{id}.jpg",
            "color": "#e4a15d",
        },
        "bannerImage": None,
        "siteUrl": f"https://anilist.co/{kind}/{id}",
        "episodes": episodes,
        "chapters": chapters,
        "volumes": volumes,
        "season": season,
        "seasonYear": year if type == "ANIME" else None,
        "startDate": {"year": year, "month": month, "day": day},
        "endDate": dict(NULL_DATE),
        "nextAiringEpisode": (
            {"episode": next_airing[0], "airingAt": next_airing[1], "timeUntilAiring": 0}
            if next_airing
            else None
        ),
        "isAdult": False,
        "genres": [],
        "studios": {"nodes": [{"name": name} for name in studios]},
        "averageScore": None,
        "description": None,
    }


def named_media(now: int) -> list[dict[str, Any]]:
    """A few well-known titles, so tests can search for something real."""
    return [
        make_media(
            1,
            "Cowboy Bebop",
            english="Cowboy Bebop",
            native="カウボーイビバップ",
            id_mal=1,
            episodes=26,
            start=(1998, 4, 3),
            season="SPRING",
        ),
        make_media(
            5,
            "Cowboy Bebop: Tengoku no Tobira",
            english="Cowboy Bebop: The Movie - Knockin' on Heaven's Door",
            native="カウボーイビバップ天国の扉",
            format="MOVIE",
            id_mal=5,
            episodes=1,
            start=(2001, 9, 1),
            season="SUMMER",
        ),
        make_media(
            154587,
            "Sousou no Frieren",
            english="Frieren: Beyond Journey's End",
            native="葬送のフリーレン",
            synonyms=("Frieren at the Funeral",),
            id_mal=52991,
            episodes=28,
            start=(2023, 9, 29),
            season="FALL",
        ),
        make_media(
            118586,
            "Sousou no Frieren",
            type="MANGA",
            english="Frieren: Beyond Journey's End",
            native="葬送のフリーレン",
            status="RELEASING",
            id_mal=126287,
            start=(2020, 4, 28),
        ),
        make_media(
            21,
            "ONE PIECE",
            english="ONE PIECE",
            native="ONE PIECE",
            id_mal=21,
            status="RELEASING",
            start=(1999, 10, 20),
            season="FALL",
            next_airing=(1100, now + 3 * 24 * 3600),
        ),
        make_media(
            900001,
            "Nihongo Taitoru",
            type="MANGA",
            native="日本語タイトル",
            chapters=12,
            volumes=2,
            start=(2019, 5, None),
        ),
    ]


@dataclass
class FakeUser:
    id: int
    name: str
    score_format: str = "POINT_10"
    title_language: str = "ROMAJI"
    custom_lists: list[str] = field(default_factory=list)


@dataclass
class FakeEntry:
    """A list entry; ``score`` is kept on the 0-100 scale, as AniList does."""

    id: int
    user_id: int
    media_id: int
    status: str = "CURRENT"
    score: float = 0
    progress: int = 0
    progress_volumes: int | None = None
    repeat: int = 0
    notes: str | None = None
    private: bool = False
    hidden_from_status_lists: bool = False
    custom_lists: set[str] = field(default_factory=set)
    started_at: dict[str, int | None] = field(default_factory=lambda: dict(NULL_DATE))
    completed_at: dict[str, int | None] = field(default_factory=lambda: dict(NULL_DATE))
    created_at: int = 0
    updated_at: int = 0


class AniListError(Exception):
    """Ends a request with AniList's error shape and this HTTP status."""

    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message or REASONS.get(status, "Error"))
        self.status = status
        self.message = message or REASONS.get(status, "Error")


class _Query:
    """The parts of a parsed document a resolver needs: fragments and variables."""

    def __init__(self, document: DocumentNode, variables: dict[str, Any]) -> None:
        self.document = document
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def operation(self, name: str | None) -> OperationDefinitionNode:
        operations = [
            d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)
        ]
        for op in operations:
            if name is None or (op.name and op.name.value == name):
                return op
        raise AniListError(400, f'Unknown operation named "{name}".')

    def fields(self, selection_set: SelectionSetNode | None) -> Iterator[FieldNode]:
        """Fields of a selection set, with fragment spreads and inline fragments flattened."""
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, FragmentSpreadNode):
                yield from self.fields(self.fragments[selection.name.value].selection_set)
            elif isinstance(selection, InlineFragmentNode):
                yield from self.fields(selection.selection_set)

    def args(self, node: FieldNode) -> dict[str, Any]:
        """Argument values; one bound to a variable that was not sent counts as absent."""
        values = {
            a.name.value: value_from_ast_untyped(a.value, self.variables) for a in node.arguments
        }
        return {name: _no_undefined(v) for name, v in values.items() if v is not Undefined}

    def location(self, node: FieldNode) -> dict[str, int]:
        assert self.document.loc is not None and node.loc is not None  # parse() keeps them
        where = get_location(self.document.loc.source, node.loc.start)
        return {"line": where.line, "column": where.column}


def _no_undefined(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_undefined(v) for k, v in value.items() if v is not Undefined}
    if isinstance(value, list):
        return [None if v is Undefined else _no_undefined(v) for v in value]
    return value


class FakeAniList(FakeService):
    """State and behaviour of the fake; every attribute may be changed by a test.

    Extra switches on top of ``FakeService``'s: ``errors_in_200`` (True or a
    message: answer HTTP 200 with a GraphQL ``errors`` list), ``missing_fields``
    (field names left out of every answer), ``revoke(token)`` (the token then gets
    HTTP 400 "Invalid token"), ``authorize_as`` (user id the authorize page logs in
    as; None shows a login page), ``refuse`` (media id → message: saving an entry
    of that title answers HTTP 400 with that message, as AniList's validation does).
    """

    def __init__(
        self,
        *,
        client_id: str = "tracker-test-client",
        client_secret: str = "tracker-test-secret",
        redirect_uri: str = "http://localhost/anilist/callback",
        clock: Callable[[], int] | None = None,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.clock = clock or (lambda: int(time.time()))
        self.media: dict[int, dict[str, Any]] = {m["id"]: m for m in named_media(self.clock())}
        self.users: dict[int, FakeUser] = {}
        self.entries: dict[int, FakeEntry] = {}
        self.tokens: dict[str, int] = {}
        self.revoked: set[str] = set()
        self.codes: dict[str, int] = {}
        self.errors_in_200: bool | str = False
        self.missing_fields: set[str] = set()
        self.authorize_as: int | None = None
        self.refuse: dict[int, str] = {}
        # Media id → its schedule ([{episode, airingAt}], any values: tests put hostile
        # ones here) and its relations ([(relationType, related media id)]).
        self.schedules: dict[int, list[dict[str, Any]]] = {}
        self.relations: dict[int, list[tuple[Any, int]]] = {}
        self._user_ids = itertools.count(5001)
        self._entry_ids = itertools.count(400_000_001)
        self._generated = itertools.count(1)
        self._serials = itertools.count(1)

    # -- state helpers for tests ----------------------------------------------------

    def add_media(self, n: int, type: str = "anime") -> list[dict[str, Any]]:
        """``n`` more titles, the same ones on every run: "Generated Anime 1", …"""
        kind = type.upper()
        added = []
        for _ in range(n):
            k = next(self._generated)
            label = f"Generated {type.capitalize()} {k}"
            media = make_media(
                200_000 + k,
                label,
                type=kind,
                english=f"{label} (EN)",
                id_mal=50_000 + k,
                episodes=12 if kind == "ANIME" else None,
                chapters=None if kind == "ANIME" else 40 + k,
                volumes=None if kind == "ANIME" else 1 + k // 10,
                start=(2000 + k % 25, 1 + k % 12, 1 + k % 28),
            )
            self.media[media["id"]] = media
            added.append(media)
        return added

    def add_user(self, name: str = "tester", **settings: Any) -> FakeUser:
        user = FakeUser(next(self._user_ids), name, **settings)
        self.users[user.id] = user
        return user

    def issue_token(self, user_id: int) -> str:
        """An access token for ``user_id``, JWT-shaped with the id in ``sub`` like AniList's."""
        claims = {
            "aud": self.client_id,
            "sub": str(user_id),
            "jti": next(self._serials),
            "exp": self.clock() + ONE_YEAR,
        }
        token = ".".join([_b64({"typ": "JWT", "alg": "RS256"}), _b64(claims), _b64({"fake": True})])
        self.tokens[token] = user_id
        return token

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def issue_code(self, user_id: int) -> str:
        """An authorization code, as if ``user_id`` had approved the app; single use."""
        code = f"code-{user_id}-{next(self._serials)}"
        self.codes[code] = user_id
        return code

    def add_entry(self, user_id: int, media_id: int, **values: Any) -> FakeEntry:
        """A list entry; ``values`` are ``FakeEntry`` fields (dates as {year, month, day})."""
        now = self.clock()
        entry = FakeEntry(
            next(self._entry_ids), user_id, media_id, created_at=now, updated_at=now, **values
        )
        self.entries[entry.id] = entry
        self._remember_custom_lists(entry)
        return entry

    def entries_of(self, user_id: int) -> list[FakeEntry]:
        return [e for e in self.entries.values() if e.user_id == user_id]

    def default_error_body(self, status: int) -> Any:
        return {
            "data": None,
            "errors": [{"message": REASONS.get(status, "Error"), "status": status}],
        }

    def default_error_headers(self, status: int) -> dict[str, str]:
        return {"Retry-After": "60"} if status == 429 else {}

    # -- HTTP -------------------------------------------------------------------------

    def describe(self, request: Request) -> tuple[str, dict[str, Any]]:
        if request.path == TOKEN_PATH:
            return "oauth/token", request.form.to_dict()
        if request.path == AUTHORIZE_PATH:
            return "oauth/authorize", request.args.to_dict()
        request.graphql = None  # type: ignore[attr-defined]
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
            variables = body.get("variables") or {}
            query = _Query(parse(body["query"]), variables)
            op = query.operation(body.get("operationName"))
            first = next(query.fields(op.selection_set))
        except (
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            StopIteration,
            GraphQLSyntaxError,
            AniListError,
        ):
            return "<invalid>", {}
        request.graphql = (query, op)  # type: ignore[attr-defined]
        return first.name.value, variables

    def handle(self, request: Request, operation: str, variables: dict[str, Any]) -> Response:
        if request.path == TOKEN_PATH and request.method == "POST":
            return self._token(request)
        if request.path == AUTHORIZE_PATH:
            return self._authorize(request)
        if request.method != "POST" or request.graphql is None:  # type: ignore[attr-defined]
            return respond(
                {
                    "data": None,
                    "errors": [
                        {
                            "message": "Syntax Error: the request is not a GraphQL document.",
                            "status": 400,
                        }
                    ],
                },
                400,
            )
        query, op = request.graphql  # type: ignore[attr-defined]
        fields = list(query.fields(op.selection_set))
        null_data = {_key(f): None for f in fields}

        def failed(status: int, message: str, node: FieldNode) -> Response:
            error = {"message": message, "status": status, "locations": [query.location(node)]}
            return respond({"errors": [error], "data": null_data}, status)

        viewer_id = None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ").strip()
            if token in self.revoked or token not in self.tokens:
                return failed(400, "Invalid token", fields[0])
            viewer_id = self.tokens[token]
        if self.errors_in_200:
            message = self.errors_in_200 if isinstance(self.errors_in_200, str) else "Whoops!"
            error = {"message": message, "locations": [query.location(fields[0])]}
            return respond({"errors": [error], "data": null_data})
        data = {}
        for node in fields:
            resolver = self._resolvers().get(node.name.value)
            if resolver is None:
                return failed(400, f'Cannot query field "{node.name.value}" on type "Query".', node)
            try:
                value = resolver(query, node, viewer_id)
            except AniListError as exc:
                return failed(exc.status, exc.message, node)
            data[_key(node)] = self._project(query, value, node.selection_set)
        return respond({"data": data})

    def _project(self, query: _Query, value: Any, selection: SelectionSetNode | None) -> Any:
        """Keep only the selected fields; a callable value computes a field from its args."""
        if selection is None or value is None:
            return value
        if isinstance(value, list):
            return [self._project(query, item, selection) for item in value]
        if not isinstance(value, dict):  # a hostile value a test planted: sent as it is
            return value
        out = {}
        for node in query.fields(selection):
            name = node.name.value
            if name in self.missing_fields:
                continue
            raw = value.get(name)
            if callable(raw):
                raw = raw(query.args(node))
            out[_key(node)] = self._project(query, raw, node.selection_set)
        return out

    def _resolvers(self) -> dict[str, Callable[[_Query, FieldNode, int | None], Any]]:
        return {
            "Page": self._page,
            "Media": self._media,
            "Viewer": self._viewer,
            "MediaListCollection": self._collection,
            "SaveMediaListEntry": self._save,
            "DeleteMediaListEntry": self._delete,
        }

    # -- queries ----------------------------------------------------------------------

    def _page(self, query: _Query, node: FieldNode, viewer_id: int | None) -> dict[str, Any]:
        args = query.args(node)
        page = max(1, args.get("page") or 1)
        per_page = min(50, max(1, args.get("perPage") or 50))
        listed = {f.name.value: f for f in query.fields(node.selection_set)}
        entries = []
        if "mediaList" in listed:
            entries = self._find_entries(query.args(listed["mediaList"]), viewer_id)
        found = self._find_media(query.args(listed["media"])) if "media" in listed else []
        total = len(entries) + len(found)  # one list field per Page, as on AniList
        start = (page - 1) * per_page
        return {
            "pageInfo": {
                "total": total,
                "perPage": per_page,
                "currentPage": page,
                "lastPage": max(1, math.ceil(total / per_page)),
                "hasNextPage": start + per_page < total,
            },
            "media": found[start : start + per_page],
            # Only the entries of this page are viewed (a list may hold thousands).
            "mediaList": [self._entry_view(e) for e in entries[start : start + per_page]],
        }

    def _media(self, query: _Query, node: FieldNode, viewer_id: int | None) -> dict[str, Any]:
        found = self._find_media(query.args(node))
        if not found:
            raise AniListError(404)
        return found[0]

    def _find_media(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        found = sorted(self.media.values(), key=lambda m: m["id"])
        if "id" in args:
            found = [m for m in found if m["id"] == args["id"]]
        if "id_in" in args:
            wanted = set(args["id_in"] or [])
            found = [m for m in found if m["id"] in wanted]
        if "idMal_in" in args:
            wanted_mal = set(args["idMal_in"] or [])
            found = [m for m in found if m["idMal"] in wanted_mal]
        if args.get("type"):
            found = [m for m in found if m["type"] == args["type"]]
        if args.get("search"):
            needle = args["search"].casefold()
            ranked = [(rank, m) for m in found if (rank := _match_rank(m, needle)) is not None]
            found = [m for _, m in sorted(ranked, key=lambda pair: (pair[0], pair[1]["id"]))]
        return [self._with_links(m) for m in found]

    def _with_links(self, media: dict[str, Any]) -> dict[str, Any]:
        """The title with its ``airingSchedule`` and ``relations`` connections."""
        media_id = media["id"]

        def schedule(args: dict[str, Any]) -> dict[str, Any]:
            slots = list(self.schedules.get(media_id, []))
            if args.get("notYetAired"):
                now = self.clock()
                slots = [s for s in slots if not _aired(s, now)]
            per_page = min(25, max(1, args.get("perPage") or 25))
            return {"nodes": slots[:per_page]}

        edges = [
            {"relationType": lambda _args, kind=kind: kind, "node": self.media[related]}
            for kind, related in self.relations.get(media_id, [])
            if related in self.media
        ]
        return {**media, "airingSchedule": schedule, "relations": {"edges": edges}}

    def _find_entries(self, args: dict[str, Any], viewer_id: int | None) -> list[FakeEntry]:
        """``Page.mediaList``: one user's entries, filtered by type and ``mediaId_not_in``,
        sorted by ``UPDATED_TIME_DESC`` / ``UPDATED_TIME`` then ``MEDIA_ID`` (else by id)."""
        if not args.get("userId"):
            raise AniListError(400, "userId or userName required")
        left_out = set(args.get("mediaId_not_in") or [])
        entries = [
            e
            for e in self.entries_of(int(args["userId"]))
            if e.media_id not in left_out
            and (not args.get("type") or self.media[e.media_id]["type"] == args["type"])
            and (not e.private or viewer_id == e.user_id)
        ]
        order = args.get("sort") or []
        order = order if isinstance(order, list) else [order]
        entries.sort(key=lambda e: e.media_id if "MEDIA_ID" in order else e.id)
        if "UPDATED_TIME_DESC" in order:
            entries.sort(key=lambda e: e.updated_at, reverse=True)  # stable: ties keep order
        elif "UPDATED_TIME" in order:
            entries.sort(key=lambda e: e.updated_at)
        return entries

    def _viewer(self, query: _Query, node: FieldNode, viewer_id: int | None) -> dict[str, Any]:
        return self._user_view(self._require_viewer(viewer_id))

    def _collection(self, query: _Query, node: FieldNode, viewer_id: int | None) -> dict:
        args = query.args(node)
        user = self.users.get(int(args.get("userId") or 0)) or next(
            (u for u in self.users.values() if u.name == args.get("userName")), None
        )
        if user is None:
            raise AniListError(404, "User not found")
        media_type = args.get("type") or "ANIME"
        entries = sorted(
            (
                e
                for e in self.entries_of(user.id)
                if self.media[e.media_id]["type"] == media_type
                and (not e.private or viewer_id == user.id)
            ),
            key=lambda e: e.id,
        )
        per_chunk = min(500, max(1, args.get("perChunk") or 500))
        chunk = max(1, args.get("chunk") or 1)
        start = (chunk - 1) * per_chunk
        in_chunk = entries[start : start + per_chunk]
        names = {**COMMON_LIST_NAMES, **LIST_NAMES[media_type]}
        lists = []
        for status, name in names.items():
            members = [e for e in in_chunk if e.status == status and not e.hidden_from_status_lists]
            if members:
                lists.append(self._group(name, False, status, members))
        for name in user.custom_lists:
            members = [e for e in in_chunk if name in e.custom_lists]
            if members:
                lists.append(self._group(name, True, None, members))
        return {
            "lists": lists,
            "user": self._user_view(user),
            "hasNextChunk": start + per_chunk < len(entries),
        }

    def _group(
        self, name: str, custom: bool, status: str | None, members: list[FakeEntry]
    ) -> dict[str, Any]:
        return {
            "name": name,
            "isCustomList": custom,
            "isSplitCompletedList": False,
            "status": status,
            "entries": [self._entry_view(e) for e in members],
        }

    # -- mutations ----------------------------------------------------------------------

    def _save(self, query: _Query, node: FieldNode, viewer_id: int | None) -> dict[str, Any]:
        user = self._require_viewer(viewer_id)
        args = query.args(node)
        if args.get("id") is not None:
            entry = self.entries.get(args["id"])
            if entry is None or entry.user_id != user.id:
                raise AniListError(404)
        elif args.get("mediaId") is not None:
            if args["mediaId"] not in self.media:
                raise AniListError(400, "validation")
            if args["mediaId"] in self.refuse:
                raise AniListError(400, self.refuse[args["mediaId"]])
            entry = next(
                (e for e in self.entries_of(user.id) if e.media_id == args["mediaId"]), None
            ) or self.add_entry(user.id, args["mediaId"])
        else:
            raise AniListError(400, "validation")
        if entry.media_id in self.refuse:
            raise AniListError(400, self.refuse[entry.media_id])
        plain = {
            "status": "status",
            "progress": "progress",
            "progressVolumes": "progress_volumes",
            "repeat": "repeat",
            "notes": "notes",
            "private": "private",
            "hiddenFromStatusLists": "hidden_from_status_lists",
        }
        for arg, attr in plain.items():
            if arg in args and (args[arg] is not None or arg == "notes"):
                setattr(entry, attr, args[arg])
        if args.get("scoreRaw") is not None:
            entry.score = args["scoreRaw"]
        elif args.get("score") is not None:
            entry.score = score_to_100(args["score"], user.score_format)
        for arg, attr in (("startedAt", "started_at"), ("completedAt", "completed_at")):
            if arg in args:
                setattr(entry, attr, {**NULL_DATE, **(args[arg] or {})})
        if "customLists" in args:
            entry.custom_lists = set(args["customLists"] or [])
            self._remember_custom_lists(entry)
        entry.updated_at = self.clock()
        return self._entry_view(entry)

    def _delete(self, query: _Query, node: FieldNode, viewer_id: int | None) -> dict[str, Any]:
        user = self._require_viewer(viewer_id)
        entry = self.entries.get(int(query.args(node).get("id") or 0))
        if entry is None or entry.user_id != user.id:
            raise AniListError(404)
        del self.entries[entry.id]
        return {"deleted": True}

    # -- views ------------------------------------------------------------------------

    def _require_viewer(self, viewer_id: int | None) -> FakeUser:
        if viewer_id is None or viewer_id not in self.users:
            raise AniListError(401)
        return self.users[viewer_id]

    def _user_view(self, user: FakeUser) -> dict[str, Any]:
        return {
            "id": user.id,
            "name": user.name,
            "mediaListOptions": {"scoreFormat": user.score_format},
            "options": {"titleLanguage": user.title_language},
        }

    def _entry_view(self, entry: FakeEntry) -> dict[str, Any]:
        user = self.users[entry.user_id]

        def score(args: dict[str, Any]) -> float:
            return score_from_100(entry.score, args.get("format") or user.score_format)

        def custom_lists(args: dict[str, Any]) -> Any:
            if not user.custom_lists:
                return None
            if args.get("asArray"):
                return [{"name": n, "enabled": n in entry.custom_lists} for n in user.custom_lists]
            return {n: n in entry.custom_lists for n in user.custom_lists}

        return {
            "id": entry.id,
            "userId": entry.user_id,
            "mediaId": entry.media_id,
            "status": entry.status,
            "score": score,
            "progress": entry.progress,
            "progressVolumes": entry.progress_volumes,
            "repeat": entry.repeat,
            "priority": 0,
            "private": entry.private,
            "notes": entry.notes,
            "hiddenFromStatusLists": entry.hidden_from_status_lists,
            "customLists": custom_lists,
            "startedAt": dict(entry.started_at),
            "completedAt": dict(entry.completed_at),
            "updatedAt": entry.updated_at,
            "createdAt": entry.created_at,
            "media": copy.deepcopy(self.media.get(entry.media_id)),
            "user": self._user_view(user),
        }

    def _remember_custom_lists(self, entry: FakeEntry) -> None:
        user = self.users.get(entry.user_id)
        if user is not None:
            user.custom_lists.extend(
                n for n in sorted(entry.custom_lists) if n not in user.custom_lists
            )

    # -- OAuth --------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        """Authorization-code exchange, client_secret_post, like AniList's (Laravel Passport)."""
        form = request.form
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        if form.get("grant_type") != "authorization_code":
            return _oauth_error(
                400, "unsupported_grant_type", "The authorization grant type is not supported."
            )
        if form.get("redirect_uri") != self.redirect_uri:
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        user_id = self.codes.pop(form.get("code", ""), None)  # single use
        if user_id is None:
            return _oauth_error(
                400, "invalid_grant", "The provided authorization grant is invalid or expired."
            )
        return respond(
            {
                "token_type": "Bearer",
                "expires_in": ONE_YEAR,
                "access_token": self.issue_token(user_id),
            }
        )

    def _authorize(self, request: Request) -> Response:
        """The consent page: approves at once for ``authorize_as`` and redirects back."""
        args = request.args
        if args.get("client_id") != self.client_id:
            return Response("Unknown client", 400)
        redirect_uri = args.get("redirect_uri") or self.redirect_uri
        if redirect_uri != self.redirect_uri:
            return Response("Redirect URI does not match the client's", 400)
        if self.authorize_as is None:
            return Response(
                "<html><body>Log in to the fake AniList</body></html>",
                200,
                content_type="text/html",
            )
        query = {"code": self.issue_code(self.authorize_as)}
        if args.get("state"):
            query["state"] = args["state"]
        return Response(status=302, headers={"Location": f"{redirect_uri}?{urlencode(query)}"})


def score_from_100(score: float, score_format: str) -> float:
    """A 0-100 score in one of AniList's formats."""
    if score_format == "POINT_10_DECIMAL":
        return round(score / 10, 1)
    if score_format == "POINT_10":
        return math.floor(score / 10 + 0.5)
    if score_format == "POINT_5":
        return math.floor(score / 20 + 0.5)
    if score_format == "POINT_3":
        return 0 if not score else 1 if score <= 35 else 2 if score <= 60 else 3
    return score


def score_to_100(score: float, score_format: str) -> float:
    if score_format in ("POINT_10_DECIMAL", "POINT_10"):
        return score * 10
    if score_format == "POINT_5":
        return score * 20
    if score_format == "POINT_3":
        return {0: 0, 1: 35, 2: 60, 3: 85}.get(int(score), 0)
    return score


def _match_rank(media: dict[str, Any], needle: str) -> int | None:
    """0 exact title, 1 title starts with the search, 2 contains it; None: no match."""
    names = [t for t in media["title"].values() if t] + media["synonyms"]
    best = None
    for name in (n.casefold() for n in names):
        rank = (
            0 if name == needle else 1 if name.startswith(needle) else 2 if needle in name else None
        )
        if rank is not None and (best is None or rank < best):
            best = rank
    return best


def _aired(slot: Any, now: int) -> bool:
    """Whether a schedule slot is in the past (a hostile one never is: it is sent)."""
    return isinstance(slot, dict) and isinstance(slot.get("airingAt"), int) and (
        slot["airingAt"] <= now)  # fmt: skip


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _b64(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _oauth_error(status: int, error: str, description: str) -> Response:
    return respond(
        {"error": error, "error_description": description, "message": description}, status
    )
