"""marshmallow fields shared by resources: languages, countries, GeoJSON geometries, URLs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache

import marshmallow as ma
import pycountry
from flask import current_app
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from api import limits
from geo.countries import country_codes
from geo.geojson import GeometryError, parse_geometry

_BCP47 = re.compile(
    r"^(?P<language>[a-z]{2,3})(-(?P<script>[a-z]{4}))?(-(?P<region>[a-z]{2}|[0-9]{3}))?"
    r"(-([a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*$",
    re.IGNORECASE,
)


@cache
def _iso639(code: str) -> bool:
    lookup = {"alpha_2": code} if len(code) == 2 else {"alpha_3": code}
    return pycountry.languages.get(**lookup) is not None


class LanguageTag(ma.fields.String):
    """A BCP 47 language tag (e.g. ``en``, ``sw``, ``sr-Latn``, ``es-419``), normalised."""

    def __init__(self, **kwargs):
        metadata = {
            "description": "BCP 47 language tag",
            "example": "en",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, validate=ma.validate.Length(2, 35), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        tag = super()._deserialize(value, attr, data, **kwargs)
        match = _BCP47.match(tag)
        if not match or not _iso639(match["language"].lower()):
            raise ma.ValidationError(
                f"{tag!r} is not a BCP 47 language tag with an ISO 639 language."
            )
        parts = tag.split("-")
        parts[0] = parts[0].lower()
        if match["script"]:
            parts[1] = parts[1].title()
        if match["region"]:
            index = 2 if match["script"] else 1
            parts[index] = parts[index].upper()
        return "-".join(parts)


class CountryCode(ma.fields.String):
    """An ISO 3166-1 alpha-2 country code (XK for Kosovo), upper-cased."""

    def __init__(self, **kwargs):
        metadata = {
            "description": "ISO 3166-1 alpha-2 code",
            "example": "KE",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, validate=ma.validate.Length(2, 2), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs).upper()
        if code not in country_codes():
            raise ma.ValidationError(f"{code!r} is not an ISO 3166-1 alpha-2 country code.")
        return code


class HttpUrl(ma.fields.Url):
    def __init__(self, **kwargs):
        super().__init__(schemes={"http", "https"}, validate=ma.validate.Length(max=2000), **kwargs)


class GeoJSONGeometry(ma.fields.Field):
    """A GeoJSON geometry object in, a shapely geometry out; dumps WKB or shapely to GeoJSON.

    Also accepts the geometry as a JSON string, which is how it travels in a query string.
    """

    def __init__(self, *, allowed: tuple[str, ...], **kwargs):
        self.allowed = allowed
        metadata = {
            "description": f"GeoJSON geometry ({' or '.join(allowed)}), WGS 84 longitude/latitude",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        geometry = to_shape(value) if isinstance(value, WKBElement) else value
        return mapping(geometry)

    def _deserialize(self, value, attr, data, **kwargs) -> BaseGeometry:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ma.ValidationError("must be a GeoJSON geometry (JSON).") from None
        try:
            return parse_geometry(
                value,
                allowed=self.allowed,
                max_vertices=current_app.config["GEOMETRY_MAX_VERTICES"],
            )
        except GeometryError as exc:
            raise ma.ValidationError(f"Geometry {exc}.") from None


class DelimitedList(ma.fields.List):
    """A list in a query string, comma-separated (``theme=a,b``), repeated
    (``theme=a&theme=b``) or both; at most ``limits.QUERY_LIST_ITEMS`` values unless
    the field says fewer."""

    is_multiple = True  # webargs hands over every occurrence of the parameter

    def __init__(self, cls_or_instance, *, max_items: int = limits.QUERY_LIST_ITEMS, **kwargs):
        validate = kwargs.pop("validate", None)
        validators = [validate] if callable(validate) else list(validate or [])
        super().__init__(
            cls_or_instance, validate=[ma.validate.Length(max=max_items), *validators], **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise self.make_error("invalid")
        items = [part.strip() for item in value for part in str(item).split(",") if part.strip()]
        return super()._deserialize(items, attr, data, **kwargs)


class Timestamp(ma.fields.AwareDateTime):
    """An RFC 3339 date-time in, an aware UTC datetime out (a naive one is taken as UTC).

    Offsets beyond ±15:59 and instants outside years 1-9999 in UTC are refused: PostgreSQL
    would refuse the first, and store the second where Python can never read it back."""

    default_error_messages = {
        "offset": "must have a UTC offset within ±15:59.",
        "range": f"must be between {limits.EARLIEST_INSTANT.date().isoformat()} and "
        f"{limits.LATEST_INSTANT.date().isoformat()} (UTC).",
    }

    def __init__(self, **kwargs):
        super().__init__(format="iso", default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        instant = super()._deserialize(value, attr, data, **kwargs)
        return bounded_instant(instant, self.make_error)


def bounded_instant(instant: datetime, make_error=None) -> datetime:
    """``instant`` in UTC, or the ValidationError of ``Timestamp`` saying which rule it broke."""
    make_error = make_error or (
        lambda key: ma.ValidationError(Timestamp.default_error_messages[key])
    )
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    if abs(instant.utcoffset()) > limits.MAX_UTC_OFFSET:
        raise make_error("offset")
    try:
        instant = instant.astimezone(UTC)
    except OverflowError:
        raise make_error("range") from None
    if not limits.EARLIEST_INSTANT <= instant <= limits.LATEST_INSTANT:
        raise make_error("range")
    return instant


class Mapping(ma.fields.Dict):
    """A JSON object of at most ``max_properties`` members, declared as such."""

    def __init__(self, *, max_properties: int, **kwargs):
        self.max_properties = max_properties
        metadata = {"maxProperties": max_properties, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dict) and len(value) > self.max_properties:
            raise ma.ValidationError(f"must have at most {self.max_properties} members.")
        return super()._deserialize(value, attr, data, **kwargs)


def validate_bbox(bbox: list[float]) -> None:
    if len(bbox) != 4:
        raise ma.ValidationError("must be four numbers: west,south,east,north.")
    west, south, east, north = bbox
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise ma.ValidationError("longitudes must be within -180..180.")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise ma.ValidationError("latitudes must be within -90..90.")
    if south > north:
        raise ma.ValidationError("south must not be greater than north.")


def unique(values: list) -> None:
    if len(set(values)) != len(values):
        raise ma.ValidationError("must not repeat a value.")


__all__ = [
    "CountryCode",
    "DelimitedList",
    "GeoJSONGeometry",
    "HttpUrl",
    "LanguageTag",
    "Mapping",
    "Timestamp",
    "bounded_instant",
    "unique",
]
