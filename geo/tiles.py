"""Vector tiles (Mapbox Vector Tile via PostGIS ST_AsMVT) and grid clusters, built in one
query each. Points that share a grid cell are merged into one feature with a count, so a
tile never carries more features than its grid has cells: dense areas are clustered, not
silently truncated. A cell holding a single point carries that point's properties."""

from __future__ import annotations

import math

from sqlalchemy import Integer, Select, Text, case, cast, func, literal_column, select

WEB_MERCATOR = 3857
EXTENT = 4096  # MVT coordinate resolution of a tile
GRID = 128  # cells per tile side: at most GRID² features per tile
EARTH_CIRCUMFERENCE_M = 2 * math.pi * 6378137


def tile_cell_m(z: int) -> float:
    return EARTH_CIRCUMFERENCE_M / (2**z) / GRID


def mvt(
    geometry, id_column, properties: dict, where: list, z: int, x: int, y: int, layer: str
) -> Select:
    """The whole tile as one bytea: clustered points with ``count``, and for single points
    their ``id`` and ``properties``."""
    envelope = func.ST_TileEnvelope(z, x, y)
    projected = func.ST_Transform(geometry, WEB_MERCATOR)
    points = (
        select(
            projected.label("g"),
            id_column.label("id"),
            *[c.label(n) for n, c in properties.items()],
        )
        # The 4326 index serves the filter; the tile's edge margin keeps clusters whole.
        .where(
            geometry.intersects(func.ST_Transform(func.ST_Expand(envelope, tile_cell_m(z)), 4326)),
            *where,
        )
        .subquery("points")
    )
    count = func.count()
    single = count == 1
    cells = (
        select(
            func.ST_AsMVTGeom(
                func.ST_Centroid(func.ST_Collect(points.c.g)), envelope, EXTENT, 64, True
            ).label("geom"),
            cast(count, Integer).label("count"),
            case((single, func.min(cast(points.c.id, Text))), else_=None).label("id"),
            *[
                case((single, func.min(points.c[name])), else_=None).label(name)
                for name in properties
            ],
        )
        .group_by(func.ST_SnapToGrid(points.c.g, tile_cell_m(z)))
        .subquery("t")
    )
    return (
        select(func.ST_AsMVT(literal_column("t"), layer, EXTENT, "geom"))
        .select_from(cells)
        .where(cells.c.geom.is_not(None))
    )


def clusters(geometry, id_column, properties: dict, where: list, cell_deg: float) -> Select:
    """Grid clusters in degrees for clients without tiles: a representative point (the
    centroid of the members), a count, and the member itself when it is alone."""
    count = func.count()
    single = count == 1
    return (
        select(
            func.ST_AsGeoJSON(func.ST_Centroid(func.ST_Collect(geometry)), 5).label("geometry"),
            count.label("count"),
            case((single, func.min(cast(id_column, Text))), else_=None).label("id"),
            *[case((single, func.min(c)), else_=None).label(n) for n, c in properties.items()],
        )
        .where(*where)
        .group_by(func.ST_SnapToGrid(geometry, cell_deg))
    )
