"""What the public may see, declared once per content type.

Each rule is one SQL expression that every public query uses (lists, single reads, counts,
OGC items and counts, tiles, clusters, exports, reports), so an item that leaves public view
leaves all of them in the same transaction, and comes back with it. Everything that belongs
to an actor follows the actor: when the actor is hidden (by a flag or a moderator), archived
or unpublished, nothing public may still point to it or describe it.

- an actor: published and not hidden;
- a project: published, not hidden, and its organisation (the actor) public;
- an observation: not hidden, and its actor, if it names one, public;
- a resource: not hidden, and every actor named as its author public;
- a translation: read only laid over its item, so it follows the item's rule.

The low-zoom cell table behind the map tiles (migration 0005) is kept by triggers with the
actor rule written in SQL; ``tests/test_safety_visibility.py`` checks that the two agree.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, exists, literal, not_, or_, select
from sqlalchemy.orm import Session, aliased

from api.actors.models import Actor
from api.observations.models import Observation
from api.projects.models import Project
from api.resources.models import Resource


def _actor_rule(actor) -> ColumnElement[bool]:
    return and_(actor.status == "published", actor.hidden.is_(False))


ACTOR = _actor_rule(Actor)
_owner = aliased(Actor, name="owner")


def _owner_public(actor_id) -> ColumnElement[bool]:
    return exists().where(_owner.id == actor_id, _actor_rule(_owner))


PUBLIC: dict[str, ColumnElement[bool]] = {
    "actor": ACTOR,
    "project": and_(
        Project.status == "published",
        Project.hidden.is_(False),
        _owner_public(Project.actor_id),
    ),
    "observation": and_(
        Observation.hidden.is_(False),
        or_(Observation.actor_id.is_(None), _owner_public(Observation.actor_id)),
    ),
    "resource": and_(
        Resource.hidden.is_(False),
        not_(
            exists().where(_owner.id == Resource.author_actor_ids.any_(), not_(_actor_rule(_owner)))
        ),
    ),
}
MODELS = {"actor": Actor, "project": Project, "observation": Observation, "resource": Resource}


def is_public(session: Session, target_type: str, item_id: uuid.UUID) -> bool:
    """Whether the public may see this item now, by the same rule as every list."""
    model = MODELS[target_type]
    found = session.scalar(select(literal(True)).where(model.id == item_id, PUBLIC[target_type]))
    return bool(found)
