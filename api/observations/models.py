"""First-hand observations from a place: the local knowledge the field undervalues."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.content import Located, Moderated
from api.db import Base
from api.privacy import track_public_changes


class Observation(Located, Moderated, Base):
    __tablename__ = "observations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(35))
    observed_on: Mapped[date] = mapped_column(Date)
    themes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=sql("'{}'"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("actors.id"))
    # Private: who reported it is shown to moderators only, never to the public.
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=sql("1"))

    # The version moves with public content only (api.privacy.track_public_changes).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    __table_args__ = (
        Index("ix_observations_public_location", "public_location", postgresql_using="gist"),
        Index("ix_observations_themes", "themes", postgresql_using="gin"),
        Index("ix_observations_observed_on", "observed_on", "id"),
    )


track_public_changes(Observation, "observation")
