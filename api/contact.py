"""Contact an actor through Peacemap: a signed-in reader's message is relayed by mail to
the actor's managers. The sender never learns who manages the actor, how many they are or
their addresses; the managers learn the sender's display name only. A manager may report
a message as abuse, after which its sender can no longer write to that actor.

A manager may answer through the relayed mail's signed reply link: the reply is relayed by
mail to the sender, whose address the manager never sees; the manager's own address goes
with it only if they tick the box saying so. The sender may report a reply as abuse, after
which that manager can no longer reply to them. The audit log keeps who wrote to whom and
when (for the abuse reports), never a message's text."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import marshmallow as ma
from itsdangerous import BadSignature, URLSafeTimedSerializer
from marshmallow import validate as v
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import mails
from api.accounts.models import AuditEvent, Membership, User
from api.accounts.service import record
from api.actors.models import Actor
from api.errors import Conflict, Forbidden, NotFound
from api.mail import send_mail
from api.permissions import require
from api.principal import Principal
from api.visibility import is_public

MESSAGE_MAX = 2000
ABUSE_LINK_DAYS = 60
REPLY_LINK_DAYS = 30
REPLIES_PER_MESSAGE = 3
SENT, REPORTED = "contact.sent", "contact.abuse_reported"
REPLIED, REPLY_REPORTED = "contact.replied", "contact.reply_abuse_reported"
BLOCKED = "You can no longer write to this actor through Peacemap."
BLOCKED_REPLY = "You can no longer reply to this person through Peacemap."
LINK_USED = "This reply link has been used as many times as it may be."
BAD_LINK = "This link does not work: it is unknown or too old."


class ContactMessageSchema(ma.Schema):
    message = ma.fields.String(required=True, validate=v.Length(1, MESSAGE_MAX))


class ContactReplySchema(ContactMessageSchema):
    share_address = ma.fields.Boolean(load_default=False)


# One signer per kind of link: a link of one kind never opens a page of another.
def _signer(config: Mapping, kind: str = "abuse") -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=f"peacemap.contact.{kind}")


def _load(config: Mapping, kind: str, token: str, days: int, *keys: str) -> list[uuid.UUID]:
    """The ids a signed link of ``kind`` carries; a forged, altered or expired link is a 404."""
    try:
        data = _signer(config, kind).loads(token, max_age=days * 24 * 3600)
        return [uuid.UUID(data[key]) for key in keys]
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound(BAD_LINK) from None


def _links(config: Mapping, kind: str, **ids: uuid.UUID) -> str:
    token = _signer(config, kind).dumps({k: str(i) for k, i in ids.items()})
    return f"{config['PUBLIC_URL']}/contact/{kind}/{token}"


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
    abuse_link = _links(config, "abuse", sender=sender.id, actor=actor.id)
    message_id = uuid.uuid4()  # names the message in the reply link and the audit log
    reply_link = _links(config, "reply", message=message_id, sender=sender.id, actor=actor.id)
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
            reply_link=reply_link,
        )
        send_mail(config, to=address, **mail)
    record(
        session, SENT, principal, subject_id=actor.id, message=str(message_id), characters=len(text)
    )


def reported_message(config: Mapping, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The sender and actor of a relayed message, from its abuse link."""
    sender_id, actor_id = _load(config, "abuse", token, ABUSE_LINK_DAYS, "sender", "actor")
    return sender_id, actor_id


def report_abuse(session: Session, config: Mapping, token: str, principal: Principal) -> Actor:
    """A manager of the actor reports the message: recorded for moderators, and its sender
    can no longer write to the actor."""
    sender_id, actor_id = reported_message(config, token)
    actor = session.get(Actor, actor_id)
    if actor is None:
        raise NotFound(BAD_LINK)
    require(principal, "contact.report_abuse", actor)
    if not _reported(session, sender_id, actor_id):
        record(session, REPORTED, principal, subject_id=sender_id, actor_id=str(actor_id))
    return actor


def replying_to(
    session: Session, config: Mapping, token: str, principal: Principal
) -> tuple[Actor, uuid.UUID, User]:
    """The actor, message id and sender a reply link answers, once it is known that
    ``principal`` may reply through it: a manager of that actor (the permission table), the
    actor still public, the link not used up, and the manager not reported by the sender."""
    message_id, sender_id, actor_id = _load(
        config, "reply", token, REPLY_LINK_DAYS, "message", "sender", "actor"
    )
    actor = session.get(Actor, actor_id)
    sender = session.get(User, sender_id)
    if actor is None or sender is None or not is_public(session, "actor", actor_id):
        raise NotFound(BAD_LINK)
    require(principal, "contact.reply", actor)
    if _count(session, REPLIED, message=str(message_id)) >= REPLIES_PER_MESSAGE:
        raise Conflict(LINK_USED)
    if _reply_reported(session, principal.user_id, sender_id, actor_id):
        raise Forbidden(BLOCKED_REPLY)
    return actor, message_id, sender


def send_reply(
    session: Session, config: Mapping, token: str, principal: Principal, data: Mapping
) -> None:
    """Relay a manager's reply to the message's sender, with the manager's display name and,
    only if ``data["share_address"]``, their address; the sender gets an abuse link."""
    actor, message_id, sender = replying_to(session, config, token, principal)
    manager = principal.user
    mail = mails.contact_reply(
        sender.language,
        manager=manager.display_name,
        actor=actor.name,
        message=data["message"],
        address=manager.email if data["share_address"] else None,
        abuse_link=_links(
            config, "reply-abuse", manager=manager.id, sender=sender.id, actor=actor.id
        ),
    )
    if sender.status == "active" and sender.email_verified_at is not None:
        send_mail(config, to=sender.email, **mail)
    record(
        session,
        REPLIED,
        principal,
        subject_id=sender.id,
        actor_id=str(actor.id),
        message=str(message_id),
        shared_address=bool(data["share_address"]),
        characters=len(data["message"]),
    )


def report_reply_abuse(session: Session, config: Mapping, token: str, principal: Principal):
    """The sender reports a manager's reply: recorded for moderators, and that manager can
    no longer reply to them for that actor."""
    manager_id, sender_id, actor_id = _load(
        config, "reply-abuse", token, ABUSE_LINK_DAYS, "manager", "sender", "actor"
    )
    require(principal, "contact.report_reply_abuse", sender_id)
    if not _reply_reported(session, manager_id, sender_id, actor_id):
        record(session, REPLY_REPORTED, principal, subject_id=manager_id, actor_id=str(actor_id))


def _count(session: Session, event: str, subject_id=None, **details: str) -> int:
    """How many audit events ``event`` there are about ``subject_id`` with these details."""
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.event == event)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == subject_id)
    for key, value in details.items():
        query = query.where(AuditEvent.details[key].astext == value)
    return session.scalar(query)


def _reported(session: Session, sender_id: uuid.UUID, actor_id: uuid.UUID) -> bool:
    return _count(session, REPORTED, sender_id, actor_id=str(actor_id)) > 0


def _reply_reported(session: Session, manager_id, sender_id, actor_id) -> bool:
    """Whether the sender reported a reply of this manager's (the report's author is the
    sender: ``AuditEvent.user_id``)."""
    query = select(func.count()).where(
        AuditEvent.event == REPLY_REPORTED,
        AuditEvent.subject_id == manager_id,
        AuditEvent.user_id == sender_id,
        AuditEvent.details["actor_id"].astext == str(actor_id),
    )
    return session.scalar(query) > 0
