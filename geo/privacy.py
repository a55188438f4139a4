"""Location generalisation: the public location of an actor or observation.

People on the map may live under regimes or armed groups that would harm them, so only
``exact`` locations are published as given. For the other precision levels the public
location is computed **once, when the location is written**, and stored beside the exact
one; every public query (filters, distance, counts, tiles, exports) uses it. It is a
deterministic snap, never fresh random jitter per request (which averaging would undo):

- ``locality``: the centre of the 0.1° grid cell (about 11 km) holding the point;
- ``region``: the centre of the 1° grid cell (about 110 km) holding the point;
- ``country``: the country's representative point.

A cell centre that falls outside the actor's country (cells cut by a border or a
coast) is replaced by a representative point of the part of the cell inside that
country, so the public point stays in the same cell *and* the same country. Whatever
the exact point, all actors in the same cell and country share one public point: a
sequence of small bbox or radius queries cannot narrow it down further than the cell.
"""

from __future__ import annotations

import math
from enum import StrEnum
from functools import cache, lru_cache

import numpy as np
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geo import countries as country_data


class Precision(StrEnum):
    EXACT = "exact"
    LOCALITY = "locality"
    REGION = "region"
    COUNTRY = "country"


# From the finest to the coarsest.
ORDER = (Precision.EXACT, Precision.LOCALITY, Precision.REGION, Precision.COUNTRY)


def coarsest(*precisions: Precision | str) -> Precision:
    """The least precise of ``precisions`` (e.g. of an observation and the actor it names)."""
    return max((Precision(p) for p in precisions), key=ORDER.index)


CELL_SIZE_DEG = {Precision.LOCALITY: 0.1, Precision.REGION: 1.0}
# Decimal places kept in a public coordinate: 5 is ~1 m, 3 is ~100 m (finer than a cell).
EXACT_DECIMALS = 5
GENERALISED_DECIMALS = 3


def public_point(
    lon: float, lat: float, precision: Precision | str, country: str | None
) -> tuple[float, float]:
    """The point the public may see for an exact point at ``precision``."""
    precision = Precision(precision)
    if precision is Precision.EXACT:
        return round(lon, EXACT_DECIMALS), round(lat, EXACT_DECIMALS)
    if precision is Precision.COUNTRY:
        if country is None:
            raise ValueError("country precision needs a country")
        return country_data.countries()[country].point
    size = CELL_SIZE_DEG[precision]
    # Points exactly on the antimeridian or a pole belong to the last cell, not a new one.
    column = min(math.floor((lon + 180) / size), round(360 / size) - 1)
    row = min(math.floor((lat + 90) / size), round(180 / size) - 1)
    return _cell_point(column, row, size, country)


# A cell's part inside the country must be at least this share of the whole cell: the
# promise of a precision level is an area, not a cell that a border or a coast has cut.
MIN_SHARE = 0.5


@lru_cache(maxsize=65536)
def _cell_point(column: int, row: int, size: float, country: str | None) -> tuple[float, float]:
    """The public point of every exact point in this cell (and country)."""
    boundary = None if country is None else country_data.countries()[country].boundary
    if boundary is None:  # no outline to cut the cell with: its centre
        return _rounded(_centre(column, row, size))
    stand_in = _stand_in(column, row, size, country)
    if stand_in is None:
        return country_data.countries()[country].point
    return _own_point(*stand_in, size, country)


@lru_cache(maxsize=65536)
def _stand_in(column: int, row: int, size: float, country: str) -> tuple[int, int] | None:
    """The cell whose public point stands for this one: itself when at least half of it is
    in the country; else the nearest cell that is (the first ring of neighbours that has
    one); None when no cell of this size is, and the whole country stands for it. (A cell
    far from its country, which only unchecked bulk data can hold, gets the country.)"""
    if _share(column, row, size, country) >= MIN_SHARE:
        return column, row
    if _distance(column, row, size, country) > country_data.BORDER_TOLERANCE_DEG:
        return None
    for ring in _rings(column, row, size, country):
        shares = [(_share(c, r, size, country), c, r) for c, r in _touching(ring, size, country)]
        best = max(
            (s for s in shares if s[0] >= MIN_SHARE),
            key=lambda s: (s[0], -abs(s[1] - column) - abs(s[2] - row), s[1], s[2]),
            default=None,
        )
        if best is not None:
            return best[1], best[2]
    return None


# An area of operation spanning more cells than this is published as its bounding box on
# the grid: it says nothing about where the office is, and a phone need not draw it.
MAX_AREA_CELLS = 400
# A cell is part of a public area when the area covers at least this share of it: an area
# drawn tightly around an office must not tell which side of a cell edge the office is on.
MIN_COVER = 0.25


def public_area(area: BaseGeometry, precision: Precision | str, country: str | None):
    """The area of operation the public may see: as drawn for ``exact`` actors; otherwise
    the cells of the precision's grid that it covers at least a quarter of (or, for a
    smaller area, the cell holding it), each replaced by the cell that stands for it in the
    actor's country as for the public point, so that a small area drawn around an office
    says no more than the public point; at ``country`` precision, the bounding boxes of the
    countries it touches."""
    precision = Precision(precision)
    if precision is Precision.EXACT:
        return area
    if precision is Precision.COUNTRY:
        outlines = country_data.countries_touching(area) | ({country} if country else set())
        return shapely.union_all([_outline_box(code) for code in sorted(outlines)])
    size = CELL_SIZE_DEG[precision]
    west, south, east, north = area.bounds
    columns = range(math.floor((west + 180) / size), math.ceil((east + 180) / size))
    rows = range(math.floor((south + 90) / size), math.ceil((north + 90) / size))
    if len(columns) * len(rows) > MAX_AREA_CELLS:
        west, south, east, north = _cell_bounds(
            [(columns[0], rows[0]), (columns[-1], rows[-1])], size
        )
        return box(west[0], south[0], east[1], north[1])
    candidates = [(c, r) for c in columns for r in rows]
    boxes = shapely.box(*_cell_bounds(candidates, size))
    cover = [_equal_area(shapely.intersection(cell, area)) / _equal_area(cell) for cell in boxes]
    covered = [cell for cell, share in zip(candidates, cover, strict=True) if share >= MIN_COVER]
    if not covered:
        inside = area.representative_point()
        covered = [(math.floor((inside.x + 180) / size), math.floor((inside.y + 90) / size))]
    cells = set()
    for column, row in covered:
        if country is None or country_data.countries()[country].boundary is None:
            cells.add((column, row))
        elif _share(column, row, size, country) == 0:
            cells.add((column, row))  # abroad: nothing to do with the actor's country
        elif (stand_in := _stand_in(column, row, size, country)) is None:
            return _outline_box(country)
        else:
            cells.add(stand_in)
    return shapely.union_all(shapely.box(*_cell_bounds(sorted(cells), size)), grid_size=1e-9)


def _cell_bounds(cells, size: float):
    """West, south, east and north of cells (as arrays), on the grid's own decimals."""
    columns, rows = np.array(cells, dtype=float).reshape(-1, 2).T
    west, south = np.round(-180 + columns * size, 6), np.round(-90 + rows * size, 6)
    return west, south, np.round(west + size, 6), np.round(south + size, 6)


def _outline_box(code: str):
    boundary = country_data.countries()[code].boundary
    point = country_data.countries()[code].point
    return box(*boundary.bounds) if boundary is not None else box(*point, *point).buffer(1)


def _own_point(column: int, row: int, size: float, country: str) -> tuple[float, float]:
    """A cell's own public point: its centre, or a point of its part inside the country."""
    centre = _centre(column, row, size)
    if country_data.contains(country, *centre):
        return _rounded(centre)
    west, south = -180 + column * size, -90 + row * size
    boundary = country_data.countries()[country].boundary
    point = boundary.intersection(
        box(west, south, west + size, south + size)
    ).representative_point()
    return _rounded((point.x, point.y))


def _centre(column: int, row: int, size: float) -> tuple[float, float]:
    return -180 + (column + 0.5) * size, -90 + (row + 0.5) * size


@lru_cache(maxsize=262144)
def _share(column: int, row: int, size: float, country: str) -> float:
    """How much of the cell (by area on the sphere) lies inside the country."""
    west, south = -180 + column * size, -90 + row * size
    cell = box(west, south, west + size, south + size)
    tree, parts = _parts(country)
    touching = [parts[i] for i in tree.query(cell, predicate="intersects")]
    if not touching:
        return 0.0
    if any(part.contains(cell) for part in touching):
        return 1.0
    inside = sum(_equal_area(shapely.clip_by_rect(p, *cell.bounds)) for p in touching)
    return inside / _equal_area(cell)


@cache
def _parts(country: str) -> tuple[shapely.STRtree, list]:
    """The country's polygons, indexed: a cell is measured against the few it touches."""
    boundary = country_data.countries()[country].boundary
    parts = list(getattr(boundary, "geoms", [boundary]))
    for part in parts:
        shapely.prepare(part)
    return shapely.STRtree(parts), parts


def _equal_area(geometry) -> float:
    """Area in the cylindrical equal-area projection (x = lon, y = sin lat): proportional
    to the area on the sphere, which is all a ratio needs."""
    return shapely.transform(
        geometry, lambda xy: np.column_stack([xy[:, 0], np.sin(np.radians(xy[:, 1]))])
    ).area


def _rings(column: int, row: int, size: float, country: str):
    """Rings of cells around a cell, nearest first, as far as the country reaches.
    Columns wrap around the antimeridian; rows stop at the poles."""
    columns, rows = round(360 / size), round(180 / size)
    boundary = country_data.countries()[country].boundary
    for k in range(1, _reach(column, row, size, boundary) + 1):
        top, bottom = range(column - k, column + k + 1), range(row - k + 1, row + k)
        ring = [(c, row - k) for c in top] + [(c, row + k) for c in top]
        ring += [(column - k, r) for r in bottom] + [(column + k, r) for r in bottom]
        yield [(c % columns, r) for c, r in ring if 0 <= r < rows]


def _distance(column: int, row: int, size: float, country: str) -> float:
    """Degrees from the cell to the nearest part of the country."""
    west, south = -180 + column * size, -90 + row * size
    tree, _ = _parts(country)
    _, distance = tree.query_nearest(
        box(west, south, west + size, south + size), return_distance=True, all_matches=False
    )
    return float(distance[0])


def _touching(cells: list[tuple[int, int]], size: float, country: str) -> list[tuple[int, int]]:
    """The cells that touch the country at all (one indexed query for all of them)."""
    if not cells:
        return []
    columns, rows = np.array(cells, dtype=float).T
    west, south = -180 + columns * size, -90 + rows * size
    boxes = shapely.box(west, south, west + size, south + size)
    tree, _ = _parts(country)
    hits = np.unique(tree.query(boxes, predicate="intersects")[0])
    return [cells[i] for i in hits]


def _reach(column: int, row: int, size: float, boundary) -> int:
    """How many rings of cells it takes to cover the country from this cell (per part,
    so that a country across the antimeridian is measured the short way round)."""
    columns = round(360 / size)
    reach = 0
    for part in getattr(boundary, "geoms", [boundary]):
        west, south, east, north = part.bounds
        for lon in (west, east):
            apart = abs(column - math.floor((lon + 180) / size)) % columns
            reach = max(reach, min(apart, columns - apart))
        for lat in (south, north):
            reach = max(reach, abs(row - math.floor((lat + 90) / size)))
    return reach


def _rounded(point: tuple[float, float]) -> tuple[float, float]:
    return round(point[0], GENERALISED_DECIMALS), round(point[1], GENERALISED_DECIMALS)
