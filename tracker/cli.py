"""Operator commands: ``flask tracker …``."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from marshmallow import ValidationError
from sqlalchemy import inspect
from werkzeug.serving import run_simple

from tracker import backups, worker
from tracker.auth.views import reset_link
from tracker.extensions import db
from tracker.models import MEDIA_TYPES, Origin
from tracker.portability import FORMATS, UnreadableFile
from tracker.portability.detect import read_file
from tracker.schemas import RegisterSchema, first_messages
from tracker.services import accounts, airing, backfill, exports, imports, resets, sync, users
from tracker.services.errors import ServiceError

tracker_cli = AppGroup("tracker", help="Tracker maintenance commands.")


@tracker_cli.command("seed-demo")
def seed_demo() -> None:
    """Create the demo user (demo / demo1234) if it does not exist."""
    user = accounts.ensure_demo_user()
    click.echo(f"Demo user ready: {user.username} / {accounts.DEMO_PASSWORD}")


@tracker_cli.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@with_appcontext
def dev_command(host: str, port: int) -> None:
    """Serve for development (what `make run` runs): with TRACKER_DEMO_USER the demo
    user is made first, with TRACKER_INPROCESS_WORKER a thread runs the worker."""
    app = current_app._get_current_object()
    if app.config["DEMO_USER"]:
        if not inspect(db.engine).has_table("users"):
            raise click.ClickException("The database has no tables: run `flask db upgrade`.")
        seed_demo.callback()
        db.session.remove()
    if app.config["INPROCESS_WORKER"]:
        worker.start_in_process(app)
        click.echo("Worker running in this process.")
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        worker.stop_in_process(app)


@contextmanager
def _refusals_as_click_errors() -> Iterator[None]:
    """A refusal (no such user, a taken name, …) is a message and exit status 1."""
    try:
        yield
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc


@tracker_cli.command("create-user")
@click.argument("username")
@click.password_option()
@click.option("--admin", is_flag=True, help="Let the account see the users page.")
def create_user(username: str, password: str, admin: bool) -> None:
    """Create an account from the command line (even while registration is closed)."""
    try:
        data = RegisterSchema().load({"username": username, "password": password})
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in first_messages(exc).items())
        raise click.ClickException(problems) from exc
    with _refusals_as_click_errors():
        user = accounts.register(data["username"], data["password"])
    if admin:
        users.set_admin(user, True)
    role = "admin" if admin else "user"
    click.echo(f"Created {role} {user.username} (id {user.id}).")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


@tracker_cli.command("list-users")
def list_users() -> None:
    """Every account: admin or not, disabled or not, items and when last seen (UTC)."""
    header = ("id", "username", "admin", "disabled", "created", "items", "last seen")
    lines = [header] + [
        (
            str(row.id), row.username, "yes" if row.is_admin else "no",
            _when(row.disabled_at) if row.disabled else "no", _when(row.created_at),
            str(row.items), _when(row.last_seen_at),
        )
        for row in users.list_users()
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


@tracker_cli.command("disable-user")
@click.argument("username")
def disable_user(username: str) -> None:
    """Disable an account: it cannot log in, and its sessions and tokens end at once."""
    with _refusals_as_click_errors():
        user = users.by_name(username)
        changed = users.set_disabled(user, True)
    click.echo(f"Disabled {user.username}." if changed else f"{user.username} was disabled.")


@tracker_cli.command("enable-user")
@click.argument("username")
def enable_user(username: str) -> None:
    """Let a disabled account log in again."""
    with _refusals_as_click_errors():
        user = users.by_name(username)
        changed = users.set_disabled(user, False)
    click.echo(f"Enabled {user.username}." if changed else f"{user.username} was not disabled.")


@tracker_cli.command("make-admin")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Take the admin flag away instead.")
def make_admin(username: str, revoke: bool) -> None:
    """Let an account see the users page (or, with --revoke, no longer)."""
    with _refusals_as_click_errors():
        user = users.by_name(username)
        changed = users.set_admin(user, not revoke)
    state = "no longer an admin" if revoke else "an admin"
    click.echo(f"{user.username} is {state}." if changed else f"{user.username} was {state}.")


@tracker_cli.command("reset-password")
@click.argument("username")
def reset_password(username: str) -> None:
    """Print a one-time link that sets a new password (valid 30 minutes)."""
    with _refusals_as_click_errors():
        user = users.by_name(username)
    link = reset_link(resets.create_reset(user.id))
    click.echo(f"Give {user.username} this link; it works once, for 30 minutes:\n{link}")
    if user.disabled_at is not None:
        click.echo("The account is disabled: enable it too (flask tracker enable-user).")


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


@tracker_cli.command("refresh-airing")
@click.option("--limit", type=click.IntRange(min=1), default=airing.RUN_LIMIT, show_default=True,
              help="At most this many titles, the stalest first.")  # fmt: skip
def refresh_airing_command(limit: int) -> None:
    """Read coming episodes and relations from AniList for the titles people keep."""
    planned = len(airing.due_titles(limit=limit))
    click.echo(f"{planned} titles due for airing times or relations.")
    with click.progressbar(length=planned, label="Refreshing", show_pos=True) as bar:
        report = airing.run(limit=limit, progress=bar.update)
    click.echo(
        f"Refreshed {report.refreshed} titles ({report.episodes} coming episodes, "
        f"{report.relations} relations) in {report.requests} AniList requests."
    )
    if report.missing:
        click.echo(f"{report.missing} ids AniList did not answer for (marked refreshed).")
    if report.error:
        raise click.ClickException(report.error)


@tracker_cli.command("import")
@click.argument("username")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "format_", type=click.Choice(FORMATS), help="Detected when left out.")
@click.option("--apply", "apply_", is_flag=True, help="Import it (else only say what it would do).")
@click.option(
    "--mode",
    type=click.Choice(imports.MODES),
    default="add",
    show_default=True,
    help="add: new titles only; overwrite: also change the fields that differ.",
)
@click.option("--push", is_flag=True, help="Send what changes to the connected AniList account.")
def import_command(
    username: str, path: str, format_: str | None, apply_: bool, mode: str, push: bool
) -> None:
    """Import a MyAnimeList, Yamtrack or Tracker FILE into USERNAME's library."""
    with _refusals_as_click_errors():
        user = users.by_name(username)
    try:
        parsed = read_file(Path(path).read_bytes(), format=format_, filename=path)
    except UnreadableFile as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Read {len(parsed.rows)} rows ({parsed.format}); matching them…")
    plan = imports.plan_import(user.id, parsed, mode=mode, push=push)
    _echo_import(plan.result(dry_run=True), "Would add")
    if not apply_:
        click.echo("Nothing was imported: add --apply to import.")
        return
    bar = click.progressbar(length=len(plan.rows), label="Importing", show_pos=True)
    with bar, _refusals_as_click_errors():
        result = imports.apply(plan, progress=bar.update)
    _echo_import(result, "Added", unmatched=False)


def _echo_import(result: dict, verb: str, *, unmatched: bool = True) -> None:
    click.echo(f"{verb} {result['added']}, updated {result['updated']}, unchanged "
               f"{result['unchanged']}, skipped {result['skipped']}.")  # fmt: skip
    if result["would_push"]:
        sent = "will be sent" if result["push"] else "would be sent with --push"
        click.echo(f"{result['would_push']} changes {sent} to AniList.")
    if result["left_for_anilist"]:
        click.echo(f"{result['left_for_anilist']} titles on your AniList list keep AniList's "
                   "values (send the file's with --push).")  # fmt: skip
    if unmatched and result["unmatched"]:
        click.echo(f"{len(result['unmatched'])} rows not linked to AniList or not imported:")
        for entry in result["unmatched"]:
            click.echo(f"  - row {entry['row']} {entry['title']!r}: {entry['reason']}")


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
    with _refusals_as_click_errors():
        user = users.by_name(username)
    delivered = sync.push_pending(user_id=user.id)
    result = sync.pull(user.id, origin=Origin.ANILIST)
    click.echo(f"Pushed {delivered} changes. Pulled: {result.as_dict()}")


@tracker_cli.command("export")
@click.argument("username")
@click.option(
    "--format",
    "format_",
    type=click.Choice(exports.FORMATS),
    default="json",
    show_default=True,
    help="json (everything, history too), csv or mal (XML).",
)
@click.option(
    "--type",
    "media_type",
    type=click.Choice(MEDIA_TYPES),
    help="Only anime or only manga (needed for mal).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (with a progress bar) instead of standard output.",
)
def export_command(username: str, format_: str, media_type: str | None,
                   output: str | None) -> None:  # fmt: skip
    """Write USERNAME's library as a file: to standard output, or to --output."""
    with _refusals_as_click_errors():
        user = users.by_name(username)
        export = exports.start(user, format_, media_type)
    if output is None:
        stream = sys.stdout.buffer
        for chunk in export.chunks():
            stream.write(chunk)
        stream.flush()
    else:
        # Written beside the target and moved into place at the end: never half a file.
        with (
            click.open_file(output, "wb", atomic=True) as file,
            click.progressbar(
                length=export.total, label="Exporting", show_pos=True, file=sys.stderr
            ) as bar,
        ):
            for chunk in export.chunks(progress=bar.update):
                file.write(chunk)
        click.echo(f"Wrote {export.total} items to {output}.", err=True)
    if export.left_out:
        click.echo(f"Left out {export.left_out} without a MyAnimeList id (MyAnimeList's "
                   "importer finds titles by id only).", err=True)  # fmt: skip


@contextmanager
def _backup_errors() -> Iterator[None]:
    """A backup or restore that cannot happen is a message and exit status 1."""
    try:
        yield
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc


@tracker_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@click.option(
    "--print-command", is_flag=True, help="PostgreSQL: show the pg_dump command, run nothing."
)
def backup_command(path: Path, force: bool, print_command: bool) -> None:
    """Back up the database to PATH, safely while the app runs (SQLite: its online backup
    API; PostgreSQL: pg_dump --format=custom)."""
    with _backup_errors():
        if print_command:
            if backups.kind_of(db.engine.url) == "sqlite":
                click.echo("SQLite is copied with its online backup API: there is no command.")
            else:
                click.echo(backups.shown(*backups.pg_dump_command(db.engine.url, path)))
            return
        click.echo(backups.backup(db.engine, path, force=force))


@tracker_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data.")
def restore_command(path: Path, force: bool) -> None:
    """Put the backup at PATH into the configured database (stop the app and workers
    first). A database that holds data is replaced only with --force."""
    with _backup_errors():
        click.echo(backups.restore(db.engine, path, force=force))


def register_commands(app: Flask) -> None:
    app.cli.add_command(tracker_cli)
