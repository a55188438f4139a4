"""The feature collections served to map clients (OGC API - Features, tiles, exports), as
data: which table, which geometry (always a public one), which properties, which filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import JSON, ColumnElement, and_, cast, func, literal, null
from sqlalchemy.dialects.postgresql import JSONB

from api.actors.models import Actor
from api.observations.models import Observation
from api.resources.models import Resource
from api.translations import TRANSLATABLE, localised_texts
from api.visibility import PUBLIC

COORDINATE_DECIMALS = 5  # ~1 m: public points are already generalised to their precision


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    model: type
    geometry: ColumnElement  # a public geometry: never an exact location that is restricted
    visible: ColumnElement  # what the public may see (api.visibility)
    properties: dict[str, ColumnElement]
    # query parameter -> (column, is_array)
    filters: dict[str, tuple[ColumnElement, bool]] = field(default_factory=dict)
    updated: ColumnElement | None = None


COLLECTIONS = {
    "actors": Collection(
        id="actors",
        title="Peace actors",
        description="Organisations, practitioners, academics, networks, funders, government bodies "
        "and media working on peace. Locations are public locations, generalised to each actor's "
        "chosen precision.",
        model=Actor,
        geometry=Actor.public_location,
        visible=PUBLIC["actor"],
        properties={
            "name": Actor.name,
            "kind": Actor.kind,
            "summary": Actor.summary,
            "language": Actor.language,
            "themes": Actor.themes,
            "country": Actor.country,
            "countries": Actor.countries,
            "location_precision": Actor.location_precision,
            "verified": Actor.verified,
            "disclaimers": Actor.disclaimers,
            "updated_at": Actor.updated_at,
        },
        filters={
            "kind": (Actor.kind, False),
            "theme": (Actor.themes, True),
            "country": (Actor.country, False),
        },
        updated=Actor.updated_at,
    ),
    "resources": Collection(
        id="resources",
        title="Library resources with a place",
        description="Reports, evaluations, briefs, tools, datasets and lessons from failure that "
        "have an area.",
        model=Resource,
        geometry=Resource.area,
        visible=and_(PUBLIC["resource"], Resource.area.is_not(None)),
        properties={
            "title": Resource.title,
            "type": Resource.type,
            "url": Resource.url,
            "language": Resource.language,
            "themes": Resource.themes,
            "countries": Resource.countries,
            "published_on": Resource.published_on,
            "disclaimers": Resource.disclaimers,
            "updated_at": Resource.updated_at,
        },
        filters={
            "type": (Resource.type, False),
            "theme": (Resource.themes, True),
            "country": (Resource.countries, True),
        },
        updated=Resource.updated_at,
    ),
    "observations": Collection(
        id="observations",
        title="Local observations",
        description="First-hand observations from places, at generalised locations, "
        "authors never shown.",
        model=Observation,
        geometry=Observation.public_location,
        visible=PUBLIC["observation"],
        properties={
            "text": Observation.text,
            "language": Observation.language,
            "observed_on": Observation.observed_on,
            "themes": Observation.themes,
            "country": Observation.country,
            "location_precision": Observation.location_precision,
            "disclaimers": Observation.disclaimers,
            "updated_at": Observation.updated_at,
        },
        filters={"theme": (Observation.themes, True), "country": (Observation.country, False)},
        updated=Observation.updated_at,
    ),
}


# The collections whose features are also served as vector tiles (api/ogc/tiles.py).
TILED = ("actors",)


def feature_json(
    collection: Collection,
    fields: list[str] | None = None,
    *,
    geometry: bool = True,
    language: tuple[str, ...] = (),
):
    """A GeoJSON Feature built by PostgreSQL, as json: no Python work per row; with
    ``fields``, only those properties (none for an empty list); without ``geometry``, a
    null one; with the reader's ``language`` (api.language), the texts in it where
    translated and their ``text_languages``. (Each expression is built once: building it
    costs more than running it; the readers' languages are many, so the cache is bounded.)"""
    chosen = tuple(sorted(fields)) if fields is not None else None
    return _feature_json(collection.id, chosen, geometry, language)


# collection -> the translations' target type (api.translations.TRANSLATABLE)
TRANSLATED = {"actors": "actor", "resources": "resource"}


@lru_cache(maxsize=512)
def _feature_json(
    collection_id: str,
    fields: tuple[str, ...] | None,
    geometry: bool,
    language: tuple[str, ...],
):
    collection = COLLECTIONS[collection_id]
    target_type = TRANSLATED.get(collection_id)
    overlaid = [
        name
        for name in (TRANSLATABLE[target_type] if target_type and language else ())
        if name in collection.properties and (fields is None or name in fields)
    ]
    properties = []
    for name, column in collection.properties.items():
        if (fields is None or name in fields) and name not in overlaid:
            properties += [literal(name), column]
    properties = func.json_build_object(*properties)
    if overlaid:
        texts = localised_texts(target_type, collection.model, overlaid, language)
        properties = cast(properties, JSONB).op("||")(texts)
    return func.json_build_object(
        "type",
        "Feature",
        "id",
        collection.model.id,
        "geometry",
        cast(func.ST_AsGeoJSON(collection.geometry, COORDINATE_DECIMALS), JSON)
        if geometry
        else null(),
        "properties",
        properties,
    )


_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}
_GEOMETRY_SCHEMAS = {
    "actors": {"format": "geometry-point"},
    "observations": {"format": "geometry-point"},
    "resources": {"format": "geometry-any"},
}


def _json_schema(column: ColumnElement) -> dict:
    """The JSON Schema of a public property, from its SQL type."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return {}
    if python_type is datetime:
        return {"type": "string", "format": "date-time"}
    if python_type is date:
        return {"type": "string", "format": "date"}
    if python_type is list:
        return {"type": "array", "items": {"type": "string"}}
    return {"type": _JSON_TYPES.get(python_type, "string")}


def queryables(collection: Collection) -> dict:
    """The properties of a collection's features (OGC API - Features Part 3), as a JSON
    Schema: the public ones, and only those, are what a client may filter and sort on."""
    properties = {"geometry": {"title": "Public location", **_GEOMETRY_SCHEMAS[collection.id]}}
    for name, column in collection.properties.items():
        properties[name] = {"title": name.replace("_", " ").capitalize(), **_json_schema(column)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "title": collection.title,
        "properties": properties,
        "additionalProperties": False,
    }
