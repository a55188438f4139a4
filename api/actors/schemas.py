"""Actor representations: what clients send, what they get back, how they query."""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from marshmallow import validate as v

from api.actors.models import ACTOR_KINDS, ACTOR_STATUSES
from api.fields import (
    CountryCode,
    DelimitedList,
    GeoJSONGeometry,
    HttpUrl,
    LanguageTag,
    Timestamp,
    unique,
    validate_bbox,
)
from api.schemas import PageArgsSchema, has_area
from geo.privacy import Precision

PRECISIONS = [p.value for p in Precision]
SORTS = ("name", "-name", "updated", "-updated", "distance", "relevance")


class LinkSchema(ma.Schema):
    label = ma.fields.String(required=True, validate=v.Length(1, 100))
    url = HttpUrl(required=True)


class ContactSchema(ma.Schema):
    """Private contact details: shown only to people allowed to see them, never the public."""

    email = ma.fields.Email(validate=v.Length(max=254))
    phone = ma.fields.String(
        validate=[
            v.Length(5, 31),
            v.Regexp(r"^\+?[0-9 ()\-.]{5,30}$", error="is not a phone number."),
        ]
    )
    messaging = ma.fields.String(
        validate=v.Length(max=200), metadata={"description": "e.g. Signal or WhatsApp handle"}
    )
    note = ma.fields.String(validate=v.Length(max=1000))


def _founded_year(year: int) -> None:
    if not 1800 <= year <= datetime.now(UTC).year:
        raise ma.ValidationError(f"must be between 1800 and {datetime.now(UTC).year}.")


class ActorWriteSchema(ma.Schema):
    """Fields a client may write; the base of the create and patch schemas."""

    kind = ma.fields.String(required=True, validate=v.OneOf(ACTOR_KINDS))
    name = ma.fields.String(required=True, validate=v.Length(1, 200))
    summary = ma.fields.String(
        validate=v.Length(max=500), metadata={"description": "One or two sentences"}
    )
    description = ma.fields.String(validate=v.Length(max=20_000))
    language = LanguageTag(
        required=True,
        metadata={"description": "BCP 47 tag of the language name/summary/description are in"},
    )
    website = HttpUrl(allow_none=True)
    links = ma.fields.List(ma.fields.Nested(LinkSchema), validate=v.Length(max=20))
    contact = ma.fields.Nested(ContactSchema, metadata={"description": "Private: never public"})
    working_languages = ma.fields.List(LanguageTag(), validate=[v.Length(max=30), unique])
    themes = ma.fields.List(
        ma.fields.String(validate=v.Length(1, 64)),
        validate=[v.Length(max=30), unique],
        metadata={"description": "Keys from GET /api/v1/themes"},
    )
    location = GeoJSONGeometry(
        allowed=("Point",),
        required=True,
        metadata={
            "description": "Base location (exact). Stored restricted; see location_precision."
        },
    )
    location_precision = ma.fields.String(
        validate=v.OneOf(PRECISIONS),
        metadata={
            "description": "How precisely the public may see the base location: exact, or "
            "generalised to a locality (~10 km cell), region (~100 km cell) or country."
        },
    )
    country = CountryCode(
        metadata={
            "description": "Country of the base location; derived from the point when omitted"
        }
    )
    countries = ma.fields.List(
        CountryCode(),
        validate=[v.Length(max=250), unique],
        metadata={"description": "Areas of operation"},
    )
    area = GeoJSONGeometry(
        allowed=("Polygon", "MultiPolygon"),
        allow_none=True,
        metadata={"description": "Area of operation as a (multi)polygon"},
    )
    # The rule is _founded_year's (1800 to the current year); the document declares an
    # outer bound that stays true, as every input value declares its limits.
    founded_year = ma.fields.Integer(
        allow_none=True,
        validate=_founded_year,
        metadata={
            "minimum": 1800,
            "maximum": 2100,
            "description": "From 1800 to the current year",
        },
    )
    status = ma.fields.String(validate=v.OneOf(ACTOR_STATUSES))
    verified = ma.fields.Boolean()


class ActorCreateSchema(ActorWriteSchema):
    summary = ma.fields.String(validate=v.Length(max=500), load_default="")
    description = ma.fields.String(validate=v.Length(max=20_000), load_default="")
    links = ma.fields.List(
        ma.fields.Nested(LinkSchema), validate=v.Length(max=20), load_default=list
    )
    contact = ma.fields.Nested(ContactSchema, load_default=dict)
    working_languages = ma.fields.List(
        LanguageTag(), validate=[v.Length(max=30), unique], load_default=list
    )
    themes = ma.fields.List(
        ma.fields.String(validate=v.Length(1, 64)),
        validate=[v.Length(max=30), unique],
        load_default=list,
    )
    countries = ma.fields.List(
        CountryCode(), validate=[v.Length(max=250), unique], load_default=list
    )
    # Safe by default: a location is generalised unless its owner chooses otherwise.
    location_precision = ma.fields.String(
        validate=v.OneOf(PRECISIONS), load_default=Precision.LOCALITY.value
    )
    status = ma.fields.String(validate=v.OneOf(ACTOR_STATUSES), load_default="draft")
    verified = ma.fields.Boolean(load_default=False)


class ActorPatchSchema(ActorWriteSchema):
    """Partial update (use with ``partial=True``): send only the fields to change; null
    clears an optional field."""

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Send at least one field to change.", "_schema")


class ActorSchema(ma.Schema):
    """An actor as the API shows it. ``location`` is the public location."""

    id = ma.fields.UUID()
    kind = ma.fields.String()
    name = ma.fields.String()
    summary = ma.fields.String()
    description = ma.fields.String()
    language = ma.fields.String(metadata={"description": "BCP 47 tag of the texts"})
    website = ma.fields.String(allow_none=True)
    links = ma.fields.List(ma.fields.Nested(LinkSchema))
    working_languages = ma.fields.List(ma.fields.String())
    themes = ma.fields.List(ma.fields.String())
    location = GeoJSONGeometry(
        allowed=("Point",),
        attribute="public_location",
        metadata={"description": "Public location, generalised according to location_precision"},
    )
    location_precision = ma.fields.String()
    country = ma.fields.String()
    countries = ma.fields.List(ma.fields.String())
    area = GeoJSONGeometry(
        allowed=("Polygon", "MultiPolygon"),
        allow_none=True,
        attribute="public_area",
        metadata={
            "description": "Area of operation, generalised to whole cells of "
            "location_precision (as drawn for exact actors); lists leave it out unless "
            "`fields` names it"
        },
    )
    has_area = has_area("public_area")
    founded_year = ma.fields.Integer(allow_none=True)
    status = ma.fields.String()
    verified = ma.fields.Boolean()
    disclaimers = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "unverified, community_reported, disputed, outdated: show them"},
    )
    text_languages = ma.fields.Dict(
        metadata={"description": "The language each text (name, summary, description) is in"}
    )
    translated_fields = ma.fields.List(
        ma.fields.String(), metadata={"description": "Texts shown in translation"}
    )
    available_languages = ma.fields.List(ma.fields.String())
    distance_km = ma.fields.Float(
        metadata={"description": "Distance from `near` (public location), when `near` is given"}
    )
    created_at = ma.fields.AwareDateTime(format="iso", default_timezone=UTC)
    updated_at = ma.fields.AwareDateTime(format="iso", default_timezone=UTC)
    version = ma.fields.Integer()


PUBLIC_PROPERTIES = tuple(ActorSchema._declared_fields)


class ActorPrivateSchema(ActorSchema):
    """With the private details, for those allowed to see them (``include=private``)."""

    contact = ma.fields.Nested(ContactSchema)
    exact_location = GeoJSONGeometry(
        allowed=("Point",),
        attribute="location",
        metadata={"description": "The exact base location; every read is logged"},
    )
    exact_area = GeoJSONGeometry(
        allowed=("Polygon", "MultiPolygon"),
        allow_none=True,
        attribute="area",
        metadata={"description": "The area of operation as drawn; every read is logged"},
    )


class ActorListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ActorSchema))
    count = ma.fields.Integer(metadata={"description": "Items in this page"})
    total = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "Items matching the query; null when over 1,000 (counting costs)"},
    )
    limit = ma.fields.Integer()
    offset = ma.fields.Integer()


class ActorRepresentationArgsSchema(ma.Schema):
    """How to represent actors: which properties, which format."""

    fields = DelimitedList(
        ma.fields.String(validate=v.OneOf(PUBLIC_PROPERTIES)),
        metadata={
            "description": "Only these properties (id is always included); lists leave "
            "`area` out unless it is named here"
        },
    )
    f = ma.fields.String(
        validate=v.OneOf(("json", "geojson")),
        metadata={"description": "Output format; also chosen by Accept: application/geo+json"},
    )
    lang = LanguageTag(
        metadata={"description": "Texts in this language where translated (else Accept-Language)"}
    )


class ActorItemArgsSchema(ActorRepresentationArgsSchema):
    include = ma.fields.String(
        validate=v.OneOf(("private",)),
        metadata={
            "description": "private: add contact details and the exact location, for a "
            "moderator, admin or the actor's manager (each read is logged)"
        },
    )


class ActorQueryArgsSchema(PageArgsSchema, ActorRepresentationArgsSchema):
    q = ma.fields.String(
        validate=v.Length(1, 200),
        metadata={
            "description": "Text search over name and summary (web search syntax), typos "
            "tolerated; by relevance: every word in the name first, then in name and summary, "
            "then names spelled close; each group by name"
        },
    )
    kind = DelimitedList(ma.fields.String(validate=v.OneOf(ACTOR_KINDS)))
    theme = DelimitedList(ma.fields.String(validate=v.Length(1, 64)))
    theme_match = ma.fields.String(
        load_default="any",
        validate=v.OneOf(("any", "all")),
        metadata={"description": "any or all of `theme`"},
    )
    country = DelimitedList(
        CountryCode(), metadata={"description": "Based in or operating in any of these countries"}
    )
    language = DelimitedList(
        LanguageTag(), metadata={"description": "Works in any of these languages"}
    )
    status = DelimitedList(
        ma.fields.String(validate=v.OneOf(ACTOR_STATUSES)),
        metadata={"description": "Moderators and admins only; others see published actors"},
    )
    bbox = DelimitedList(
        ma.fields.Float(allow_nan=False),
        max_items=4,
        metadata={"description": "west,south,east,north (west > east crosses the antimeridian)"},
    )
    near = DelimitedList(
        ma.fields.Float(allow_nan=False), max_items=2, metadata={"description": "lon,lat"}
    )
    radius_km = ma.fields.Float(
        validate=v.Range(min=0, max=20_040, min_inclusive=False),
        metadata={"description": "With `near`: only actors within this distance (default 50)"},
    )
    intersects = GeoJSONGeometry(
        allowed=("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"),
        metadata={
            "description": "GeoJSON geometry (URL-encoded JSON) the location or area must touch"
        },
    )
    updated_since = Timestamp()
    sort = ma.fields.String(
        validate=v.OneOf(SORTS),
        metadata={"description": "Default: relevance with `q`, distance with `near`, else name"},
    )

    @ma.validates("bbox")
    def check_bbox(self, bbox, **kwargs):
        validate_bbox(bbox)

    @ma.validates("near")
    def check_near(self, near, **kwargs):
        if len(near) != 2:
            raise ma.ValidationError("must be two numbers: lon,lat.")
        if not (-180 <= near[0] <= 180 and -90 <= near[1] <= 90):
            raise ma.ValidationError(
                "must be a longitude within -180..180 and a latitude within -90..90."
            )

    @ma.validates_schema
    def check_combinations(self, data, **kwargs):
        if "radius_km" in data and "near" not in data:
            raise ma.ValidationError("needs `near`.", "radius_km")
        if data.get("sort") == "distance" and "near" not in data:
            raise ma.ValidationError("sorting by distance needs `near`.", "sort")
        if data.get("sort") == "relevance" and "q" not in data:
            raise ma.ValidationError("sorting by relevance needs `q`.", "sort")
