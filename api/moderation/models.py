"""Contributions and their review, flags, translations and the moderation log."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.crypto import SealedFields, SealedNote, SealedText
from api.db import Base

CONTRIBUTION_KINDS = (
    "new_actor",
    "actor_edit",
    "new_resource",
    "new_observation",
    "translation",
    "flag_review",
)
STATES = (
    "submitted",
    "in_review",
    "approved",
    "rejected",
    "changes_requested",
    "withdrawn",
    "awaiting_consent",
)
TARGET_TYPES = ("actor", "resource", "observation", "project")
FLAG_REASONS = (
    "misinformation",
    "harmful",
    "endangers_someone",
    "spam",
    "duplicate",
    "outdated",
    "other",
)


class Contribution(Base):
    """A proposal awaiting (or past) review. Its payload is the validated request as sent."""

    __tablename__ = "contributions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(Enum(*CONTRIBUTION_KINDS, name="contribution_kind"))
    state: Mapped[str] = mapped_column(
        Enum(*STATES, name="contribution_state"), server_default="submitted"
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    target_type: Mapped[str | None] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))  # set once published
    base_version: Mapped[int | None] = mapped_column(
        Integer
    )  # edits: the version they were made on
    # Private fields (exact location, contact) are sealed inside both (api.crypto).
    base_snapshot: Mapped[dict | None] = mapped_column(
        SealedFields()
    )  # edits: the content they were made on
    payload: Mapped[dict] = mapped_column(SealedFields())
    # Denormalised for the queue's filters.
    language: Mapped[str | None] = mapped_column(String(35))
    themes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=text("'{}'"))
    country: Mapped[str | None] = mapped_column(String(2))
    public_location: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False)
    )
    duplicates: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # Edits that lower the actor's privacy: {"lowers": [fields], "consent": awaiting,
    # granted, refused, no_manager or by_manager}; None for the others.
    privacy: Mapped[dict | None] = mapped_column(JSONB)
    # Flag reviews: someone may be in danger and the item could not be hidden at once.
    urgent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    reason: Mapped[str | None] = mapped_column(Text)  # the last decision's reason, for the author
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_contributions_queue", "state", "submitted_at", "id"),
        Index("ix_contributions_author", "author_id", "created_at"),
        Index("ix_contributions_target", "target_type", "target_id"),
    )


class Flag(Base):
    __tablename__ = "flags"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    reporter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))  # never public
    reason: Mapped[str] = mapped_column(Enum(*FLAG_REASONS, name="flag_reason"))
    # What reporters write about someone in danger: sealed at rest (api.crypto).
    note: Mapped[str] = mapped_column(SealedNote(), default="")
    state: Mapped[str] = mapped_column(
        Enum("open", "resolved", name="flag_state"), server_default="open"
    )
    resolution: Mapped[str | None] = mapped_column(String(20))
    review_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contributions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_flags_target", "target_type", "target_id", "state"),
        Index("ix_flags_reporter", "reporter_id", "created_at"),
        # One open flag per person per item.
        Index(
            "uq_flags_open_per_reporter",
            "target_type",
            "target_id",
            "reporter_id",
            unique=True,
            postgresql_where=text("state = 'open'"),
        ),
    )


class Translation(Base):
    """Texts of an actor or resource in another language, beside the original."""

    __tablename__ = "translations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    language: Mapped[str] = mapped_column(String(35))
    texts: Mapped[dict] = mapped_column(JSONB)  # field: translated text
    contribution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contributions.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("target_type", "target_id", "language"),)


class ModerationEvent(Base):
    """Everything moderators do. Append-only: a trigger refuses UPDATE and DELETE."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    moderator_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    action: Mapped[str] = mapped_column(String(30))
    contribution_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    target_type: Mapped[str | None] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class IdempotencyRecord(Base):
    """The first response to a POST with an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(SealedText())  # may echo private fields: sealed
    headers: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
