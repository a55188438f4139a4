"""Subscriptions and their deliveries (the delivery log), one attempt per row."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.crypto import SealedText
from api.db import Base

# What one can subscribe to: the outcomes of one's (or one's organisation's) contributions,
# changes to public actor profiles, new public library resources.
TOPICS = ("contributions", "actors", "library")
DIGESTS = ("daily", "weekly")
# pending: waits for the worker (or the digest); retrying: failed, tried again at
# next_attempt_at; delivered / digested: done; failed: gave up; dropped: the item left
# public view before it could be sent, so nothing was sent.
DELIVERY_STATUSES = ("pending", "retrying", "delivered", "digested", "failed", "dropped")


class SealedSecret(SealedText):
    cache_ok = True
    purpose = "webhook_secret"


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("(url IS NULL) <> (digest IS NULL)", name="one_channel"),
        CheckConstraint("(url IS NULL) = (secret IS NULL)", name="secret_with_url"),
        Index("ix_subscriptions_topic_active", "topic", postgresql_where=text("NOT paused")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # Who made it, and the mailbox of its digests; with actor_id, it is the organisation's.
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(20))
    # Filters on the public representation only (all that are set must match).
    area: Mapped[WKBElement | None] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))
    country: Mapped[str | None] = mapped_column(String(2))
    theme: Mapped[str | None] = mapped_column(String(64))
    # The channel: a webhook (url + secret) or an email digest.
    url: Mapped[str | None] = mapped_column(String(2000))
    secret: Mapped[str | None] = mapped_column(SealedSecret())
    digest: Mapped[str | None] = mapped_column(String(10))
    paused: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    """One event for one subscription: its webhook id, state and next attempt."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_subscription_occurred", "subscription_id", "occurred_at"),
        Index(
            "ix_deliveries_status",
            "status",
            postgresql_where=text("status IN ('pending', 'retrying')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    response_code: Mapped[int | None] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def webhook_id(self) -> str:
        """The ``webhook-id`` header: the same on every attempt and replay, so a receiver
        can drop what it has already handled."""
        return f"msg_{self.id.hex}"


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    response_code: Mapped[int | None] = mapped_column(Integer)  # None: no HTTP answer
    error: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[int] = mapped_column(Integer)
