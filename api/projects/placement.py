"""A project's area follows its organisation's precision, like the organisation's own area
of operation: the area as drawn is private, and the public area (what every public output
and spatial filter of projects, reports and comparisons uses) is generalised to the
actor's precision and country when written, and again whenever they change."""

from __future__ import annotations

from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.actors.models import Actor
from api.content import area_column
from api.projects.models import Project
from geo.privacy import public_area


def place_project_area(project: Project, area: BaseGeometry | None, actor: Actor) -> None:
    """Set a project's area as drawn and its public area at ``actor``'s precision."""
    project.area = area_column(area)
    _generalise(project, actor)


def _generalise(project: Project, actor: Actor) -> None:
    if project.area is None:
        project.public_area = None
        return
    shown = public_area(to_shape(project.area), actor.location_precision, actor.country)
    project.public_area = area_column(shown)


def follow_actor_placement(session: Session, actor: Actor) -> None:
    """Re-generalise the areas of ``actor``'s projects after its precision or country changed."""
    projects = select(Project).where(Project.actor_id == actor.id, Project.area.is_not(None))
    for project in session.scalars(projects):
        _generalise(project, actor)
