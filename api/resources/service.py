"""The library: create (on approval), read and search resources."""

from __future__ import annotations

import uuid

from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from api.actors.models import Actor
from api.content import area_column
from api.errors import NotFound
from api.permissions import is_staff
from api.principal import Principal
from api.resources.models import Resource
from api.revisions.service import Provenance, record_revision
from api.themes.service import check_theme_keys
from api.visibility import PUBLIC, is_public
from geo.privacy import coarsest, public_area


def create_resource(
    session: Session, data: dict, provenance: Provenance, *, disclaimers=()
) -> Resource:
    data = dict(data)
    check_theme_keys(session, data.get("themes", []))
    area = data.pop("area", None)
    resource = Resource(id=uuid.uuid4(), **data)
    resource.area = area_column(_as_precise_as_authors(session, area, resource.author_actor_ids))
    resource.disclaimers = list(disclaimers)
    session.add(resource)
    record_revision(
        session, resource, "resource", action="created", before=None, **provenance.asdict()
    )
    return resource


def _as_precise_as_authors(
    session: Session, area: BaseGeometry | None, author_ids
) -> BaseGeometry | None:
    """A resource's area says no more about where its authors work than their own public
    areas do: it is generalised to the coarsest of its authors' precisions (a report
    outlined around a protected organisation's office would otherwise place the office).
    Only the generalised area is kept: the library has no need of the drawn one."""
    authors = list(session.scalars(select(Actor).where(Actor.id.in_(author_ids or []))))
    if area is None or not authors:
        return area
    precision = coarsest(*(author.location_precision for author in authors))
    author = next(a for a in authors if a.location_precision == precision.value)
    return public_area(area, precision, author.country)


def follow_author_precision(session: Session, actor: Actor) -> None:
    """Make the areas of the resources ``actor`` wrote at most as precise as it now is."""
    _generalise_areas(session, Resource.author_actor_ids.any(actor.id))


def regeneralise_resource_areas(session: Session) -> None:
    """Generalise every stored resource area under the current rules
    (``flask privacy regeneralise``)."""
    _generalise_areas(session, func.cardinality(Resource.author_actor_ids) > 0)


def _generalise_areas(session: Session, which) -> None:
    for resource in session.scalars(select(Resource).where(which, Resource.area.is_not(None))):
        area = _as_precise_as_authors(session, to_shape(resource.area), resource.author_actor_ids)
        resource.area = area_column(area)


def get_resource(session: Session, resource_id: uuid.UUID, principal: Principal) -> Resource:
    resource = session.get(Resource, resource_id)
    if resource is None or not (
        is_staff(principal.user) or is_public(session, "resource", resource.id)
    ):
        raise NotFound(f"No resource with id {resource_id}.")
    return resource


def search_resources(session: Session, args: dict, *, limit: int) -> list[Resource]:
    stmt = select(Resource).where(PUBLIC["resource"])
    if types := args.get("type"):
        stmt = stmt.where(Resource.type.in_(types))
    if themes := args.get("theme"):
        stmt = stmt.where(Resource.themes.overlap(themes))
    if languages := args.get("language"):
        stmt = stmt.where(Resource.language.in_(languages))
    if countries := args.get("country"):
        stmt = stmt.where(Resource.countries.overlap(countries))
    if q := args.get("q"):
        query = func.websearch_to_tsquery("simple", q)
        stmt = stmt.where(
            or_(Resource.search_vector.op("@@")(query), literal(q).op("<%")(Resource.title))
        )
        rank = func.ts_rank_cd(Resource.search_vector, query) + func.word_similarity(
            q, Resource.title
        )
        stmt = stmt.order_by(rank.desc(), Resource.id)
    else:
        stmt = stmt.order_by(Resource.published_on.desc().nulls_last(), Resource.id)
    return list(session.scalars(stmt.limit(limit).offset(args["offset"])))
