"""A reader's library for the statistics screenshots (docs/stats-*.png): catalogue titles
with formats, genres and episode lengths, scores, completions and a year of history,
dated back from today so every month of the charts has something in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker.extensions import db
from tracker.models import ItemEvent, LibraryItem, Media
from tracker.services import accounts

USERNAME, PASSWORD = "statsreader", "reader1234"
# title, type, format, total, minutes, genres, status, progress, score, months ago completed
TITLES = [
    ("Frieren", "anime", "TV", 28, 24, ["Adventure", "Drama", "Fantasy"], "completed", 28, 95, 1),
    ("Bocchi the Rock!", "anime", "TV", 12, 23, ["Comedy", "Music"], "completed", 12, 90, 3),
    ("Dungeon Meshi", "anime", "TV", 24, 24, ["Adventure", "Comedy", "Fantasy"], "current",
     17, 88, None),
    ("Your Name.", "anime", "MOVIE", 1, 106, ["Drama", "Romance"], "completed", 1, 85, 5),
    ("Mob Psycho 100", "anime", "TV", 12, 24, ["Action", "Comedy"], "completed", 12, 80, 6),
    ("Pluto", "anime", "ONA", 8, None, ["Drama", "Mystery", "Sci-Fi"], "completed", 8, 92, 8),
    ("Odd Taxi", "anime", "TV", 13, 23, ["Drama", "Mystery"], "paused", 6, 75, None),
    ("Blue Period", "anime", "TV", 12, 24, ["Drama"], "dropped", 4, 55, None),
    ("Vinland Saga", "manga", "MANGA", 214, None, ["Action", "Adventure", "Drama"],
     "repeating", 120, 92, None),
    ("The Apothecary Diaries", "manga", "MANGA", None, None, ["Drama", "Mystery"], "current",
     64, 88, None),
    ("Oshi no Ko", "manga", "MANGA", 166, None, ["Drama", "Mystery"], "completed", 166, 70, 2),
    ("Goodnight Punpun", "manga", "MANGA", 147, None, ["Drama", "Psychological"],
     "completed", 147, 65, 10),
    ("Witch Hat Atelier", "manga", "MANGA", None, None, ["Adventure", "Fantasy"], "planning",
     0, None, None),
]  # fmt: skip


def _month_back(now: datetime, months: int) -> str:
    index = now.year * 12 + now.month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}-10"


def seed_reader(now: datetime | None = None) -> None:
    """The reader and their library, with history spread over the last twelve months."""
    now = now or datetime.now(UTC)
    user = accounts.register(USERNAME, PASSWORD)
    items = []
    for n, (title, kind, format_, total, minutes, genres, status, progress, score,
            completed) in enumerate(TITLES):  # fmt: skip
        media = Media(source="anilist", external_id=str(800_000 + n), anilist_id=800_000 + n,
                      media_type=kind, title_preferred=title, title_romaji=title,
                      search_text=title.lower(), synonyms=[], format=format_,
                      episodes=total if kind == "anime" else None,
                      chapters=total if kind == "manga" else None, duration=minutes,
                      genres=genres)  # fmt: skip
        items.append(LibraryItem(user_id=user.id, media=media, media_type=kind, title=title,
                                 status=status, progress=progress, score=score,
                                 repeat=1 if title == "Frieren" else 0,
                                 completed_on=_month_back(now, completed)
                                 if completed is not None else None))  # fmt: skip
    db.session.add_all(items)
    db.session.flush()
    for back in range(12):
        for k in range(3 + (back * 7) % 11):  # a year of ups and downs
            item = items[(back + k) % len(items)]
            db.session.add(ItemEvent(item_id=item.id, user_id=user.id, origin="web",
                                     kind="updated", changes={"progress": [k, k + 1]},
                                     at=now - timedelta(days=30 * back + k % 20)))  # fmt: skip
    db.session.commit()


def log_in_as_reader(page) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Logged in: the page offers logging out (it opens on up next, the library has titles).
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
