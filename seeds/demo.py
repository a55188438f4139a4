"""The demo map: real places, invented actors. Loading it twice changes nothing."""

from __future__ import annotations

import json
import uuid
from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.accounts.service import find_user_by_email, register, set_membership
from api.actors.models import Actor
from api.actors.schemas import ActorCreateSchema
from api.actors.service import create_actor
from api.principal import ANONYMOUS

# Obviously-demo credentials, documented in the README; created only by this loader.
DEMO_PASSWORD = "peacemap-demo-password"
DEMO_ORGANISATION = "Sierra Leone Peacebuilders Platform"
DEMO_ACCOUNTS = (
    # email, display name, role, membership of DEMO_ORGANISATION
    ("admin@demo.peacemap.example", "Demo Administrator", "admin", None),
    ("moderator@demo.peacemap.example", "Demo Moderator", "moderator", None),
    ("contributor@demo.peacemap.example", "Demo Contributor", "contributor", None),
    ("manager@demo.peacemap.example", "Demo Organisation Manager", "contributor", "manager"),
    ("member@demo.peacemap.example", "Demo Organisation Member", "contributor", "member"),
)


def demo_features() -> list[dict]:
    text = files("seeds").joinpath("data/demo_actors.geojson").read_text(encoding="utf-8")
    return json.loads(text)["features"]


def load_demo(session: Session) -> int:
    """Create the demo actors that are missing (by id); returns how many were created.
    Validated by the same schema as the API, so demo data can't hold what clients can't."""
    features = demo_features()
    ids = [uuid.UUID(f["id"]) for f in features]
    existing = set(session.scalars(select(Actor.id).where(Actor.id.in_(ids))))
    schema = ActorCreateSchema()
    created = 0
    for feature, actor_id in zip(features, ids, strict=True):
        if actor_id in existing:
            continue
        data = schema.load({**feature["properties"], "location": feature["geometry"]})
        create_actor(session, data, actor_id=actor_id)
        created += 1
    return created


def load_demo_accounts(session: Session, *, production: bool) -> int:
    """Create the demo accounts that are missing; never in production."""
    if production:
        return 0
    organisation = session.scalar(select(Actor).where(Actor.name == DEMO_ORGANISATION))
    created = 0
    for email, name, role, membership in DEMO_ACCOUNTS:
        if find_user_by_email(session, email) is not None:
            continue
        data = {"email": email, "display_name": name, "password": DEMO_PASSWORD}
        user = register(session, data, ANONYMOUS, role=role, verified=True)
        if membership and organisation is not None:
            set_membership(session, user, organisation.id, membership, ANONYMOUS)
        created += 1
    return created
