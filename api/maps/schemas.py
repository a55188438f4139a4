"""Representations of the map endpoints (for the OpenAPI document)."""

from __future__ import annotations

import marshmallow as ma

from api.schemas import geojson_schemas


class TileJSONSchema(ma.Schema):
    """TileJSON 3.0.0."""

    tilejson = ma.fields.String(required=True)
    name = ma.fields.String()
    tiles = ma.fields.List(ma.fields.String(), required=True)
    minzoom = ma.fields.Integer()
    maxzoom = ma.fields.Integer()
    bounds = ma.fields.List(ma.fields.Float())
    vector_layers = ma.fields.List(ma.fields.Dict())


class ClusterPropertiesSchema(ma.Schema):
    count = ma.fields.Integer(metadata={"description": "Actors in the cell"})
    id = ma.fields.String(metadata={"description": "Single actors: their id"})
    name = ma.fields.String()
    kind = ma.fields.String()


ClusterFeatureSchema, ClusterFeatureCollectionSchema = geojson_schemas(
    ClusterPropertiesSchema,
    "Cluster",
    zoom=ma.fields.Integer(),
    cell_degrees=ma.fields.Float(metadata={"description": "Side of a grid cell, in degrees"}),
)


class ChangeSchema(ma.Schema):
    id = ma.fields.String(required=True)
    updated_at = ma.fields.String(required=True, metadata={"description": "RFC 3339"})
    feature = ma.fields.Dict(
        metadata={"description": "The actor as a GeoJSON Feature (absent for tombstones)"}
    )
    deleted = ma.fields.Boolean(
        metadata={"description": "A tombstone: drop the actor from your cache"}
    )


class ChangesSchema(ma.Schema):
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema), required=True)
    next = ma.fields.String(
        allow_none=True, metadata={"description": "The cursor for your next call (`since`)"}
    )
    more = ma.fields.Boolean(metadata={"description": "More changes wait: call again at once"})
