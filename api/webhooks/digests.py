"""Email digests: the same events as webhooks, gathered per subscription and mailed daily
or weekly to the subscription's owner through the service's SMTP set-up (api.mail). Each
item is re-checked when the digest is written: what has left public view since is dropped
and named nowhere."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import mails
from api.accounts.models import User
from api.mail import MailNotSent, send_mail
from api.webhooks.delivery import entitled, payload
from api.webhooks.models import Delivery, Subscription

PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
API_PATHS = {"actor": "actors", "resource": "resources", "contribution": "contributions"}
MAX_ITEMS = 200  # per mail; the rest waits for the next one


def _item(config, event: dict, target_type: str) -> mails.DigestItem:
    data = event["data"][target_type]
    url = f"{config['PUBLIC_URL']}/api/v1/{API_PATHS[target_type]}/{data['id']}"
    if target_type == "contribution":
        return mails.DigestItem(event["type"], url, contribution=(data["kind"], data["state"]))
    return mails.DigestItem(event["type"], url, title=data.get("name") or data.get("title"))


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
        items = []
        allowed = entitled(session, subscription)
        for delivery in pending:
            event = payload(session, delivery) if allowed else None
            delivery.finished_at = now
            delivery.status = "dropped" if event is None else "digested"
            if event is not None:
                items.append(_item(config, event, delivery.target_type))
        if items:
            owner = session.get(User, subscription.user_id)
            mail = mails.digest(
                owner.language,
                period=subscription.digest,
                topic=subscription.topic,
                items=items,
                manage=f"{config['PUBLIC_URL']}/api/v1/subscriptions/{subscription.id}",
            )
            try:
                send_mail(config, to=owner.email, **mail)
            except MailNotSent:
                for delivery in pending:
                    delivery.status, delivery.finished_at = "pending", None
                continue
            sent += 1
        subscription.last_digest_at = now
        session.flush()
    return sent
