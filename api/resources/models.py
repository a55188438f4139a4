"""The library: reports, evaluations, briefs, tools, datasets and lessons from failure."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Computed, Date, DateTime, Enum, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.content import Moderated
from api.db import Base

RESOURCE_TYPES = ("report", "evaluation", "brief", "tool", "dataset", "lesson_from_failure")


class Resource(Moderated, Base):
    __tablename__ = "resources"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(Enum(*RESOURCE_TYPES, name="resource_type"))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, server_default="")
    url: Mapped[str] = mapped_column(String(2000))
    language: Mapped[str] = mapped_column(String(35))
    themes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=text("'{}'"))
    countries: Mapped[list[str]] = mapped_column(ARRAY(String(2)), server_default=text("'{}'"))
    area: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )
    published_on: Mapped[date | None] = mapped_column(Date)
    author_actor_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), server_default=text("'{}'")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('simple', title), 'A')"
            " || setweight(to_tsvector('simple', coalesce(summary, '')), 'B')",
            persisted=True,
        ),
        deferred=True,
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_resources_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_resources_themes", "themes", postgresql_using="gin"),
        Index("ix_resources_countries", "countries", postgresql_using="gin"),
        Index("ix_resources_area", "area", postgresql_using="gist"),
        Index("ix_resources_updated", "updated_at", "id"),
    )
