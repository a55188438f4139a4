"""Subscriptions: made, listed, paused and deleted by their owners; their delivery log and
replays. Plain functions over a session; they flush, the request commits."""

from __future__ import annotations

import uuid

from shapely.geometry import box
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from api.actors.models import Actor
from api.content import area_column
from api.errors import Conflict, NotFound, Unprocessable
from api.limits import SUBSCRIPTIONS_PER_OWNER
from api.permissions import can, require
from api.principal import Principal
from api.themes.models import Theme
from api.webhooks import signing, targets
from api.webhooks.models import Delivery, DeliveryAttempt, Subscription
from api.webhooks.queue import enqueue


def create_subscription(
    session: Session, principal: Principal, data: dict, *, allow_private: bool
) -> tuple[Subscription, str | None]:
    """The new subscription and, for a webhook, its signing secret (shown this once)."""
    require(principal, "subscription.create")
    actor_id = data.get("actor_id")
    if actor_id is not None:
        actor = session.get(Actor, actor_id)
        if actor is None or not can(principal, "subscription.for_organisation", actor):
            raise Unprocessable(
                "actor_id: you may subscribe only for an organisation you manage.",
                errors={"actor_id": ["must be an organisation you manage."]},
            )
    _check_quota(session, principal.user_id, actor_id)
    if (theme := data.get("theme")) and session.get(Theme, theme) is None:
        message = f"unknown theme {theme!r}; see GET /api/v1/themes."
        raise Unprocessable(f"theme: {message}", errors={"theme": [message]})
    area = data.get("area")
    if area is None and data.get("bbox"):
        area = box(*data["bbox"])
    secret = None
    if url := data.get("url"):
        try:
            targets.resolve(url, allow_private=allow_private)
        except targets.TargetRefused as refused:
            raise Unprocessable(f"url: {refused}", errors={"url": [str(refused)]}) from None
        secret = signing.new_secret()
    subscription = Subscription(
        id=uuid.uuid4(),
        user_id=principal.user_id,
        actor_id=actor_id,
        topic=data["topic"],
        area=area_column(area),
        country=data.get("country"),
        theme=data.get("theme"),
        url=url,
        secret=secret,
        digest=data.get("digest"),
        paused=False,
    )
    session.add(subscription)
    session.flush()
    session.refresh(subscription)
    return subscription, secret


def _check_quota(session: Session, user_id, actor_id) -> None:
    if actor_id is not None:
        mine = Subscription.actor_id == actor_id
    else:
        mine = and_(Subscription.actor_id.is_(None), Subscription.user_id == user_id)
    held = session.scalar(select(func.count()).select_from(Subscription).where(mine))
    if held >= SUBSCRIPTIONS_PER_OWNER:
        raise Conflict(
            f"{held} subscriptions are the most one person or organisation may hold "
            f"({SUBSCRIPTIONS_PER_OWNER}): delete one first, or widen one's filters."
        )


def _owned(principal: Principal):
    """The principal's own subscriptions, and those of organisations they manage (the
    list's form of the ``subscription.manage`` rule)."""
    managed = [m.actor_id for m in principal.user.memberships if m.role == "manager"]
    own = and_(Subscription.actor_id.is_(None), Subscription.user_id == principal.user_id)
    return or_(own, Subscription.actor_id.in_(managed))


def list_subscriptions(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> list[Subscription]:
    require(principal, "subscription.create")
    stmt = (
        select(Subscription)
        .where(_owned(principal))
        .order_by(Subscription.created_at.desc(), Subscription.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))


def get_subscription(session: Session, principal: Principal, subscription_id) -> Subscription:
    """Somebody else's subscription is indistinguishable from a missing one."""
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or not can(principal, "subscription.manage", subscription):
        require(principal, "subscription.create")  # 401 for the anonymous first
        raise NotFound(f"No subscription with id {subscription_id}.")
    return subscription


def set_paused(session: Session, subscription: Subscription, paused: bool) -> Subscription:
    """Pausing holds deliveries (they stay pending); resuming sends what waited."""
    was_paused, subscription.paused = subscription.paused, paused
    if was_paused and not paused and subscription.url is not None:
        waiting = session.scalars(
            select(Delivery.id).where(
                Delivery.subscription_id == subscription.id,
                Delivery.status.in_(("pending", "retrying")),
            )
        ).all()
        for delivery_id in waiting:
            enqueue(session, delivery_id)
    session.flush()
    return subscription


def delete_subscription(session: Session, subscription: Subscription) -> None:
    session.delete(subscription)  # its deliveries and their attempts go with it
    session.flush()


def deliveries(
    session: Session, subscription: Subscription, *, limit: int, offset: int
) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
    """The delivery log, newest first, each delivery with its attempts (oldest first)."""
    page = session.scalars(
        select(Delivery)
        .where(Delivery.subscription_id == subscription.id)
        .order_by(Delivery.occurred_at.desc(), Delivery.id)
        .limit(limit)
        .offset(offset)
    ).all()
    attempts = attempts_of(session, [d.id for d in page])
    return [(d, attempts[d.id]) for d in page]


def attempts_of(session: Session, delivery_ids) -> dict[uuid.UUID, list[DeliveryAttempt]]:
    """Each delivery's attempts, oldest first, in one query."""
    attempts: dict[uuid.UUID, list[DeliveryAttempt]] = {i: [] for i in delivery_ids}
    for found in session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(attempts))
        .order_by(DeliveryAttempt.id)
    ):
        attempts[found.delivery_id].append(found)
    return attempts


def get_delivery(session: Session, subscription: Subscription, delivery_id) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound(f"No delivery with id {delivery_id} in this subscription.")
    return delivery


def replay(session: Session, subscription: Subscription, delivery: Delivery) -> Delivery:
    """Send a delivery again, with the same webhook-id (receivers may have it already),
    built anew from what is public now."""
    if subscription.url is None:
        raise Unprocessable("A digest subscription has no webhook deliveries to replay.")
    delivery.status, delivery.next_attempt_at, delivery.finished_at = "pending", None, None
    session.flush()
    if not subscription.paused:
        enqueue(session, delivery.id)
    return delivery
