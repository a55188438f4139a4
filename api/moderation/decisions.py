"""Moderators' work on contributions: claim, release and decide; approval publishes in
the same transaction as the new revision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.accounts.models import User
from api.actors.models import Actor
from api.actors.service import create_actor, update_actor
from api.content import exact_point, snapshot
from api.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from api.moderation.contributions import get_contribution, load_proposal
from api.moderation.flags import decide_flags
from api.moderation.items import log
from api.moderation.models import Contribution, Translation
from api.moderation.workflow import NEEDS_REASON, next_state
from api.observations.service import create_observation
from api.permissions import is_staff
from api.principal import Principal
from api.privacy import redact
from api.resources.service import create_resource
from api.revisions.service import Provenance
from api.visibility import is_public
from api.webhooks import events
from geo.countries import contains


def _now() -> datetime:
    return datetime.now(UTC)


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


def release(
    session: Session, contribution: Contribution, moderator, *, anyones: bool = False
) -> Contribution:
    """Give a claim back; ``anyones`` (administrators) releases another moderator's too."""
    holder = contribution.claimed_by
    if _held_by_another(contribution, moderator) and not anyones:
        raise Conflict("Another moderator holds this contribution.")
    contribution.state = next_state(contribution.kind, contribution.state, "release")
    contribution.claimed_by = contribution.claimed_until = None
    contribution.updated_at = _now()
    log(
        session,
        "release",
        moderator.id,
        contribution=contribution,
        holder_id=str(holder) if holder else None,
    )
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
        decide_flags(session, contribution, moderator, action, decision)
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
    events.contribution_decided(session, contribution)
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
    data = load_proposal("new_actor", contribution.payload)
    if decision["decision"] == "merge":
        if "merge_into" not in decision:
            raise Unprocessable(
                "merge_into: is required to merge.",
                errors={"merge_into": ["is required to merge."]},
            )
        actor = session.get(Actor, decision["merge_into"], with_for_update=True)
        if actor is None or not is_public(session, "actor", actor.id):
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
    if actor is None or not is_public(session, "actor", actor.id):
        raise Conflict("The actor this edit was made on is no longer published.")
    proposed = load_proposal("actor_edit", contribution.payload)
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


def edit_diff(session: Session, contribution: Contribution, *, private: bool) -> dict:
    """Per proposed field: base, current and proposed values, and whether they conflict.
    Without ``private``, private values are redacted (the caller discloses them otherwise)."""
    actor = session.get(Actor, contribution.target_id)
    current = snapshot(actor) if actor is not None else {}
    base = contribution.base_snapshot or {}
    views = [base, current, contribution.payload]
    if not private:
        views = [redact("actor", values) for values in views]
    shown_base, shown_current, proposed = views
    return {
        field: {
            "base": shown_base.get(field),
            "current": shown_current.get(field),
            "proposed": proposed[field],
            "conflict": base.get(field) != current.get(field),
        }
        for field in contribution.payload
    }


def edit_checks(session: Session, contribution: Contribution) -> dict:
    """What the moderator needs to know about a proposal against the private fields, which
    the proposer was never told: whether a proposed country holds the exact location."""
    actor = session.get(Actor, contribution.target_id)
    payload = contribution.payload
    if actor is None or "country" not in payload or "location" in payload:
        return {}
    point = exact_point(actor)
    return {"country_holds_exact_location": bool(contains(payload["country"], point.x, point.y))}


def _publish_resource(session, contribution, decision, provenance, disclaimers) -> None:
    resource = create_resource(
        session,
        load_proposal("new_resource", contribution.payload),
        provenance,
        disclaimers=disclaimers,
    )
    contribution.target_type, contribution.target_id = "resource", resource.id


def _publish_observation(session, contribution, decision, provenance, disclaimers) -> None:
    data = load_proposal("new_observation", contribution.payload)
    marks = sorted({"community_reported", *disclaimers})
    observation = create_observation(session, data, provenance, disclaimers=marks)
    contribution.target_type, contribution.target_id = "observation", observation.id


def _publish_translation(session, contribution, decision, provenance, disclaimers) -> None:
    data = load_proposal("translation", contribution.payload)
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
