"""Take docs/library-light.png and docs/library-dark.png (the library with demo titles),
docs/item-conflict.png (an item page with a sync conflict to settle) and docs/settings.png
(the settings page: profile, password, API tokens, sessions, AniList), docs/import-preview.png
(a small MyAnimeList file's preview on the settings page), and the library's first screen on
a phone, light and dark (docs/library-phone-*.png), and the statistics of a reader's year,
light and dark (docs/stats-*.png).

    .venv/bin/python -m tests.browser.screenshots

Runs the real app on a temporary SQLite database, served on 127.0.0.1, and drives
Debian's Chromium; the covers are small generated SVGs and the import asks the fake AniList
of the tests, so nothing is fetched from the internet.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from flask_migrate import upgrade

from tests.browser.harness import CHROMIUM, launch_chromium, serving
from tests.browser.stats_demo import log_in_as_reader, seed_reader
from tests.fakes import serve
from tests.fakes.anilist import FakeAniList
from tests.test_import_mal import anime_entry, export
from tracker import create_app
from tracker.extensions import db
from tracker.models import Origin
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
        # A script's token and a phone's session, so the settings page has lists to show.
        tokens.create(user.id, "backup script", tokens.expiry_in("90"))
        sessions.start(user, sessions.JWT)
        db.session.remove()
    return item_id


def log_in(page) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#rows tr[data-item-row]")).to_have_count(len(DEMO))
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
             "ANILIST_GRAPHQL_URL": anilist_url}
        )  # fmt: skip
        conflicted = seed(app)
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
            browser.close()
        with app.app_context():
            db.engine.dispose()
    stop_anilist()
    return 0


if __name__ == "__main__":
    sys.exit(main())
