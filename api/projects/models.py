"""Projects of organisations and the indicator values they post for peace metrics."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.content import PRIVATE_GROUP, Moderated
from api.crypto import SealedArea
from api.db import Base


class Project(Moderated, Base):
    """An organisation's project: public when published and its organisation is (see
    api.visibility); moderators can hide it or attach disclaimers, as flags ask."""

    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("actors.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, server_default="")
    countries: Mapped[list[str]] = mapped_column(ARRAY(String(2)), server_default=text("'{}'"))
    # Private: the area as drawn, sealed at rest (api.crypto). The public sees public_area,
    # generalised to its organisation's precision when written, like the organisation's own
    # area of operation (api.projects.placement), and every spatial filter uses it.
    area: Mapped[WKBElement | None] = mapped_column(
        SealedArea(), deferred=True, deferred_group=PRIVATE_GROUP
    )
    public_area: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )
    population: Mapped[int | None] = mapped_column(BigInteger)  # of the area, where rates need it
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    themes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=text("'{}'"))
    status: Mapped[str] = mapped_column(
        Enum("draft", "published", name="project_status"), server_default="draft"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_projects_public_area", "public_area", postgresql_using="gist"),
        Index("ix_projects_countries", "countries", postgresql_using="gin"),
        Index("ix_projects_themes", "themes", postgresql_using="gin"),
    )


class ProjectIndicator(Base):
    """A project's own lived-experience indicator, scored like a standard measure."""

    __tablename__ = "project_indicators"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[dict] = mapped_column(JSONB)  # a measure as in a framework document
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IndicatorValue(Base):
    """One posted value. A correction supersedes it; it is kept, never overwritten."""

    __tablename__ = "indicator_values"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    measure: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(64))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    sample_size: Mapped[int | None] = mapped_column(Integer)
    # Cluster or weighted surveys: one or the other, never both (metrics.report.Value).
    design_effect: Mapped[float | None] = mapped_column(Float)
    effective_sample_size: Mapped[float | None] = mapped_column(Float)
    disaggregation: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    group_key: Mapped[str] = mapped_column(
        String(500), server_default=""
    )  # canonical disaggregation
    pillar: Mapped[str] = mapped_column(String(40))
    paired: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    source: Mapped[str] = mapped_column(Text, server_default="")
    note: Mapped[str] = mapped_column(Text, server_default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    superseded_by: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_indicator_values_project", "project_id", "superseded_at"),
        CheckConstraint(
            "(design_effect IS NULL OR design_effect > 0) "
            "AND (effective_sample_size IS NULL OR effective_sample_size > 0) "
            "AND (design_effect IS NULL OR effective_sample_size IS NULL)",
            name="design_effect_or_effective_size",
        ),
        # One current value per project, measure, period and group.
        Index(
            "uq_indicator_values_current",
            "project_id",
            "measure",
            "period",
            "group_key",
            unique=True,
            postgresql_where=text("superseded_at IS NULL"),
        ),
    )


class LatestTotals(Base):
    """Each project's latest period and that period's totals (values without groups),
    measure by measure in parallel arrays: what a comparison reads. Kept by triggers on
    indicator_values in the same transaction as every change (migration 0018); the service
    never writes it."""

    __tablename__ = "latest_totals"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(64))
    measures: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    vals: Mapped[list[float]] = mapped_column(ARRAY(Float))
    sample_sizes: Mapped[list[int | None]] = mapped_column(ARRAY(Integer))
    # NULL when none of the totals has one (most surveys are simple random samples).
    design_effects: Mapped[list[float | None] | None] = mapped_column(ARRAY(Float))
    effective_sample_sizes: Mapped[list[float | None] | None] = mapped_column(ARRAY(Float))


class SurveyMapping(Base):
    """A project's saved mapping from a survey form's questions and answer choices to
    measures (metrics.survey), by name: one per form, say."""

    __tablename__ = "survey_mappings"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    mapping: Mapped[dict] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SurveyResponse(Base):
    """A respondent's answers to the mapped questions only (never names, phones, places or
    free text), kept when the organisation asks for it; by default none are."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    upload_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    line: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_survey_responses_upload", "project_id", "upload_id", "line"),)
