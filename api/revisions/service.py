"""Record, list and revert revisions of published content."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.content import restore, snapshot
from api.errors import NotFound
from api.revisions.models import Revision
from api.webhooks import events


@dataclass(frozen=True)
class Provenance:
    """Who a change comes from: its author, who approved it, through which contribution."""

    author_id: uuid.UUID | None = None
    approved_by: uuid.UUID | None = None
    contribution_id: uuid.UUID | None = None

    def asdict(self) -> dict:
        return asdict(self)


def record_revision(
    session: Session,
    item,
    target_type: str,
    *,
    action: str,
    before: dict | None,
    author_id: uuid.UUID | None = None,
    approved_by: uuid.UUID | None = None,
    contribution_id: uuid.UUID | None = None,
) -> Revision:
    """Record the item's state after a change; ``before`` is its snapshot before (None when new)."""
    session.flush()
    after = snapshot(item)
    before = before or {}
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    number = (
        session.scalar(
            select(func.max(Revision.number)).where(
                Revision.target_type == target_type, Revision.target_id == item.id
            )
        )
        or 0
    ) + 1
    revision = Revision(
        target_type=target_type,
        target_id=item.id,
        number=number,
        author_id=author_id,
        approved_by=approved_by,
        contribution_id=contribution_id,
        action=action,
        changes=changes,
        snapshot=after,
    )
    session.add(revision)
    session.flush()
    events.content_changed(session, target_type, item, action, changes)
    return revision


def history(session: Session, target_type: str, target_id: uuid.UUID) -> list[Revision]:
    stmt = (
        select(Revision)
        .where(Revision.target_type == target_type, Revision.target_id == target_id)
        .order_by(Revision.number)
    )
    return list(session.scalars(stmt))


def revert(
    session: Session, item, target_type: str, number: int, *, moderator_id: uuid.UUID
) -> Revision:
    """Put the item back as it was at revision ``number``: itself a new revision."""
    old = session.scalar(
        select(Revision).where(
            Revision.target_type == target_type,
            Revision.target_id == item.id,
            Revision.number == number,
        )
    )
    if old is None:
        raise NotFound(f"No revision {number} of this {target_type}.")
    before = snapshot(item)
    precision = getattr(item, "location_precision", None)
    restore(item, old.snapshot)
    if target_type == "actor" and item.location_precision != precision:
        # Late import: observations record revisions, so importing them at the top is a cycle.
        from api.observations.service import follow_actor_precision

        follow_actor_precision(session, item)
    item.updated_at = datetime.now(UTC)
    return record_revision(
        session, item, target_type, action="reverted", before=before, approved_by=moderator_id
    )
