from datetime import UTC, datetime

import marshmallow as ma
from marshmallow import validate as v

from api.actors.schemas import PRECISIONS
from api.fields import (
    CountryCode,
    DelimitedList,
    GeoJSONGeometry,
    LanguageTag,
    unique,
    validate_bbox,
)
from api.schemas import PageArgsSchema
from geo.privacy import Precision


def _not_in_future(day) -> None:
    if day > datetime.now(UTC).date():
        raise ma.ValidationError("must not be in the future.")


class ObservationCreateSchema(ma.Schema):
    """A first-hand observation as reported by a contributor."""

    text = ma.fields.String(required=True, validate=v.Length(1, 2000))
    language = LanguageTag(required=True)
    observed_on = ma.fields.Date(required=True, validate=_not_in_future)
    location = GeoJSONGeometry(allowed=("Point",), required=True)
    location_precision = ma.fields.String(
        validate=v.OneOf(PRECISIONS), load_default=Precision.LOCALITY.value
    )
    country = CountryCode()
    themes = ma.fields.List(
        ma.fields.String(validate=v.Length(1, 64)),
        load_default=list,
        validate=[v.Length(max=30), unique],
    )
    actor_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "The actor it concerns, if any"}
    )


class ObservationSchema(ma.Schema):
    """An observation as the public sees it: public location only, never its author."""

    id = ma.fields.UUID()
    text = ma.fields.String()
    language = ma.fields.String()
    observed_on = ma.fields.Date()
    location = GeoJSONGeometry(allowed=("Point",), attribute="public_location")
    location_precision = ma.fields.String()
    country = ma.fields.String()
    themes = ma.fields.List(ma.fields.String())
    actor_id = ma.fields.UUID(allow_none=True)
    disclaimers = ma.fields.List(ma.fields.String())
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    version = ma.fields.Integer()


class ObservationQueryArgsSchema(PageArgsSchema):
    theme = DelimitedList(ma.fields.String(validate=v.Length(1, 64)))
    country = DelimitedList(CountryCode())
    language = DelimitedList(LanguageTag())
    actor_id = ma.fields.UUID()
    bbox = DelimitedList(
        ma.fields.Float(allow_nan=False), metadata={"description": "west,south,east,north"}
    )
    since = ma.fields.Date(metadata={"description": "Observed on or after"})

    @ma.validates("bbox")
    def check_bbox(self, bbox, **kwargs):
        validate_bbox(bbox)
