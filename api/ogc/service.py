"""Feature queries for map clients, answered by PostGIS: the JSON of a page of features is
assembled in the database, counts are capped, and every filter works on public geometries."""

from __future__ import annotations

import uuid
from functools import lru_cache

from sqlalchemy import JSON, Text, bindparam, func, literal, select
from sqlalchemy.orm import Session

from api.ogc import cql2
from api.ogc.collections import COLLECTIONS, Collection, feature_json, queryables
from geo import filters, tiles

# numberMatched is exact up to this many matches and left out beyond: counting further
# would cost a scan that the answer does not need (OGC makes it optional).
COUNT_CAP = 2_000
WORLD = [-180.0, -90.0, 180.0, 90.0]


def conditions(collection: Collection, args: dict) -> list:
    where = [collection.visible]
    if bbox := args.get("bbox"):
        where.append(filters.in_bbox(collection.geometry, *bbox))
    if (interval := args.get("datetime")) is not None and collection.updated is not None:
        start, end = interval
        if start is not None:
            where.append(collection.updated >= start)
        if end is not None:
            where.append(collection.updated <= end)
    for name, (column, is_array) in collection.filters.items():
        if values := args.get(name):
            where.append(column.overlap(values) if is_array else column.in_(values))
    if (text := args.get("filter")) is not None:
        where.append(cql2.to_sql(collection, text, args.get("filter_lang", cql2.TEXT)))
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
    feature = feature_json(
        collection,
        args.get("properties"),
        geometry=not args.get("skip_geometry", False),
        language=language,
    )
    page = (
        select(feature.label("feature"))
        .where(*conditions(collection, args))
        .order_by(*sort_order(collection, args.get("sortby")))
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    features = func.coalesce(func.json_agg(page.c.feature), literal("[]").cast(JSON))
    text_, count = session.execute(
        select(features.cast(Text), func.count()).select_from(page)
    ).one()
    return text_, count


def number_matched(session: Session, collection: Collection, args: dict) -> int | None:
    """Exact when cheap (up to COUNT_CAP matches); None rather than a scan of millions."""
    capped = (
        select(literal(1))
        .select_from(collection.model)
        .where(*conditions(collection, args))
        .limit(COUNT_CAP + 1)
    )
    total = session.scalar(select(func.count()).select_from(capped.subquery()))
    return None if total > COUNT_CAP else total


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
