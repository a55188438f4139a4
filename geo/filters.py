"""Spatial filter expressions for SQLAlchemy queries on EPSG:4326 point/area columns.

Distances are measured on the geography (metres on the spheroid), never in a projected
CRS such as EPSG:3857, which stretches distances away from the equator.
"""

from __future__ import annotations

from geoalchemy2 import Geography
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, cast, func, or_

from geo.geojson import SRID


def in_bbox(column, west: float, south: float, east: float, north: float) -> ColumnElement[bool]:
    """Points inside the bbox; a bbox whose west edge is east of its east edge crosses the
    antimeridian (RFC 7946 §5.2) and is the union of its two halves."""
    return in_box(column, west, south, east, north, crosses_antimeridian=west > east)


def in_box(column, west, south, east, north, *, crosses_antimeridian: bool) -> ColumnElement[bool]:
    """``in_bbox`` with edges that may be SQL expressions (bound parameters of a statement
    built once), so the caller says whether the box crosses the antimeridian."""
    if not crosses_antimeridian:
        return column.intersects(func.ST_MakeEnvelope(west, south, east, north, SRID))
    return or_(
        column.intersects(func.ST_MakeEnvelope(west, south, 180, north, SRID)),
        column.intersects(func.ST_MakeEnvelope(-180, south, east, north, SRID)),
    )


def as_geography(column):
    # A plain ``::geography`` (the column keeps its SRID): the expression the geography
    # indexes are built on. ``geography(GEOMETRY,4326)`` is another expression, which no
    # index matches: every near/radius search then scanned the whole table.
    return cast(column, Geography(geometry_type=None, srid=-1))


def point_geography(lon: float, lat: float):
    return cast(func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID), Geography(srid=SRID))


def within_km(column, lon: float, lat: float, radius_km: float) -> ColumnElement[bool]:
    return func.ST_DWithin(as_geography(column), point_geography(lon, lat), radius_km * 1000.0)


def distance_m(column, lon: float, lat: float):
    return func.ST_Distance(as_geography(column), point_geography(lon, lat))


def intersects(column, geometry: BaseGeometry) -> ColumnElement[bool]:
    return func.ST_Intersects(column, from_shape(geometry, srid=SRID))
