"""Contributions: proposals checked against the present state, their authors' actions
(withdraw, resubmit) and the review queue."""

from __future__ import annotations

import types
import uuid
from datetime import UTC, datetime, timedelta

import marshmallow as ma
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.accounts.models import Membership, User
from api.actors.models import Actor
from api.actors.schemas import ActorCreateSchema, ActorPatchSchema
from api.content import place, snapshot
from api.errors import Forbidden, NotFound, Unprocessable
from api.moderation.items import get_item, log
from api.moderation.models import Contribution
from api.moderation.schemas import TranslationProposalSchema
from api.moderation.workflow import AWAITING_CONSENT, OPEN, next_state
from api.observations.schemas import ObservationCreateSchema
from api.observations.service import linked_precision
from api.permissions import can, is_staff, require
from api.principal import Principal
from api.resources.schemas import ResourceCreateSchema
from api.themes.service import check_theme_keys
from api.translations import TRANSLATABLE
from api.visibility import ACTOR, is_public
from geo import filters
from geo.privacy import ORDER, Precision

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


def load_proposal(kind: str, payload: dict) -> dict:
    try:
        return PROPOSAL_SCHEMAS[kind].load(payload)
    except ma.ValidationError as exc:
        errors = {"payload": exc.messages}
        raise Unprocessable(
            "payload: " + "; ".join(f"{k}: {v}" for k, v in exc.messages.items()), errors=errors
        ) from None


def submit(session: Session, principal: Principal, data: dict) -> Contribution:
    kind = data["kind"]
    loaded = load_proposal(kind, data["payload"])
    contribution = Contribution(
        id=uuid.uuid4(), kind=kind, author_id=principal.user_id, state="submitted"
    )
    _prepare(session, contribution, kind, loaded, data, principal)
    contribution.payload = data["payload"]
    _ask_consent_if_needed(contribution)
    session.add(contribution)
    session.flush()
    return contribution


def lowers_privacy(item, loaded: dict) -> list[str]:
    """What in an edit lowers the actor's privacy: a finer precision, contact details.
    Judged on the proposal and public data only: an answer that depended on the private
    values (is this phone number new?) would tell the proposer what they are."""
    lowered = []
    if "location_precision" in loaded and ORDER.index(
        Precision(loaded["location_precision"])
    ) < ORDER.index(Precision(item.location_precision)):
        lowered.append("location_precision")
    if loaded.get("contact"):
        lowered.append("contact")
    return lowered


def _privacy_review(session: Session, actor, loaded: dict, principal: Principal) -> dict | None:
    lowered = lowers_privacy(actor, loaded)
    if not lowered:
        return None
    if can(principal, "contribution.consent", actor):
        consent = "by_manager"
    elif session.scalar(
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.actor_id == actor.id,
            Membership.role == "manager",
            User.status == "active",
        )
        .limit(1)
    ):
        consent = "awaiting"
    else:
        consent = "no_manager"
    return {"lowers": lowered, "consent": consent}


def _ask_consent_if_needed(contribution: Contribution) -> None:
    if (contribution.privacy or {}).get("consent") == "awaiting":
        contribution.state = next_state(contribution.kind, contribution.state, "ask_consent")


def give_consent(
    session: Session, contribution: Contribution, principal: Principal, consent: bool, reason
) -> Contribution:
    """The actor's manager consents to (or refuses) a proposal that lowers its privacy:
    consented, it goes to the review queue marked so; refused, it is rejected."""
    actor = session.get(Actor, contribution.target_id) if contribution.target_id else None
    require(principal, "contribution.consent", actor)
    action = "consent" if consent else "refuse_consent"
    contribution.state = next_state(contribution.kind, contribution.state, action)
    contribution.privacy = {
        **(contribution.privacy or {}),
        "consent": "granted" if consent else "refused",
        "by": str(principal.user_id),
    }
    if not consent:
        contribution.reason = reason or "The organisation's manager did not consent."
        contribution.decided_by, contribution.decided_at = principal.user_id, _now()
    contribution.updated_at = _now()
    log(session, action, principal.user_id, contribution=contribution, reason=reason)
    session.flush()
    return contribution


def awaiting_consent_of(session: Session, user, *, limit: int, offset: int) -> list[Contribution]:
    """Proposals waiting for the consent of ``user`` as manager of their actor, oldest first."""
    managed = [m.actor_id for m in user.memberships if m.role == "manager"]
    stmt = (
        select(Contribution)
        .where(
            Contribution.state == AWAITING_CONSENT,
            Contribution.target_type == "actor",
            Contribution.target_id.in_(managed),
        )
        .order_by(Contribution.submitted_at, Contribution.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))


def _prepare(session, contribution, kind, loaded, data, principal) -> None:
    """Check the proposal against the present state and fill the queue's columns."""
    check_theme_keys(session, loaded.get("themes", []))
    contribution.language = loaded.get("language")
    contribution.themes = loaded.get("themes", [])
    if kind in ("new_actor", "new_observation"):
        # Placed like the real item will be, to check the country and find the public point.
        spot = types.SimpleNamespace()
        precision = loaded["location_precision"]
        if kind == "new_observation":
            precision = linked_precision(session, precision, loaded.get("actor_id"))
        place(spot, loaded["location"], precision, loaded.get("country"))
        contribution.country, contribution.public_location = spot.country, spot.public_location
        if kind == "new_actor":
            contribution.duplicates = possible_duplicates(session, loaded["name"], spot)
    elif kind == "new_resource":
        contribution.country = (loaded.get("countries") or [None])[0]
    else:  # an edit or a translation of something published
        target_type = "actor" if kind == "actor_edit" else data["target_type"]
        item = get_item(session, target_type, data["target_id"], principal)
        if not is_public(session, target_type, item.id):
            raise NotFound(f"No {target_type} with id {item.id}.")
        contribution.target_type, contribution.target_id = target_type, item.id
        contribution.base_version, contribution.base_snapshot = item.version, snapshot(item)
        contribution.language = loaded.get("language", item.language)
        contribution.themes = list(item.themes)
        contribution.country = getattr(item, "country", None) or (item.countries or [None])[0]
        contribution.public_location = getattr(item, "public_location", None)
        if kind == "translation":
            _check_translation(item, target_type, loaded)
        else:
            contribution.privacy = _privacy_review(session, item, loaded, principal)
        if kind == "actor_edit" and "location" in loaded:
            # A proposal is checked against itself and public data only, never against the
            # stored exact point: an answer that depended on it would locate it. (Whether a
            # proposed country fits the exact point is shown to the reviewing moderator.)
            spot = types.SimpleNamespace()
            place(
                spot,
                loaded["location"],
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
            ACTOR,
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
        is_staff(principal.user)
        or contribution.author_id == principal.user_id
        or _asks_consent_of(session, contribution, principal)
    ):
        raise NotFound(f"No contribution with id {contribution_id}.")
    return contribution


def _asks_consent_of(session: Session, contribution: Contribution, principal: Principal) -> bool:
    """Whether the contribution lowers the privacy of an actor ``principal`` manages."""
    if not contribution.privacy or contribution.target_type != "actor":
        return False
    return can(principal, "contribution.consent", session.get(Actor, contribution.target_id))


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
    loaded = load_proposal(contribution.kind, payload)
    data = {"target_type": contribution.target_type, "target_id": contribution.target_id}
    # An edit is re-based on the actor as it is now: the author has seen the reason.
    _prepare(session, contribution, contribution.kind, loaded, data, principal)
    contribution.payload = payload
    contribution.state = new_state
    _ask_consent_if_needed(contribution)
    contribution.submitted_at = contribution.updated_at = _now()
    session.flush()
    return contribution


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
    if (urgent := args.get("urgent")) is not None:
        yield Contribution.urgent.is_(urgent)
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
        # Urgent flag reviews first: someone may be in danger and the item is still up.
        .order_by(Contribution.urgent.desc(), order, Contribution.id)
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
