"""Published items as moderators act on them: find one, hide or unhide it, set its
disclaimers; and the append-only moderation log that records every act."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import exists, func, literal, select, union_all, update
from sqlalchemy.orm import Session

from api.content import snapshot
from api.errors import Conflict, NotFound
from api.moderation.models import Contribution, Flag, ModerationEvent
from api.moderation.workflow import OPEN
from api.observations.service import follow_actor_precision
from api.permissions import is_staff
from api.principal import Principal
from api.projects.placement import follow_actor_placement
from api.revisions.models import Revision
from api.revisions.service import record_revision, revert
from api.visibility import MODELS, is_public


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


def get_item(
    session: Session, target_type: str, target_id: uuid.UUID, principal: Principal, *, lock=False
):
    """A public item (api.visibility), or any item for staff; 404 otherwise."""
    item = session.get(MODELS[target_type], target_id, with_for_update=lock)
    if item is None or not (is_staff(principal.user) or is_public(session, target_type, item.id)):
        raise NotFound(f"No {target_type} with id {target_id}.")
    return item


def record_change(session, item, target_type, moderator_id, action, reason, change) -> None:
    before = snapshot(item)
    change(item)
    item.updated_at = _now()
    record_revision(
        session, item, target_type, action=action, before=before, approved_by=moderator_id
    )
    log(session, action, moderator_id, target_type=target_type, target_id=item.id, reason=reason)


def set_hidden(
    session: Session,
    target_type: str,
    item,
    hidden: bool,
    moderator_id,
    reason: str,
    *,
    deciding_review: bool = False,
) -> None:
    """Hide or show an item. While someone has said it endangers a person and no review has
    decided it (an open ``endangers_someone`` flag), it is shown again only by deciding that
    review (``deciding_review``: dismissed or disclaimed, four eyes, with the flags in view),
    never by a plain unhide that would put it back up with nobody looking."""
    if item.hidden == hidden:
        raise Conflict(f"This {target_type} is already {'hidden' if hidden else 'visible'}.")
    if not hidden and not deciding_review and _endangers_someone(session, target_type, item.id):
        raise Conflict(
            f"This {target_type} was flagged as endangering someone and its review is open: "
            "decide the review (dismiss or disclaim) to show it again."
        )
    record_change(
        session,
        item,
        target_type,
        moderator_id,
        "hidden" if hidden else "unhidden",
        reason,
        lambda i: setattr(i, "hidden", hidden),
    )
    if hidden:
        # Hidden, the item endangers nobody meanwhile: its open flag review is no longer urgent.
        session.execute(
            update(Contribution)
            .where(
                Contribution.kind == "flag_review",
                Contribution.target_type == target_type,
                Contribution.target_id == item.id,
                Contribution.state.in_(OPEN),
            )
            .values(urgent=False)
        )


def _endangers_someone(session: Session, target_type: str, target_id: uuid.UUID) -> bool:
    return session.scalar(
        select(
            exists().where(
                Flag.target_type == target_type,
                Flag.target_id == target_id,
                Flag.reason == "endangers_someone",
                Flag.state == "open",
            )
        )
    )


def revert_item(
    session: Session, target_type: str, item, number: int, moderator_id, reason: str
) -> Revision:
    """Put the item's content back as it was at revision ``number`` (api.content.restore:
    content only, never a finer place): itself a new revision, logged. Open reviews,
    hiding and disclaimers stay as they are."""
    revision = revert(session, item, target_type, number, moderator_id=moderator_id)
    if target_type == "actor":
        # A coarser actor takes its observations and its projects' areas along.
        follow_actor_precision(session, item)
        follow_actor_placement(session, item)
    log(
        session,
        "revert",
        moderator_id,
        target_type=target_type,
        target_id=item.id,
        reason=reason,
        to_revision=number,
    )
    return revision


def set_disclaimers(
    session: Session, target_type: str, item, disclaimers: list[str], moderator_id, reason: str
) -> None:
    record_change(
        session,
        item,
        target_type,
        moderator_id,
        "disclaimed",
        reason,
        lambda i: setattr(i, "disclaimers", sorted(disclaimers)),
    )


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


def _title_column(target_type: str):
    model = MODELS[target_type]
    # An observation has no title: the start of its text names it.
    return (
        func.left(model.text, 80)
        if target_type == "observation"
        else getattr(model, "name" if target_type == "actor" else "title")
    )


def titles_of(session: Session, refs) -> dict[uuid.UUID, str]:
    """What names each item of ``refs`` ((target_type, id) pairs), hidden or not, for staff:
    one query per type."""
    wanted: dict[str, set[uuid.UUID]] = {}
    for target_type, target_id in refs:
        if target_type in MODELS and target_id is not None:
            wanted.setdefault(target_type, set()).add(target_id)
    titles: dict[uuid.UUID, str] = {}
    for target_type, ids in wanted.items():
        model = MODELS[target_type]
        stmt = select(model.id, _title_column(target_type)).where(model.id.in_(ids))
        titles.update(session.execute(stmt).tuples().all())
    return titles


def hidden_items(session: Session, *, limit: int, offset: int) -> list[dict]:
    """Items moderators hid (or a flag hid), most recently changed first, every type at once."""
    parts = [
        select(
            literal(target_type).label("target_type"),
            model.id,
            _title_column(target_type).label("title"),
            model.updated_at,
        ).where(model.hidden.is_(True))
        for target_type, model in MODELS.items()
    ]
    union = union_all(*parts).subquery()
    stmt = select(union).order_by(union.c.updated_at.desc(), union.c.id).limit(limit).offset(offset)
    return [dict(row) for row in session.execute(stmt).mappings()]
