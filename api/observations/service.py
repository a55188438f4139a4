"""Observations: created on approval, read and searched by their public location."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.content import place
from api.errors import NotFound
from api.observations.models import Observation
from api.permissions import is_staff
from api.principal import Principal
from api.revisions.service import Provenance, record_revision
from api.themes.service import check_theme_keys
from geo import filters


def create_observation(
    session: Session, data: dict, provenance: Provenance, *, disclaimers=()
) -> Observation:
    data = dict(data)
    check_theme_keys(session, data.get("themes", []))
    point = data.pop("location")
    precision, country = data.pop("location_precision"), data.pop("country", None)
    observation = Observation(id=uuid.uuid4(), author_id=provenance.author_id, **data)
    place(observation, point, precision, country)
    observation.disclaimers = list(disclaimers)
    session.add(observation)
    record_revision(
        session, observation, "observation", action="created", before=None, **provenance.asdict()
    )
    return observation


def get_observation(
    session: Session, observation_id: uuid.UUID, principal: Principal
) -> Observation:
    observation = session.get(Observation, observation_id)
    if observation is None or (observation.hidden and not is_staff(principal.user)):
        raise NotFound(f"No observation with id {observation_id}.")
    return observation


def search_observations(session: Session, args: dict, *, limit: int) -> list[Observation]:
    """Public filters use the public location only, as for actors."""
    stmt = select(Observation).where(Observation.hidden.is_(False))
    if themes := args.get("theme"):
        stmt = stmt.where(Observation.themes.overlap(themes))
    if countries := args.get("country"):
        stmt = stmt.where(Observation.country.in_(countries))
    if languages := args.get("language"):
        stmt = stmt.where(Observation.language.in_(languages))
    if actor_id := args.get("actor_id"):
        stmt = stmt.where(Observation.actor_id == actor_id)
    if bbox := args.get("bbox"):
        stmt = stmt.where(filters.in_bbox(Observation.public_location, *bbox))
    if since := args.get("since"):
        stmt = stmt.where(Observation.observed_on >= since)
    stmt = (
        stmt.order_by(Observation.observed_on.desc(), Observation.id)
        .limit(limit)
        .offset(args["offset"])
    )
    return list(session.scalars(stmt))
