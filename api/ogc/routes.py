"""OGC API - Features (Part 1: Core, GeoJSON) under /api/v1/ogc: standard clients (QGIS,
GDAL, web maps) read Peacemap's public map. Generalised locations only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import marshmallow as ma
from flask import request, url_for
from flask.views import MethodView
from marshmallow import validate as v

from api import limits
from api.actors.models import ACTOR_KINDS
from api.db import db
from api.errors import NotFound, ProblemError, Unprocessable
from api.fields import CountryCode, DelimitedList, bounded_instant, validate_bbox
from api.http import GEOJSON, Blueprint, json_response, text_response
from api.language import preferences, prepared_for
from api.ogc import cql2, service
from api.ogc.collections import COLLECTIONS, TILED, queryables
from api.ogc.schemas import (
    CollectionSchema,
    CollectionsSchema,
    ConformanceSchema,
    LandingSchema,
    OGCFeatureCollectionSchema,
    OGCFeatureSchema,
)
from api.resources.models import RESOURCE_TYPES
from api.translations import record_feature_languages

# Every class declared here is exercised by a test that tests/test_ogc_filter.py names (its
# conformance test fails on a class that no test exercises). Not declared: oas30 (the
# document is OpenAPI 3.1), html (no HTML representation), property-property comparisons,
# functions and arithmetic (refused).
_FEATURES = "http://www.opengis.net/spec/ogcapi-features-{}/1.0/conf/{}"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/{}"
_TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{}"
CONFORMANCE = [
    _FEATURES.format(1, "core"),
    _FEATURES.format(1, "geojson"),
    _FEATURES.format(3, "queryables"),
    _FEATURES.format(3, "filter"),
    _FEATURES.format(3, "features-filter"),
    _FEATURES.format(6, "property-selection"),
    _FEATURES.format(8, "sorting"),
    _CQL2.format("cql2-text"),
    _CQL2.format("cql2-json"),
    _CQL2.format("basic-cql2"),
    _CQL2.format("advanced-comparison-operators"),
    _CQL2.format("case-insensitive-comparison"),
    _CQL2.format("basic-spatial-functions"),
    _CQL2.format("basic-spatial-functions-plus"),
    _CQL2.format("spatial-functions"),
    _CQL2.format("temporal-functions"),
    _CQL2.format("array-functions"),
    _TILES.format("core"),
    _TILES.format("tileset"),
    _TILES.format("tilesets-list"),
    _TILES.format("geodata-tilesets"),
    _TILES.format("mvt"),
]
SCHEMA_JSON = "application/schema+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MAX_LIMIT = 10_000
ANYONE = "Who: anyone. Locations are public (generalised) locations."

blp = Blueprint(
    "ogc",
    __name__,
    url_prefix="/api/v1/ogc",
    description="OGC API - Features: the public map for standard GIS clients.",
)


class Interval(ma.fields.Field):
    """OGC datetime: an instant, or an interval 'start/end' with '..' for open ends."""

    def _deserialize(self, value, attr, data, **kwargs):
        parts = str(value).split("/")
        if len(parts) > 2:
            raise ma.ValidationError("must be an instant or start/end (RFC 3339; '..' for open).")
        try:
            ends = [
                None if p in ("", "..") else datetime.fromisoformat(p.replace("Z", "+00:00"))
                for p in parts
            ]
        except ValueError:
            raise ma.ValidationError(
                "must be RFC 3339 date-times, e.g. 2025-01-01T00:00:00Z/.."
            ) from None
        ends = [bounded_instant(e) if e else None for e in ends]
        return (ends[0], ends[0]) if len(ends) == 1 else (ends[0], ends[1])


class ItemsArgsSchema(ma.Schema):
    bbox = DelimitedList(
        ma.fields.Float(allow_nan=False),
        max_items=4,
        metadata={"description": "minLon,minLat,maxLon,maxLat (CRS84)"},
    )
    limit = ma.fields.Integer(load_default=100, validate=v.Range(1, MAX_LIMIT))
    offset = ma.fields.Integer(load_default=0, validate=v.Range(0, limits.OFFSET_MAX))
    datetime = Interval(metadata={"description": "On the last update: instant or interval"})
    kind = DelimitedList(
        ma.fields.String(validate=v.OneOf(ACTOR_KINDS)), metadata={"description": "actors"}
    )
    type = DelimitedList(
        ma.fields.String(validate=v.OneOf(RESOURCE_TYPES)), metadata={"description": "resources"}
    )
    theme = DelimitedList(ma.fields.String(validate=v.Length(1, 64)))
    country = DelimitedList(CountryCode())
    f = ma.fields.String(validate=v.OneOf(("json", "geojson")))
    fields = DelimitedList(
        ma.fields.String(validate=v.Length(1, 40)),
        metadata={"description": "Only these properties, for small responses"},
    )

    @ma.validates("bbox")
    def check_bbox(self, bbox, **kwargs):
        validate_bbox(bbox)


class FeaturesArgsSchema(ItemsArgsSchema):
    """The items of an OGC collection: the map's filters, and CQL2 filters, sorting and
    property selection (Features Parts 3, 6 and 8)."""

    filter = ma.fields.String(
        validate=v.Length(1, limits.QUERY_VALUE),
        metadata={
            "description": "A CQL2 filter on the queryables (see the collection's queryables), "
            "e.g. kind = 'government' AND S_INTERSECTS(geometry, BBOX(-20,0,10,20))"
        },
    )
    filter_lang = ma.fields.String(
        data_key="filter-lang",
        load_default=cql2.TEXT,
        validate=v.OneOf(cql2.LANGUAGES),
        metadata={"description": "The language of `filter`"},
    )
    filter_crs = ma.fields.String(
        data_key="filter-crs",
        validate=v.OneOf((CRS84,)),
        metadata={"description": "The CRS of geometries in `filter`: CRS84 only"},
    )
    sortby = DelimitedList(
        ma.fields.String(validate=[v.Length(1, 41), v.Regexp(r"^[+-]?[a-z_]{1,40}$")]),
        max_items=10,
        metadata={"description": "Sortable queryables, comma-separated: -updated_at,name"},
    )
    properties = DelimitedList(
        ma.fields.String(validate=v.Length(1, 40)),
        metadata={"description": "Only these properties (empty: none); `fields` is the same"},
    )
    skip_geometry = ma.fields.Boolean(
        data_key="skipGeometry",
        load_default=False,
        metadata={"description": "true: features without their geometry"},
    )

    @ma.post_load
    def properties_from_fields(self, args, **kwargs):
        if "properties" not in args and args.get("fields"):
            args["properties"] = args["fields"]
        return args


ITEMS_PARAMETERS = frozenset(
    field.data_key or name for name, field in FeaturesArgsSchema().fields.items()
)


def refuse_unknown_parameters(known: frozenset[str]) -> None:
    """A client must learn that a parameter was not applied: an unknown or unsupported one
    (a CQL2 ``filter`` a client thinks it sent, a misspelt ``bbx``) is a 400 naming it,
    never silently ignored with every feature in the answer."""
    if unknown := sorted(set(request.args) - known):
        message = (
            f"not a parameter of this operation (unknown or unsupported); "
            f"the parameters are {', '.join(sorted(known))}."
        )
        raise ProblemError(
            f"{', '.join(unknown)}: {message}", errors={name: [message] for name in unknown}
        )


def _collection(collection_id: str):
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(f"No collection {collection_id!r}; see /api/v1/ogc/collections.") from None


def check_fields(collection, fields, parameter: str = "fields", error=Unprocessable) -> None:
    if unknown := set(fields or ()) - set(collection.properties):
        message = (
            f"unknown properties {', '.join(sorted(unknown))}: the properties are "
            f"{', '.join(collection.properties)}."
        )
        raise error(f"{parameter}: {message}", errors={parameter: [message]})


def web_link(href: str, rel: str, type_: str, title: str | None = None, **extra) -> dict:
    """A link of OGC API documents (RFC 8288 as JSON); ``extra``: e.g. templated=True."""
    found = {"href": href, "rel": rel, "type": type_, **extra}
    if title:
        found["title"] = title
    return found


def _describe(session, collection) -> dict:
    items = url_for("ogc.Items", collection_id=collection.id, _external=True)
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [service.extent(session, collection)], "crs": CRS84}},
        "links": [
            web_link(
                url_for("ogc.CollectionById", collection_id=collection.id, _external=True),
                "self",
                "application/json",
            ),
            web_link(items, "items", GEOJSON, "Features"),
            web_link(
                url_for("ogc.Queryables", collection_id=collection.id, _external=True),
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                SCHEMA_JSON,
                "Properties of the features",
            ),
            *(
                [
                    web_link(
                        url_for("ogc_tiles.TileSets", collection_id=collection.id, _external=True),
                        "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                        "application/json",
                        "Vector tilesets (OGC API - Tiles)",
                    )
                ]
                if collection.id in TILED
                else []
            ),
        ],
    }


@blp.route("")
class Landing(MethodView):
    @blp.response(200, LandingSchema)
    @blp.doc(description=ANYONE)
    def get(self):
        """Landing page"""
        return json_response(
            {
                "title": "Peacemap",
                "description": "The public map of peacebuilders, library resources and "
                "local observations.",
                "links": [
                    web_link(url_for("ogc.Landing", _external=True), "self", "application/json"),
                    web_link(
                        url_for("api-docs.openapi_json", _external=True),
                        "service-desc",
                        "application/vnd.oai.openapi+json;version=3.1",
                    ),
                    web_link(
                        url_for("api-docs.openapi_swagger_ui", _external=True),
                        "service-doc",
                        "text/html",
                    ),
                    web_link(
                        url_for("ogc.Conformance", _external=True),
                        "conformance",
                        "application/json",
                    ),
                    web_link(
                        url_for("ogc.Collections", _external=True), "data", "application/json"
                    ),
                    web_link(
                        url_for("ogc_tiles.TileMatrixSets", _external=True),
                        "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                        "application/json",
                        "Tile matrix sets (OGC API - Tiles)",
                    ),
                ],
            }
        )


@blp.route("/conformance")
class Conformance(MethodView):
    @blp.response(200, ConformanceSchema)
    @blp.doc(description=ANYONE)
    def get(self):
        """Conformance classes"""
        return json_response({"conformsTo": CONFORMANCE})


@blp.route("/collections")
class Collections(MethodView):
    @blp.response(200, CollectionsSchema)
    @blp.doc(description=ANYONE)
    def get(self):
        """Feature collections"""
        return json_response(
            {
                "links": [
                    web_link(url_for("ogc.Collections", _external=True), "self", "application/json")
                ],
                "collections": [_describe(db.session, c) for c in COLLECTIONS.values()],
            }
        )


@blp.route("/collections/<collection_id>")
class CollectionById(MethodView):
    @blp.response(200, CollectionSchema)
    @blp.alt_response(404, description="No such collection")
    @blp.doc(description=ANYONE)
    def get(self, collection_id):
        """A feature collection"""
        return json_response(_describe(db.session, _collection(collection_id)))


@blp.route("/collections/<collection_id>/queryables")
class Queryables(MethodView):
    @blp.response(200)
    @blp.alt_response(404, description="No such collection")
    @blp.doc(
        description=ANYONE + " The public properties of the features, as a JSON Schema.",
        responses={200: {"content": {SCHEMA_JSON: {"schema": {"type": "object"}}}}},
    )
    def get(self, collection_id):
        """Queryables of a collection (JSON Schema)"""
        collection = _collection(collection_id)
        schema = {"$id": request.base_url, **queryables(collection)}
        return json_response(schema, mimetype=SCHEMA_JSON)


@blp.route("/collections/<collection_id>/items")
class Items(MethodView):
    shared_cache = True  # anonymous pages of the list (api.http)

    @blp.arguments(FeaturesArgsSchema, location="query")
    @blp.response(200)
    @blp.alt_response(400, description="Unknown parameter, or a filter or sort that cannot apply")
    @blp.alt_response(404, description="No such collection")
    @blp.alt_response(422, description="Invalid parameter")
    @blp.doc(
        description=ANYONE + " numberMatched is given when it is cheap (up to 2,000 matches).",
        responses={200: {"content": {GEOJSON: {"schema": OGCFeatureCollectionSchema}}}},
    )
    def get(self, args, collection_id):
        """Features of a collection (GeoJSON)"""
        refuse_unknown_parameters(ITEMS_PARAMETERS)
        collection = _collection(collection_id)
        check_fields(collection, args.get("fields"))
        check_fields(collection, args.get("properties"), "properties", ProblemError)
        limit, offset = args["limit"], args["offset"]
        language = preferences()
        prepared_for(language)
        features, returned = service.features_page(
            db.session, collection, args, limit=limit, offset=offset, language=language
        )
        matched = service.number_matched(db.session, collection, args)
        base = url_for("ogc.Items", collection_id=collection.id, _external=True)
        kept = [
            (k, val) for k, val in request.args.items(multi=True) if k not in ("offset", "limit")
        ]
        links = [
            web_link(request.url, "self", GEOJSON),
            web_link(
                url_for("ogc.CollectionById", collection_id=collection.id, _external=True),
                "collection",
                "application/json",
            ),
        ]
        if returned == limit and (matched is None or offset + limit < matched):
            links.append(
                web_link(
                    f"{base}?{urlencode([*kept, ('limit', limit), ('offset', offset + limit)])}",
                    "next",
                    GEOJSON,
                )
            )
        meta = {
            "numberReturned": returned,
            "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "links": links,
        }
        if matched is not None:
            meta["numberMatched"] = matched
        body = (
            '{"type":"FeatureCollection","features":'
            + features
            + ","
            + json.dumps(meta, separators=(",", ":"))[1:]
        )
        return text_response(body, GEOJSON)


@blp.route("/collections/<collection_id>/items/<uuid:feature_id>")
class Item(MethodView):
    @blp.response(200)
    @blp.alt_response(404, description="No such feature")
    @blp.doc(
        description=ANYONE, responses={200: {"content": {GEOJSON: {"schema": OGCFeatureSchema}}}}
    )
    def get(self, collection_id, feature_id):
        """One feature"""
        collection = _collection(collection_id)
        found = service.feature(db.session, collection, feature_id, preferences())
        if found is None:
            raise NotFound(f"No feature {feature_id} in {collection_id}.")
        record_feature_languages([json.loads(found)])
        links = [
            web_link(request.base_url, "self", GEOJSON),
            web_link(
                url_for("ogc.CollectionById", collection_id=collection.id, _external=True),
                "collection",
                "application/json",
            ),
        ]
        return text_response(
            found[:-1] + ',"links":' + json.dumps(links, separators=(",", ":")) + "}", GEOJSON
        )
