"""What a title leads to: its relations in the catalogue, seen from one user's library.

AniList's relations (``media_relations``, filled by the catalogue refresh) link two
catalogue rows, so a related title can be shown and added without a remote call. This
module only reads them: the item page's "Related" section, the sequel a completed title
offers, and adding a related title to the library as planning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, literal, or_, select

from tracker.extensions import db
from tracker.models import LibraryItem, Media, MediaRelation, Origin, Status
from tracker.services import library
from tracker.services.catalog import text_position, title_in
from tracker.services.errors import Invalid, NotFound

SEQUEL = "sequel"
# The groups in the order a person looks for them: what comes next, what came before,
# the stories around it, then other versions. (relation, one, several)
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("sequel", "Sequel", "Sequels"),
    ("prequel", "Prequel", "Prequels"),
    ("parent", "Main story", "Main stories"),
    ("side_story", "Side story", "Side stories"),
    ("spin_off", "Spin-off", "Spin-offs"),
    ("adaptation", "Adaptation", "Adaptations"),
    ("source", "Source", "Sources"),
    ("alternative", "Alternative version", "Alternative versions"),
    ("summary", "Summary", "Summaries"),
    ("compilation", "Compilation", "Compilations"),
    ("contains", "Contains", "Contains"),
    ("character", "Shares characters", "Share characters"),
    ("other", "Other", "Other"),
)
ORDER = {relation: position for position, (relation, _one, _several) in enumerate(GROUPS)}
OTHER = "other"  # where a relation this list does not know goes


@dataclass(frozen=True)
class Related:
    """One related title: the catalogue row, its title in the person's language, and
    the library item it already is (``item_id``/``item_status``), if any."""

    media: Media
    title: str
    item_id: int | None
    item_status: str | None

    @property
    def in_library(self) -> bool:
        return self.item_id is not None


@dataclass(frozen=True)
class RelationGroup:
    relation: str
    label: str
    titles: list[Related]


@dataclass(frozen=True)
class Relations:
    """A title's relations, grouped; ``fetched_at`` None means the catalogue never read
    them (so an empty list says nothing yet), ``linked`` False that the item is not a
    catalogue title at all (typed by hand)."""

    groups: list[RelationGroup]
    fetched_at: datetime | None
    linked: bool = True

    @property
    def empty(self) -> bool:
        return not self.groups


def display_title(media: Media, language: str | None) -> str:
    """The title to show; a catalogue row read only as an id (a stub) says which id."""
    title = title_in(media, language)
    if title:
        return title
    return f"AniList {media.anilist_id}" if media.anilist_id else f"Catalogue title {media.id}"


def _owned():
    """The user's (``user``) item for the catalogue row ``Media.id``, as a condition."""
    return and_(LibraryItem.media_id == Media.id, LibraryItem.user_id == bindparam("user"))


def _typed_as():
    """The user's (``user``) item typed by hand (no catalogue link), of the same type,
    whose title reads as one of ``Media``'s: that title, already in the library.

    Titles compare as the catalogue keeps them (``search_text``: one per line, case
    folded); SQLite's ``lower`` folds ASCII only, so an accented title typed by hand may
    not be recognised there, and its sequel is offered as before."""
    lines = literal("\n") + Media.search_text + literal("\n")
    typed = literal("\n") + func.lower(func.trim(LibraryItem.title)) + literal("\n")
    return and_(
        LibraryItem.user_id == bindparam("user"),
        LibraryItem.media_id.is_(None),
        LibraryItem.media_type == Media.media_type,
        text_position(lines, typed) > 0,
    )


def _mine():
    """The user's item for ``Media``: linked to it, or typed by hand under one of its
    titles. Ordered by ``_linked_first`` where both could match."""
    return or_(_owned(), _typed_as())


def _linked_first():
    return LibraryItem.media_id.is_(None)


def _group_position():
    known = [(MediaRelation.relation == name, position) for name, position in ORDER.items()]
    return case(*known, else_=ORDER[OTHER])


# One statement whatever the number of relations: each related catalogue row with the
# user's item for it (when there is one; the linked one first if several could be).
_RELATED = (
    select(MediaRelation.relation, Media, LibraryItem.id, LibraryItem.status)
    .join(Media, Media.id == MediaRelation.related_id)
    .outerjoin(LibraryItem, _mine())
    .where(
        MediaRelation.media_id == bindparam("media"),
        MediaRelation.related_id != MediaRelation.media_id,  # never its own relation
    )
    .order_by(_group_position(), Media.id, _linked_first(), LibraryItem.id)
)


def for_item(user_id: int, item: LibraryItem, language: str | None) -> Relations:
    """The relations of ``item``'s title, grouped (``GROUPS``), each marked with the
    user's item for it. One statement; none for a title typed by hand."""
    media = item.media
    if media is None:
        return Relations(groups=[], fetched_at=None, linked=False)
    found: dict[str, list[Related]] = {}  # in GROUPS order: the statement sorts so
    rows = db.session.execute(_RELATED, {"media": media.id, "user": user_id})
    seen: set[tuple[str, int]] = set()
    for relation, related, item_id, item_status in rows:
        if (relation, related.id) in seen:  # a second item that could be it: the first won
            continue
        seen.add((relation, related.id))
        kind = relation if relation in ORDER else OTHER
        title = display_title(related, language)
        found.setdefault(kind, []).append(Related(related, title, item_id, item_status))
    groups = []
    for kind, titles in found.items():
        _kind, one, several = GROUPS[ORDER[kind]]
        groups.append(RelationGroup(kind, one if len(titles) == 1 else several, titles))
    return Relations(groups=groups, fetched_at=media.relations_fetched_at)


def related_entry(user_id: int, media_id: int, language: str | None) -> Related:
    """One catalogue title as the Related section shows it, with the user's item for it."""
    row = db.session.execute(
        select(Media, LibraryItem.id, LibraryItem.status)
        .outerjoin(LibraryItem, _mine())
        .where(Media.id == media_id)
        .order_by(_linked_first(), LibraryItem.id),
        {"user": user_id},
    ).first()
    if row is None:
        raise NotFound("No such title in the catalogue.")
    media, item_id, item_status = row
    return Related(media, display_title(media, language), item_id, item_status)


_SEQUELS = (
    select(Media)
    .join(MediaRelation, MediaRelation.related_id == Media.id)
    .where(
        MediaRelation.media_id == bindparam("media"),
        MediaRelation.relation == SEQUEL,
        MediaRelation.related_id != MediaRelation.media_id,
        ~exists().where(_mine()),
    )
    .order_by(Media.id)
)


def sequel_offer(user_id: int, media_id: int | None) -> list[Media]:
    """The sequels AniList knows of the catalogue title ``media_id`` that are not in the
    user's library (linked to the catalogue, or typed by hand under one of its titles),
    first by catalogue id (the first is the one to offer). One statement; none for a
    title typed by hand."""
    if media_id is None:
        return []
    return list(db.session.scalars(_SEQUELS, {"media": media_id, "user": user_id}))


def completed(change: library.Change) -> bool:
    """Whether ``change`` (an edit or a +1) made its item completed just now."""
    before, after = change.changes.get("status", (None, None))
    return after == Status.COMPLETED and before != Status.COMPLETED


def sequel_after(change: library.Change) -> list[Media]:
    """The sequels to offer after ``change`` (to the item's owner): only when it
    completed the item; no statement otherwise."""
    if not completed(change):
        return []
    return sequel_offer(change.item.user_id, change.item.media_id)


def add_to_planning(
    user_id: int, media_id: int, origin: Origin, language: str | None
) -> LibraryItem:
    """Put the catalogue title ``media_id`` in the user's library as planning, through
    the library's own add (its rules, history and push). 404 when the catalogue has no
    such title; ``library.AlreadyInLibrary`` (409) when it is there already, and a plain
    409 when a simultaneous add won the race (the unique index refused this one)."""
    media = db.session.get(Media, media_id)
    if media is None:
        raise NotFound("No such title in the catalogue.")
    data: dict[str, Any] = {
        "type": media.media_type,
        "source": media.source,
        "title": display_title(media, language)[:500],
        "status": Status.PLANNING.value,
    }
    if media.source == "anilist" and media.anilist_id is not None:
        data["anilist_id"] = media.anilist_id
    elif media.source == "mangadex":
        data["mangadex_id"] = media.external_id
    else:
        raise Invalid("This catalogue title can't be added from here; search for it instead.")
    return library.add_item(user_id, data, origin)


def sequel_summary(media: Media, language: str | None) -> dict[str, Any]:
    """The sequel as the JSON API offers it: enough to add it with ``POST /items``."""
    return {
        "anilist_id": media.anilist_id,
        "type": media.media_type,
        "title": display_title(media, language),
        "format": media.format,
        "cover_url": media.cover_url,
    }
