"""Schemas shared by resources."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from marshmallow import validate as v

from api import limits


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
