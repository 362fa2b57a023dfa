"""Request and response schemas: one declaration validates input and documents the API.

The browser forms load through the same schemas, so a rule cannot differ between
the HTML pages and the JSON API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from tracker import preferences, scores
from tracker.dates import PARTIAL_DATE_PATTERN, parse_partial_date
from tracker.models import MEDIA_SOURCES, MEDIA_TYPES, STATUSES
from tracker.preferences import LIST_SORTS
from tracker.services.tokens import EXPIRY_CHOICES, expiry_in

MAX_TITLE = 500
MAX_NOTES = 10_000
MAX_PROGRESS = 100_000
MAX_PER_PAGE = 200
MAX_LIST_NAME = 500
MAX_PAGE = 1_000_000  # 200 million rows deep: past any library, and inside SQL's OFFSET

URI = {"format": "uri"}
_INT_TEXT = re.compile(r"^[+-]?\d{1,9}$")


class WholeNumber(fields.Integer):
    """A JSON integer: never a string, a truncated float or a boolean."""

    default_error_messages = {"invalid": "Must be a whole number."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class PartialDate(fields.String):
    """ISO 8601 date that may be partial, as AniList's are: 2024, 2024-05, 2024-05-17."""

    default_error_messages = {
        "invalid": "Use YYYY, YYYY-MM or YYYY-MM-DD, with a real month and day."
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(metadata={"pattern": PARTIAL_DATE_PATTERN}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_partial_date(text)
        except ValueError as exc:
            raise self.make_error("invalid") from exc


_URL_CHAR = r"[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2}"


class WebUrl(fields.String):
    """An http(s) address that is also an RFC 3986 URI, as ``format: uri`` says: ASCII,
    anything else percent-encoded (no user info, no IP-literal hosts)."""

    default_error_messages = {"invalid": "Use an address starting with http:// or https://."}
    PATTERN = re.compile(
        rf"^https?://(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{{2}})+(?::[0-9]*)?"
        rf"(?:/(?:{_URL_CHAR})*)*(?:\?(?:{_URL_CHAR}|[/?])*)?(?:#(?:{_URL_CHAR}|[/?])*)?$"
    )

    def __init__(self, **kwargs) -> None:
        super().__init__(
            validate=validate.Length(max=1000),
            metadata={**URI, "pattern": self.PATTERN.pattern},
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self.PATTERN.fullmatch(text):
            raise self.make_error("invalid")
        return text


class Flag(fields.Boolean):
    """A JSON true or false: never 0, 1 or a string (forms convert theirs in load_form)."""

    default_error_messages = {"invalid": "Must be true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Text(fields.String):
    """Free text. NUL characters are dropped: they mean nothing in a title, a note or a
    search, and PostgreSQL cannot store or compare them."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).replace("\x00", "")


def _text(max_length: int, *, required: bool = False, min_length: int = 0) -> Text:
    return Text(
        required=required,
        allow_none=not required,
        validate=validate.Length(min=min_length, max=max_length),
    )


def _number(low: int, high: int, **kwargs) -> WholeNumber:
    return WholeNumber(validate=validate.Range(min=low, max=high), **kwargs)


class _StripTitle(Schema):
    @pre_load
    def strip_title(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("title"), str):
            data = {**data, "title": data["title"].strip()}
        return data


class ItemEditSchema(_StripTitle):
    """Fields a person may change on an item (PATCH); every field optional."""

    title = Text(validate=validate.Length(min=1, max=MAX_TITLE))
    status = fields.String(validate=validate.OneOf(STATUSES))
    progress = _number(0, MAX_PROGRESS)
    progress_volumes = _number(0, MAX_PROGRESS, allow_none=True)
    max_progress = _number(1, MAX_PROGRESS, allow_none=True)
    score = _number(0, 100, allow_none=True)
    notes = _text(MAX_NOTES)
    repeat = _number(0, MAX_PROGRESS)
    private = Flag()
    cover_url = WebUrl(allow_none=True)
    started_on = PartialDate(allow_none=True)
    completed_on = PartialDate(allow_none=True)


class ItemCreateSchema(ItemEditSchema):
    title = Text(required=True, validate=validate.Length(min=1, max=MAX_TITLE))
    type = fields.String(required=True, validate=validate.OneOf(MEDIA_TYPES))
    source = fields.String(load_default="manual", validate=validate.OneOf(MEDIA_SOURCES))
    anilist_id = _number(1, 10**9, allow_none=True)
    mal_id = _number(1, 10**9, allow_none=True)
    mangadex_id = Text(allow_none=True, validate=validate.Length(min=1, max=64))


class IncrementSchema(Schema):
    by = WholeNumber(load_default=1, validate=validate.Range(min=-MAX_PROGRESS, max=MAX_PROGRESS))


class PageQuerySchema(Schema):
    """``page`` and ``per_page`` of every paged list."""

    # Query strings are text, so plain Integer (which parses "2" but not "2.5") fits here.
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class ItemQuerySchema(PageQuerySchema):
    type = fields.String(validate=validate.OneOf(MEDIA_TYPES))
    status = fields.String(validate=validate.OneOf(STATUSES))
    q = Text(validate=validate.Length(max=MAX_TITLE))
    list = fields.String(
        validate=validate.Length(min=1, max=MAX_LIST_NAME),
        metadata={"description": "Only items in this AniList custom list."},
    )
    conflicts = fields.Boolean(
        metadata={"description": "true: only items with a sync conflict not yet resolved."}
    )
    sort = fields.String(
        load_default="-updated",
        validate=validate.OneOf(LIST_SORTS),
    )


class SyncStateSchema(Schema):
    state = fields.String(metadata={"enum": ["none", "pending", "synced", "error"]})
    synced_at = fields.DateTime(allow_none=True)
    last_error = fields.String(
        allow_none=True, metadata={"description": "Why the last push failed (state error)."}
    )


class ItemSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    type = fields.String(attribute="media_type")
    source = fields.String()
    status = fields.String()
    progress = fields.Integer()
    max_progress = fields.Integer(allow_none=True)
    progress_volumes = fields.Integer(allow_none=True)
    score = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
    repeat = fields.Integer()
    private = fields.Boolean()
    cover_url = fields.String(attribute="display_cover", allow_none=True, metadata=URI)
    format = fields.String(allow_none=True)
    site_url = fields.String(allow_none=True)
    anilist_id = fields.Integer(allow_none=True)
    mangadex_id = fields.String(allow_none=True)
    mal_id = fields.Integer(allow_none=True)
    started_on = fields.String(allow_none=True, metadata={"pattern": PARTIAL_DATE_PATTERN})
    completed_on = fields.String(allow_none=True, metadata={"pattern": PARTIAL_DATE_PATTERN})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    sync = fields.Nested(SyncStateSchema)
    custom_lists = fields.List(fields.String(), metadata={"description": "AniList custom lists"})


class SequelSchema(Schema):
    """A sequel to add next: ``POST /items`` with ``source: anilist`` and its id adds it."""

    anilist_id = fields.Integer(allow_none=True)
    type = fields.String()
    title = fields.String()
    format = fields.String(allow_none=True)
    cover_url = fields.String(allow_none=True, metadata=URI)


class EditedItemSchema(ItemSchema):
    """An item after an edit or a step, dumped from ``{"item": item, "sequel": dict|None}``."""

    sequel = fields.Nested(
        SequelSchema,
        metadata={"description": "Only when this change completed the title and AniList "
                  "knows a sequel that is not in your library (the first, if several)."},
    )  # fmt: skip

    def get_attribute(self, obj, attr, default):
        if attr == "sequel":
            return obj.get("sequel") or default
        return super().get_attribute(obj["item"], attr, default)


def item_json(item) -> dict:
    """``ItemSchema().dump(item)``, built by hand for the answers a click waits for (the
    +1): the same keys and values at a small part of the cost. ``ItemSchema`` still
    documents the answer, and a test holds the two equal for every kind of item."""
    sync = item.sync
    return {
        "id": item.id,
        "title": item.title,
        "type": item.media_type,
        "source": item.source,
        "status": item.status,
        "progress": item.progress,
        "max_progress": item.max_progress,
        "progress_volumes": item.progress_volumes,
        "score": item.score,
        "notes": item.notes,
        "repeat": item.repeat,
        "private": item.private,
        "cover_url": item.display_cover,
        "format": item.format,
        "site_url": item.site_url,
        "anilist_id": item.anilist_id,
        "mangadex_id": item.mangadex_id,
        "mal_id": item.mal_id,
        "started_on": item.started_on,
        "completed_on": item.completed_on,
        "created_at": _iso(item.created_at),
        "updated_at": _iso(item.updated_at),
        "sync": {
            "state": sync["state"],
            "synced_at": _iso(sync["synced_at"]),
            "last_error": sync["last_error"],
        },
        "custom_lists": None if item.custom_lists is None else list(item.custom_lists),
    }


def _iso(moment):
    return None if moment is None else moment.isoformat()


class ExportQuerySchema(Schema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "csv", "mal")),
        metadata={"description": "json: everything, history included; csv: for "
                  "spreadsheets; mal: MyAnimeList XML (needs `type`)"},
    )  # fmt: skip
    type = fields.String(
        validate=validate.OneOf(MEDIA_TYPES),
        metadata={"description": "Only anime or only manga (required with `format=mal`)"},
    )


class SummarySchema(Schema):
    total = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_type = fields.Dict(keys=fields.String(), values=fields.Integer())


class NextEntrySchema(Schema):
    item_id = fields.Integer()
    title = fields.String()
    type = fields.String(attribute="media_type")
    status = fields.String(metadata={"description": "current or repeating"})
    progress = fields.Integer()
    total = fields.Integer(allow_none=True, metadata={"description": "Episodes or chapters"})
    released = fields.Integer(
        allow_none=True, metadata={"description": "Out now (null: not known)"}
    )
    available = fields.Integer(metadata={"description": "Out now beyond progress"})
    latest_release_at = fields.DateTime(
        allow_none=True, metadata={"description": "When the newest one out came out"}
    )
    next_episode = fields.Integer(allow_none=True)
    next_airing_at = fields.DateTime(allow_none=True)
    cover_url = fields.String(allow_none=True, metadata=URI)
    format = fields.String(allow_none=True)


class UpNextQuerySchema(Schema):
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": "Titles at most in each of `ready` and `waiting` "
                  "(`more_ready` and `more_waiting` count the rest)"},
    )  # fmt: skip


class UpNextSchema(Schema):
    ready = fields.List(
        fields.Nested(NextEntrySchema),
        metadata={"description": "Something out now: newest release first, then the "
                  "titles left alone longest"},
    )  # fmt: skip
    waiting = fields.List(
        fields.Nested(NextEntrySchema),
        metadata={"description": "Caught up: the soonest next episode first"},
    )
    more_ready = fields.Integer(metadata={"description": "Ready titles beyond `limit`"})
    more_waiting = fields.Integer(metadata={"description": "Waiting titles beyond `limit`"})
    library_size = fields.Integer()
    in_progress = fields.Integer()
    airing_as_of = fields.DateTime(
        allow_none=True,
        metadata={"description": "The oldest airing refresh among the titles still airing "
                  "(null: never read, or none airing)"},
    )  # fmt: skip
    airing_data_old = fields.Boolean(
        metadata={"description": "Airing times are old (AniList not reached lately)"}
    )


USERNAME = validate.Regexp(
    r"^[A-Za-z0-9_.-]{3,40}$", error="3–40 letters, digits, dots, dashes or underscores."
)


# The rules for every new password: at registration and at a change.
PASSWORD = validate.Length(min=8, max=256)


class RegisterSchema(Schema):
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(required=True, validate=PASSWORD)


class PasswordConfirmationSchema(Schema):
    """The account's password, asked again before something that cannot be undone."""

    password = fields.String(required=True, validate=validate.Length(max=256))


class TokenRequestSchema(Schema):
    """OAuth2 password grant, sent as a form."""

    grant_type = fields.String(validate=validate.Equal("password"))
    # Any text may be tried (a wrong one is a 401), but NUL cannot reach the database.
    username = fields.String(
        required=True, validate=[validate.Length(max=40), validate.Regexp(r"^[^\x00]*$")]
    )
    password = fields.String(required=True, validate=validate.Length(max=256))


class TokenSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(max=256))
    new_password = fields.String(required=True, validate=PASSWORD)


class PasswordFormSchema(PasswordChangeSchema):
    """The settings form: the new password typed twice."""

    confirm = fields.String(load_default="")

    @validates_schema
    def same_twice(self, data, **kwargs):
        if data.get("new_password") != data.get("confirm"):
            raise ValidationError("The two new passwords differ.", field_name="confirm")


class PasswordChangedSchema(Schema):
    message = fields.String()
    ended_sessions = fields.Integer(
        metadata={"description": "How many other browser sessions and JWTs were ended."}
    )


# Controls (C0, C1, line and paragraph separators, zero-width and bidi marks) that could
# hide or disguise what a token's name says, and the spaces beside them.
_NAME_CONTROLS = r"\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff"
_NAME_SPACES = r"\x20\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
# No control anywhere, and something besides spaces.
TOKEN_NAME_PATTERN = rf"^[^{_NAME_CONTROLS}]*[^{_NAME_CONTROLS}{_NAME_SPACES}][^{_NAME_CONTROLS}]*$"


def _visible_name(value: str) -> None:
    # fullmatch: a pattern's `$` would let one trailing newline through.
    if not re.fullmatch(TOKEN_NAME_PATTERN, value):
        raise ValidationError("Use visible characters, with no control characters.")


class TokenCreateSchema(Schema):
    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100), _visible_name],
        metadata={"pattern": TOKEN_NAME_PATTERN,
                  "description": "What the token is for, so you know it again."},
    )  # fmt: skip
    expires_at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        default_timezone=UTC,
        metadata={"description": "When the token stops working (in the future); none: never."},
    )

    @post_load
    def tidy(self, data, **kwargs):
        data["name"] = data["name"].strip()
        if data["expires_at"] is not None:
            try:
                data["expires_at"] = data["expires_at"].astimezone(UTC)
            except OverflowError as exc:  # year 1 an hour east of UTC
                raise ValidationError(
                    "That time cannot be stored; choose another.", "expires_at"
                ) from exc
        return data


class TokenFormSchema(Schema):
    """The settings form: a name and one of the offered expiries."""

    name = TokenCreateSchema._declared_fields["name"]
    expires_in = fields.String(
        load_default="90", validate=validate.OneOf(EXPIRY_CHOICES, error="Choose an expiry.")
    )

    @post_load
    def tidy(self, data, **kwargs):
        return {"name": data["name"].strip(), "expires_at": expiry_in(data["expires_in"])}


class ApiTokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "The token's first characters."})
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(
        allow_none=True, metadata={"description": "Recorded to the minute or so."}
    )


class NewApiTokenSchema(ApiTokenSchema):
    token = fields.String(metadata={"description": "The token itself: shown only this once."})


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    created_at = fields.DateTime()
    preferences = fields.Dict()


# Control characters (C0, DEL, C1) and the bidirectional overrides that make a name read
# backwards: refused in a display name, not dropped, so what is shown is what was sent.
_PLAIN_TEXT = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"


class DisplayName(fields.String):
    """Up to 80 characters without control characters, trimmed; empty clears it."""

    default_error_messages = {
        "too_long": f"At most {preferences.MAX_DISPLAY_NAME} characters.",
        "control": "No control characters: letters, digits, spaces and punctuation only.",
    }
    _ALLOWED = re.compile(_PLAIN_TEXT)

    def __init__(self, **kwargs) -> None:
        super().__init__(
            allow_none=True,
            metadata={"maxLength": preferences.MAX_DISPLAY_NAME, "pattern": _PLAIN_TEXT,
                      "description": "Shown instead of the username; empty or null clears it"},
            **kwargs,
        )  # fmt: skip

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > preferences.MAX_DISPLAY_NAME:
            raise self.make_error("too_long")
        if not self._ALLOWED.fullmatch(text):
            raise self.make_error("control")
        return text.strip() or None


def _one_of(choices: tuple[str, ...], error: str | None = None) -> validate.OneOf:
    return validate.OneOf(choices, error=error or "Must be one of: {choices}.")


class ProfileSchema(Schema):
    """The preferences a person may change (PATCH /api/auth/me and the settings form);
    every field optional."""

    display_name = DisplayName()
    title_language = fields.String(validate=_one_of(preferences.TITLE_LANGUAGES))
    score_format = fields.String(
        validate=_one_of(scores.FORMATS),
        metadata={"description": "How pages show and read scores (AniList's formats); "
                  "the API always speaks 0–100"},
    )  # fmt: skip
    timezone = fields.String(
        validate=_one_of(preferences.TIME_ZONES,
                         "Not a time zone this server knows: use an IANA name like Europe/Paris."),
        metadata={"description": "An IANA time zone name; pages show times in it"},
    )  # fmt: skip
    default_sort = fields.String(
        validate=_one_of(LIST_SORTS),
        metadata={"description": "The library page's sort when its URL names none"},
    )


class MeSchema(UserSchema):
    display_name = fields.String(allow_none=True)
    title_language = fields.String(metadata={"enum": list(preferences.TITLE_LANGUAGES)})
    score_format = fields.String(metadata={"enum": list(scores.FORMATS)})
    timezone = fields.String()
    default_sort = fields.String(metadata={"enum": list(LIST_SORTS)})
    is_admin = fields.Boolean()


class ApiErrorDetailSchema(Schema):
    code = fields.String()
    message = fields.String()
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ApiErrorSchema(Schema):
    error = fields.Nested(ApiErrorDetailSchema)


class HealthSchema(Schema):
    status = fields.String()
    database = fields.String()
    version = fields.String()


# --- the airing calendar (GET /api/calendar) ---------------------------------------------

# A date, or a date and time with an optional offset (ASCII digits only).
DAY_OR_INSTANT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
)
_DAY_OR_INSTANT = re.compile(DAY_OR_INSTANT_PATTERN)


class DayOrInstant(fields.String):
    """``2026-12-06`` (a day in the person's zone) or ``2026-12-06T18:00:00Z`` (an instant;
    without an offset, read in the person's zone)."""

    default_error_messages = {
        "invalid": "Use a real date (2026-12-06) or date and time (2026-12-06T18:00:00Z)."
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(metadata={"pattern": DAY_OR_INSTANT_PATTERN, **kwargs.pop("metadata", {})},
                         **kwargs)  # fmt: skip

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _DAY_OR_INSTANT.fullmatch(text):
            raise self.make_error("invalid")
        try:
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError as exc:
            raise self.make_error("invalid") from exc


class CalendarQuerySchema(Schema):
    start = DayOrInstant(
        data_key="from",
        metadata={
            "description": "First day (a date, in your time zone) or instant; default: today."
        },
    )
    end = DayOrInstant(data_key="to", metadata={
        "description": "Last day, included (a date), or the instant the window ends before; "
        "default: six days after `from`. At most 62 days after `from`."})  # fmt: skip


class CalendarEpisodeSchema(Schema):
    item_id = fields.Integer()
    media_id = fields.Integer()
    title = fields.String()
    type = fields.String(attribute="media_type")
    episode = fields.Integer()
    airing_at = fields.DateTime(metadata={"description": "UTC"})
    ends_at = fields.DateTime(
        metadata={
            "description": "UTC: `airing_at` plus the episode's "
            "length (24 minutes when the catalogue has none)"
        }
    )
    status = fields.String(metadata={"enum": list(STATUSES)})
    progress = fields.Integer()
    total = fields.Integer(allow_none=True)
    duration = fields.Integer(allow_none=True, metadata={"description": "Minutes per episode"})
    cover_url = fields.String(allow_none=True, metadata=URI)
    estimated = fields.Boolean(
        metadata={"description": "true: no AniList schedule for the title; its next episode only"}
    )


class CalendarDaySchema(Schema):
    date = fields.Date(attribute="day", metadata={"description": "In your time zone"})
    episodes = fields.List(fields.Nested(CalendarEpisodeSchema))


class CalendarSchema(Schema):
    start = fields.DateTime(data_key="from", attribute="window.start")
    end = fields.DateTime(
        data_key="to",
        attribute="window.end",
        metadata={"description": "The window ends before this instant"},
    )
    timezone = fields.String(attribute="window.zone")
    days = fields.List(
        fields.Nested(CalendarDaySchema),
        metadata={"description": "Every day of the window, empty ones too"},
    )


class FeedTokenSchema(Schema):
    url = fields.String(metadata={**URI, "description": "The feed: shown only this once"})
    webcal_url = fields.String(
        metadata={"description": "The same, for calendar apps that subscribe from a webcal:// link"}
    )


def load_form(schema: Schema, form: Mapping[str, str], *, partial: bool = False) -> dict:
    """Load browser form fields through an API schema.

    Forms send text: digits become numbers and an empty number or date field means
    "none"; anything else goes to the schema as typed, so it fails the same way.
    """
    data: dict[str, object] = {}
    for name, value in form.items():
        field = schema.fields.get(name)
        if field is None or name == "csrf_token":
            continue
        text = value.strip()
        if isinstance(field, WholeNumber | PartialDate | WebUrl) and text == "":
            data[name] = None
        elif isinstance(field, WholeNumber) and _INT_TEXT.match(text):
            data[name] = int(text)
        elif isinstance(field, PartialDate):
            data[name] = text
        elif isinstance(field, fields.Boolean):
            data[name] = text.lower() in ("1", "true", "on", "yes")
        else:
            data[name] = value
    return schema.load(data, partial=partial)


def first_messages(error: ValidationError) -> dict[str, list[str]]:
    """Marshmallow's nested messages as ``{field: [message, …]}``."""
    messages = error.messages
    if isinstance(messages, list):
        return {"_schema": [str(m) for m in messages]}
    return {
        key: [str(m) for m in value] if isinstance(value, list) else [str(value)]
        for key, value in messages.items()
    }


# Some character that is neither a control character (NUL included) nor a space by
# Python's or JavaScript's rules, spelled out so the server and OpenAPI tools agree.
_HAS_TEXT = re.compile(
    r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]"
)


def _has_text(value: str) -> None:
    if not _HAS_TEXT.search(value):
        raise ValidationError("Type something to search for.")


def _query(**kwargs) -> Text:
    """What to search for: up to 200 characters, not all spaces."""
    return Text(
        validate=[validate.Length(max=200), _has_text],
        metadata={"pattern": _HAS_TEXT.pattern},
        **kwargs,
    )


class SourceQuerySchema(Schema):
    q = _query(required=True)
    type = fields.String(validate=validate.OneOf(MEDIA_TYPES))


class SearchQuerySchema(SourceQuerySchema):
    source = fields.String(validate=validate.OneOf(("local", "anilist", "mangadex")))


class MaxQuerySchema(Schema):
    q = _query()
    type = fields.String(validate=validate.OneOf(MEDIA_TYPES))
    anilist_id = fields.Integer(validate=validate.Range(min=1, max=10**9))


class TitlesSchema(Schema):
    romaji = fields.String(allow_none=True)
    english = fields.String(allow_none=True)
    native = fields.String(allow_none=True)


SOURCE_STATES = {"enum": ["ok", "unavailable", "rate_limited", "not_asked"]}


class SuggestionSchema(Schema):
    source = fields.String()
    external_id = fields.String()
    anilist_id = fields.Integer(allow_none=True)
    mal_id = fields.Integer(allow_none=True)
    mangadex_id = fields.String(allow_none=True)
    type = fields.String()
    title = fields.String()
    titles = fields.Nested(TitlesSchema)
    cover_url = fields.String(allow_none=True, metadata=URI)
    format = fields.String(allow_none=True)
    total = fields.Integer(allow_none=True)
    status = fields.String(allow_none=True)
    year = fields.Integer(allow_none=True)
    in_library = fields.Boolean()


class SearchAnswerSchema(Schema):
    results = fields.List(fields.Nested(SuggestionSchema))
    sources = fields.Dict(keys=fields.String(), values=fields.String(metadata=SOURCE_STATES))
    sources_last_ok_at = fields.Dict(
        keys=fields.String(),
        values=fields.DateTime(allow_none=True),
        metadata={"description": "When each remote source last answered (null: not since "
                  "the server started); with `not_asked`, how fresh the local answer is."},
    )  # fmt: skip


def search_answer_json(answer) -> dict:
    """``SearchAnswerSchema().dump(answer)`` built by hand for autocomplete, which answers
    each keystroke: the suggestions are plain dicts of the documented fields already. A
    test holds the two equal."""
    return {
        "results": answer.results,
        "sources": answer.sources,
        "sources_last_ok_at": {
            name: _iso(moment) for name, moment in answer.sources_last_ok_at.items()
        },
    }


class SourceSchema(Schema):
    name = fields.String()
    state = fields.String(metadata=SOURCE_STATES)
    url = fields.String(allow_none=True)


class SourceListSchema(Schema):
    sources = fields.List(fields.Nested(SourceSchema))


class MaxAnswerSchema(Schema):
    anilist_id = fields.Integer(allow_none=True)
    type = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    max = fields.Integer(allow_none=True)
    sources = fields.Dict(keys=fields.String(), values=fields.String(metadata=SOURCE_STATES))


class RefreshAnswerSchema(Schema):
    item = fields.Nested(ItemSchema)
    sources = fields.Dict(keys=fields.String(), values=fields.String(metadata=SOURCE_STATES))


class AniListStatusSchema(Schema):
    configured = fields.Boolean()
    connected = fields.Boolean()
    state = fields.String(metadata={"enum": ["ok", "needs_reauth", "disconnected"]})
    name = fields.String(allow_none=True)
    anilist_user_id = fields.Integer(allow_none=True)
    last_sync_at = fields.DateTime(allow_none=True)
    pending = fields.Integer()
    last_error = fields.String(allow_none=True)
    first_sync_pending = fields.Boolean(
        metadata={"description": "connected, waiting for the first merge choice"}
    )
    failed = fields.Integer(metadata={"description": "Pending changes whose last try failed"})
    conflicts = fields.Integer(metadata={"description": "Sync conflicts not yet resolved"})
    health = fields.String(
        metadata={
            "enum": ["ok", "waiting", "error", "needs_reauth", "disconnected"],
            "description": "The state and the numbers in one word: `waiting` when changes "
            "wait behind an error (AniList unreachable, say)",
        }
    )


class JobSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    state = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    done = fields.Integer()
    total = fields.Integer(allow_none=True)
    result = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)


class JobEnvelopeSchema(Schema):
    job = fields.Nested(JobSchema)


# --- an item's history and its conflicts ----------------------------------------------

SIDES = {"enum": ["local", "remote"]}


class FieldConflictSchema(Schema):
    field = fields.String()
    local = fields.Raw(allow_none=True, metadata={"description": "The value here"})
    remote = fields.Raw(allow_none=True, metadata={"description": "The value on AniList"})


class ConflictSchema(Schema):
    winner = fields.String(allow_none=True, metadata={**SIDES, "description": "Which side was "
                           "applied when the conflict happened (null: unknown)"})  # fmt: skip
    deleted_on_anilist = fields.Boolean()
    resolved = fields.Boolean()
    resolved_at = fields.DateTime(allow_none=True)
    resolution = fields.String(allow_none=True, metadata={**SIDES, "description": "The side "
                               "the person picked"})  # fmt: skip
    fields = fields.List(fields.Nested(FieldConflictSchema))  # last: it hides the module


class EventSchema(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    at = fields.DateTime()
    origin = fields.String(metadata={"enum": ["web", "api", "anilist", "import"]})
    kind = fields.String(
        metadata={"enum": ["created", "updated", "deleted", "restored", "conflict"]}
    )
    changes = fields.Dict(metadata={"description": "What changed: {field: [old, new]}"})
    conflict = fields.Nested(ConflictSchema, allow_none=True)


class ResolveSchema(Schema):
    use = fields.String(
        required=True,
        validate=validate.OneOf(SIDES["enum"]),
        metadata={"description": "local: the value here; remote: AniList's value"},
    )


class ResolvedSchema(Schema):
    item = fields.Nested(ItemSchema)
    event = fields.Nested(EventSchema)
