"""Accounts, organisation memberships, access tokens and the append-only logs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base

ROLES = ("contributor", "moderator", "admin")
USER_STATUSES = ("active", "suspended")
MEMBERSHIP_ROLES = ("member", "manager")
TOKEN_KINDS = ("session", "personal")
# Single-use tokens sent by mail.
EMAIL_TOKEN_PURPOSES = ("verify_email", "reset_password")


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(Enum(*ROLES, name="user_role"), server_default="contributor")
    status: Mapped[str] = mapped_column(
        Enum(*USER_STATUSES, name="user_status"), server_default="active"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # When the owner proved they read mail at ``email``; None until then.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The interface language the account's mails are in (api/mails.py): the page's at
    # sign-up, then the one chosen with the web pages' switcher.
    language: Mapped[str] = mapped_column(String(8), server_default="en")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", lazy="selectin", order_by="Membership.created_at"
    )

    __mapper_args__ = {"version_id_col": version}
    # Email is unique whatever its case: Ana@x.org and ana@x.org are one person.
    __table_args__ = (Index("uq_users_email_lower", func.lower(email), unique=True),)

    @property
    def is_active(self) -> bool:
        return self.status == "active"


class Membership(Base):
    """A user's place in an organisation actor: ``member`` or ``manager``."""

    __tablename__ = "memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(Enum(*MEMBERSHIP_ROLES, name="membership_role"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    user: Mapped[User] = relationship(back_populates="memberships")

    __table_args__ = (Index("ix_memberships_actor_id", "actor_id"),)


class AccessToken(Base):
    """A bearer token. Only a keyed hash of the secret is stored; the secret is shown once."""

    __tablename__ = "access_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(Enum(*TOKEN_KINDS, name="token_kind"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # first characters, to recognise it in a list
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="joined")


class EmailToken(Base):
    """A single-use token sent by mail (email verification, password reset). Only a keyed
    hash of the secret is stored; ``used_at`` is set when it is spent or superseded."""

    __tablename__ = "email_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(Enum(*EMAIL_TOKEN_PURPOSES, name="email_token_purpose"))
    email: Mapped[str] = mapped_column(String(254))  # the address it was sent to
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Security-relevant events. Append-only: a trigger refuses UPDATE and DELETE."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    event: Mapped[str] = mapped_column(String(40), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)  # who acted
    subject_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), index=True
    )  # whom/what
    ip: Mapped[str | None] = mapped_column(INET)
    details: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class LocationAccess(Base):
    """Each response that carried private fields (an exact location, contacts, an exact
    area) of an item to someone: who, what, which fields, through which endpoint.
    Append-only."""

    __tablename__ = "location_access_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    # The item read: an actor, an observation or a contribution (see target_type).
    actor_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    target_type: Mapped[str] = mapped_column(String(20), server_default="actor")
    fields: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default=text("'{}'"))
    endpoint: Mapped[str | None] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(INET)
