"""Extension singletons, bound to an app in ``create_app`` so imports never cycle.

AniList OAuth is not here: its Authlib client (tracker/clients/oauth.py) is built per
connection from configuration, so each app (and each test) talks to its own endpoints.
"""

from flask import Flask, current_app, has_app_context
from flask_compress import Compress
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints keep Alembic revisions identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = LoginManager()
jwt = JWTManager()
csrf = CSRFProtect()
# Pages, fragments and JSON answers go out compressed to any client that accepts it.
compress = Compress()


def _kept_per_app(name: str) -> property:
    """An attribute Flask-Limiter keeps on itself, kept in the current app instead."""

    def get(self):
        if has_app_context():
            return current_app.extensions["tracker.limiter"].get(name, self.__dict__[name])
        return self.__dict__[name]

    def set(self, value) -> None:
        if has_app_context():
            current_app.extensions["tracker.limiter"][name] = value
        else:
            self.__dict__[name] = value

    return property(get, set)


class AppLimiter(Limiter):
    """Flask-Limiter with its on/off switch and its counters kept per app.

    The decorators register limits on the one module-level instance, but Flask-Limiter
    also keeps ``enabled`` and the storage there, so the last app built would decide
    for every app (and share its counts). Here each app keeps its own.
    """

    enabled = _kept_per_app("enabled")
    _storage = _kept_per_app("_storage")
    _limiter = _kept_per_app("_limiter")

    def init_app(self, app: Flask) -> None:
        app.extensions["tracker.limiter"] = {}
        with app.app_context():
            super().init_app(app)


limiter = AppLimiter(key_func=get_remote_address, default_limits=[])
api = Api()
