"""Places by name, for people who know where something is but not its coordinates: the
towns and cities of ``data/cities.csv`` (GeoNames, CC-BY 4.0) and the countries."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Mapping
from functools import cache
from importlib.resources import files

from geo.countries import countries


def _folded(text: str) -> str:
    """Case, accents and spacing ignored: "  são paulo" finds "Sao Paulo"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@cache
def _cities() -> dict[str, list[tuple[str, float, float]]]:
    """Folded name → [(country, lon, lat)], the most populous first."""
    found: dict[str, list[tuple[str, float, float]]] = {}
    with files("geo").joinpath("data/cities.csv").open(encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: -int(r["population"]))
    for row in rows:
        found.setdefault(_folded(row["name"]), []).append(
            (row["country"], float(row["lon"]), float(row["lat"]))
        )
    return found


def find_place(text: str, country_names: Mapping[str, str] | None = None) -> tuple[float, float]:
    """(lon, lat) of a town or city ("Goma", "Goma, CD") or a country (by its English name,
    its code or a name in ``country_names``: name → code, e.g. in the reader's language);
    raises LookupError when there is no such place."""
    name, _, country = text.rpartition(",") if "," in text else (text, "", "")
    folded, wanted = _folded(name), country.strip().upper()
    for code, lon, lat in _cities().get(folded, []):
        if not wanted or code == wanted:
            return lon, lat
    known = countries()
    names = {_folded(c.name): c.code for c in known.values()}
    names.update({_folded(n): code for n, code in (country_names or {}).items()})
    code = names.get(folded) or name.strip().upper()
    if code in known and not wanted:
        return known[code].point
    raise LookupError(text)
