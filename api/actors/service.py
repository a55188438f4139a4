"""Actor profiles: create, read, change, archive and search. Plain functions over a
session; they flush, the request commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, func, literal, or_, select, union
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

# Counting every match of a broad query costs a scan; past this many we say "more than".
COUNT_LIMIT = 10_000
DEFAULT_RADIUS_KM = 50.0
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
    stmt = select(Actor).where(*conditions)
    distance = None
    if "near" in args:
        distance = filters.distance_m(Actor.public_location, *args["near"]) / 1000.0
        stmt = stmt.add_columns(distance.label("distance_km"))
    else:
        stmt = stmt.add_columns(literal(None).label("distance_km"))
    stmt = _ordered(stmt, args, distance).limit(limit).offset(args["offset"])
    rows = [(actor, km) for actor, km in session.execute(stmt)]
    return Page(rows, _capped_count(session, conditions, args["offset"], limit, len(rows)))


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
    if is_staff(principal.user):
        yield Actor.status.in_(args.get("status") or ["published"])
    else:
        yield ACTOR
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
    if q := args.get("q"):
        yield Actor.id.in_(_matching_ids(q))


def _matching_ids(q: str):
    """Actors whose texts match ``q``: words of the name or summary, a name close enough
    (typos), or a translated name close enough; each branch served by its own index."""
    actor, translation = aliased(Actor), aliased(Translation)
    return union(
        select(actor.id).where(
            or_(actor.search_vector.op("@@")(_tsquery(q)), literal(q).op("<%")(actor.name))
        ),
        select(translation.target_id).where(
            translation.target_type == "actor",
            literal(q).op("<%")(translation.texts["name"].astext),
        ),
    )


def _tsquery(q: str):
    # 'simple' configuration: no English stemming for a multilingual map.
    return func.websearch_to_tsquery("simple", q)


def _ordered(stmt: Select, args: dict, distance) -> Select:
    sort = args.get("sort") or (
        "relevance" if "q" in args else "distance" if distance is not None else "name"
    )
    if sort == "relevance":
        rank = func.ts_rank_cd(Actor.search_vector, _tsquery(args["q"])) + func.word_similarity(
            args["q"], Actor.name
        )
        return stmt.order_by(rank.desc(), Actor.name, Actor.id)
    if sort == "distance":
        return stmt.order_by(distance, Actor.id)
    column = Actor.name if sort.lstrip("-") == "name" else Actor.updated_at
    order = column.desc() if sort.startswith("-") else column.asc()
    return stmt.order_by(order, Actor.id.desc() if sort.startswith("-") else Actor.id)


def _capped_count(
    session: Session, conditions, offset: int, limit: int, returned: int
) -> int | None:
    if returned < limit and (returned or offset == 0):
        return offset + returned  # the last page tells the total without another query
    capped = select(literal(1)).select_from(Actor).where(*conditions).limit(COUNT_LIMIT + 1)
    total = session.scalar(select(func.count()).select_from(capped.subquery()))
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
