"""Accounts: registration, sign-in, tokens, roles, memberships and the audit trail.
Plain functions over a session; they flush, the request commits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from api.accounts import credentials
from api.accounts.models import AccessToken, AuditEvent, LocationAccess, Membership, User
from api.errors import Conflict, NotFound, Unauthorized, Unprocessable
from api.moderation.claims import lapse_claims
from api.permissions import is_staff
from api.principal import Principal

# Last-used times are written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
SIGN_IN_FAILED = "The email or password is not right."
PASSWORD_IS_PERSONAL = "must not be your email address or name."


class SignInFailed(Unauthorized):
    keep_changes = True  # the failed attempt stays in the audit log


def _now() -> datetime:
    return datetime.now(UTC)


# -- audit --------------------------------------------------------------------------------


def record(
    session: Session,
    event: str,
    principal: Principal,
    *,
    subject_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    **details,
) -> None:
    """Append a security event. ``user_id`` overrides who acted (e.g. a failed sign-in)."""
    session.add(
        AuditEvent(
            event=event,
            user_id=user_id or principal.user_id,
            subject_id=subject_id,
            ip=principal.ip,
            details=details,
        )
    )


def audit_events(session: Session, args: dict, *, limit: int) -> list[AuditEvent]:
    stmt = select(AuditEvent)
    if event := args.get("event"):
        stmt = stmt.where(AuditEvent.event.in_(event))
    if user_id := args.get("user_id"):
        stmt = stmt.where((AuditEvent.user_id == user_id) | (AuditEvent.subject_id == user_id))
    if since := args.get("since"):
        stmt = stmt.where(AuditEvent.at >= since)
    if until := args.get("until"):
        stmt = stmt.where(AuditEvent.at < until)
    stmt = stmt.order_by(AuditEvent.id.desc()).limit(limit).offset(args["offset"])
    return list(session.scalars(stmt))


def location_accesses(session: Session, args: dict, *, limit: int) -> list[LocationAccess]:
    stmt = select(LocationAccess)
    if actor_id := args.get("actor_id"):
        stmt = stmt.where(LocationAccess.actor_id == actor_id)
    if user_id := args.get("user_id"):
        stmt = stmt.where(LocationAccess.user_id == user_id)
    stmt = stmt.order_by(LocationAccess.id.desc()).limit(limit).offset(args["offset"])
    return list(session.scalars(stmt))


# -- accounts -----------------------------------------------------------------------------


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.lower()))


def get_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def register(
    session: Session,
    data: dict,
    principal: Principal,
    *,
    role: str = "contributor",
    verified: bool = False,
    language: str = "en",
) -> User:
    """Create an account. For administrators' tools (the CLI, demo data), which may say
    that an address is known (409) and vouch for it (``verified``); the public sign-up,
    which must say neither, is ``api.accounts.verification.sign_up``."""
    check_password(data["password"], data["email"], data["display_name"])
    if find_user_by_email(session, data["email"]) is not None:
        raise Conflict("An account with this email already exists.")
    user = User(
        email=data["email"],
        display_name=data["display_name"],
        password_hash=credentials.hash_password(data["password"]),
        role=role,
        email_verified_at=_now() if verified else None,
        language=language,
    )
    session.add(user)
    session.flush()
    record(session, "account.registered", principal, user_id=user.id, subject_id=user.id, role=role)
    return user


def check_password(password: str, *known: str) -> None:
    """Refuse a password that is guessable: 422 naming the field and why, never echoing it."""
    if password.lower() in {k.lower() for k in known}:
        reason = PASSWORD_IS_PERSONAL
    else:
        reason = credentials.weak_password_reason(password, list(known))
    if reason:
        raise Unprocessable(f"password: {reason}", errors={"password": [reason]})


def sign_in(
    session: Session, email: str, password: str, principal: Principal, *, key: str, ttl: timedelta
) -> tuple[AccessToken, str]:
    """Check the credentials and issue a session token. Unknown emails, wrong passwords
    and suspended accounts fail alike, in about the same time."""
    user = find_user_by_email(session, email)
    ok = credentials.verify_password(user.password_hash if user else None, password)
    if not ok or not user.is_active:
        record(session, "sign_in.failed", principal, user_id=user.id if user else None)
        raise SignInFailed(SIGN_IN_FAILED)
    if credentials.needs_rehash(user.password_hash):
        user.password_hash = credentials.hash_password(password)
    token, secret = issue_token(
        session, user, kind="session", name="sign-in", key=key, expires_at=_now() + ttl
    )
    record(
        session, "sign_in", principal, user_id=user.id, subject_id=user.id, token_id=str(token.id)
    )
    return token, secret


def issue_token(
    session: Session, user: User, *, kind: str, name: str, key: str, expires_at: datetime | None
) -> tuple[AccessToken, str]:
    secret = credentials.new_token_secret()
    token = AccessToken(
        user_id=user.id,
        kind=kind,
        name=name,
        token_hash=credentials.token_hash(secret, key),
        prefix=secret[:10],
        expires_at=expires_at,
    )
    token.user = user
    session.add(token)
    session.flush()
    return token, secret


def create_personal_token(session: Session, principal: Principal, data: dict, *, key: str):
    if (expires_at := data.get("expires_at")) is not None and expires_at <= _now():
        message = "must be in the future."
        raise Unprocessable(f"expires_at: {message}", errors={"expires_at": [message]})
    token, secret = issue_token(
        session, principal.user, kind="personal", name=data["name"], key=key, expires_at=expires_at
    )
    record(
        session, "token.created", principal, subject_id=principal.user_id, token_id=str(token.id)
    )
    return token, secret


def resolve_token(session: Session, secret: str, *, key: str) -> AccessToken | None:
    """The live token for a secret, or None (unknown, revoked, expired, or its user suspended).
    The lookup is by keyed hash through a unique index: no secret is compared in Python."""
    token = session.scalar(
        select(AccessToken).where(AccessToken.token_hash == credentials.token_hash(secret, key))
    )
    now = _now()
    if (
        token is None
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
        or not token.user.is_active
    ):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token


def _live(now: datetime):
    return AccessToken.revoked_at.is_(None) & or_(
        AccessToken.expires_at.is_(None), AccessToken.expires_at > now
    )


def tokens_of(session: Session, user_id: uuid.UUID) -> list[AccessToken]:
    """The user's live tokens: neither revoked nor expired."""
    stmt = (
        select(AccessToken)
        .where(AccessToken.user_id == user_id, _live(_now()))
        .order_by(AccessToken.created_at.desc(), AccessToken.id)
    )
    return list(session.scalars(stmt))


def get_token(session: Session, user_id: uuid.UUID, token_id: uuid.UUID) -> AccessToken:
    token = session.scalar(
        select(AccessToken).where(
            AccessToken.id == token_id, AccessToken.user_id == user_id, _live(_now())
        )
    )
    if token is None:
        raise NotFound(f"No token with id {token_id}.")
    return token


def revoke_token(session: Session, token: AccessToken, principal: Principal) -> None:
    token.revoked_at = _now()
    record(session, "token.revoked", principal, subject_id=token.user_id, token_id=str(token.id))
    session.flush()


def list_users(session: Session, args: dict, *, limit: int) -> list[User]:
    stmt = select(User)
    if role := args.get("role"):
        stmt = stmt.where(User.role.in_(role))
    if status := args.get("status"):
        stmt = stmt.where(User.status == status)
    if q := args.get("q"):
        pattern = f"%{q.lower()}%"
        stmt = stmt.where(
            func.lower(User.email).like(pattern) | func.lower(User.display_name).like(pattern)
        )
    return list(
        session.scalars(stmt.order_by(User.created_at, User.id).limit(limit).offset(args["offset"]))
    )


def change_user(session: Session, user: User, changes: dict, principal: Principal) -> User:
    if user.id == principal.user_id and ("role" in changes or "status" in changes):
        # An admin locking themselves out (or demoting the last admin) is never intended.
        raise Conflict("Administrators cannot change their own role or status.")
    was_staff = is_staff(user) and user.is_active
    if (role := changes.get("role")) and role != user.role:
        record(session, "user.role_changed", principal, subject_id=user.id, old=user.role, new=role)
        user.role = role
    if (status := changes.get("status")) and status != user.status:
        if status == "suspended":
            # Revoked, not merely refused while suspended: reinstating revives nothing.
            revoked = revoke_all_tokens(session, user.id)
            record(session, "user.suspended", principal, subject_id=user.id, tokens_revoked=revoked)
        else:
            record(session, "user.reinstated", principal, subject_id=user.id)
        user.status = status
    if was_staff and not (is_staff(user) and user.is_active):
        why = "suspended" if not user.is_active else "role_changed"
        lapse_claims(session, user.id, by=principal.user_id, why=why)
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    user.updated_at = _now()
    session.flush()
    return user


def revoke_all_tokens(session: Session, user_id: uuid.UUID) -> int:
    """Revoke every live token of a user; returns how many."""
    result = session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=_now())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def set_membership(
    session: Session, user: User, actor_id: uuid.UUID, role: str, principal: Principal
) -> Membership:
    membership = session.get(Membership, (user.id, actor_id))
    if membership is None:
        membership = Membership(user_id=user.id, actor_id=actor_id, role=role)
        session.add(membership)
        user.memberships.append(membership)
    membership.role = role
    record(
        session, "membership.set", principal, subject_id=user.id, actor_id=str(actor_id), role=role
    )
    session.flush()
    return membership


def remove_membership(
    session: Session, user: User, actor_id: uuid.UUID, principal: Principal
) -> None:
    membership = session.get(Membership, (user.id, actor_id))
    if membership is None:
        raise NotFound("This user is not a member of that actor.")
    user.memberships.remove(membership)
    session.delete(membership)
    record(session, "membership.removed", principal, subject_id=user.id, actor_id=str(actor_id))
    session.flush()
