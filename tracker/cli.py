"""Operator commands: ``flask tracker …``."""

from __future__ import annotations

import signal
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from tracker import worker
from tracker.models import Origin
from tracker.services import accounts, backfill, sync

tracker_cli = AppGroup("tracker", help="Tracker maintenance commands.")


@tracker_cli.command("seed-demo")
def seed_demo() -> None:
    """Create the demo user (demo / demo1234) if it does not exist."""
    user = accounts.ensure_demo_user()
    click.echo(f"Demo user ready: {user.username} / {accounts.DEMO_PASSWORD}")


@tracker_cli.command("create-user")
@click.argument("username")
@click.password_option()
def create_user(username: str, password: str) -> None:
    """Create an account from the command line."""
    user = accounts.register(username, password)
    click.echo(f"Created user {user.username} (id {user.id}).")


@tracker_cli.command("backfill")
@click.option("--dry-run", is_flag=True, help="Only say what would be fetched.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many titles of each kind.")
def backfill_command(dry_run: bool, limit: int | None) -> None:
    """Fill in missing totals and metadata from AniList (safe to re-run or interrupt)."""
    planned = backfill.run(limit=limit, dry_run=True)
    click.echo(
        f"{planned.planned_media} linked titles need data; "
        f"{planned.planned_titles} title-only entries to match."
    )
    if dry_run:
        return
    work = planned.planned_media + planned.planned_titles
    with click.progressbar(length=work, label="Backfilling", show_pos=True) as bar:
        report = backfill.run(limit=limit, progress=bar.update)
    click.echo(
        f"Fetched {report.fetched} titles and linked {report.linked} entries "
        f"in {report.requests} AniList requests."
    )
    if report.unresolved:
        click.echo(f"{len(report.unresolved)} left as they were:")
        for line in report.unresolved:
            click.echo(f"  - {line}")


@tracker_cli.command("worker")
@click.option("--once", is_flag=True, help="Run one round and exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Run jobs, push pending changes to AniList and pull periodically (until stopped)."""
    app = current_app._get_current_object()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo("Worker running; Ctrl+C stops it." if not once else "Worker: one round.")
    try:
        worker.run(app, stop, once=once)
    except KeyboardInterrupt:
        stop.set()


@tracker_cli.command("sync")
@click.argument("username")
def sync_command(username: str) -> None:
    """Push USERNAME's pending changes to AniList, then pull AniList's changes now."""
    user = accounts.find_user(username)
    if user is None:
        raise click.ClickException(f"No user {username!r}.")
    delivered = sync.push_pending(user_id=user.id)
    result = sync.pull(user.id, origin=Origin.ANILIST)
    click.echo(f"Pushed {delivered} changes. Pulled: {result.as_dict()}")


def register_commands(app: Flask) -> None:
    app.cli.add_command(tracker_cli)
