"""Which subscriptions an event concerns, recorded in the transaction of the change that
caused it: a delivery row per subscription, and for webhooks a job on the queue in that same
transaction (api/webhooks/queue.py). A change that is rolled back sends nothing; a change
that commits is never lost.

Only what the public may see is matched, and only on its public representation: an actor
is placed by its public (generalised) location, so an area subscription answers no question
about an exact point; a change that touches private fields only is no event at all
(api.privacy), so a subscription cannot tell that a contact or exact location changed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from api.actors.models import Actor
from api.privacy import BOOKKEEPING, private_fields
from api.resources.models import Resource
from api.visibility import PUBLIC
from api.webhooks.models import Delivery, Subscription
from api.webhooks.queue import enqueue

# The topic each kind of public content is announced under, and which of its changes count.
TOPIC_OF = {"actor": "actors", "resource": "library"}
ANNOUNCED_ACTIONS = {"actor": None, "resource": {"created"}}  # None: every public change
# Decisions whose outcome the contribution's author (or organisation) hears about.
OUTCOME_STATES = ("approved", "rejected", "changes_requested")


def _filters(model) -> ColumnElement[bool]:
    """A subscription's area, country and theme, each when set, on the public columns."""
    if model is Actor:
        where = Subscription.area.ST_Intersects(Actor.public_location)
        country = Subscription.country == Actor.country
    else:
        where = Subscription.area.ST_Intersects(Resource.area)
        country = Subscription.country == Resource.countries.any_()
    return and_(
        or_(Subscription.area.is_(None), where),
        or_(Subscription.country.is_(None), country),
        or_(Subscription.theme.is_(None), Subscription.theme == model.themes.any_()),
    )


def content_changed(session: Session, target_type: str, item, action: str, changes: dict) -> None:
    """Called for every recorded revision (api.revisions): announce public changes."""
    if target_type not in TOPIC_OF:
        return
    wanted = ANNOUNCED_ACTIONS[target_type]
    if wanted is not None and action not in wanted:
        return
    public = set(changes) - set(private_fields(target_type)) - BOOKKEEPING
    if action != "created" and not public:
        return
    model = Actor if target_type == "actor" else Resource
    matching = (
        select(Subscription)
        .join(model, and_(model.id == item.id, PUBLIC[target_type], _filters(model)))
        .where(Subscription.topic == TOPIC_OF[target_type], Subscription.paused.is_(False))
    )
    event_type = f"{target_type}.{'created' if action == 'created' else 'updated'}"
    _record(session, session.scalars(matching).all(), event_type, target_type, item.id)


def contribution_decided(session: Session, contribution) -> None:
    """The outcome of a contribution, for its author's subscriptions and for those of the
    organisation whose profile it is about."""
    if contribution.state not in OUTCOME_STATES or contribution.kind == "flag_review":
        return
    concerned = [
        and_(Subscription.actor_id.is_(None), Subscription.user_id == contribution.author_id)
    ]
    if contribution.target_type == "actor" and contribution.target_id is not None:
        concerned.append(Subscription.actor_id == contribution.target_id)
    matching = select(Subscription).where(
        Subscription.topic == "contributions", Subscription.paused.is_(False), or_(*concerned)
    )
    subscriptions = session.scalars(matching).all()
    _record(session, subscriptions, "contribution.decided", "contribution", contribution.id)


def _record(
    session: Session,
    subscriptions,
    event_type: str,
    target_type: str,
    target_id: uuid.UUID,
) -> None:
    for subscription in subscriptions:
        delivery = Delivery(
            id=uuid.uuid4(),
            subscription_id=subscription.id,
            event_type=event_type,
            target_type=target_type,
            target_id=target_id,
            status="pending",
            attempts=0,
        )
        session.add(delivery)
        session.flush()
        if subscription.url is not None:
            enqueue(session, delivery.id)
