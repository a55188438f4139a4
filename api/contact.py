"""Contact an actor through Peacemap: a signed-in reader's message is relayed by mail to
the actor's managers. The sender never learns who manages the actor, how many they are or
their addresses; the managers learn the sender's display name only. A manager may report
a message as abuse, after which its sender can no longer write to that actor."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import marshmallow as ma
from itsdangerous import BadSignature, URLSafeTimedSerializer
from marshmallow import validate as v
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import mails
from api.accounts.models import AuditEvent, Membership, User
from api.accounts.service import record
from api.actors.models import Actor
from api.errors import Forbidden, NotFound
from api.mail import send_mail
from api.permissions import require
from api.principal import Principal

MESSAGE_MAX = 2000
ABUSE_LINK_DAYS = 60
SENT, REPORTED = "contact.sent", "contact.abuse_reported"
BLOCKED = "You can no longer write to this actor through Peacemap."


class ContactMessageSchema(ma.Schema):
    message = ma.fields.String(required=True, validate=v.Length(1, MESSAGE_MAX))


def _signer(config: Mapping) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt="peacemap.contact.abuse")


def send_message(
    session: Session, config: Mapping, actor: Actor, principal: Principal, text: str
) -> None:
    """Relay ``text`` to each manager of ``actor``, one mail each (no manager sees another's
    address either). The same happens, and the same is answered, whether the actor has
    managers or not."""
    require(principal, "actor.contact", actor)
    sender = principal.user
    if _reported(session, sender.id, actor.id):
        raise Forbidden(BLOCKED)
    token = _signer(config).dumps({"sender": str(sender.id), "actor": str(actor.id)})
    abuse_link = f"{config['PUBLIC_URL']}/contact/abuse/{token}"
    managers = session.execute(
        select(User.email, User.language)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.actor_id == actor.id,
            Membership.role == "manager",
            User.status == "active",
            User.email_verified_at.is_not(None),
        )
    ).all()
    for address, language in managers:
        mail = mails.contact_message(
            language,
            sender=sender.display_name,
            actor=actor.name,
            message=text,
            abuse_link=abuse_link,
        )
        send_mail(config, to=address, **mail)
    record(session, SENT, principal, subject_id=actor.id, characters=len(text))


def reported_message(config: Mapping, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The sender and actor of a relayed message, from its abuse link."""
    try:
        data = _signer(config).loads(token, max_age=ABUSE_LINK_DAYS * 24 * 3600)
        return uuid.UUID(data["sender"]), uuid.UUID(data["actor"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("This link does not work: it is unknown or too old.") from None


def report_abuse(session: Session, config: Mapping, token: str, principal: Principal) -> Actor:
    """A manager of the actor reports the message: recorded for moderators, and its sender
    can no longer write to the actor."""
    sender_id, actor_id = reported_message(config, token)
    actor = session.get(Actor, actor_id)
    if actor is None:
        raise NotFound("This link does not work: it is unknown or too old.")
    require(principal, "contact.report_abuse", actor)
    if not _reported(session, sender_id, actor_id):
        record(session, REPORTED, principal, subject_id=sender_id, actor_id=str(actor_id))
    return actor


def _reported(session: Session, sender_id: uuid.UUID, actor_id: uuid.UUID) -> bool:
    return (
        session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.event == REPORTED,
                AuditEvent.subject_id == sender_id,
                AuditEvent.details["actor_id"].astext == str(actor_id),
            )
            .limit(1)
        )
        is not None
    )
