from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tracker.api.docs import ApiBlueprint
from tracker.extensions import db
from tracker.schemas import HealthSchema

bp = ApiBlueprint("health", __name__, url_prefix="/api", description="Liveness and readiness")


@bp.route("/health")
@bp.response(200, HealthSchema)
@bp.alt_response(503, schema=HealthSchema, description="The database does not answer")
@bp.doc(security=[])
def health():
    """Is the app up, and can it reach its database?"""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "degraded", "database": "unavailable", "version": _version()}, 503
    return {"status": "ok", "database": "ok", "version": _version()}


def _version() -> str:
    try:
        return version("tracker")
    except PackageNotFoundError:
        return "unknown"
