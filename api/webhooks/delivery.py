"""One attempt at a webhook delivery: re-check that the item is still public, build the
payload from its public representation, sign it, send it, log the attempt, and say when the
next attempt is due (exponential back-off) or that we gave up.

Retries are the queue's (api/webhooks/queue.py); the schedule is decided here, once.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from api.accounts.models import User
from api.actors.models import Actor
from api.actors.schemas import ActorSchema
from api.moderation.models import Contribution
from api.permissions import can
from api.principal import Principal
from api.resources.models import Resource
from api.resources.schemas import ResourceSchema
from api.translations import localise, translations_for
from api.visibility import is_public
from api.webhooks import signing, targets
from api.webhooks.models import Delivery, DeliveryAttempt, Subscription

MAX_BACKOFF = timedelta(hours=12)


def backoff(config, retry: int) -> timedelta:
    """The wait before retry number ``retry`` (1 for the first): base, 2 x base, 4 x base..."""
    seconds = config["WEBHOOK_RETRY_BASE_SECONDS"] * 2 ** (retry - 1)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def _public_item(session: Session, model, schema, target_type: str, item_id) -> dict | None:
    if not is_public(session, target_type, item_id):
        return None
    item = session.get(model, item_id)
    translations = translations_for(session, target_type, [item_id]).get(item_id, {})
    return localise(schema.dump(item), target_type, item.language, translations, None)


def entitled(session: Session, subscription: Subscription) -> bool:
    """Whether the subscription's maker may still receive it: an active account and, for an
    organisation's subscription, still one of its managers (as the permission table says)."""
    user = session.get(User, subscription.user_id)
    return (
        user is not None
        and user.is_active
        and can(Principal(user=user), "subscription.manage", subscription)
    )


def payload(session: Session, delivery: Delivery) -> dict | None:
    """What is sent, built now from the public representation: None when the item has
    left public view since the event (then nothing is sent)."""
    if delivery.target_type == "actor":
        data = _public_item(session, Actor, ActorSchema(), "actor", delivery.target_id)
    elif delivery.target_type == "resource":
        data = _public_item(session, Resource, ResourceSchema(), "resource", delivery.target_id)
    else:  # the outcome of a contribution: what its author sees of it, no more
        contribution = session.get(Contribution, delivery.target_id)
        if contribution is None:
            return None
        data = {
            "id": str(contribution.id),
            "kind": contribution.kind,
            "state": contribution.state,
            "decided_at": contribution.decided_at.isoformat() if contribution.decided_at else None,
            "target_type": contribution.target_type,
            "target_id": str(contribution.target_id) if contribution.target_id else None,
        }
    if data is None:
        return None
    return {
        "type": delivery.event_type,
        "timestamp": delivery.occurred_at.astimezone(UTC).isoformat(),
        "data": {delivery.target_type: data},
    }


def attempt(session: Session, config, delivery_id: uuid.UUID, *, retry: int) -> datetime | None:
    """Send the delivery once (``retry``: how many attempts this round made before, 0 for
    the first). Returns when to try again, or None when done (delivered, dropped, given up
    or nothing to do). The caller commits."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status not in ("pending", "retrying"):
        return None
    subscription = session.get(Subscription, delivery.subscription_id)
    now = datetime.now(UTC)
    if subscription.paused:
        return None  # stays pending; resuming queues it again
    body = payload(session, delivery) if entitled(session, subscription) else None
    if body is None:
        delivery.status, delivery.finished_at, delivery.next_attempt_at = "dropped", now, None
        return None
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    headers = signing.headers(subscription.secret, delivery.webhook_id, int(time.time()), data)
    outcome = targets.post(
        subscription.url,
        data,
        headers,
        allow_private=config["WEBHOOKS_ALLOW_PRIVATE"],
        timeout=config["WEBHOOK_TIMEOUT_SECONDS"],
    )
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            attempted_at=now,
            response_code=outcome.status,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
    )
    delivery.attempts += 1
    delivery.response_code = outcome.status
    if outcome.ok:
        delivery.status, delivery.finished_at, delivery.next_attempt_at = "delivered", now, None
        return None
    if retry + 1 >= config["WEBHOOK_MAX_ATTEMPTS"]:
        delivery.status, delivery.finished_at, delivery.next_attempt_at = "failed", now, None
        return None
    delivery.status = "retrying"
    delivery.next_attempt_at = now + backoff(config, retry + 1)
    return delivery.next_attempt_at
