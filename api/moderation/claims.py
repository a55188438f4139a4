"""When a claim on a contribution ends without a decision: its holder lost the right to
review (role taken away, account suspended). The contribution goes back to the queue at
once, in the transaction that changed the account, so nobody else waits for it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.moderation.models import Contribution, ModerationEvent
from api.moderation.workflow import next_state


def lapse_claims(session: Session, holder_id: uuid.UUID, *, by: uuid.UUID | None, why: str) -> int:
    """Release every contribution ``holder_id`` holds; each release is in the moderation
    log as ``claim_lapsed`` (by whoever changed the account). Returns how many."""
    held = session.scalars(
        select(Contribution)
        .where(Contribution.claimed_by == holder_id, Contribution.state == "in_review")
        .with_for_update()
    ).all()
    for contribution in held:
        contribution.state = next_state(contribution.kind, contribution.state, "release")
        contribution.claimed_by = contribution.claimed_until = None
        contribution.updated_at = datetime.now(UTC)
        session.add(
            ModerationEvent(
                action="claim_lapsed",
                moderator_id=by,
                contribution_id=contribution.id,
                target_type=contribution.target_type,
                target_id=contribution.target_id,
                details={"holder_id": str(holder_id), "why": why},
            )
        )
    session.flush()
    return len(held)
