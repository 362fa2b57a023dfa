"""Take docs/library-light.png and docs/library-dark.png (the library with demo titles),
docs/item-conflict.png (an item page with a sync conflict to settle) and docs/settings.png
(the settings page: profile, password, API tokens, sessions, AniList), docs/import-preview.png
(a small MyAnimeList file's preview on the settings page), docs/operations.png (what an admin
reads in Settings → Operations), and the library's first screen on
a phone, light and dark (docs/library-phone-*.png); the sequel prompt, a toast offering the
sequel of a title just completed (docs/sequel-prompt-*.png), the item page's related
titles (docs/item-related-*.png), the airing calendar's week, light and dark
(docs/calendar-*.png), up next, light and dark (docs/next-*.png), and the statistics of a reader's
year, light and dark (docs/stats-*.png).

    .venv/bin/python -m tests.browser.screenshots

Runs the real app on a temporary SQLite database, served on 127.0.0.1, and drives
Debian's Chromium; the covers are small generated SVGs and the import asks the fake AniList
of the tests, so nothing is fetched from the internet.
"""

from __future__ import annotations

import re
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from flask_migrate import upgrade
from sqlalchemy import insert, update

from tests.browser.harness import CHROMIUM, launch_chromium, serving
from tests.browser.stats_demo import log_in_as_reader, seed_reader
from tests.calendar_support import follow, user_id_of
from tests.fakes import serve
from tests.fakes.anilist import FakeAniList
from tests.test_import_mal import anime_entry, export
from tracker import create_app
from tracker.extensions import db
from tracker.models import AiringEpisode, LibraryItem, Media, MediaRelation, Origin, User, utcnow
from tracker.services import accounts, library, sessions, sync, tokens

DOCS = Path(__file__).resolve().parents[2] / "docs"
USERNAME, PASSWORD = "demo", "demo1234"
# title, type, status, progress, max, score, cover colours (None: no cover)
DEMO = [
    ("Frieren: Beyond Journey's End", "anime", "current", 17, 28, 95, ("#5b8def", "#b8e1ff")),
    ("The Apothecary Diaries", "manga", "current", 64, None, 88, ("#8f5bd6", "#f3c4e8")),
    ("Bocchi the Rock!", "anime", "completed", 12, 12, 90, ("#e85d75", "#ffd166")),
    ("Dungeon Meshi", "manga", "paused", 41, 97, 84, ("#2a9d8f", "#e9c46a")),
    ("Pluto", "anime", "planning", 0, 8, None, None),
    ("Vinland Saga", "manga", "repeating", 120, 214, 92, ("#264653", "#8ab17d")),
    ("Homemade zine", "manga", "dropped", 3, None, None, None),
]


def cover(colours: tuple[str, str] | None) -> str | None:
    if colours is None:
        return None
    top, bottom = colours
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='84' height='120'>"
        "<defs><linearGradient id='g' x1='0' y1='0' x2='1' y2='1'>"
        f"<stop offset='0' stop-color='{top}'/><stop offset='1' stop-color='{bottom}'/>"
        "</linearGradient></defs><rect width='84' height='120' fill='url(#g)'/>"
        "<circle cx='58' cy='34' r='14' fill='white' fill-opacity='.45'/></svg>"
    )
    return "data:image/svg+xml," + quote(svg)


CONFLICTED = "Dungeon Meshi"


def seed(app) -> int:
    """The demo library; the id of the item with a conflict."""
    with app.app_context():
        upgrade()
        user = accounts.register(USERNAME, PASSWORD)
        added = {}
        for title, kind, status, progress, total, score, colours in reversed(DEMO):
            added[title] = library.add_item(
                user.id,
                {"title": title, "type": kind, "status": status, "progress": progress,
                 "max_progress": total, "score": score, "cover_url": cover(colours)},
                Origin.WEB,
            )  # fmt: skip
        item = added[CONFLICTED]
        item_id = item.id
        # Read on here while AniList said "paused": AniList's change was newer and won.
        # The record has the shape the sync service writes (both sides, both times).
        local = {"status": "current", "progress": 45, "notes": "Falin arc next"}
        remote = {"status": "paused", "progress": 41, "notes": None}
        library.record_event(item, "conflict", {
            "winner": "remote", "local": local, "remote": remote,
            "local_updated_at": "2026-11-30T20:15:00+00:00",
            "remote_updated_at": "2026-11-30T21:02:00+00:00"}, Origin.ANILIST)  # fmt: skip
        db.session.commit()
        seed_airing(user.id)
        # A script's token and a phone's session, so the settings page has lists to show.
        tokens.create(user.id, "backup script", tokens.expiry_in("90"))
        sessions.start(user, sessions.JWT)
        db.session.remove()
    return item_id


# title, progress, catalogue status, total, (first episode's airing, in days from now), colours
UPNEXT_AIRING = [
    ("Kaiju No. 8", 3, "releasing", 12, -34.9, ("#d1495b", "#edae49")),
    ("Dandadan", 6, "releasing", 12, -39.0, ("#00798c", "#a8dadc")),
    ("The Summer Hikaru Died", 2, "finished", 12, None, ("#30638e", "#d1e3dd")),
]


def seed_airing(user_id: int) -> None:
    """Anime with AniList airing data, for up next: one with new episodes out, one
    caught up and waiting, one finished."""
    now = utcnow()
    for n, (title, progress, status, total, first, colours) in enumerate(UPNEXT_AIRING):
        media_id = db.session.execute(insert(Media).values(
            source="anilist", external_id=str(990_000 + n), anilist_id=990_000 + n,
            media_type="anime", title_preferred=title, title_romaji=title, synonyms=[],
            search_text=title.lower(), episodes=total, status=status, cover_url=cover(colours),
            airing_refreshed_at=now).returning(Media.id)).scalar()  # fmt: skip
        for episode in range(1, total + 1) if first is not None else ():
            at = now + timedelta(days=first + 7 * (episode - 1))
            db.session.execute(insert(AiringEpisode).values(
                media_id=media_id, episode=episode, airing_at=at))  # fmt: skip
        db.session.execute(insert(LibraryItem).values(
            user_id=user_id, media_id=media_id, media_type="anime", title=title,
            status="current", progress=progress, repeat=0, private=False, created_at=now,
            updated_at=now - timedelta(days=n), custom_lists=[]))  # fmt: skip
    db.session.commit()


def log_in(page) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Up next")).to_be_visible()  # "/" opens on it
    page.goto("/library")
    expect(page.locator("#rows tr[data-item-row]")).to_have_count(len(DEMO) + len(UPNEXT_AIRING))
    page.wait_for_load_state("load")


# Frieren is in the demo library by its title; Cowboy Bebop and ONE PIECE are on (the fake)
# AniList; the last MAL id is known nowhere, so the preview lists it.
MAL_FILE = export(
    anime_entry(52991, "Sousou no Frieren", series_episodes="28", my_watched_episodes="17",
                my_status="Watching", my_score="10"),
    anime_entry(1, "Cowboy Bebop", my_score="9"),
    anime_entry(21, "One Piece", series_episodes="0", my_watched_episodes="1100",
                my_status="Watching"),
    anime_entry(999_999, "Hoshi no Koe (fan subtitles)", series_episodes="1",
                my_watched_episodes="1"),
)  # fmt: skip


def preview_import(app, page) -> None:
    """Upload MAL_FILE on the settings page and run the worker's round that previews it."""
    from playwright.sync_api import expect

    page.goto("/settings#import-export")
    card = page.locator("#import")
    card.get_by_label("File", exact=True).set_input_files(
        {"name": "animelist.xml", "mimeType": "text/xml", "buffer": MAL_FILE}
    )
    card.get_by_role("button", name="Preview the import").click()
    expect(card.get_by_text("waiting to start")).to_be_visible()
    with app.app_context():
        sync.work_once()
        db.session.remove()
    expect(card.get_by_role("button", name="Apply")).to_be_visible(timeout=10_000)
    card.locator(".unmatched-rows summary").click()
    expect(card.locator(".unmatched li")).to_have_count(1)


# The sequel prompt's reader: a library of AniList titles whose relations the catalogue
# knows; ids the fake AniList lacks, so the import preview's answers leave them alone.
# (title, anilist id, type, format, total, status in the library or None, progress)
READER = "reader"
SEQUEL_CATALOGUE = [
    ("Frieren: Beyond Journey's End", 91001, "anime", "TV", 28, "current", 27),
    ("Frieren: Beyond Journey's End Season 2", 91002, "anime", "TV", None, None, 0),
    ("Frieren: Beyond Journey's End", 91003, "manga", "MANGA", None, "current", 131),
    ("Sousou no Frieren: ●● no Mahou", 91004, "anime", "ONA", 10, None, 0),
    ("Bocchi the Rock!", 91005, "anime", "TV", 12, "completed", 12),
]
SEQUEL_COLOURS = [("#5b8def", "#b8e1ff"), ("#3d5a80", "#e0fbfc"), ("#6d597a", "#eaac8b"),
                  ("#43aa8b", "#f9c74f"), ("#e85d75", "#ffd166")]  # fmt: skip
# How the first title relates to the others (by their place in SEQUEL_CATALOGUE).
SEQUEL_RELATIONS = [(1, "sequel"), (3, "side_story"), (2, "source")]


def seed_sequels(app) -> int:
    """The reader's library and the catalogue around it; the id of the title one episode
    from its end (completing it offers its sequel)."""
    with app.app_context():
        user = accounts.register(READER, PASSWORD)
        media = []
        for (title, anilist_id, kind, form, total, *_rest), colours in zip(
            SEQUEL_CATALOGUE, SEQUEL_COLOURS, strict=True
        ):
            media.append(Media(
                source="anilist", external_id=str(anilist_id), anilist_id=anilist_id,
                media_type=kind, title_romaji=title, title_preferred=title, synonyms=[],
                search_text=title.lower(), format=form, cover_url=cover(colours),
                episodes=total if kind == "anime" else None, status="FINISHED", year=2023,
            ))  # fmt: skip
        db.session.add_all(media)
        db.session.flush()
        for place, relation in SEQUEL_RELATIONS:
            db.session.add(
                MediaRelation(media_id=media[0].id, related_id=media[place].id, relation=relation)
            )
        media[0].relations_fetched_at = media[0].fetched_at = utcnow()
        media[1].status = "NOT_YET_RELEASED"
        db.session.commit()
        items = [
            library.add_item(
                user.id,
                {"title": title, "type": kind, "source": "anilist", "anilist_id": anilist_id,
                 "status": status, "progress": progress},
                Origin.WEB,
            )
            for title, anilist_id, kind, _f, _n, status, progress in reversed(SEQUEL_CATALOGUE)
            if status
        ]  # fmt: skip
        almost_done = items[-1].id
        db.session.remove()
    return almost_done


def sequel_shots(app, browser, base: str, scheme: str, item_id: int) -> None:
    """docs/sequel-prompt-<scheme>.png: the last episode's +1 and its toast offering the
    sequel; docs/item-related-<scheme>.png: the item page's related titles."""
    from playwright.sync_api import expect

    with app.app_context():  # one episode from the end again (the other scheme's +1)
        item = db.session.get(LibraryItem, item_id)
        item.status, item.progress, item.completed_on = "current", 27, None
        db.session.commit()
        db.session.remove()

    context = browser.new_context(
        base_url=base, color_scheme=scheme, viewport={"width": 1100, "height": 560}
    )
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill(READER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name=re.compile("^Log out"))).to_be_visible()
    page.goto(f"/items/{item_id}")
    related = page.locator("#related")
    expect(related.get_by_role("heading", name="Sequel")).to_be_visible()
    shoot(related, f"item-related-{scheme}.png")
    page.goto("/library")
    page.wait_for_load_state("load")
    page.locator(f"#increment-{item_id}").click()
    offer = page.locator("#toasts").get_by_role("button", name=re.compile("Season 2 to planning"))
    expect(offer).to_be_visible()
    page.mouse.move(0, 0)
    shoot(page, f"sequel-prompt-{scheme}.png")
    context.close()


# Airing titles for the calendar: title, status, cover colours,
# [(episode, days from now, hour UTC)].
AIRING = [
    (
        "Frieren: Beyond Journey's End Season 2",
        "current",
        ("#5b8def", "#b8e1ff"),
        [(3, 0, 15), (4, 7, 15)],
    ),
    ("Dandadan", "current", ("#e85d75", "#ffd166"), [(15, 1, 16), (16, 8, 16)]),
    ("The Apothecary Diaries", "current", ("#8f5bd6", "#f3c4e8"), [(30, 2, 14)]),
    ("Witch Hat Atelier", "planning", ("#2a9d8f", "#e9c46a"), [(1, 4, 13)]),
    ("Orb: On the Movements of the Earth", "repeating", None, [(20, 4, 18), (21, 11, 18)]),
]


def seed_calendar(app) -> None:
    """Titles airing this week (from the catalogue, as AniList's schedule fills it)."""
    user_id = user_id_of(app, USERNAME)
    today = utcnow().replace(minute=0, second=0, microsecond=0)
    for title, status, colours, episodes in AIRING:
        schedule = [(n, today.replace(hour=hour) + timedelta(days=days))
                    for n, days, hour in episodes]  # fmt: skip
        follow(
            app,
            user_id,
            title,
            status=status,
            schedule=schedule,
            cover_url=cover(colours),
            episodes=None,
        )


def shoot_calendar(browser, base: str) -> None:
    from playwright.sync_api import expect

    for scheme in ("light", "dark"):
        context = browser.new_context(
            base_url=base, color_scheme=scheme, viewport={"width": 1100, "height": 900}
        )
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Username").fill(USERNAME)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("load")
        page.goto("/calendar")
        expect(page.locator("li.episode")).not_to_have_count(0)  # up next's titles air too
        shoot(page, f"calendar-{scheme}.png", full_page=True)
        context.close()


def make_admin(app) -> None:
    """The demo account becomes an admin (after the other shots, which show a person's page)."""
    with app.app_context():
        db.session.execute(update(User).where(User.username == USERNAME).values(is_admin=True))
        db.session.commit()
        db.session.remove()


def shoot(target, name: str, **options) -> None:
    path = DOCS / name
    target.screenshot(path=str(path), **options)
    print(f"wrote {path}")


def shoot_stats(browser, base: str, scheme: str) -> None:
    """The statistics page of the reader (stats_demo), one chart's table opened."""
    from playwright.sync_api import expect

    context = browser.new_context(
        base_url=base, color_scheme=scheme, viewport={"width": 1100, "height": 900}
    )
    page = context.new_page()
    log_in_as_reader(page)
    page.goto("/stats")
    expect(page.get_by_role("img", name="Top genres")).to_be_visible()
    page.locator("#chart-status summary").click()
    shoot(page, f"stats-{scheme}.png", full_page=True)
    context.close()


def main() -> int:
    if not CHROMIUM.exists():
        print("Chromium not installed: apt-get install -y chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import expect, sync_playwright

    DOCS.mkdir(exist_ok=True)
    anilist_url, stop_anilist = serve(FakeAniList())
    with tempfile.TemporaryDirectory(prefix="tracker-shots-") as tmp:
        app = create_app(
            {"ENV": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shots.db",
             "SECRET_KEY": "screenshots-only-secret-key-long-enough", "DEMO_USER": False,
             "INPROCESS_WORKER": False, "RATELIMIT_ENABLED": False,
             "ANILIST_GRAPHQL_URL": anilist_url, "AIRING_REFRESH_MINUTES": 0}
        )  # fmt: skip
        conflicted = seed(app)
        almost_done = seed_sequels(app)
        with app.app_context():
            seed_reader()
            db.session.remove()
        with serving(app) as base, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for scheme in ("light", "dark"):
                context = browser.new_context(
                    base_url=base, color_scheme=scheme, viewport={"width": 1100, "height": 900}
                )
                page = context.new_page()
                log_in(page)
                page.locator("[data-search]").focus()
                shoot(page, f"library-{scheme}.png", full_page=True)
                page.goto("/next")
                expect(page.locator("#next-ready li")).not_to_have_count(0)
                shoot(page, f"next-{scheme}.png", full_page=True)
                page.goto("/library")
                if scheme == "light":
                    page.goto(f"/items/{conflicted}")
                    history = page.locator("#history-heading").locator("..")
                    expect(
                        history.get_by_role("button", name="Keep AniList’s value")
                    ).to_be_visible()
                    shoot(history, "item-conflict.png")
                    page.goto("/settings")
                    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
                    shoot(page, "settings.png", full_page=True)
                    preview_import(app, page)  # a preview only: the library stays as it is
                    shoot(page.locator("#import"), "import-preview.png")
                    make_admin(app)
                    page.goto(
                        "/settings/operations"
                    )  # a new load: the same page with a hash is not one
                    expect(page.get_by_role("heading", name="Operations")).to_be_visible()
                    shoot(page.locator("#operations"), "operations.png")
                context.close()
                shoot_stats(browser, base, scheme)
                # A phone's first screen: what a thumb reaches without scrolling.
                phone = browser.new_context(
                    base_url=base, color_scheme=scheme, viewport={"width": 390, "height": 844},
                    device_scale_factor=2, is_mobile=True, has_touch=True,
                )  # fmt: skip
                page = phone.new_page()
                log_in(page)
                shoot(page, f"library-phone-{scheme}.png")
                phone.close()
                sequel_shots(app, browser, base, scheme, almost_done)
            seed_calendar(app)  # after the library's shots, which count its rows
            shoot_calendar(browser, base)
            browser.close()
        with app.app_context():
            db.engine.dispose()
    stop_anilist()
    return 0


if __name__ == "__main__":
    sys.exit(main())
