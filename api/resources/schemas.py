import marshmallow as ma
from marshmallow import validate as v

from api.content import DISCLAIMERS
from api.fields import CountryCode, DelimitedList, GeoJSONGeometry, HttpUrl, LanguageTag, unique
from api.resources.models import RESOURCE_TYPES
from api.schemas import PageArgsSchema, has_area


class ResourceCreateSchema(ma.Schema):
    """A library resource as proposed by a contributor."""

    type = ma.fields.String(required=True, validate=v.OneOf(RESOURCE_TYPES))
    title = ma.fields.String(required=True, validate=v.Length(1, 300))
    summary = ma.fields.String(load_default="", validate=v.Length(max=5000))
    url = HttpUrl(required=True)
    language = LanguageTag(required=True)
    themes = ma.fields.List(
        ma.fields.String(validate=v.Length(1, 64)),
        load_default=list,
        validate=[v.Length(max=30), unique],
    )
    countries = ma.fields.List(
        CountryCode(), load_default=list, validate=[v.Length(max=250), unique]
    )
    area = GeoJSONGeometry(allowed=("Polygon", "MultiPolygon"), allow_none=True)
    published_on = ma.fields.Date(allow_none=True)
    author_actor_ids = ma.fields.List(
        ma.fields.UUID(), load_default=list, validate=[v.Length(max=50), unique]
    )


class ResourceSchema(ma.Schema):
    id = ma.fields.UUID()
    type = ma.fields.String()
    title = ma.fields.String()
    summary = ma.fields.String()
    url = ma.fields.String()
    language = ma.fields.String()
    themes = ma.fields.List(ma.fields.String())
    countries = ma.fields.List(ma.fields.String())
    area = GeoJSONGeometry(
        allowed=("Polygon", "MultiPolygon"),
        allow_none=True,
        metadata={"description": "Lists leave it out (see has_area); the resource's page has it"},
    )
    has_area = has_area()
    published_on = ma.fields.Date(allow_none=True)
    author_actor_ids = ma.fields.List(ma.fields.UUID())
    disclaimers = ma.fields.List(
        ma.fields.String(validate=v.OneOf(DISCLAIMERS)),
        metadata={"description": "Show these to readers"},
    )
    text_languages = ma.fields.Dict(metadata={"description": "The language each text is shown in"})
    translated_fields = ma.fields.List(ma.fields.String())
    available_languages = ma.fields.List(ma.fields.String())
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    version = ma.fields.Integer()


class ResourceQueryArgsSchema(PageArgsSchema):
    q = ma.fields.String(
        validate=v.Length(1, 200), metadata={"description": "Text search over title and summary"}
    )
    type = DelimitedList(ma.fields.String(validate=v.OneOf(RESOURCE_TYPES)))
    theme = DelimitedList(ma.fields.String(validate=v.Length(1, 64)))
    language = DelimitedList(LanguageTag())
    country = DelimitedList(CountryCode())
    lang = LanguageTag(metadata={"description": "Show texts in this language where translated"})


class LangArgsSchema(ma.Schema):
    lang = LanguageTag(metadata={"description": "Show texts in this language where translated"})
