"""Contributions, their review, flags and moderators' direct actions. Every moderator act
lands in the append-only moderation log; every published change in a revision."""

from __future__ import annotations

import types
import uuid
from datetime import UTC, datetime, timedelta

import marshmallow as ma
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.accounts.models import User
from api.actors.models import Actor
from api.actors.schemas import ActorCreateSchema, ActorPatchSchema
from api.actors.service import create_actor, is_public, update_actor
from api.content import place, snapshot
from api.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from api.moderation.models import Contribution, Flag, ModerationEvent, Translation
from api.moderation.schemas import TranslationProposalSchema
from api.moderation.workflow import NEEDS_REASON, OPEN, next_state
from api.observations.models import Observation
from api.observations.schemas import ObservationCreateSchema
from api.observations.service import create_observation
from api.permissions import is_staff
from api.principal import Principal
from api.resources.models import Resource
from api.resources.schemas import ResourceCreateSchema
from api.resources.service import create_resource
from api.revisions.service import Provenance, record_revision
from api.themes.service import check_theme_keys
from api.translations import TRANSLATABLE
from geo import filters

MODELS = {"actor": Actor, "resource": Resource, "observation": Observation}
# What contributors may propose: everything but the moderators' own fields.
PROPOSAL_SCHEMAS = {
    "new_actor": ActorCreateSchema(exclude=("status", "verified")),
    "actor_edit": ActorPatchSchema(exclude=("status", "verified"), partial=True),
    "new_resource": ResourceCreateSchema(),
    "new_observation": ObservationCreateSchema(),
    "translation": TranslationProposalSchema(),
}
DUPLICATE_RADIUS_KM = 50


def _now() -> datetime:
    return datetime.now(UTC)


def log(
    session: Session,
    action: str,
    moderator_id,
    *,
    contribution=None,
    target_type=None,
    target_id=None,
    reason=None,
    **details,
) -> None:
    if contribution is not None:
        target_type = target_type or contribution.target_type
        target_id = target_id or contribution.target_id
    session.add(
        ModerationEvent(
            action=action,
            moderator_id=moderator_id,
            contribution_id=contribution.id if contribution is not None else None,
            target_type=target_type,
            target_id=target_id,
            reason=reason,
            details=details,
        )
    )


# -- items ----------------------------------------------------------------------------------


def _is_visible(item) -> bool:
    return is_public(item) if isinstance(item, Actor) else not item.hidden


def get_item(
    session: Session, target_type: str, target_id: uuid.UUID, principal: Principal, *, lock=False
):
    """A published item as ``principal`` may see it (404 otherwise)."""
    item = session.get(MODELS[target_type], target_id, with_for_update=lock)
    if item is None or not (_is_visible(item) or is_staff(principal.user)):
        raise NotFound(f"No {target_type} with id {target_id}.")
    return item


def _changed(session, item, target_type, moderator_id, action, reason, change) -> None:
    before = snapshot(item)
    change(item)
    item.updated_at = _now()
    record_revision(
        session, item, target_type, action=action, before=before, approved_by=moderator_id
    )
    log(session, action, moderator_id, target_type=target_type, target_id=item.id, reason=reason)


def set_hidden(
    session: Session, target_type: str, item, hidden: bool, moderator_id, reason: str
) -> None:
    if item.hidden == hidden:
        raise Conflict(f"This {target_type} is already {'hidden' if hidden else 'visible'}.")
    _changed(
        session,
        item,
        target_type,
        moderator_id,
        "hidden" if hidden else "unhidden",
        reason,
        lambda i: setattr(i, "hidden", hidden),
    )


def set_disclaimers(
    session: Session, target_type: str, item, disclaimers: list[str], moderator_id, reason: str
) -> None:
    _changed(
        session,
        item,
        target_type,
        moderator_id,
        "disclaimed",
        reason,
        lambda i: setattr(i, "disclaimers", sorted(disclaimers)),
    )


# -- contributions ----------------------------------------------------------------------


def _load(kind: str, payload: dict) -> dict:
    try:
        return PROPOSAL_SCHEMAS[kind].load(payload)
    except ma.ValidationError as exc:
        errors = {"payload": exc.messages}
        raise Unprocessable(
            "payload: " + "; ".join(f"{k}: {v}" for k, v in exc.messages.items()), errors=errors
        ) from None


def submit(session: Session, principal: Principal, data: dict) -> Contribution:
    kind = data["kind"]
    loaded = _load(kind, data["payload"])
    contribution = Contribution(
        id=uuid.uuid4(), kind=kind, author_id=principal.user_id, state="submitted"
    )
    _prepare(session, contribution, kind, loaded, data, principal)
    contribution.payload = data["payload"]
    session.add(contribution)
    session.flush()
    return contribution


def _prepare(session, contribution, kind, loaded, data, principal) -> None:
    """Check the proposal against the present state and fill the queue's columns."""
    check_theme_keys(session, loaded.get("themes", []))
    contribution.language = loaded.get("language")
    contribution.themes = loaded.get("themes", [])
    if kind in ("new_actor", "new_observation"):
        # Placed like the real item will be, to check the country and find the public point.
        spot = types.SimpleNamespace()
        place(spot, loaded["location"], loaded["location_precision"], loaded.get("country"))
        contribution.country, contribution.public_location = spot.country, spot.public_location
        if kind == "new_actor":
            contribution.duplicates = possible_duplicates(session, loaded["name"], spot)
    elif kind == "new_resource":
        contribution.country = (loaded.get("countries") or [None])[0]
    else:  # an edit or a translation of something published
        target_type = "actor" if kind == "actor_edit" else data["target_type"]
        item = get_item(session, target_type, data["target_id"], principal)
        if not _is_visible(item):
            raise NotFound(f"No {target_type} with id {item.id}.")
        contribution.target_type, contribution.target_id = target_type, item.id
        contribution.base_version, contribution.base_snapshot = item.version, snapshot(item)
        contribution.language = loaded.get("language", item.language)
        contribution.themes = list(item.themes)
        contribution.country = getattr(item, "country", None) or (item.countries or [None])[0]
        contribution.public_location = getattr(item, "public_location", None)
        if kind == "translation":
            _check_translation(item, target_type, loaded)
        elif "location" in loaded or "country" in loaded:
            spot = types.SimpleNamespace()
            place(
                spot,
                loaded.get("location") or to_shape(item.location),
                loaded.get("location_precision", item.location_precision),
                loaded.get("country"),
            )


def _check_translation(item, target_type: str, loaded: dict) -> None:
    allowed = TRANSLATABLE[target_type]
    wrong = [field for field in loaded["texts"] if field not in allowed]
    errors = {}
    if wrong:
        errors["texts"] = [
            f"a {target_type} has no text {', '.join(wrong)}; translatable: {', '.join(allowed)}."
        ]
    if loaded["language"].split("-")[0] == item.language.split("-")[0]:
        errors["language"] = [
            f"is the original's language ({item.language}): a translation needs another."
        ]
    if errors:
        raise Unprocessable(
            "payload: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
            errors={"payload": errors},
        )


def possible_duplicates(session: Session, name: str, spot) -> list[dict]:
    """Published actors with a similar name (trigram) that are nearby or in the same country."""
    distance = filters.distance_m(Actor.public_location, *_xy(spot.public_location)) / 1000.0
    stmt = (
        select(
            Actor.id,
            Actor.name,
            Actor.country,
            func.similarity(Actor.name, name).label("similarity"),
            distance.label("km"),
        )
        .where(
            Actor.status == "published",
            Actor.hidden.is_(False),
            Actor.name.op("%")(name),
            (Actor.country == spot.country)
            | filters.within_km(
                Actor.public_location, *_xy(spot.public_location), DUPLICATE_RADIUS_KM
            ),
        )
        .order_by(func.similarity(Actor.name, name).desc(), Actor.id)
        .limit(5)
    )
    return [
        {
            "actor_id": str(r.id),
            "name": r.name,
            "country": r.country,
            "similarity": round(r.similarity, 3),
            "distance_km": round(r.km, 1),
        }
        for r in session.execute(stmt)
    ]


def _xy(wkb) -> tuple[float, float]:
    point = to_shape(wkb)
    return point.x, point.y


def get_contribution(
    session: Session, contribution_id: uuid.UUID, principal: Principal, *, lock=False
) -> Contribution:
    """Authors see their own contributions; moderators see all; others learn nothing."""
    contribution = session.get(Contribution, contribution_id, with_for_update=lock)
    if contribution is None or not (
        is_staff(principal.user) or contribution.author_id == principal.user_id
    ):
        raise NotFound(f"No contribution with id {contribution_id}.")
    return contribution


def _require_author(contribution: Contribution, principal: Principal) -> None:
    if contribution.author_id != principal.user_id:
        raise Forbidden("Only the author may do this.")


def withdraw(session: Session, contribution: Contribution, principal: Principal) -> Contribution:
    _require_author(contribution, principal)
    contribution.state = next_state(contribution.kind, contribution.state, "withdraw")
    contribution.claimed_by = contribution.claimed_until = None
    contribution.updated_at = _now()
    session.flush()
    return contribution


def resubmit(
    session: Session, contribution: Contribution, principal: Principal, payload: dict
) -> Contribution:
    _require_author(contribution, principal)
    new_state = next_state(contribution.kind, contribution.state, "resubmit")
    loaded = _load(contribution.kind, payload)
    data = {"target_type": contribution.target_type, "target_id": contribution.target_id}
    # An edit is re-based on the actor as it is now: the author has seen the reason.
    _prepare(session, contribution, contribution.kind, loaded, data, principal)
    contribution.payload = payload
    contribution.state = new_state
    contribution.submitted_at = contribution.updated_at = _now()
    session.flush()
    return contribution


def _check_moderator(contribution: Contribution, moderator) -> None:
    if contribution.author_id is not None and contribution.author_id == moderator.id:
        raise Forbidden("Four eyes: nobody moderates their own contribution.")


def _held_by_another(contribution: Contribution, moderator) -> bool:
    return (
        contribution.state == "in_review"
        and contribution.claimed_by not in (None, moderator.id)
        and contribution.claimed_until is not None
        and contribution.claimed_until > _now()
    )


def claim(session: Session, contribution: Contribution, moderator, *, minutes: int) -> Contribution:
    _check_moderator(contribution, moderator)
    if _held_by_another(contribution, moderator):
        raise Conflict(
            "Another moderator holds this contribution until "
            f"{contribution.claimed_until.isoformat()}."
        )
    contribution.state = next_state(contribution.kind, contribution.state, "claim")
    contribution.claimed_by, contribution.claimed_until = (
        moderator.id,
        _now() + timedelta(minutes=minutes),
    )
    contribution.updated_at = _now()
    log(
        session,
        "claim",
        moderator.id,
        contribution=contribution,
        until=contribution.claimed_until.isoformat(),
    )
    session.flush()
    return contribution


def release(session: Session, contribution: Contribution, moderator) -> Contribution:
    if _held_by_another(contribution, moderator):
        raise Conflict("Another moderator holds this contribution.")
    contribution.state = next_state(contribution.kind, contribution.state, "release")
    contribution.claimed_by = contribution.claimed_until = None
    contribution.updated_at = _now()
    log(session, "release", moderator.id, contribution=contribution)
    session.flush()
    return contribution


def decide(
    session: Session, contribution: Contribution, moderator, decision: dict, *, track_record: int
) -> Contribution:
    """Decide on a contribution (locked by the caller); approval publishes in this transaction."""
    action = decision["decision"]
    _check_moderator(contribution, moderator)
    new_state = next_state(contribution.kind, contribution.state, action)
    if _held_by_another(contribution, moderator):
        raise Conflict(
            "Another moderator holds this contribution: a decision needs their release or "
            "the end of their claim."
        )
    reason = decision.get("reason")
    if action in NEEDS_REASON and not reason:
        message = f"is required to {action.replace('_', ' ')}: the author sees it."
        raise Unprocessable(f"reason: {message}", errors={"reason": [message]})
    if contribution.kind == "flag_review":
        _decide_flags(session, contribution, moderator, action, decision)
    elif action in ("approve", "merge"):
        provenance = Provenance(contribution.author_id, moderator.id, contribution.id)
        PUBLISH[contribution.kind](
            session,
            contribution,
            decision,
            provenance,
            _disclaimers(session, contribution, track_record),
        )
    contribution.state = new_state
    contribution.reason = reason
    contribution.decided_by, contribution.decided_at = moderator.id, _now()
    contribution.claimed_by = contribution.claimed_until = None
    contribution.updated_at = _now()
    log(session, action, moderator.id, contribution=contribution, reason=reason)
    session.flush()
    return contribution


def _disclaimers(session: Session, contribution: Contribution, track_record: int) -> list[str]:
    """New contributors' approved contributions carry ``unverified`` until they have a record."""
    author = session.get(User, contribution.author_id) if contribution.author_id else None
    if author is not None and is_staff(author):
        return []
    approved = session.scalar(
        select(func.count())
        .select_from(Contribution)
        .where(
            Contribution.author_id == contribution.author_id,
            Contribution.state == "approved",
            Contribution.id != contribution.id,
        )
    )
    return ["unverified"] if approved < track_record else []


def _publish_actor(session, contribution, decision, provenance, disclaimers) -> None:
    data = _load("new_actor", contribution.payload)
    if decision["decision"] == "merge":
        if "merge_into" not in decision:
            raise Unprocessable(
                "merge_into: is required to merge.",
                errors={"merge_into": ["is required to merge."]},
            )
        actor = session.get(Actor, decision["merge_into"], with_for_update=True)
        if actor is None or not is_public(actor):
            raise NotFound(f"No published actor with id {decision['merge_into']} to merge into.")
        update_actor(session, actor, _merged_fields(actor, data), provenance, action="merged")
    else:
        actor = create_actor(
            session, {**data, "status": "published"}, provenance, disclaimers=disclaimers
        )
    contribution.target_type, contribution.target_id = "actor", actor.id


def _merged_fields(actor: Actor, proposal: dict) -> dict:
    """What a duplicate proposal adds to the existing actor: texts it lacks, list items it
    does not have. Its name, kind and location stay."""
    changes = {}
    for field in ("summary", "description", "website", "founded_year"):
        if not getattr(actor, field) and proposal.get(field):
            changes[field] = proposal[field]
    for field in ("themes", "countries", "working_languages"):
        extra = [v for v in proposal.get(field, []) if v not in getattr(actor, field)]
        if extra:
            changes[field] = [*getattr(actor, field), *extra]
    return changes


def _publish_edit(session, contribution, decision, provenance, disclaimers) -> None:
    actor = session.get(Actor, contribution.target_id, with_for_update=True)
    if actor is None or not is_public(actor):
        raise Conflict("The actor this edit was made on is no longer published.")
    proposed = _load("actor_edit", contribution.payload)
    conflicts = edit_conflicts(contribution, actor)
    resolutions = decision.get("resolutions") or {}
    unresolved = [field for field in conflicts if field not in resolutions]
    if unresolved:
        raise Conflict(
            "The actor changed since this edit was proposed; for each conflicting field say in "
            "'resolutions' whether the proposed or the current value wins: "
            f"{', '.join(unresolved)}.",
            errors={"conflicts": unresolved},
        )
    changes = {k: v for k, v in proposed.items() if resolutions.get(k, "proposed") == "proposed"}
    if changes:
        update_actor(session, actor, changes, provenance)


def edit_conflicts(contribution: Contribution, actor: Actor) -> list[str]:
    current = snapshot(actor)
    return [
        f
        for f in contribution.payload
        if current.get(f) != (contribution.base_snapshot or {}).get(f)
    ]


def edit_diff(session: Session, contribution: Contribution) -> dict:
    actor = session.get(Actor, contribution.target_id)
    current = snapshot(actor) if actor is not None else {}
    base = contribution.base_snapshot or {}
    return {
        field: {
            "base": base.get(field),
            "current": current.get(field),
            "proposed": value,
            "conflict": base.get(field) != current.get(field),
        }
        for field, value in contribution.payload.items()
    }


def _publish_resource(session, contribution, decision, provenance, disclaimers) -> None:
    resource = create_resource(
        session, _load("new_resource", contribution.payload), provenance, disclaimers=disclaimers
    )
    contribution.target_type, contribution.target_id = "resource", resource.id


def _publish_observation(session, contribution, decision, provenance, disclaimers) -> None:
    data = _load("new_observation", contribution.payload)
    marks = sorted({"community_reported", *disclaimers})
    observation = create_observation(session, data, provenance, disclaimers=marks)
    contribution.target_type, contribution.target_id = "observation", observation.id


def _publish_translation(session, contribution, decision, provenance, disclaimers) -> None:
    data = _load("translation", contribution.payload)
    translation = session.scalar(
        select(Translation).where(
            Translation.target_type == contribution.target_type,
            Translation.target_id == contribution.target_id,
            Translation.language == data["language"],
        )
    )
    if translation is None:
        translation = Translation(
            target_type=contribution.target_type,
            target_id=contribution.target_id,
            language=data["language"],
            texts={},
        )
        session.add(translation)
    translation.texts = {**translation.texts, **data["texts"]}
    translation.contribution_id = contribution.id
    translation.updated_at = _now()


PUBLISH = {
    "new_actor": _publish_actor,
    "actor_edit": _publish_edit,
    "new_resource": _publish_resource,
    "new_observation": _publish_observation,
    "translation": _publish_translation,
}


def decide_batch(
    session: Session, moderator, items: list[dict], *, track_record: int
) -> list[dict]:
    """Each item is decided in its own savepoint: one failure leaves the others standing."""
    principal = Principal(user=moderator)
    results = []
    for item in items:
        try:
            with session.begin_nested():
                contribution = get_contribution(session, item["id"], principal, lock=True)
                decide(session, contribution, moderator, item, track_record=track_record)
            results.append(
                {
                    "id": item["id"],
                    "ok": True,
                    "status": 200,
                    "state": contribution.state,
                    "detail": None,
                }
            )
        except ProblemError as error:
            results.append(
                {
                    "id": item["id"],
                    "ok": False,
                    "status": error.status,
                    "state": None,
                    "detail": error.detail,
                }
            )
    return results


# -- queue and log ------------------------------------------------------------------------


def _queue_conditions(args: dict):
    if kinds := args.get("kind"):
        yield Contribution.kind.in_(kinds)
    if countries := args.get("country"):
        yield Contribution.country.in_(countries)
    if bbox := args.get("bbox"):
        yield filters.in_bbox(Contribution.public_location, *bbox)
    if themes := args.get("theme"):
        yield Contribution.themes.overlap(themes)
    if languages := args.get("language"):
        yield Contribution.language.in_(languages)
    if (hours := args.get("older_than_hours")) is not None:
        yield Contribution.submitted_at <= _now() - timedelta(hours=hours)
    if (hours := args.get("newer_than_hours")) is not None:
        yield Contribution.submitted_at >= _now() - timedelta(hours=hours)


def queue(session: Session, args: dict, *, limit: int) -> tuple[list[Contribution], dict[str, int]]:
    conditions = list(_queue_conditions(args))
    states = args.get("state") or list(OPEN)
    order = (
        Contribution.submitted_at.asc()
        if args["sort"] == "oldest"
        else Contribution.submitted_at.desc()
    )
    stmt = (
        select(Contribution)
        .where(*conditions, Contribution.state.in_(states))
        .order_by(order, Contribution.id)
        .limit(limit)
        .offset(args["offset"])
    )
    counts = dict(
        session.execute(
            select(Contribution.state, func.count()).where(*conditions).group_by(Contribution.state)
        ).all()
    )
    return list(session.scalars(stmt)), counts


def contributions_of(
    session: Session, user_id: uuid.UUID, args: dict, *, limit: int
) -> list[Contribution]:
    stmt = select(Contribution).where(Contribution.author_id == user_id)
    if states := args.get("state"):
        stmt = stmt.where(Contribution.state.in_(states))
    stmt = (
        stmt.order_by(Contribution.created_at.desc(), Contribution.id)
        .limit(limit)
        .offset(args["offset"])
    )
    return list(session.scalars(stmt))


def moderation_log(session: Session, args: dict, *, limit: int) -> list[ModerationEvent]:
    stmt = select(ModerationEvent)
    if item := args.get("item"):
        stmt = stmt.where(
            (ModerationEvent.contribution_id == item) | (ModerationEvent.target_id == item)
        )
    if moderator_id := args.get("moderator_id"):
        stmt = stmt.where(ModerationEvent.moderator_id == moderator_id)
    if actions := args.get("action"):
        stmt = stmt.where(ModerationEvent.action.in_(actions))
    if since := args.get("since"):
        stmt = stmt.where(ModerationEvent.at >= since)
    if until := args.get("until"):
        stmt = stmt.where(ModerationEvent.at < until)
    return list(
        session.scalars(
            stmt.order_by(ModerationEvent.id.desc()).limit(limit).offset(args["offset"])
        )
    )


# -- flags ----------------------------------------------------------------------------------


def flag(session: Session, principal: Principal, data: dict, *, review_threshold: int) -> Flag:
    """Flag published content. One ``endangers_someone`` flag hides the item at once,
    pending review; ``review_threshold`` open flags of any reason put it in the queue."""
    target_type, target_id = data["target_type"], data["target_id"]
    item = get_item(session, target_type, target_id, principal, lock=True)
    duplicate = session.scalar(
        select(Flag.id).where(
            Flag.target_type == target_type,
            Flag.target_id == item.id,
            Flag.reporter_id == principal.user_id,
            Flag.state == "open",
        )
    )
    if duplicate is not None:
        raise Conflict("You already have an open flag on this item.")
    new_flag = Flag(
        id=uuid.uuid4(),
        target_type=target_type,
        target_id=item.id,
        reporter_id=principal.user_id,
        reason=data["reason"],
        note=data["note"],
    )
    session.add(new_flag)
    session.flush()
    endangers = data["reason"] == "endangers_someone"
    if endangers and not item.hidden:
        _changed(
            session,
            item,
            target_type,
            None,
            "hidden",
            "flagged as endangering someone",
            lambda i: setattr(i, "hidden", True),
        )
    open_flags = session.scalar(
        select(func.count())
        .select_from(Flag)
        .where(Flag.target_type == target_type, Flag.target_id == item.id, Flag.state == "open")
    )
    if endangers or open_flags >= review_threshold:
        review = _open_review(session, target_type, item)
        if endangers:
            review.payload = {**review.payload, "auto_hidden": True}
        session.execute(
            update(Flag)
            .where(Flag.target_type == target_type, Flag.target_id == item.id, Flag.state == "open")
            .values(review_id=review.id)
        )
    return new_flag


def _open_review(session: Session, target_type: str, item) -> Contribution:
    review = session.scalar(
        select(Contribution).where(
            Contribution.kind == "flag_review",
            Contribution.target_type == target_type,
            Contribution.target_id == item.id,
            Contribution.state.in_(OPEN),
        )
    )
    if review is None:
        review = Contribution(
            id=uuid.uuid4(),
            kind="flag_review",
            state="submitted",
            target_type=target_type,
            target_id=item.id,
            payload={"auto_hidden": False},
            themes=list(item.themes),
            country=getattr(item, "country", None),
            public_location=getattr(item, "public_location", None),
        )
        session.add(review)
        session.flush()
    return review


def flags_of_review(session: Session, review_id: uuid.UUID) -> list[Flag]:
    return list(
        session.scalars(select(Flag).where(Flag.review_id == review_id).order_by(Flag.created_at))
    )


def _decide_flags(
    session: Session, review: Contribution, moderator, action: str, decision: dict
) -> None:
    flags = flags_of_review(session, review.id)
    if any(f.reporter_id == moderator.id for f in flags):
        raise Forbidden("Four eyes: nobody reviews flags they raised themselves.")
    item = session.get(MODELS[review.target_type], review.target_id, with_for_update=True)
    reason = decision.get("reason") or action
    unhide = review.payload.get("auto_hidden") and item.hidden and action in ("dismiss", "disclaim")
    if action == "disclaim":
        if not decision.get("disclaimers"):
            raise Unprocessable(
                "disclaimers: name at least one.", errors={"disclaimers": ["name at least one."]}
            )
        set_disclaimers(
            session,
            review.target_type,
            item,
            sorted({*item.disclaimers, *decision["disclaimers"]}),
            moderator.id,
            reason,
        )
    if action == "hide" and not item.hidden:
        set_hidden(session, review.target_type, item, True, moderator.id, reason)
    if unhide:
        set_hidden(session, review.target_type, item, False, moderator.id, reason)
    for open_flag in flags:
        if open_flag.state == "open":
            open_flag.state, open_flag.resolution, open_flag.resolved_at = (
                "resolved",
                action,
                _now(),
            )


def list_flags(session: Session, args: dict, *, limit: int) -> list[Flag]:
    stmt = select(Flag).where(Flag.state == args["state"])
    if target_type := args.get("target_type"):
        stmt = stmt.where(Flag.target_type == target_type)
    if target_id := args.get("target_id"):
        stmt = stmt.where(Flag.target_id == target_id)
    return list(
        session.scalars(stmt.order_by(Flag.created_at, Flag.id).limit(limit).offset(args["offset"]))
    )
