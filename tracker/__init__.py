"""Tracker: a self-hosted anime and manga tracker with two-way AniList sync."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template
from flask_login import current_user
from sqlalchemy import event

from tracker import (
    admin,
    auth,
    calendar,
    cli,
    errors,
    library,
    logs,
    monitoring,
    settings,
    stats,
    upnext,
)
from tracker.api import register_api
from tracker.config import load_config
from tracker.extensions import compress, csrf, db, jwt, limiter, login_manager, migrate
from tracker.models import modelled, render_migration_type
from tracker.routing import IdConverter
from tracker.security import (
    add_security_headers,
    limit_request_body,
    register_jwt_errors,
    trust_proxies,
)

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """The app, built without touching the database or starting a thread: the demo
    user and the in-process worker are the development server's (``flask tracker dev``)."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    load_config(app, config)
    trust_proxies(app)
    logs.init_app(app)  # a request id for every request, even one refused below
    app.before_request(limit_request_body)  # first, before any extension reads a body
    register_extensions(app)
    register_blueprints(app)
    errors.register_error_handlers(app)
    cli.register_commands(app)
    app.after_request(add_security_headers)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    # Batch mode lets later revisions alter tables on SQLite too.
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_type,
        include_object=modelled,
    )
    # Flask-Login's own context processor loads the user for every template; the proxy
    # loads them only where a template asks, so an error page can render without the DB.
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    jwt.init_app(app)
    register_jwt_errors(jwt)
    csrf.init_app(app)
    limiter.init_app(app)
    # An answer that fits in one TCP segment goes out as it is: compressing it saves no
    # packet, only costs the click (a JSON +1 is ~800 bytes). Rows and pages still shrink.
    app.config.setdefault("COMPRESS_MIN_SIZE", 1400)
    compress.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _tune_sqlite)


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    register_api(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(library.bp)
    app.register_blueprint(upnext.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(monitoring.bp)
    app.register_blueprint(stats.bp)
    app.add_url_rule("/docs", "docs", lambda: render_template("docs.html"))


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers run beside a writer; the busy timeout queues concurrent writers.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
