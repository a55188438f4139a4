"""Flags on published content: raising them, the review they open, and its decision."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.errors import Conflict, Forbidden, Unprocessable
from api.moderation.items import MODELS, get_item, record_change, set_disclaimers, set_hidden
from api.moderation.models import Contribution, Flag
from api.moderation.standing import Policy, check_limits, record_of, serialize_reporter
from api.moderation.workflow import OPEN
from api.principal import Principal


def _now() -> datetime:
    return datetime.now(UTC)


def flag(
    session: Session, principal: Principal, data: dict, *, review_threshold: int, policy: Policy
) -> Flag:
    """Flag published content, within the reporter's limits (api.moderation.standing). An
    ``endangers_someone`` flag from someone with standing hides the item at once, pending
    review; from anyone else it puts the item in the urgent queue, still up. Either opens a
    review; so do ``review_threshold`` open flags of any reason."""
    target_type, target_id = data["target_type"], data["target_id"]
    item = get_item(session, target_type, target_id, principal, lock=True)
    serialize_reporter(session, principal.user_id)
    reporter = record_of(session, principal.user_id, policy)
    check_limits(reporter, data["reason"])
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
    hides = endangers and reporter.standing
    if hides and not item.hidden:
        record_change(
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
        if hides:
            review.payload = {**review.payload, "auto_hidden": True}
        # Someone may be in danger and the item is still up: first in line for moderators.
        review.urgent = (endangers or review.urgent) and not item.hidden
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
            urgent=False,
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


def decide_flags(
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
        set_hidden(
            session, review.target_type, item, False, moderator.id, reason, deciding_review=True
        )
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
