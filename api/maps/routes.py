"""Endpoints for map clients on phones and weak networks: vector tiles, clusters, delta
sync and streamed exports of the public actor map."""

from __future__ import annotations

import marshmallow as ma
from flask import Response, request, stream_with_context, url_for
from flask.views import MethodView
from marshmallow import validate as v

from api.db import db
from api.http import GEOJSON, Blueprint, json_response, text_response
from api.language import preferences, prepared_for, record
from api.maps import service
from api.maps.schemas import ChangesSchema, ClusterFeatureCollectionSchema, TileJSONSchema
from api.ogc.routes import ItemsArgsSchema, check_fields
from api.ogc.schemas import OGCFeatureCollectionSchema
from api.ratelimit import tile_limit

MVT = "application/vnd.mapbox-vector-tile"
# The attributes of the tiles' layer 'actors': clusters carry a count, single actors the rest.
TILE_FIELDS = {
    "count": "Number",
    "id": "String",
    "name": "String",
    "kind": "String",
    "country": "String",
    "themes": "String",
    "precision": "String",
}
ANYONE = "Who: anyone. Public (generalised) locations only."

blp = Blueprint(
    "maps",
    __name__,
    url_prefix="/api/v1",
    description="Vector tiles, clusters, delta sync and exports of the public actor map.",
)


class MapFilterSchema(ItemsArgsSchema):
    class Meta:
        exclude = ("limit", "offset", "f", "type", "fields")


class ClusterArgsSchema(MapFilterSchema):
    zoom = ma.fields.Integer(required=True, validate=v.Range(0, 22))


class ChangesArgsSchema(ma.Schema):
    since = ma.fields.String(
        validate=v.Length(max=200),
        metadata={"description": "The `next` cursor of the previous call; omit for everything"},
    )
    limit = ma.fields.Integer(load_default=500, validate=v.Range(1, 5000))


class ExportArgsSchema(ItemsArgsSchema):
    class Meta:
        exclude = ("limit", "offset", "f", "type")

    format = ma.fields.String(
        load_default="geojson",
        validate=v.OneOf(tuple(service.EXPORT_FORMATS)),
        metadata={
            "description": "geojson: one FeatureCollection; geojsonseq: a GeoJSON text sequence "
            "(RFC 8142, application/geo+json-seq); geojsonl: one Feature per line "
            "(application/x-ndjson); csv: with an HXL hashtag row, ISO 8601 timestamps"
        },
    )


@blp.route("/tiles/<int(max=22):z>/<int:x>/<int:y>.mvt")
class Tile(MethodView):
    decorators = [tile_limit]
    # A public tile is the same for every caller; it varies only with these (Accept-Encoding
    # is added by compression), so a CDN can keep one copy per language and coding.
    vary = ("Accept-Language",)
    shared_cache = True

    @blp.arguments(MapFilterSchema, location="query")
    @blp.response(200)
    @blp.alt_response(204, description="Empty tile: no body, no Content-Type")
    @blp.alt_response(422, description="Tile outside the zoom level's range, or bad filter")
    @blp.doc(
        description=ANYONE
        + " Layer 'actors': clusters carry `count`; single actors, at every zoom, their id, "
        "name (in the reader's language), kind, country, themes, precision. Gzipped when "
        "accepted; rate-limited in a bucket of their own (PEACEMAP_RATELIMIT_TILES).",
        responses={"200": {"content": {MVT: {}}}},
    )
    def get(self, args, z, x, y):
        """A Mapbox Vector Tile of the actor map (same filters as the list)"""
        return tile_response(args, z, x, y)


def tile_response(args: dict, z: int, x: int, y: int) -> Response:
    """A tile as every tile URL serves it (these and OGC API - Tiles'): lone actors named
    in the reader's language."""
    language = preferences()
    prepared_for(language)
    body = service.tile(db.session, args, z, x, y, language)
    if not body:
        empty = Response(status=204)
        del empty.headers["Content-Type"]
        return empty
    return Response(body, mimetype=MVT)


@blp.route("/tiles/tilejson.json")
class TileJSON(MethodView):
    shared_cache = True

    @blp.arguments(MapFilterSchema, location="query")
    @blp.response(200, TileJSONSchema)
    @blp.doc(description=ANYONE)
    def get(self, args):
        """TileJSON 3.0 for the actor tiles (filters carried into the tile URLs)"""
        template = url_for("maps.Tile", z=0, x=0, y=0, _external=True).replace(
            "/0/0/0.mvt", "/{z}/{x}/{y}.mvt"
        )
        if request.query_string:
            template += "?" + request.query_string.decode()
        return json_response(
            {
                "tilejson": "3.0.0",
                "name": "Peacemap actors",
                "tiles": [template],
                "minzoom": 0,
                "maxzoom": 22,
                "bounds": [-180, -85.0511, 180, 85.0511],
                "vector_layers": [{"id": "actors", "fields": TILE_FIELDS}],
            }
        )


@blp.route("/actors/clusters")
class Clusters(MethodView):
    shared_cache = True

    @blp.arguments(ClusterArgsSchema, location="query")
    @blp.response(200)
    @blp.doc(
        description=ANYONE + " For clients without vector tiles: one query, counts per grid cell.",
        responses={200: {"content": {GEOJSON: {"schema": ClusterFeatureCollectionSchema}}}},
    )
    def get(self, args):
        """Clustered actors for a bbox and zoom (GeoJSON)"""
        language = preferences()
        prepared_for(language)
        found = service.clusters(db.session, args, args["zoom"], language)
        return json_response(found, mimetype=GEOJSON)


@blp.route("/actors/changes")
class Changes(MethodView):
    @blp.arguments(ChangesArgsSchema, location="query")
    @blp.response(200, ChangesSchema)
    @blp.alt_response(422, description="Not a cursor of this API")
    @blp.doc(
        description=ANYONE
        + " Offline-capable clients: created and changed actors since the cursor, and "
        "tombstones for those archived, hidden or unpublished."
    )
    def get(self, args):
        """What changed on the actor map since your last sync"""
        body, languages = service.changes(
            db.session, args.get("since"), args["limit"], preferences()
        )
        record(languages)
        return text_response(body, "application/json")


@blp.route("/actors/export")
class Export(MethodView):
    vary = ("Accept-Language",)

    @blp.arguments(ExportArgsSchema, location="query")
    @blp.response(200)
    @blp.doc(
        description=ANYONE
        + " Streamed with constant memory (gzipped as it goes when accepted): GeoJSON, a "
        "GeoJSON text sequence, GeoJSON lines, or CSV with an HXL hashtag row.",
        responses={
            200: {
                "content": {
                    media_type: {"schema": OGCFeatureCollectionSchema} if fmt == "geojson" else {}
                    for fmt, (media_type, _) in service.EXPORT_FORMATS.items()
                }
            }
        },
    )
    def get(self, args):
        """The public actor map (or a filtered part of it) as a file"""
        check_fields(service.ACTORS, args.get("fields"))
        fmt = args["format"]
        media_type, extension = service.EXPORT_FORMATS[fmt]
        language = preferences()
        prepared_for(language)
        lines = service.export(db.session, args, fmt, language)
        return Response(
            stream_with_context(lines),
            mimetype=media_type,
            headers={"Content-Disposition": f'attachment; filename="peacemap-actors.{extension}"'},
        )
