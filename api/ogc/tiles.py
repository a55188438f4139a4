"""OGC API - Tiles for the actor collection: the vector tiles of /api/v1/tiles (the same
query, visibility and generalisation) described as a tileset on the WebMercatorQuad tile
matrix set, so that clients that read OGC tilesets (GDAL, QGIS, MapLibre via the template)
find them from the landing page."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from api.errors import NotFound
from api.http import Blueprint, json_response
from api.maps.routes import MVT, TILE_FIELDS, Tile, tile_response
from api.ogc.collections import TILED
from api.ogc.routes import CRS84, refuse_unknown_parameters, web_link
from geo.tiles import HALF_WORLD_M

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
MAX_ZOOM = 22  # as /api/v1/tiles
TILE_SIZE = 256
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
GEODATA = "http://www.opengis.net/def/rel/ogc/1.0/geodata"
ANYONE = "Who: anyone. Public (generalised) locations only, as /api/v1/tiles."
# The documents follow the OGC's own JSON Schemas (tileSet, tileMatrixSet): open objects here.
JSON_DOC = {200: {"content": {"application/json": {"schema": {"type": "object"}}}}}
TILE_DOC = {200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}}}}

blp = Blueprint(
    "ogc_tiles",
    __name__,
    url_prefix="/api/v1/ogc",
    description="OGC API - Tiles: the actor map's vector tiles as an OGC tileset.",
)


def _tiled(collection_id: str) -> str:
    if collection_id not in TILED:
        raise NotFound(f"No tiles for {collection_id!r}; the actors collection has tiles.")
    return collection_id


def _tms(tms_id: str) -> str:
    if tms_id != TMS_ID:
        raise NotFound(f"No tile matrix set {tms_id!r}; this service tiles in {TMS_ID}.")
    return tms_id


def tile_matrix_set() -> dict:
    """WebMercatorQuad (OGC 2D Tile Matrix Set 2.0, JSON), levels 0 to MAX_ZOOM."""
    matrices = []
    for z in range(MAX_ZOOM + 1):
        cell = 2 * HALF_WORLD_M / TILE_SIZE / 2**z
        matrices.append(
            {
                "id": str(z),
                "scaleDenominator": cell / 0.00028,  # the standard 0.28 mm pixel
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-HALF_WORLD_M, HALF_WORLD_M],
                "tileWidth": TILE_SIZE,
                "tileHeight": TILE_SIZE,
                "matrixWidth": 2**z,
                "matrixHeight": 2**z,
            }
        )
    # The members of TMS 1.0 (WMTS-era) beside those of 2.0: GDAL before 3.7 reads 1.0 only.
    version_1 = {
        "type": "TileMatrixSetType",
        "identifier": TMS_ID,
        "supportedCRS": EPSG_3857,
        "boundingBox": {
            "type": "BoundingBoxType",
            "crs": EPSG_3857,
            "lowerCorner": [-HALF_WORLD_M, -HALF_WORLD_M],
            "upperCorner": [HALF_WORLD_M, HALF_WORLD_M],
        },
        "tileMatrix": [
            {
                "type": "TileMatrixType",
                "identifier": m["id"],
                "scaleDenominator": m["scaleDenominator"],
                "topLeftCorner": m["pointOfOrigin"],
                **{k: m[k] for k in ("tileWidth", "tileHeight", "matrixWidth", "matrixHeight")},
            }
            for m in matrices
        ],
    }
    return {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": EPSG_3857,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
        **version_1,
    }


def _tileset(collection_id: str) -> dict:
    tms = url_for("ogc_tiles.TileMatrixSet", tms_id=TMS_ID, _external=True)
    template = url_for(
        "ogc_tiles.OGCTile",
        collection_id=collection_id,
        tms_id=TMS_ID,
        z=0,
        row=0,
        col=0,
        _external=True,
    ).removesuffix("/0/0/0")
    return {
        "title": "Peace actors (vector tiles)",
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": TMS_URI,
        "tileMatrixSetLimits": [
            {
                "tileMatrix": str(z),
                "minTileRow": 0,
                "maxTileRow": 2**z - 1,
                "minTileCol": 0,
                "maxTileCol": 2**z - 1,
            }
            for z in range(MAX_ZOOM + 1)
        ],
        "boundingBox": {"lowerLeft": [-180, -85.0511], "upperRight": [180, 85.0511], "crs": CRS84},
        "layers": [
            {
                "id": "actors",
                "dataType": "vector",
                "geometryDimension": 0,
                "minTileMatrix": "0",
                "maxTileMatrix": str(MAX_ZOOM),
                "propertiesSchema": {
                    "type": "object",
                    "properties": {
                        name: {"type": "integer" if kind == "Number" else "string"}
                        for name, kind in TILE_FIELDS.items()
                    },
                },
            }
        ],
        "links": [
            web_link(
                url_for(
                    "ogc_tiles.TileSet", collection_id=collection_id, tms_id=TMS_ID, _external=True
                ),
                "self",
                "application/json",
            ),
            web_link(tms, TILING_SCHEME, "application/json", TMS_ID),
            web_link(
                url_for("ogc.CollectionById", collection_id=collection_id, _external=True),
                GEODATA,
                "application/json",
            ),
            web_link(
                template + "/{tileMatrix}/{tileRow}/{tileCol}",
                "item",
                MVT,
                templated=True,
                title="Mapbox Vector Tile (layer 'actors'); 204 when empty",
            ),
        ],
    }


@blp.route("/tileMatrixSets")
class TileMatrixSets(MethodView):
    @blp.response(200)
    @blp.doc(description=ANYONE, responses=JSON_DOC)
    def get(self):
        """Tile matrix sets"""
        refuse_unknown_parameters(frozenset({"f"}))
        href = url_for("ogc_tiles.TileMatrixSet", tms_id=TMS_ID, _external=True)
        return json_response(
            {
                "tileMatrixSets": [
                    {
                        "id": TMS_ID,
                        "title": "Google Maps Compatible for the World",
                        "uri": TMS_URI,
                        "links": [web_link(href, "self", "application/json")],
                    }
                ]
            }
        )


@blp.route("/tileMatrixSets/<tms_id>")
class TileMatrixSet(MethodView):
    @blp.response(200)
    @blp.alt_response(404, description="No such tile matrix set")
    @blp.doc(description=ANYONE, responses=JSON_DOC)
    def get(self, tms_id):
        """A tile matrix set's definition (OGC 2D Tile Matrix Set 2.0)"""
        refuse_unknown_parameters(frozenset({"f"}))
        return json_response(tile_matrix_set() | {"id": _tms(tms_id)})


@blp.route("/collections/<collection_id>/tiles")
class TileSets(MethodView):
    @blp.response(200)
    @blp.alt_response(404, description="The collection has no tiles")
    @blp.doc(description=ANYONE, responses=JSON_DOC)
    def get(self, collection_id):
        """The tilesets of a collection"""
        refuse_unknown_parameters(frozenset({"f"}))
        tileset = _tileset(_tiled(collection_id))
        summary = {
            key: tileset[key] for key in ("title", "dataType", "crs", "tileMatrixSetURI")
        } | {"links": [link for link in tileset["links"] if link["rel"] != "item"]}
        self_link = url_for("ogc_tiles.TileSets", collection_id=collection_id, _external=True)
        return json_response(
            {"links": [web_link(self_link, "self", "application/json")], "tilesets": [summary]}
        )


@blp.route("/collections/<collection_id>/tiles/<tms_id>")
class TileSet(MethodView):
    @blp.response(200)
    @blp.alt_response(404, description="The collection has no such tileset")
    @blp.doc(description=ANYONE, responses=JSON_DOC)
    def get(self, collection_id, tms_id):
        """A tileset's metadata (WebMercatorQuad, zoom levels, layer, tile URL template)"""
        refuse_unknown_parameters(frozenset({"f"}))
        _tms(tms_id)
        return json_response(_tileset(_tiled(collection_id)))


@blp.route("/collections/<collection_id>/tiles/<tms_id>/<int:z>/<int:row>/<int:col>")
class OGCTile(MethodView):
    # As /api/v1/tiles: the same rate-limit bucket and the same Vary for caches.
    decorators = Tile.decorators
    vary = Tile.vary
    shared_cache = Tile.shared_cache

    @blp.response(200)
    @blp.alt_response(204, description="Empty tile")
    @blp.alt_response(404, description="No such tile")
    @blp.doc(description=ANYONE, responses=TILE_DOC)
    def get(self, collection_id, tms_id, z, row, col):
        """A vector tile (tileMatrix = zoom, tileRow = y, tileCol = x)"""
        refuse_unknown_parameters(frozenset({"f"}))
        _tiled(collection_id)
        _tms(tms_id)
        if not (z <= MAX_ZOOM and row < 2**z and col < 2**z):
            raise NotFound(
                f"No tile {z}/{row}/{col}: tileMatrix is 0..{MAX_ZOOM}, tileRow and tileCol "
                f"0..2^tileMatrix - 1."
            )
        return tile_response({}, z, col, row)
