"""ISO 3166-1 countries with simplified boundaries and a representative point.

Boundaries come from the world-countries dataset (mledoze/countries, ODbL), simplified
to about 1 km (0.01°) and stored in ``data/countries.geojson.gz``. They are good enough to
tell which country a point is in and to keep a generalised point inside its country; they
are not survey-grade borders.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

# Simplified coastlines and borders can be off by a kilometre or two: a point this close
# (in degrees, ~5 km at the equator) to a country still counts as in it.
BORDER_TOLERANCE_DEG = 0.05


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    point: tuple[float, float]  # representative point (lon, lat), always inside the boundary
    boundary: BaseGeometry | None  # None where the dataset has no outline (e.g. XK)


@cache
def countries() -> dict[str, Country]:
    raw = files("geo").joinpath("data/countries.geojson.gz").read_bytes()
    collection = json.loads(gzip.decompress(raw))
    result = {}
    for feature in collection["features"]:
        props = feature["properties"]
        boundary = shape(feature["geometry"]) if feature["geometry"] else None
        if boundary is not None:
            shapely.prepare(boundary)
        result[props["code"]] = Country(
            props["code"], props["name"], tuple(props["point"]), boundary
        )
    return result


@cache
def _index() -> tuple[shapely.STRtree, list[Country]]:
    outlined = [c for c in countries().values() if c.boundary is not None]
    return shapely.STRtree([c.boundary for c in outlined]), outlined


def load() -> None:
    """Read and index the boundaries now (a server does this once, before its workers fork)."""
    _index()


def country_codes() -> frozenset[str]:
    return frozenset(countries())


def country_at(lon: float, lat: float) -> str | None:
    """The country whose boundary contains the point (or lies within the tolerance)."""
    tree, outlined = _index()
    point = Point(lon, lat)
    hits = tree.query(point, predicate="intersects")
    if len(hits):
        return outlined[int(hits[0])].code
    near = tree.query(point, predicate="dwithin", distance=BORDER_TOLERANCE_DEG)
    if len(near):
        nearest = min(near, key=lambda i: outlined[int(i)].boundary.distance(point))
        return outlined[int(nearest)].code
    return None


def contains(code: str, lon: float, lat: float) -> bool:
    """Whether the point lies in the country (unknown outlines give the benefit of the doubt)."""
    boundary = countries()[code].boundary
    if boundary is None:
        return True
    return shapely.dwithin(boundary, Point(lon, lat), BORDER_TOLERANCE_DEG)


def countries_touching(geometry: BaseGeometry) -> set[str]:
    """The countries whose outlines the geometry touches."""
    tree, outlined = _index()
    return {outlined[int(i)].code for i in tree.query(geometry, predicate="intersects")}
