"""Vector tiles (Mapbox Vector Tile via PostGIS ST_AsMVT) and grid clusters, built in one
query each. Points that share a grid cell are merged into one feature with a count, so a
tile never carries more features than its grid has cells: dense areas are clustered, not
silently truncated. A cell holding a single point carries that point's properties.

Cells are computed with plain arithmetic on coordinates (floor of x / cell size) and
represented by the mean of their points: far cheaper than building geometries for the
hundreds of thousands of points a low-zoom tile covers."""

from __future__ import annotations

import math

from sqlalchemy import (
    Float,
    Integer,
    Select,
    Text,
    bindparam,
    case,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

WEB_MERCATOR = 3857
EXTENT = 4096  # MVT coordinate resolution of a tile
GRID = 128  # cells per tile side: at most GRID² features per tile
HALF_WORLD_M = 20037508.342789244  # half the Web Mercator world, in metres


def tile_cell_m(z: int) -> float:
    return 2 * HALF_WORLD_M / (2**z) / GRID


def _mercator(geometry):
    """Web Mercator x, y of a lon/lat point, by formula (no per-row geometry work)."""
    lon, lat = func.ST_X(geometry), func.ST_Y(geometry)
    clamped = func.greatest(func.least(lat, 85.05112878), -85.05112878)
    x = lon * (HALF_WORLD_M / 180.0)
    y = func.ln(func.tan((90.0 + clamped) * (math.pi / 360.0))) * (HALF_WORLD_M / math.pi)
    return x, y


def _cells(x, y, id_column, properties: dict, where: list, cell: float) -> Select:
    """One row per non-empty cell: mean position, count, and a lone member's properties."""
    points = (
        select(
            x.label("x"),
            y.label("y"),
            cast(id_column, Text).label("id"),
            *[c.label(n) for n, c in properties.items()],
        )
        .where(*where)
        .subquery("points")
    )
    count = func.count()
    single = count == 1
    return select(
        func.avg(points.c.x).label("x"),
        func.avg(points.c.y).label("y"),
        cast(count, Integer).label("count"),
        case((single, func.min(points.c.id)), else_=None).label("id"),
        *[case((single, func.min(points.c[name])), else_=None).label(name) for name in properties],
    ).group_by(func.floor(points.c.x / cell), func.floor(points.c.y / cell))


# The tile's address as bound parameters: a tile statement is built once for its form and
# run for any tile (building and hashing it costs more than PostgreSQL takes to run it).
TILE_Z = bindparam("tile_z", type_=Integer)
TILE_X = bindparam("tile_x", type_=Integer)
TILE_Y = bindparam("tile_y", type_=Integer)
TILE_CELL = bindparam("tile_cell", type_=Float)  # tile_cell_m(z)


def tile_parameters(z: int, x: int, y: int) -> dict:
    """The values of a tile statement's parameters (``mvt``, ``cell_level_mvt``)."""
    size = tile_cell_m(z)
    width = 2 * HALF_WORLD_M / (2**z)
    west, north = -HALF_WORLD_M + x * width, HALF_WORLD_M - y * width
    return {
        "tile_z": z,
        "tile_x": x,
        "tile_y": y,
        "tile_cell": size,
        # the cell table's cells that can fall in the tile (a margin of one on the low side)
        "cx_min": math.floor(west / size) - 1,
        "cx_max": math.floor((west + width) / size),
        "cy_min": math.floor((north - width) / size) - 1,
        "cy_max": math.floor(north / size),
    }


def mvt(geometry, id_column, properties: dict, where: list, layer: str) -> Select:
    """The whole tile as one bytea: clustered points with ``count``, and for single points
    their ``id`` and ``properties``. The tile is given by ``tile_parameters``."""
    envelope = func.ST_TileEnvelope(TILE_Z, TILE_X, TILE_Y)
    mx, my = _mercator(geometry)
    # The 4326 index serves the filter; a margin of one cell keeps edge clusters whole.
    in_tile = geometry.intersects(func.ST_Transform(func.ST_Expand(envelope, TILE_CELL), 4326))
    cells = _cells(mx, my, id_column, properties, [in_tile, *where], TILE_CELL).subquery("cells")
    point = func.ST_SetSRID(func.ST_MakePoint(cells.c.x, cells.c.y), WEB_MERCATOR)
    # A stable order: the same actors in the same places make the same bytes (and ETag).
    features = (
        select(
            func.ST_AsMVTGeom(point, envelope, EXTENT, 64, True).label("geom"),
            *[cells.c[name] for name in ("count", "id", *properties)],
        )
        .order_by(cells.c.x, cells.c.y)
        .subquery("t")
    )
    return (
        select(func.ST_AsMVT(literal_column("t"), layer, EXTENT, "geom"))
        .select_from(features)
        .where(features.c.geom.is_not(None))
    )


CELL_LEVELS = 8  # zooms 0-8 are served from the maintained cell table (migration 0005)


ACTOR_CELLS = table(
    "actor_cells", column("z"), column("cx"), column("cy"), column("n"), column("sx"), column("sy")
)


def cell_level_mvt(geometry, id_column, properties: dict, where: list, layer: str) -> Select:
    """An unfiltered low-zoom tile from the ``actor_cells`` table: a cluster per cell (count
    and mean position), and for a cell of one, that member's ``id`` and ``properties``, found
    through the geometry's index within the cell, so that clients style by kind at every
    zoom. ``where`` is the visibility rule the triggers keep the table by. The tile is given
    by ``tile_parameters``."""
    size = TILE_CELL
    cells = ACTOR_CELLS
    envelope = func.ST_TileEnvelope(TILE_Z, TILE_X, TILE_Y)
    cell_box = func.ST_MakeEnvelope(
        cells.c.cx * size,
        cells.c.cy * size,
        (cells.c.cx + 1) * size,
        (cells.c.cy + 1) * size,
        WEB_MERCATOR,
    )
    mx, my = _mercator(geometry)
    member = (
        select(cast(id_column, Text).label("id"), *[c.label(n) for n, c in properties.items()])
        .where(
            cells.c.n == 1,
            # the index finds the candidates, the same formula as the triggers decides
            geometry.intersects(func.ST_Expand(func.ST_Transform(cell_box, 4326), 1e-9)),
            func.floor(mx / size) == cells.c.cx,
            func.floor(my / size) == cells.c.cy,
            *where,
        )
        .limit(1)
        .lateral("member")
    )
    point = func.ST_SetSRID(
        func.ST_MakePoint(cells.c.sx / cells.c.n, cells.c.sy / cells.c.n), WEB_MERCATOR
    )
    features = (
        select(
            func.ST_AsMVTGeom(point, envelope, EXTENT, 64, True).label("geom"),
            cells.c.n.label("count"),
            *[member.c[name] for name in ("id", *properties)],
        )
        .select_from(cells.outerjoin(member, literal_column("true")))
        .where(
            cells.c.z == TILE_Z,
            cells.c.cx.between(
                bindparam("cx_min", type_=Integer), bindparam("cx_max", type_=Integer)
            ),
            cells.c.cy.between(
                bindparam("cy_min", type_=Integer), bindparam("cy_max", type_=Integer)
            ),
        )
        .order_by(cells.c.cx, cells.c.cy)
        .subquery("t")
    )
    return (
        select(func.ST_AsMVT(literal_column("t"), layer, EXTENT, "geom"))
        .select_from(features)
        .where(features.c.geom.is_not(None))
    )


EXTENT_LEVEL = 4  # cells of about 20 km: a few thousand rows at most for the whole world


def cell_extent(session: Session) -> list[float] | None:
    """The lon/lat box of the visible actors, rounded outward to the cells of one level of
    ``actor_cells``: read from the small table the triggers keep current, so an actor that
    leaves public view leaves the extent in the same transaction. None when it is empty."""
    size = tile_cell_m(EXTENT_LEVEL)
    box = session.execute(
        text("SELECT min(cx), min(cy), max(cx) + 1, max(cy) + 1 FROM actor_cells WHERE z = :z"),
        {"z": EXTENT_LEVEL},
    ).one()
    if box[0] is None:
        return None
    west, south, east, north = (value * size for value in box)
    return [
        max(-180.0, _lon(west)),
        max(-90.0, _lat(south)),
        min(180.0, _lon(east)),
        min(90.0, _lat(north)),
    ]


def _lon(x: float) -> float:
    return x * 180.0 / HALF_WORLD_M


def _lat(y: float) -> float:
    return math.degrees(math.atan(math.sinh(y * math.pi / HALF_WORLD_M)))


def clusters(geometry, id_column, properties: dict, where: list, cell_deg: float) -> Select:
    """Grid clusters in degrees for clients without tiles: the mean position of the
    members, their count, and the member itself when it is alone."""
    lon, lat = cast(func.ST_X(geometry), Float), cast(func.ST_Y(geometry), Float)
    return _cells(lon, lat, id_column, properties, where, cell_deg)
