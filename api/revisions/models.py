"""Revisions: every published change to an actor, resource or observation, kept forever."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.crypto import SealedFields
from api.db import Base


class Revision(Base):
    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Who changed it (a contribution's author, a manager, a moderator) and who approved it.
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    contribution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contributions.id"))
    action: Mapped[str] = mapped_column(String(20))  # created, edited, reverted, merged, hidden…
    # Private fields (exact location, contact) are sealed inside both (api.crypto).
    changes: Mapped[dict] = mapped_column(SealedFields())  # field: [old, new]
    snapshot: Mapped[dict] = mapped_column(SealedFields())  # the whole content after the change

    __table_args__ = (UniqueConstraint("target_type", "target_id", "number"),)
