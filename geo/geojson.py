"""Parsing and validating GeoJSON geometries (RFC 7946) with shapely.

Input is refused, never silently repaired, with the reason shapely gives: a client that
sent a self-intersecting polygon should learn so rather than find a different shape
stored. Everything is WGS 84 (EPSG:4326), longitude first.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

SRID = 4326
GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
)
# How deep the coordinate arrays of each type nest (a Point is [x, y]: depth 1).
_DEPTH = {
    "Point": 1,
    "MultiPoint": 2,
    "LineString": 2,
    "MultiLineString": 3,
    "Polygon": 3,
    "MultiPolygon": 4,
}


class GeometryError(ValueError):
    """The input is not an acceptable geometry; the message says why."""


def parse_geometry(
    value: object,
    *,
    allowed: Iterable[str] = GEOMETRY_TYPES,
    max_vertices: int = 10_000,
) -> BaseGeometry:
    """Turn a GeoJSON geometry object into a valid, non-empty shapely geometry."""
    allowed = tuple(allowed)
    if not isinstance(value, dict):
        raise GeometryError("must be a GeoJSON geometry object")
    kind = value.get("type")
    if kind not in allowed:
        raise GeometryError(f"type must be one of {', '.join(allowed)} (got {kind!r})")
    unknown = set(value) - {"type", "coordinates", "bbox"}
    if unknown:
        raise GeometryError(f"unexpected member(s): {', '.join(sorted(unknown))}")
    coordinates = value.get("coordinates")
    if not isinstance(coordinates, list):
        raise GeometryError("coordinates must be an array")
    positions = list(_positions(coordinates, _DEPTH[kind]))
    if len(positions) > max_vertices:
        raise GeometryError(f"has {len(positions)} vertices; the limit is {max_vertices}")
    for lon, lat in positions:
        if not -180 <= lon <= 180:
            raise GeometryError(f"longitude {lon} is outside -180..180")
        if not -90 <= lat <= 90:
            raise GeometryError(f"latitude {lat} is outside -90..90")
    if kind in ("Polygon", "MultiPolygon"):
        polygons = [coordinates] if kind == "Polygon" else coordinates
        for polygon in polygons:
            _check_rings(polygon)
    try:
        geometry = shape({"type": kind, "coordinates": coordinates})
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        raise GeometryError(f"is not a valid {kind}: {exc}") from None
    if geometry.is_empty:
        raise GeometryError("is empty")
    if not geometry.is_valid:
        raise GeometryError(f"is not valid: {shapely.is_valid_reason(geometry)}")
    return geometry


def _positions(coordinates: list, depth: int) -> Iterable[tuple[float, float]]:
    if depth == 1:
        if len(coordinates) not in (2, 3) or not all(
            isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates
        ):
            raise GeometryError("each position must be [longitude, latitude] numbers")
        yield float(coordinates[0]), float(coordinates[1])
        return
    for item in coordinates:
        if not isinstance(item, list):
            raise GeometryError("coordinates are not nested as the type requires")
        yield from _positions(item, depth - 1)


def _check_rings(polygon: list) -> None:
    if not polygon:
        raise GeometryError("a polygon needs at least one ring")
    for ring in polygon:
        if len(ring) < 4:
            raise GeometryError("a polygon ring needs at least 4 positions")
        if ring[0][:2] != ring[-1][:2]:
            raise GeometryError("a polygon ring must be closed (first position = last position)")


def to_geojson(geometry: BaseGeometry) -> dict:
    return mapping(geometry)


def short_way_round(geometry: BaseGeometry) -> BaseGeometry:
    """A polygon whose edges jump more than 180° of longitude crosses the antimeridian: it
    is read the short way round (RFC 7946 §3.1.9) and split there into a MultiPolygon,
    rather than wrapped the long way around the world."""
    polygons = list(getattr(geometry, "geoms", [geometry]))
    if not any(_jumps(polygon) for polygon in polygons):
        return geometry
    east, west = shapely.box(0, -90, 180, 90), shapely.box(180, -90, 360, 90)
    parts = []
    for polygon in polygons:
        if not _jumps(polygon):
            parts.append(polygon)
            continue
        unwrapped = shapely.transform(
            polygon,
            lambda xy: np.column_stack(
                [np.where(xy[:, 0] < 0, xy[:, 0] + 360, xy[:, 0]), xy[:, 1]]
            ),
        )
        parts.append(unwrapped.intersection(east))
        parts.append(shapely.affinity.translate(unwrapped.intersection(west), xoff=-360))
    pieces = [
        piece
        for part in parts
        for piece in getattr(part, "geoms", [part])
        if piece.geom_type == "Polygon" and not piece.is_empty
    ]
    return shapely.MultiPolygon(pieces)


def _jumps(polygon) -> bool:
    rings = [polygon.exterior, *polygon.interiors]
    return any(bool((np.abs(np.diff(np.asarray(r.coords)[:, 0])) > 180).any()) for r in rings)


def _east_of_greenwich(xy):
    return np.column_stack([np.where(xy[:, 0] < 0, xy[:, 0] + 360, xy[:, 0]), xy[:, 1]])
