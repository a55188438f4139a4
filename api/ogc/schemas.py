"""OGC API - Features documents as Peacemap writes them (for the OpenAPI document)."""

from __future__ import annotations

import marshmallow as ma

from api.schemas import WebLinkSchema, geojson_schemas

Links = ma.fields.List(ma.fields.Nested(WebLinkSchema), required=True)


class LandingSchema(ma.Schema):
    title = ma.fields.String()
    description = ma.fields.String()
    links = Links


class ConformanceSchema(ma.Schema):
    conformsTo = ma.fields.List(ma.fields.String(), required=True)


class CollectionSchema(ma.Schema):
    id = ma.fields.String(required=True)
    title = ma.fields.String()
    description = ma.fields.String()
    itemType = ma.fields.String()
    crs = ma.fields.List(ma.fields.String())
    extent = ma.fields.Dict(
        metadata={"description": "spatial: bbox (CRS84) of the public locations"}
    )
    links = Links


class CollectionsSchema(ma.Schema):
    links = Links
    collections = ma.fields.List(ma.fields.Nested(CollectionSchema), required=True)


# Properties differ by collection (see each collection's features): an open object.
OGCFeatureSchema, OGCFeatureCollectionSchema = geojson_schemas(None, "OGC")
