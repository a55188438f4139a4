"""Feature queries for map clients, answered by PostGIS: the JSON of a page of features is
assembled in the database, counts are capped, and every filter works on public geometries."""

from __future__ import annotations

import uuid
from functools import lru_cache

from sqlalchemy import JSON, Float, Integer, Text, bindparam, func, literal, select
from sqlalchemy.orm import Session

from api.ogc import cql2
from api.ogc.collections import COLLECTIONS, Collection, feature_json, queryables
from geo import filters, tiles

# numberMatched is exact up to this many matches and left out beyond: counting further
# would cost a scan that the answer does not need (OGC makes it optional).
COUNT_CAP = 2_000
WORLD = [-180.0, -90.0, 180.0, 90.0]


BBOX_EDGES = ("bbox_west", "bbox_south", "bbox_east", "bbox_north")


def filter_shape(collection: Collection, args: dict) -> tuple[tuple[str, ...], dict]:
    """The form of ``args``' filters (which of them are given) apart from their values.
    The hot statements (a page of features, its count, a tile) are built once per form and
    run with the values as bound parameters: building and hashing a statement costs the app
    more than PostgreSQL takes to run it. A CQL2 ``filter`` is not part of the form (its
    tree is built per request, see ``cql2_condition``)."""
    shape, values = [], {}
    if bbox := args.get("bbox"):
        west, _, east, _ = bbox
        shape.append("bbox_crossing" if west > east else "bbox")
        values.update(zip(BBOX_EDGES, bbox, strict=True))
    if (interval := args.get("datetime")) is not None and collection.updated is not None:
        start, end = interval
        if start is not None:
            shape.append("updated_from")
            values["updated_from"] = start
        if end is not None:
            shape.append("updated_to")
            values["updated_to"] = end
    for name in collection.filters:
        if chosen := args.get(name):
            shape.append(name)
            values[f"filter_{name}"] = list(chosen)
    return tuple(shape), values


@lru_cache(maxsize=256)
def shaped_conditions(collection_id: str, shape: tuple[str, ...]) -> tuple:
    """The WHERE clauses of a filter form, with bound parameters for its values: what the
    public may see (api.visibility), always, and each filter given."""
    collection = COLLECTIONS[collection_id]
    where = [collection.visible]
    if "bbox" in shape or "bbox_crossing" in shape:
        edges = (bindparam(name, type_=Float) for name in BBOX_EDGES)
        crossing = "bbox_crossing" in shape
        where.append(filters.in_box(collection.geometry, *edges, crosses_antimeridian=crossing))
    if "updated_from" in shape:
        where.append(collection.updated >= bindparam("updated_from", type_=collection.updated.type))
    if "updated_to" in shape:
        where.append(collection.updated <= bindparam("updated_to", type_=collection.updated.type))
    for name, (column, is_array) in collection.filters.items():
        if name in shape:
            key = f"filter_{name}"
            where.append(
                column.overlap(bindparam(key, type_=column.type))
                if is_array
                else column.in_(bindparam(key, expanding=True))
            )
    return tuple(where)


def cql2_condition(collection: Collection, args: dict):
    """The clause of a CQL2 ``filter``, or None."""
    if (text := args.get("filter")) is None:
        return None
    return cql2.to_sql(collection, text, args.get("filter_lang", cql2.TEXT))


def conditions(collection: Collection, args: dict) -> list:
    """The WHERE clauses of ``args``, their values bound in (for statements that are built
    per request: exports, clusters)."""
    shape, values = filter_shape(collection, args)
    where = [clause.params(values) for clause in shaped_conditions(collection.id, shape)]
    if (cql := cql2_condition(collection, args)) is not None:
        where.append(cql)
    return where


def sort_order(collection: Collection, sortby: list[str] | None) -> list:
    """ORDER BY for ``sortby`` (``name,-updated_at``: + ascending, - descending) on the
    collection's sortable queryables, the id last so that pages never overlap."""
    order, allowed = [], sortable(collection)
    for key in sortby or ():
        name = key.lstrip("+-")
        if name not in allowed:
            raise cql2.ParameterError(
                f"{name!r} is not a sortable property of {collection.id}; sort on "
                f"{', '.join(allowed)}.",
                "sortby",
            )
        column = cql2.as_text(collection.properties[name])
        order.append(
            column.desc().nulls_last() if key.startswith("-") else column.asc().nulls_last()
        )
    return [*order, collection.model.id]


def sortable(collection: Collection) -> list[str]:
    """The queryables with one value each (arrays and the geometry have no order)."""
    schema = queryables(collection)["properties"]
    return [
        name for name in collection.properties if schema[name].get("type") not in ("array", None)
    ]


def features_page(
    session: Session,
    collection: Collection,
    args: dict,
    *,
    limit: int,
    offset: int,
    language: tuple[str, ...] = (),
) -> tuple[str, int]:
    """The JSON text of one page's features array, and how many features it holds; texts
    in the reader's ``language`` where translated."""
    shape, values = filter_shape(collection, args)
    properties = args.get("properties")
    form = (
        collection.id,
        shape,
        tuple(sorted(properties)) if properties is not None else None,
        not args.get("skip_geometry", False),
        language,
        tuple(args.get("sortby") or ()),
    )
    cql = cql2_condition(collection, args)
    statement = _for_form(_page_statement, form, cql)
    text_, count = session.execute(statement, {**values, "limit": limit, "offset": offset}).one()
    return text_, count


@lru_cache(maxsize=512)
def _page_statement(collection_id, shape, properties, geometry, language, sortby, cql=None):
    collection = COLLECTIONS[collection_id]
    feature = feature_json(collection, properties, geometry=geometry, language=language)
    where = shaped_conditions(collection_id, shape)
    page = (
        select(feature.label("feature"))
        .where(*where, *([cql] if cql is not None else []))
        .order_by(*sort_order(collection, list(sortby)))
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery()
    )
    features = func.coalesce(func.json_agg(page.c.feature), literal("[]").cast(JSON))
    return select(features.cast(Text), func.count()).select_from(page)


def _for_form(build, form: tuple, cql):
    """The statement ``build`` makes for a filter form: the cached one, or with a CQL2
    filter (a tree of its own per request) one built for this request alone."""
    return build(*form) if cql is None else build.__wrapped__(*form, cql)


def number_matched(session: Session, collection: Collection, args: dict) -> int | None:
    """Exact when cheap (up to COUNT_CAP matches); None rather than a scan of millions."""
    shape, values = filter_shape(collection, args)
    cql = cql2_condition(collection, args)
    form = (collection.id, shape)
    statement = _for_form(_count_statement, form, cql)
    total = session.scalar(statement, values)
    return None if total > COUNT_CAP else total


@lru_cache(maxsize=256)
def _count_statement(collection_id, shape, cql=None):
    collection = COLLECTIONS[collection_id]
    where = shaped_conditions(collection_id, shape)
    capped = (
        select(literal(1))
        .select_from(collection.model)
        .where(*where, *([cql] if cql is not None else []))
        .limit(COUNT_CAP + 1)
    )
    return select(func.count()).select_from(capped.subquery())


def feature(
    session: Session, collection: Collection, feature_id: uuid.UUID, language: tuple[str, ...] = ()
) -> str | None:
    statement = _feature_statement(collection.id, language)
    return session.scalar(statement, {"feature_id": feature_id})


@lru_cache(maxsize=512)
def _feature_statement(collection_id: str, language: tuple[str, ...]):
    # Built once: constructing the JSON expression costs more than running the query.
    collection = COLLECTIONS[collection_id]
    return select(feature_json(collection, language=language).cast(Text)).where(
        collection.visible, collection.model.id == bindparam("feature_id")
    )


def extent(session: Session, collection: Collection) -> list[float]:
    """The box of what the public may see now: an item that leaves public view leaves the
    extent at once. Actors (up to millions): from the cell table the triggers keep, rounded
    outward to its cells, without reading the actors; the moderated collections: the extent
    of their visible rows. The world when nothing is visible."""
    if collection.id == "actors":
        box = tiles.cell_extent(session)
    else:
        geometry = func.ST_Extent(collection.geometry)
        box = session.execute(
            select(
                func.ST_XMin(geometry),
                func.ST_YMin(geometry),
                func.ST_XMax(geometry),
                func.ST_YMax(geometry),
            ).where(collection.visible)
        ).one()
    return WORLD if box is None or box[0] is None else [round(v, 5) for v in box]
