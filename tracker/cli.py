"""Operator commands: ``flask tracker …``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from tracker.services import accounts, backfill

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


def register_commands(app: Flask) -> None:
    app.cli.add_command(tracker_cli)
