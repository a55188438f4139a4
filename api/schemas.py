"""Schemas shared by resources."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from marshmallow import validate as v

from api import limits

# Pages have a byte budget: an area of operation may hold 10,000 vertices (hundreds of
# kilobytes), so list pages leave areas out and say `has_area`; the item's own page (and,
# for actors, `fields=area`) carries them.
LIST_OMITTED = ("area",)


def has_area(attribute: str = "area") -> ma.fields.Function:
    return ma.fields.Function(
        lambda item: getattr(item, attribute) is not None,
        metadata={
            "type": "boolean",
            "description": "Whether there is an area of operation (lists leave the area out)",
        },
    )


class PageArgsSchema(ma.Schema):
    limit = ma.fields.Integer(
        validate=v.Range(1, limits.PAGE_SIZE_MAX),
        metadata={"description": "Page size (default 50)"},
    )
    offset = ma.fields.Integer(load_default=0, validate=v.Range(0, limits.OFFSET_MAX))

    @ma.validates("limit")
    def check_limit(self, limit, **kwargs):
        maximum = current_app.config["PAGE_LIMIT_MAX"]
        if limit > maximum:
            raise ma.ValidationError(f"must be at most {maximum}.")


def page_size(args: dict) -> int:
    return args.get("limit") or current_app.config["PAGE_LIMIT_DEFAULT"]


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The documented shape of a page of ``item_schema`` items (see api.http.page_response)."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "count": ma.fields.Integer(metadata={"description": "Items in this page"}),
            "total": ma.fields.Integer(
                allow_none=True,
                metadata={"description": "Items matching, when cheap to count; else null"},
            ),
            "limit": ma.fields.Integer(),
            "offset": ma.fields.Integer(),
        },
        name=name,
    )


# -- GeoJSON (RFC 7946), as the API writes it ------------------------------------------------

GEOMETRY = {
    "description": "A GeoJSON geometry (WGS 84 longitude/latitude); null when left out",
}


class WebLinkSchema(ma.Schema):
    """A web link (OGC API, RFC 8288)."""

    href = ma.fields.String(required=True)
    rel = ma.fields.String(required=True)
    type = ma.fields.String()
    title = ma.fields.String()


def geojson_schemas(
    properties: type[ma.Schema] | None, name: str, **collection_fields: ma.fields.Field
) -> tuple[type[ma.Schema], type[ma.Schema]]:
    """The documented Feature and FeatureCollection of ``properties`` (an open object when
    None), named ``{name}Feature`` and ``{name}FeatureCollection``."""
    props = (
        ma.fields.Nested(properties)
        if properties
        else ma.fields.Dict(metadata={"description": "The feature's properties"})
    )
    feature = ma.Schema.from_dict(
        {
            "type": ma.fields.String(required=True, validate=v.OneOf(("Feature",))),
            "id": ma.fields.String(),
            "geometry": ma.fields.Dict(required=True, allow_none=True, metadata=GEOMETRY),
            "properties": props,
            "links": ma.fields.List(ma.fields.Nested(WebLinkSchema)),
        },
        name=f"{name}Feature",
    )
    collection = ma.Schema.from_dict(
        {
            "type": ma.fields.String(required=True, validate=v.OneOf(("FeatureCollection",))),
            "features": ma.fields.List(ma.fields.Nested(feature), required=True),
            "numberMatched": ma.fields.Integer(
                allow_none=True, metadata={"description": "Features matching, when cheap to count"}
            ),
            "numberReturned": ma.fields.Integer(),
            "timeStamp": ma.fields.String(),
            "links": ma.fields.List(ma.fields.Nested(WebLinkSchema)),
            **collection_fields,
        },
        name=f"{name}FeatureCollection",
    )
    return feature, collection
