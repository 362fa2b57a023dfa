"""Operator commands: ``flask tracker …``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from tracker.services import accounts

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


def register_commands(app: Flask) -> None:
    app.cli.add_command(tracker_cli)
