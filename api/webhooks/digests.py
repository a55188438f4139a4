"""Email digests: the same events as webhooks, gathered per subscription and mailed daily
or weekly to the subscription's owner through the service's SMTP set-up (api.mail). Each
item is re-checked when the digest is written: what has left public view since is dropped
and named nowhere."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.accounts.models import User
from api.mail import MailNotSent, send_mail
from api.webhooks.delivery import entitled, payload
from api.webhooks.models import Delivery, Subscription

PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
API_PATHS = {"actor": "actors", "resource": "resources", "contribution": "contributions"}
MAX_ITEMS = 200  # per mail; the rest waits for the next one


def _line(config, event: dict, target_type: str) -> str:
    data = event["data"][target_type]
    url = f"{config['PUBLIC_URL']}/api/v1/{API_PATHS[target_type]}/{data['id']}"
    if target_type == "contribution":
        kind, state = data["kind"].replace("_", " "), data["state"].replace("_", " ")
        title = f"your {kind} contribution is {state}"
    else:
        title = data.get("name") or data.get("title")
    return f"- {event['type']}: {title}\n  {url}"


def send_due_digests(session: Session, config, now: datetime) -> int:
    """Mail every digest whose period has passed; returns how many were sent. A digest the
    mail server refuses stays due and is tried again next time."""
    due = select(Subscription).where(
        Subscription.digest.is_not(None), Subscription.paused.is_(False)
    )
    sent = 0
    for subscription in session.scalars(due.with_for_update(skip_locked=True)).all():
        since = subscription.last_digest_at or subscription.created_at
        if now - since < PERIODS[subscription.digest]:
            continue
        pending = session.scalars(
            select(Delivery)
            .where(Delivery.subscription_id == subscription.id, Delivery.status == "pending")
            .order_by(Delivery.occurred_at)
            .limit(MAX_ITEMS)
        ).all()
        lines = []
        allowed = entitled(session, subscription)
        for delivery in pending:
            event = payload(session, delivery) if allowed else None
            delivery.finished_at = now
            delivery.status = "dropped" if event is None else "digested"
            if event is not None:
                lines.append(_line(config, event, delivery.target_type))
        if lines:
            owner = session.get(User, subscription.user_id)
            text = (
                f"Your {subscription.digest} Peacemap digest ({subscription.topic}): "
                f"{len(lines)} change(s).\n\n" + "\n".join(lines) + "\n\n"
                f"Manage this subscription: {config['PUBLIC_URL']}/api/v1/subscriptions/"
                f"{subscription.id}\n"
            )
            try:
                send_mail(config, to=owner.email, subject="Peacemap digest", text=text)
            except MailNotSent:
                for delivery in pending:
                    delivery.status, delivery.finished_at = "pending", None
                continue
            sent += 1
        subscription.last_digest_at = now
        session.flush()
    return sent
