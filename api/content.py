"""What actors, resources and observations share: moderation columns, placement of a
generalised location, and snapshots for revisions."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Point, mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, Enum, String, inspect, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from api.crypto import SealedGeometry, SealedPoint
from api.errors import Unprocessable
from geo.countries import contains, country_at
from geo.geojson import SRID, short_way_round
from geo.privacy import Precision, coarsest, public_area, public_point

# Sealed columns load together, on first access (api.crypto).
PRIVATE_GROUP = "private"
DISCLAIMERS = ("unverified", "community_reported", "disputed", "outdated")


class Moderated:
    """Columns of every piece of public content that moderators can act on."""

    # Removed by moderation: gone from public output, never deleted.
    hidden: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    disclaimers: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default=text("'{}'"))


class Located:
    """An exact location (restricted), its precision and the public location derived from
    it once, when written (see geo.privacy)."""

    # Sealed at rest (api.crypto): a dump of the table does not locate anyone. Loaded (and
    # opened) only when read, never for public lists.
    location: Mapped[WKBElement] = mapped_column(
        SealedPoint(), deferred=True, deferred_group=PRIVATE_GROUP
    )

    @declared_attr
    def location_precision(cls) -> Mapped[str]:
        return mapped_column(Enum(*[p.value for p in Precision], name="location_precision"))

    public_location: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False)
    )
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2 of the location


def place(item: Located, point: BaseGeometry, precision: str, country: str | None) -> None:
    """Set the exact location, its country and, once, the public location."""
    errors = {}
    if country is None:
        country = country_at(point.x, point.y)
        if country is None:
            errors["country"] = ["could not be derived from the location (at sea?): send it."]
    elif not contains(country, point.x, point.y):
        errors["location"] = [f"is not inside country {country}."]
    if errors:
        raise Unprocessable("; ".join(f"{k}: {v[0]}" for k, v in errors.items()), errors=errors)
    item.location = from_shape(point, srid=SRID)
    item.location_precision = precision
    item.country = country
    item.public_location = _public_location(point, precision, country)


def _public_location(point: BaseGeometry, precision: str, country: str | None) -> WKBElement:
    return from_shape(Point(public_point(point.x, point.y, precision, country)), srid=SRID)


def regeneralise(session: Session, model, *, batch: int = 2000) -> int:
    """Recompute every stored public location under the current rules (run after they
    change: ``flask privacy regeneralise``); returns how many moved. Those that move get a
    new version, so clients see them in the changes feed."""
    moved = 0
    ids = session.scalars(select(model.id).order_by(model.id)).all()
    for start in range(0, len(ids), batch):
        for item in session.scalars(select(model).where(model.id.in_(ids[start : start + batch]))):
            fresh = _public_location(exact_point(item), item.location_precision, item.country)
            if to_shape(fresh).equals_exact(to_shape(item.public_location), 0):
                continue
            item.public_location = fresh
            moved += 1
        session.flush()
    return moved


def exact_point(item: Located) -> BaseGeometry:
    """The exact location of an item, decrypted: for those allowed to see it only."""
    return to_shape(item.location)


def replace_location(item: Located, changes: dict) -> None:
    """Apply location, precision and country changes (popped from ``changes``) together."""
    placement = {
        k: changes.pop(k) for k in ("location", "location_precision", "country") if k in changes
    }
    if not placement:
        return
    place(
        item,
        placement.get("location") or exact_point(item),
        placement.get("location_precision", item.location_precision),
        # A new point without a country re-derives it; otherwise keep or take the new one.
        placement.get("country", None if "location" in placement else item.country),
    )


def area_column(area: BaseGeometry | None):
    """An area of operation for a MULTIPOLYGON column (a Polygon becomes a MultiPolygon;
    one drawn across the antimeridian is read the short way round)."""
    if area is None:
        return None
    area = short_way_round(area)
    if area.geom_type == "Polygon":
        area = MultiPolygon([area])
    return from_shape(area, srid=SRID)


def place_area(item, area: BaseGeometry | None) -> None:
    """Set an actor's area of operation (private as drawn) and, once, its public area,
    generalised to the actor's precision (geo.privacy.public_area). Call it again when
    the location's precision or country changes."""
    item.area = area_column(area)
    refresh_public_area(item)


def refresh_public_area(item) -> None:
    if item.area is None:
        item.public_area = None
        return
    shown = public_area(to_shape(item.area), item.location_precision, item.country)
    item.public_area = area_column(shown)


# -- snapshots ------------------------------------------------------------------------------

NOT_SNAPSHOTTED = {"id", "version", "created_at", "updated_at", "search_vector"}


def snapshot(item) -> dict:
    """The item's content as JSON values (as stored in JSONB), for revisions and diffs."""
    values = {
        column.key: _to_json(getattr(item, column.key))
        for column in inspect(item).mapper.column_attrs
        if column.key not in NOT_SNAPSHOTTED
    }
    return json.loads(json.dumps(values))  # tuples become lists, as they come back from JSONB


# Decided by moderators (or by the organisation's choice of precision), never by an old
# version: a revert leaves these as they are now.
NOT_CONTENT = frozenset({"hidden", "disclaimers", "status", "verified"})
PLACEMENT = ("location", "location_precision", "public_location", "country", "public_area")


def restore(item, values: dict) -> None:
    """Set the item's content back to a snapshot: texts, themes, contacts, languages,
    areas, links and place; never what moderators decided (``NOT_CONTENT``: hidden,
    status, verified, disclaimers). The old point comes back at the coarser of its old and
    its current precision, so a revert never publishes a finer place than the present one."""
    _set(item, {k: v for k, v in values.items() if k not in NOT_CONTENT and k not in PLACEMENT})
    if isinstance(item, Located) and values.get("location") is not None:
        precision = coarsest(values["location_precision"], item.location_precision).value
        place(item, shape(values["location"]), precision, values.get("country"))
    if hasattr(item, "public_area"):  # the old area, shown at the present precision
        refresh_public_area(item)


def _set(item, values: dict) -> None:
    mapper = inspect(item).mapper
    for key, value in values.items():
        column_type = mapper.columns[key].type
        if isinstance(column_type, Geometry | SealedGeometry):
            value = None if value is None else from_shape(shape(value), srid=SRID)
        elif value is not None and column_type.python_type is date:
            value = date.fromisoformat(value)
        elif value is not None and column_type.python_type is uuid.UUID:
            value = uuid.UUID(value)
        setattr(item, key, value)


def _to_json(value):
    if isinstance(value, WKBElement):
        return mapping(to_shape(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    return value
