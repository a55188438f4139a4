"""Observations: created on approval, read and searched by their public location."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.actors.models import Actor
from api.content import exact_point, place
from api.errors import NotFound
from api.observations.models import Observation
from api.permissions import is_staff
from api.principal import Principal
from api.resources.service import follow_author_precision
from api.revisions.service import Provenance, record_revision
from api.themes.service import check_theme_keys
from api.visibility import PUBLIC, is_public
from geo import filters
from geo.privacy import coarsest


def linked_precision(session: Session, precision: str, actor_id: uuid.UUID | None) -> str:
    """An observation that names an actor is never more precise than that actor: it could
    otherwise place the actor more finely than the actor's own public location does."""
    actor = session.get(Actor, actor_id) if actor_id is not None else None
    if actor is None:
        return precision
    return coarsest(precision, actor.location_precision).value


def follow_actor_precision(session: Session, actor: Actor) -> None:
    """Make the observations that name ``actor``, and the areas of the resources it wrote,
    at most as precise as it now is."""
    follow_author_precision(session, actor)
    linked = select(Observation).where(Observation.actor_id == actor.id)
    for observation in session.scalars(linked):
        precision = coarsest(observation.location_precision, actor.location_precision)
        if precision != observation.location_precision:
            place(observation, exact_point(observation), precision, observation.country)


def create_observation(
    session: Session, data: dict, provenance: Provenance, *, disclaimers=()
) -> Observation:
    data = dict(data)
    check_theme_keys(session, data.get("themes", []))
    point = data.pop("location")
    country = data.pop("country", None)
    precision = linked_precision(session, data.pop("location_precision"), data.get("actor_id"))
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
    if observation is None or not (
        is_staff(principal.user) or is_public(session, "observation", observation.id)
    ):
        raise NotFound(f"No observation with id {observation_id}.")
    return observation


def search_observations(session: Session, args: dict, *, limit: int) -> list[Observation]:
    """Public filters use the public location only, as for actors."""
    stmt = select(Observation).where(PUBLIC["observation"])
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
