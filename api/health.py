"""Health endpoints for load balancers and orchestrators: /healthz (the process lives)
and /readyz (the database answers and its schema is the one this code expects)."""

from __future__ import annotations

from functools import cache

import marshmallow as ma
from alembic.script import ScriptDirectory
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text
from sqlalchemy.orm import Session

from api import migrate
from api.db import db
from api.errors import ProblemError
from api.http import json_response
from api.ratelimit import limiter

blp = Blueprint(
    "health",
    __name__,
    url_prefix="/",
    description="Liveness and readiness, for load balancers and orchestrators. "
    "Not rate-limited, never cached.",
)
limiter.exempt(blp)
NO_STORE = {"Cache-Control": "no-store"}


class NotReady(ProblemError):
    status = 503
    type = "urn:peacemap:problem:not-ready"


class LivenessSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "alive"})


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "ready"})
    revision = ma.fields.String(metadata={"description": "The database's migration revision"})


@cache
def expected_revisions() -> frozenset[str]:
    """The heads of the migrations shipped with this code (read once per process)."""
    config = migrate.alembic_config(current_app.config["DATABASE_URL"])
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def check_ready(session: Session) -> str:
    """The database's revision, if it answers and is at the head this code expects."""
    current = frozenset(session.scalars(text("SELECT version_num FROM alembic_version")))
    expected = expected_revisions()
    if current != expected:
        raise NotReady(
            f"Migrations are not current: the database is at {', '.join(sorted(current)) or 'none'}"
            f", this code expects {', '.join(sorted(expected))}. Run `flask db upgrade`.",
            headers={"Retry-After": str(current_app.config["DB_RETRY_AFTER_SECONDS"])},
        )
    return ", ".join(sorted(current))


@blp.route("healthz")
class Liveness(MethodView):
    @blp.response(200, LivenessSchema)
    @blp.doc(description="Who: anyone (load balancers, orchestrators).")
    def get(self):
        """The process is alive (touches nothing else)"""
        return json_response({"status": "alive"}, headers=NO_STORE)


@blp.route("readyz")
class Readiness(MethodView):
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, description="The database does not answer or is not migrated")
    @blp.doc(description="Who: anyone (load balancers, orchestrators).")
    def get(self):
        """The service can serve: the database answers and its migrations are current"""
        revision = check_ready(db.session)
        return json_response({"status": "ready", "revision": revision}, headers=NO_STORE)
