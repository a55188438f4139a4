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
from functools import lru_cache

from shapely.geometry import box

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


@lru_cache(maxsize=65536)
def _cell_point(column: int, row: int, size: float, country: str | None) -> tuple[float, float]:
    west, south = -180 + column * size, -90 + row * size
    centre = (west + size / 2, south + size / 2)
    if country is None or country_data.contains(country, *centre):
        return _rounded(centre)
    boundary = country_data.countries()[country].boundary
    inside = boundary.intersection(box(west, south, west + size, south + size))
    if inside.is_empty:  # the exact point was outside its country: fall back to the country
        return country_data.countries()[country].point
    point = inside.representative_point()
    return _rounded((point.x, point.y))


def _rounded(point: tuple[float, float]) -> tuple[float, float]:
    return round(point[0], GENERALISED_DECIMALS), round(point[1], GENERALISED_DECIMALS)
