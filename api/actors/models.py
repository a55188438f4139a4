"""The actor table: one row per profile, with its exact and public locations."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Enum,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.content import PRIVATE_GROUP, Located, Moderated
from api.crypto import SealedArea, SealedJSON
from api.db import Base
from api.privacy import track_public_changes

ACTOR_KINDS = (
    "organisation",
    "practitioner",
    "academic",
    "network",
    "funder",
    "government",
    "media",
)
ACTOR_STATUSES = ("draft", "published", "archived")


def _enum(values, name):
    return Enum(*values, name=name, native_enum=True, validate_strings=True)


class Actor(Located, Moderated, Base):
    __tablename__ = "actors"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(_enum(ACTOR_KINDS, "actor_kind"))
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), server_default="")
    description: Mapped[str] = mapped_column(Text, server_default="")
    language: Mapped[str] = mapped_column(String(35))  # BCP 47 tag of the texts above
    website: Mapped[str | None] = mapped_column(String(2000))
    links: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # Private: never shown to the public (email, phone, messaging handles, notes). Sealed at
    # rest (api.crypto); no contact at all is stored as NULL.
    contact: Mapped[dict] = mapped_column(
        SealedJSON(), nullable=True, default=dict, deferred=True, deferred_group=PRIVATE_GROUP
    )
    working_languages: Mapped[list[str]] = mapped_column(
        ARRAY(String(35)), server_default=text("'{}'")
    )
    themes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=text("'{}'"))
    # location (restricted), location_precision, public_location, country: see Located.
    countries: Mapped[list[str]] = mapped_column(ARRAY(String(2)), server_default=text("'{}'"))
    # Private: the area of operation as drawn. The public sees public_area, generalised to
    # the location's precision when written (api.content.place_area).
    # Sealed at rest (api.crypto), loaded with the other private columns.
    area: Mapped[WKBElement | None] = mapped_column(
        SealedArea(), deferred=True, deferred_group=PRIVATE_GROUP
    )
    public_area: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )
    founded_year: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(_enum(ACTOR_STATUSES, "actor_status"))
    verified: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('simple', name), 'A')"
            " || setweight(to_tsvector('simple', coalesce(summary, '')), 'B')",
            persisted=True,
        ),
        deferred=True,
    )

    # The version moves with public content only (api.privacy.track_public_changes).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    __table_args__ = (
        CheckConstraint("founded_year BETWEEN 1800 AND 2100", name="founded_year_range"),
        Index("ix_actors_public_location", "public_location", postgresql_using="gist"),
        Index(
            "ix_actors_public_geography",
            text("(public_location::geography)"),
            postgresql_using="gist",
        ),
        Index("ix_actors_public_area", "public_area", postgresql_using="gist"),
        Index("ix_actors_themes", "themes", postgresql_using="gin"),
        Index("ix_actors_countries", "countries", postgresql_using="gin"),
        Index("ix_actors_working_languages", "working_languages", postgresql_using="gin"),
        Index("ix_actors_search_vector", "search_vector", postgresql_using="gin"),
        # the name's own words (the vector's weight A): text search's first tier
        # (api.actors.service, migrations 0023 and 0025)
        Index(
            "ix_actors_name_words",
            text("ts_filter(search_vector, '{a}')"),
            postgresql_using="gin",
        ),
        Index(
            "ix_actors_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        Index("ix_actors_status_name", "status", "name", "id"),
        Index("ix_actors_status_updated", "status", "updated_at", "id"),
        Index("ix_actors_updated", "updated_at", "id"),  # the changes feed, tombstones too
        Index("ix_actors_country", "country"),
        # theme with country, public actors: their (country, theme) pairs (migration 0024)
        Index(
            "ix_actors_theme_places",
            text("actor_theme_places(themes, country, countries)"),
            postgresql_using="gin",
            postgresql_where=text("status = 'published' AND hidden IS false"),
        ),
    )


track_public_changes(Actor, "actor")
