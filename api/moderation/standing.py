"""Standing and trust of the people who flag: who may hide content with a single flag, how
much anyone may flag, and the record moderators see beside every flag. One place.

- **Trust** = confirmed flags - 2 x dismissed flags. A flag is confirmed when moderators
  hide the item or attach a disclaimer on its review, dismissed when they dismiss it: a
  dismissal weighs as much as two confirmations, so misuse costs more than use earns.
- **Standing** (one ``endangers_someone`` flag hides the item at once): moderators and
  admins always; anyone else with an account at least ``standing_days`` old, trust of zero
  or more, and a record: ``standing_approvals`` approved contributions, or a trust of
  ``standing_confirmed`` (confirmed flags net of dismissals). Without standing, such a flag
  puts the item in the **urgent** queue (first in line for moderators) and the item stays
  up meanwhile.
- **Limits** (none for staff): flags in the last 24 hours, ``daily_limit`` plus twice the
  trust (never fewer than ``MIN_DAILY``); and, without standing, ``urgent_limit`` open
  urgent flags at a time. Beyond either, a 429 says which and when to come back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from api.accounts.models import User
from api.errors import ProblemError
from api.moderation.models import Contribution, Flag
from api.permissions import is_staff

CONFIRMING = ("hide", "disclaim")  # review decisions that confirm its flags
DISMISSING = ("dismiss",)
MIN_DAILY = 3
WINDOW = timedelta(hours=24)
URGENT_RETRY_SECONDS = 3600  # moderators work the urgent queue first: ask again in an hour


class TooManyFlags(ProblemError):
    status = 429


@dataclass(frozen=True)
class Policy:
    daily_limit: int = 20
    urgent_limit: int = 5
    standing_days: int = 7
    standing_approvals: int = 3
    standing_confirmed: int = 2

    @classmethod
    def from_config(cls, config) -> Policy:
        return cls(
            daily_limit=config["FLAG_DAILY_LIMIT"],
            urgent_limit=config["FLAG_URGENT_LIMIT"],
            standing_days=config["FLAG_STANDING_DAYS"],
            standing_approvals=config["TRACK_RECORD_APPROVALS"],
        )


@dataclass(frozen=True)
class Record:
    """A reporter's record, as moderators see it beside their flags."""

    role: str
    account_age_days: int
    approved_contributions: int
    confirmed_flags: int
    dismissed_flags: int
    flags_last_day: int
    open_urgent_flags: int
    oldest_flag_in_window: datetime | None
    staff: bool
    policy: Policy

    @property
    def trust(self) -> int:
        return self.confirmed_flags - 2 * self.dismissed_flags

    @property
    def standing(self) -> bool:
        if self.staff:
            return True
        return (
            self.account_age_days >= self.policy.standing_days
            and self.trust >= 0
            and (
                self.approved_contributions >= self.policy.standing_approvals
                or self.trust >= self.policy.standing_confirmed
            )
        )

    @property
    def daily_limit(self) -> int | None:
        if self.staff:
            return None
        return max(MIN_DAILY, self.policy.daily_limit + 2 * self.trust)

    def asdict(self) -> dict:
        return {
            "role": self.role,
            "account_age_days": self.account_age_days,
            "approved_contributions": self.approved_contributions,
            "confirmed_flags": self.confirmed_flags,
            "dismissed_flags": self.dismissed_flags,
            "trust": self.trust,
            "standing": self.standing,
            "flags_last_day": self.flags_last_day,
            "daily_limit": self.daily_limit,
            "open_urgent_flags": self.open_urgent_flags,
        }


def records(session: Session, user_ids, policy: Policy) -> dict[uuid.UUID, Record]:
    """The records of these reporters, in one query."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    now = datetime.now(UTC)
    since = now - WINDOW

    def flags(*conditions):
        return (
            select(func.count())
            .select_from(Flag)
            .where(Flag.reporter_id == User.id, *conditions)
            .scalar_subquery()
        )

    urgent = (
        select(func.count())
        .select_from(Flag)
        .join(Contribution, Contribution.id == Flag.review_id)
        .where(
            Flag.reporter_id == User.id,
            Flag.state == "open",
            Flag.reason == "endangers_someone",
            Contribution.urgent.is_(True),
        )
        .scalar_subquery()
    )
    approved = (
        select(func.count())
        .select_from(Contribution)
        .where(
            Contribution.author_id == User.id,
            Contribution.state == "approved",
            Contribution.kind != "flag_review",
        )
        .scalar_subquery()
    )
    oldest = (
        select(func.min(Flag.created_at))
        .where(Flag.reporter_id == User.id, Flag.created_at > since)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            User,
            approved,
            flags(and_(Flag.state == "resolved", Flag.resolution.in_(CONFIRMING))),
            flags(and_(Flag.state == "resolved", Flag.resolution.in_(DISMISSING))),
            flags(Flag.created_at > since),
            urgent,
            oldest,
        ).where(User.id.in_(ids))
    )
    return {
        user.id: Record(
            role=user.role,
            account_age_days=max(0, (now - user.created_at).days),
            approved_contributions=approved_count,
            confirmed_flags=confirmed,
            dismissed_flags=dismissed,
            flags_last_day=last_day,
            open_urgent_flags=open_urgent,
            oldest_flag_in_window=oldest_at,
            staff=is_staff(user),
            policy=policy,
        )
        for user, approved_count, confirmed, dismissed, last_day, open_urgent, oldest_at in rows
    }


def record_of(session: Session, user_id: uuid.UUID, policy: Policy) -> Record:
    return records(session, [user_id], policy)[user_id]


def serialize_reporter(session: Session, user_id: uuid.UUID) -> None:
    """Hold the reporter's flags one at a time until this transaction ends, so that
    concurrent requests cannot each pass the limits before any is counted."""
    key = func.hashtextextended(f"flags:{user_id}", 0)
    session.execute(select(func.pg_advisory_xact_lock(key)))


def check_limits(record: Record, reason: str) -> None:
    """Refuse a flag beyond the reporter's limits (a 429 saying which and when)."""
    if record.staff:
        return
    if record.flags_last_day >= record.daily_limit:
        wait = record.oldest_flag_in_window + WINDOW - datetime.now(UTC)
        seconds = max(1, int(wait.total_seconds()) + 1)
        raise TooManyFlags(
            f"You have raised {record.flags_last_day} flags in the last 24 hours, the most "
            f"your account may (it grows with flags that moderators confirm). Try again in "
            f"{seconds // 3600} h {seconds % 3600 // 60} min.",
            headers={"Retry-After": str(seconds)},
        )
    if (
        reason == "endangers_someone"
        and not record.standing
        and record.open_urgent_flags >= record.policy.urgent_limit
    ):
        raise TooManyFlags(
            f"You have {record.open_urgent_flags} flags for endangering someone waiting in the "
            "urgent queue, the most an account without standing may have at once: moderators "
            "review them first. Try again when they have.",
            headers={"Retry-After": str(URGENT_RETRY_SECONDS)},
        )
