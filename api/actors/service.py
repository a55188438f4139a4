"""Actor profiles: create, read, change, archive and search. Plain functions over a
session; they flush, the request commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    Text,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from api.actors.models import Actor
from api.content import place, place_area, refresh_public_area, replace_location, snapshot
from api.errors import NotFound
from api.moderation.models import Translation
from api.observations.service import follow_actor_precision
from api.permissions import can, is_staff
from api.principal import Principal
from api.projects.placement import follow_actor_placement
from api.revisions.service import Provenance, record_revision
from api.themes.service import check_theme_keys
from api.visibility import ACTOR, is_public
from geo import filters

# Counting every match of a broad query costs a scan; past this many the total is null
# ("more than"): a page counts at most this many rows (issue 14: at 10,000 the count was
# most of a broad list's time at a million actors).
COUNT_LIMIT = 1_000
DEFAULT_RADIUS_KM = 50.0
THEME_PLACES_MAX = 100  # (country, theme) pairs looked up in their index; more: by each alone
NO_PROVENANCE = Provenance()  # loaders and scripts: nobody in particular


@dataclass
class Page:
    items: list[tuple[Actor, float | None]]  # each actor with its distance in km from `near`
    total: int | None  # None: more than COUNT_LIMIT


def create_actor(
    session: Session,
    data: dict,
    provenance: Provenance = NO_PROVENANCE,
    *,
    actor_id: uuid.UUID | None = None,
    disclaimers=(),
) -> Actor:
    data = dict(data)
    check_theme_keys(session, data.get("themes", []))
    actor = Actor(id=actor_id or uuid.uuid4())
    point, area = data.pop("location"), data.pop("area", None)
    for name, value in data.items():
        if name not in ("country", "location_precision"):
            setattr(actor, name, value)
    place(actor, point, data["location_precision"], data.get("country"))
    place_area(actor, area)
    actor.disclaimers = list(disclaimers)
    session.add(actor)
    record_revision(session, actor, "actor", action="created", before=None, **provenance.asdict())
    return actor


def get_actor(session: Session, actor_id: uuid.UUID, principal: Principal) -> Actor:
    actor = session.get(Actor, actor_id)
    if actor is None or not (
        is_public(session, "actor", actor.id) or can(principal, "actor.read_unpublished", actor)
    ):
        # Unpublished actors are indistinguishable from missing ones to whoever may not see them.
        raise NotFound(f"No actor with id {actor_id}.")
    return actor


def update_actor(
    session: Session, actor: Actor, changes: dict, provenance: Provenance, *, action: str = "edited"
) -> Actor:
    """Change an actor and record the revision (managers' direct edits included)."""
    changes = dict(changes)
    before = snapshot(actor)
    if "themes" in changes:
        check_theme_keys(session, changes["themes"])
    precision, country = actor.location_precision, actor.country
    replace_location(actor, changes)
    if "area" in changes:
        place_area(actor, changes.pop("area"))
    elif (actor.location_precision, actor.country) != (precision, country):
        refresh_public_area(actor)
    if actor.location_precision != precision:
        follow_actor_precision(session, actor)
    if (actor.location_precision, actor.country) != (precision, country):
        follow_actor_placement(session, actor)
    for name, value in changes.items():
        setattr(actor, name, value)
    # version and updated_at move only if something public changed (api.privacy).
    record_revision(session, actor, "actor", action=action, before=before, **provenance.asdict())
    return actor


def archive_actor(session: Session, actor: Actor, provenance: Provenance) -> None:
    update_actor(session, actor, {"status": "archived"}, provenance, action="archived")


def search_actors(session: Session, args: dict, principal: Principal, *, limit: int) -> Page:
    conditions = list(_conditions(args, principal))
    distance = None
    if "near" in args:
        distance = filters.distance_m(Actor.public_location, *args["near"]) / 1000.0
    keys = _order_keys(args, distance)
    offset = args["offset"]
    km = (literal(None) if distance is None else distance).label("distance_km")
    if not (q := args.get("q")):
        rows = _read_page(session, select(Actor.id).where(*conditions), keys, limit, offset, km)
    elif _sort(args, distance) != "relevance":
        found = _text_matches(conditions, q, keys, offset + limit)
        ids = select(Actor.id).join(found, found.c.id == Actor.id)
        rows = _read_page(session, ids, keys, limit, offset, km)
    else:
        # Each tier comes after every match of the tiers before it: when they fill the
        # page, the next tiers cannot change it and are not read (the trigram ways cost a
        # similarity per row).
        for tiers in ((0,), (0, 1), (0, 1, 2)):
            found = _text_matches(conditions, q, keys, offset + limit, tiers)
            ids = select(Actor.id, found.c.tier).join(found, found.c.id == Actor.id)
            rows = _read_page(session, ids, keys, limit, offset, km, tier=found.c.tier)
            if len(rows) == limit:
                break
    return Page(rows, _capped_count(session, args, principal, offset, limit, len(rows)))


def _read_page(
    session: Session, ids: Select, keys: list, limit: int, offset: int, km, *, tier=None
) -> list[tuple[Actor, float | None]]:
    """The page's ids first, then their rows: sorting and skipping on narrow rows, only the
    page's actors read whole (a theme in a country sorted 8,000 whole rows for 50).
    ``tier``: relevance's, sorted first."""
    first = [] if tier is None else [tier]
    page = ids.order_by(*first, *keys).limit(limit).offset(offset).subquery()
    first = [] if tier is None else [page.c.tier]
    stmt = select(Actor, km).join(page, page.c.id == Actor.id).order_by(*first, *keys)
    return [(actor, km) for actor, km in session.execute(stmt)]


def public_facets(session: Session) -> dict[str, list[str]]:
    """The countries and working languages of the actors the public sees: what a reader
    can usefully filter by."""
    countries = select(func.unnest(func.array_append(Actor.countries, Actor.country)))
    languages = select(func.unnest(Actor.working_languages))
    found = {}
    for name, stmt in (("country", countries), ("language", languages)):
        column = stmt.where(ACTOR).subquery().c[0]
        found[name] = sorted(v for v in session.scalars(select(column).distinct()) if v)
    return found


def _conditions(args: dict, principal: Principal):
    """Every filter works on the public location: filtering on the exact point while
    showing a generalised one would let anyone recover it with shrinking queries."""
    public = not is_staff(principal.user)
    yield ACTOR if public else Actor.status.in_(args.get("status") or ["published"])
    if kinds := args.get("kind"):
        yield Actor.kind.in_(kinds)
    if themes := args.get("theme"):
        yield (
            Actor.themes.contains(themes)
            if args["theme_match"] == "all"
            else Actor.themes.overlap(themes)
        )
    if countries := args.get("country"):
        yield or_(Actor.country.in_(countries), Actor.countries.overlap(countries))
        if public and themes and len(themes) * len(countries) <= THEME_PLACES_MAX:
            yield _theme_places(countries, themes)
    if languages := args.get("language"):
        yield Actor.working_languages.overlap(languages)
    if bbox := args.get("bbox"):
        yield filters.in_bbox(Actor.public_location, *bbox)
    if near := args.get("near"):
        yield filters.within_km(
            Actor.public_location, *near, args.get("radius_km", DEFAULT_RADIUS_KM)
        )
    if (geometry := args.get("intersects")) is not None:
        yield or_(
            filters.intersects(Actor.public_location, geometry),
            filters.intersects(Actor.public_area, geometry),
        )
    if since := args.get("updated_since"):
        yield Actor.updated_at >= since


def _theme_places(countries: list[str], themes: list[str]) -> ColumnElement[bool]:
    """Implied by the theme and country conditions, and served by their joint index
    (migration 0024): the actor has one of these (country, theme) pairs."""
    pairs = [f"{country}:{theme}" for country in countries for theme in themes]
    places = func.actor_theme_places(Actor.themes, Actor.country, Actor.countries)
    return places.op("&&")(cast(pairs, ARRAY(Text)))


# Text search (README, the API's search parameters): the ways an actor can match ``q``,
# best first, each served by its own index: every word of q in the name; in the name and
# summary together; a name, or a translated name, spelled close to q (typos). A match's
# tier is its best way.
NAME_WEIGHT = literal_column("'{a}'")  # the name's lexemes in search_vector (migration 0025)


def _text_ways(q: str) -> list[tuple[int, ColumnElement[bool]]]:
    words = _tsquery(q)
    return [
        (0, func.ts_filter(Actor.search_vector, NAME_WEIGHT).op("@@")(words)),
        (1, Actor.search_vector.op("@@")(words)),
        (2, literal(q).op("<%")(Actor.name)),
        (2, Actor.id.in_(_translated_names(q))),
    ]


def _translated_names(q: str) -> Select:
    """The actors with a translated name spelled close to ``q``."""
    translated = aliased(Translation)
    return select(translated.target_id).where(
        translated.target_type == "actor",
        literal(q).op("<%")(translated.texts["name"].astext),
    )


def _text_matches(conditions: list, q: str, keys: list, wanted: int, tiers=(0, 1, 2)):
    """The first ``wanted`` matches of ``q`` in ``keys`` order, with their tier: the first
    ``wanted`` of each way in that order, so each way stops early on its own index and the
    merge holds the true first ``wanted`` (a broad word matches a fifth of the map: ranking
    every match was seconds)."""
    ways = [
        select(Actor.id, literal(tier).label("tier"))
        .where(*conditions, match)
        .order_by(*keys)
        .limit(wanted)
        for tier, match in _text_ways(q)
        if tier in tiers
    ]
    merged = union_all(*ways).subquery()
    return (
        select(merged.c.id, func.min(merged.c.tier).label("tier")).group_by(merged.c.id).subquery()
    )


def _tsquery(q: str):
    # 'simple' configuration: no English stemming for a multilingual map.
    return func.websearch_to_tsquery("simple", q)


def _sort(args: dict, distance) -> str:
    return args.get("sort") or (
        "relevance" if "q" in args else "distance" if distance is not None else "name"
    )


def _order_keys(args: dict, distance) -> list:
    """The sort's keys, ``id`` last so that pages never overlap; relevance's tier comes
    first (``search_actors``), then the name."""
    sort = _sort(args, distance)
    if sort == "distance":
        return [distance, Actor.id]
    if sort == "relevance":
        return [Actor.name, Actor.id]
    column = Actor.name if sort.lstrip("-") == "name" else Actor.updated_at
    if sort.startswith("-"):
        return [column.desc(), Actor.id.desc()]
    return [column.asc(), Actor.id]


def _capped_count(
    session: Session, args: dict, principal: Principal, offset: int, limit: int, returned: int
) -> int | None:
    """The number of matches, counted up to COUNT_LIMIT + 1 rows only: past it, None."""
    if returned < limit and (returned or offset == 0):
        return offset + returned  # the last page tells the total without another query
    conditions = list(_conditions(args, principal))
    if not (q := args.get("q")):
        return _count_upto(session, select(Actor.id).where(*conditions))
    # Text search: past the cap in its words alone (a broad word), past it in all; else
    # every way counted (the trigram ways cost a similarity per row: never over a fifth of
    # the map).
    ways = [select(Actor.id).where(*conditions, match) for tier, match in _text_ways(q) if tier]
    if _count_upto(session, ways[0]) is None:
        return None
    return _count_upto(session, union(*(way.limit(COUNT_LIMIT + 1) for way in ways)))


def _count_upto(session: Session, ids) -> int | None:
    total = session.scalar(select(func.count()).select_from(ids.limit(COUNT_LIMIT + 1).subquery()))
    return None if total > COUNT_LIMIT else total


__all__ = [
    "Page",
    "archive_actor",
    "create_actor",
    "get_actor",
    "public_facets",
    "search_actors",
    "update_actor",
]
