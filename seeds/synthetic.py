"""Deterministic synthetic actors for benchmarks: clustered around 300 real cities.

Same count and seed give the same rows. 95% of actors fall in Gaussian clusters around
the cities in ``geo/data/cities.csv`` (GeoNames, CC-BY 4.0), with heavy-tailed cluster
sizes; 5% are spread over land-ish latitudes and take the country under them (or of
the nearest city when at sea).
"""

from __future__ import annotations

import bisect
import csv
import math
import random
import uuid
from collections.abc import Iterator
from importlib.resources import files

from geo.countries import country_at

KINDS = ("organisation", "practitioner", "academic", "government", "network", "funder", "media")
KIND_WEIGHTS = (40, 25, 12, 8, 7, 5, 3)
THEMES = ("violence", "legitimacy", "polarisation", "agency", "investment", "gender", "youth")
THEME_P = (0.45, 0.30, 0.30, 0.35, 0.20, 0.25, 0.2)
FOCUS = ("Peace", "Dialogue", "Reconciliation", "Mediation", "Justice", "Social Cohesion")
ORG_TYPE = ("Initiative", "Centre", "Collective", "Association", "Forum", "Network")
NOISE_SHARE = 0.05


def _cities() -> list[dict]:
    with files("geo").joinpath("data/cities.csv").open(encoding="utf-8") as handle:
        return [
            {
                "name": r["name"],
                "country": r["country"],
                "lon": float(r["lon"]),
                "lat": float(r["lat"]),
            }
            for r in csv.DictReader(handle)
        ]


def generate(count: int, seed: int) -> Iterator[dict]:
    rng = random.Random(seed)
    cities = _cities()
    cumulative, total = [], 0.0
    for city in cities:
        city["sigma"] = min(0.3, max(0.04, rng.lognormvariate(math.log(0.1), 0.5)))
        total += min(rng.paretovariate(1.2), 40.0)
        cumulative.append(total)
    for index in range(count):
        if rng.random() < NOISE_SHARE:
            lon, lat = rng.uniform(-180, 180), rng.uniform(-56, 72)
            city = min(cities, key=lambda c: (c["lon"] - lon) ** 2 + (c["lat"] - lat) ** 2)
            country = country_at(lon, lat) or city["country"]
        else:
            city = cities[bisect.bisect_left(cumulative, rng.random() * total)]
            sigma = city["sigma"] * (3 if rng.random() < 0.3 else 1)
            lat = max(-89.9, min(89.9, rng.gauss(city["lat"], sigma)))
            lon = rng.gauss(city["lon"], sigma / max(0.2, math.cos(math.radians(city["lat"]))))
            lon = (lon + 180) % 360 - 180
            country = city["country"]
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        themes = [t for t, p in zip(THEMES, THEME_P, strict=True) if rng.random() < p]
        yield {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "name": f"{city['name']} {rng.choice(FOCUS)} {rng.choice(ORG_TYPE)} {index}",
            "kind": kind,
            "themes": themes or [rng.choice(THEMES)],
            "country": country,
            "lon": round(lon, 6),
            "lat": round(lat, 6),
        }
