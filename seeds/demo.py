"""The demo map: real places, invented actors. Loading it twice changes nothing."""

from __future__ import annotations

import json
import uuid
from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.actors.models import Actor
from api.actors.schemas import ActorCreateSchema
from api.actors.service import create_actor


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
