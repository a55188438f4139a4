"""The library: create (on approval), read and search resources."""

from __future__ import annotations

import uuid

from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from api.content import area_column
from api.errors import NotFound
from api.permissions import is_staff
from api.principal import Principal
from api.resources.models import Resource
from api.revisions.service import Provenance, record_revision
from api.themes.service import check_theme_keys
from api.visibility import PUBLIC, is_public


def create_resource(
    session: Session, data: dict, provenance: Provenance, *, disclaimers=()
) -> Resource:
    data = dict(data)
    check_theme_keys(session, data.get("themes", []))
    resource = Resource(id=uuid.uuid4(), area=area_column(data.pop("area", None)), **data)
    resource.disclaimers = list(disclaimers)
    session.add(resource)
    record_revision(
        session, resource, "resource", action="created", before=None, **provenance.asdict()
    )
    return resource


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
