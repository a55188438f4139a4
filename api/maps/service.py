"""Map-client queries on the public actor map: tiles, clusters, delta sync and exports.
Everything reads public locations only (api.ogc.collections)."""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Numeric, Text, and_, cast, exists, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from api.actors.models import Actor
from api.errors import Unprocessable
from api.http import GEOJSON
from api.ogc.collections import COLLECTIONS, feature_json
from api.ogc.service import conditions, filter_shape, shaped_conditions
from api.revisions.models import Revision
from api.translations import localised_text
from geo import tiles
from metrics.export import SafeWriter

ACTORS = COLLECTIONS["actors"]
# Scalar properties only: vector tiles carry strings, numbers and booleans.
TILE_PROPERTIES = {
    "name": Actor.name,
    "kind": cast(Actor.kind, Text),
    "country": Actor.country,
    "themes": func.array_to_string(Actor.themes, ","),
    "precision": cast(Actor.location_precision, Text),
}
# Any of these makes a tile a live query; without them low zooms read the cell table.
FILTERS = ("kind", "theme", "country", "datetime", "bbox")
# Changes younger than this are not handed out yet: a transaction that started earlier may
# still commit with an older timestamp, and a client must never skip it.
SETTLE = timedelta(seconds=2)


def _tile_properties(language: tuple[str, ...]) -> dict:
    return {**TILE_PROPERTIES, "name": localised_text("actor", Actor, "name", language)}


def tile(
    session: Session, args: dict, z: int, x: int, y: int, language: tuple[str, ...] = ()
) -> bytes:
    """The tile's bytes; lone actors named in the reader's ``language`` where translated."""
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise Unprocessable(
            f"x and y must be within 0..{2**z - 1} at zoom {z}.",
            errors={"x": ["out of range"], "y": ["out of range"]},
        )
    shape, values = filter_shape(ACTORS, args)
    from_cells = z <= tiles.CELL_LEVELS and not any(args.get(k) for k in FILTERS)
    statement = _tile_statement(from_cells, shape, language)
    return bytes(session.scalar(statement, {**values, **tiles.tile_parameters(z, x, y)}) or b"")


@lru_cache(maxsize=256)
def _tile_statement(from_cells: bool, shape: tuple[str, ...], language: tuple[str, ...]):
    """A tile query for any tile, built once per filter form and reader's language."""
    properties = _tile_properties(language)
    if from_cells:
        return tiles.cell_level_mvt(
            ACTORS.geometry, Actor.id, properties, [ACTORS.visible], "actors"
        )
    where = list(shaped_conditions(ACTORS.id, shape))
    return tiles.mvt(ACTORS.geometry, Actor.id, properties, where, "actors")


def clusters(session: Session, args: dict, zoom: int, language: tuple[str, ...] = ()) -> dict:
    cell = 360.0 / (2**zoom) / 8  # eight cells per 256-pixel tile width
    stmt = tiles.clusters(
        ACTORS.geometry,
        Actor.id,
        {"name": localised_text("actor", Actor, "name", language), "kind": cast(Actor.kind, Text)},
        conditions(ACTORS, args),
        cell,
    )
    features = []
    for row in session.execute(stmt):
        properties = {"count": row.count}
        if row.count == 1:
            properties.update(id=row.id, name=row.name, kind=row.kind)
        point = {"type": "Point", "coordinates": [round(row.x, 5), round(row.y, 5)]}
        features.append({"type": "Feature", "geometry": point, "properties": properties})
    return {"type": "FeatureCollection", "features": features, "zoom": zoom, "cell_degrees": cell}


# -- delta sync ---------------------------------------------------------------------------------


def encode_cursor(at: datetime, actor_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{actor_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, actor_id = raw.split("|")
        return datetime.fromisoformat(at), uuid.UUID(actor_id)
    except (ValueError, UnicodeDecodeError):
        raise Unprocessable(
            "since: is not a cursor from this API.", errors={"since": ["not a valid cursor"]}
        ) from None


def changes(
    session: Session, cursor: str | None, limit: int, language: tuple[str, ...] = ()
) -> tuple[str, set[str]]:
    """Actors created or changed since the cursor: public ones as features, the rest as
    tombstones (archived, hidden, unpublished), so a client's cache never keeps what the
    public may no longer see. Tombstones only name actors that were public once.

    The page as JSON, and the languages of its texts (Content-Language). The features are
    PostgreSQL's JSON, passed through as they come (parsing and writing them again was a
    fifth of the request)."""
    horizon = datetime.now(UTC) - SETTLE
    where = [Actor.updated_at <= horizon]
    if cursor:
        at, last_id = decode_cursor(cursor)
        where.append(or_(Actor.updated_at > at, and_(Actor.updated_at == at, Actor.id > last_id)))
    was_public = exists().where(
        Revision.target_type == "actor",
        Revision.target_id == Actor.id,
        Revision.snapshot["status"].astext == "published",
    )
    public = ACTORS.visible
    page = (
        select(
            Actor.id,
            Actor.updated_at,
            public.label("public"),
            feature_json(ACTORS, language=language).label("feature"),
        )
        .where(*where, or_(public, Actor.status == "archived", Actor.hidden, was_public))
        .order_by(Actor.updated_at, Actor.id)
        .limit(limit)
        .subquery()  # a LIMIT keeps it whole: each feature is built once
    )
    properties = cast(page.c.feature, JSONB)["properties"]
    stmt = select(
        page.c.id,
        page.c.updated_at,
        page.c.public,
        cast(page.c.feature, Text).label("feature"),
        properties["text_languages"].label("chosen"),
        properties["language"].astext.label("language"),
    ).order_by(page.c.updated_at, page.c.id)
    rows = session.execute(stmt).all()
    items, languages = [], set()
    for r in rows:
        head = f'{{"id":"{r.id}","updated_at":"{r.updated_at.isoformat()}"'
        if r.public:
            items.append(f'{head},"feature":{r.feature}}}')
            languages.update(r.chosen.values() if r.chosen else [r.language])
        else:
            items.append(f'{head},"deleted":true}}')
    next_cursor = encode_cursor(rows[-1].updated_at, rows[-1].id) if rows else cursor
    tail = json.dumps({"next": next_cursor, "more": len(rows) == limit}, separators=(",", ":"))
    return f'{{"changes":[{",".join(items)}],{tail[1:]}', languages


# -- exports ------------------------------------------------------------------------------------

HXL = {
    "id": "#org+id",
    "name": "#org+name",
    "kind": "#org+type",
    "themes": "#sector+list",
    "country": "#country+code",
    "countries": "#country+code+operations",
    "location_precision": "#geo+precision",
    "lat": "#geo+lat",
    "lon": "#geo+lon",
    "language": "#meta+lang",
    "updated_at": "#date+updated",
}


# format= → (media type, file extension)
EXPORT_FORMATS = {
    "geojson": (GEOJSON, "geojson"),
    "geojsonseq": ("application/geo+json-seq", "geojsons"),
    "geojsonl": ("application/x-ndjson", "geojsonl"),
    "csv": ("text/csv", "csv"),
}
RS = "\x1e"  # RFC 8142: every GeoJSON text of a sequence starts with a record separator
ISO_8601_UTC = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'


def export(session: Session, args: dict, fmt: str, language: tuple[str, ...] = ()) -> Iterator[str]:
    """The public map (or its filtered part), streamed from a server-side cursor: constant
    memory whatever its size. (The caller keeps the request context alive meanwhile.)"""
    where = conditions(ACTORS, args)
    if fmt == "csv":
        stmt = (
            select(
                Actor.id,
                localised_text("actor", Actor, "name", language),
                Actor.kind,
                func.array_to_string(Actor.themes, ";"),
                Actor.country,
                func.array_to_string(Actor.countries, ";"),
                Actor.location_precision,
                func.round(cast(func.ST_Y(Actor.public_location), Numeric()), 5),
                func.round(cast(func.ST_X(Actor.public_location), Numeric()), 5),
                Actor.language,
                func.to_char(func.timezone("UTC", Actor.updated_at), ISO_8601_UTC),
            )
            .where(*where)
            .order_by(Actor.id)
        )
    else:
        stmt = (
            select(cast(feature_json(ACTORS, args.get("fields"), language=language), Text))
            .where(*where)
            .order_by(Actor.id)
        )
    rows = session.execute(stmt, execution_options={"stream_results": True, "yield_per": 2000})
    if fmt == "csv":
        yield from _csv_lines(rows)
    elif fmt in ("geojsonseq", "geojsonl"):
        start = RS if fmt == "geojsonseq" else ""
        for (feature,) in rows:
            yield start + feature + "\n"
    else:
        yield '{"type":"FeatureCollection","features":['
        for index, (feature,) in enumerate(rows):
            yield ("," if index else "") + feature
        yield "]}\n"


def _csv_lines(rows) -> Iterator[str]:
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(HXL.keys())
    writer.writerow(HXL.values())  # the HXL hashtag row, under the header
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
