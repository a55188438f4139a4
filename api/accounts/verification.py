"""Sign-up, email verification and password reset by mail.

Nothing here tells a caller whether an address has an account: sign-up and reset
requests answer the same either way, and the mail goes to the address, where only its
owner reads what it says. Tokens in mails are random, single-use, expire, and are stored
only as keyed hashes (like access tokens). Plain functions over a session; they flush,
the request commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from api import mails
from api.accounts import credentials
from api.accounts.models import EmailToken, User
from api.accounts.service import (
    check_password,
    find_user_by_email,
    record,
    register,
    revoke_all_tokens,
)
from api.errors import Conflict, Unprocessable
from api.mail import send_mail
from api.principal import Principal

PREFIXES = {"verify_email": "pmv_", "reset_password": "pmr_"}
ALREADY_VERIFIED = "Your email address is verified already."
INVALID_TOKEN = "is not valid: unknown, already used, superseded or expired. Ask for a new one."


def _now() -> datetime:
    return datetime.now(UTC)


def _ttl(config: Mapping, purpose: str) -> timedelta:
    if purpose == "verify_email":
        return timedelta(hours=config["EMAIL_VERIFICATION_TTL_HOURS"])
    return timedelta(minutes=config["PASSWORD_RESET_TTL_MINUTES"])


def _issue(session: Session, user: User, purpose: str, config: Mapping) -> str:
    """A new token for ``purpose``; the user's earlier unused ones stop working."""
    session.execute(
        update(EmailToken)
        .where(
            EmailToken.user_id == user.id,
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=_now())
    )
    secret = credentials.new_token_secret(PREFIXES[purpose])
    session.add(
        EmailToken(
            user_id=user.id,
            purpose=purpose,
            email=user.email,
            token_hash=credentials.token_hash(secret, config["SECRET_KEY"]),
            expires_at=_now() + _ttl(config, purpose),
        )
    )
    session.flush()
    return secret


def _spend(session: Session, secret: str, purpose: str, config: Mapping) -> User:
    """Use a token once: the UPDATE takes the row, so two requests cannot both spend it."""
    row = session.execute(
        update(EmailToken)
        .where(
            EmailToken.token_hash == credentials.token_hash(secret, config["SECRET_KEY"]),
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
            EmailToken.expires_at > _now(),
        )
        .values(used_at=_now())
        .returning(EmailToken.user_id, EmailToken.email)
    ).first()
    user = session.get(User, row.user_id) if row else None
    # A token sent to an address the account no longer has proves nothing about it.
    if user is None or user.email.lower() != row.email.lower():
        raise Unprocessable(f"token: {INVALID_TOKEN}", errors={"token": [INVALID_TOKEN]})
    return user


# The web pages (api.web.account) that take each code from a link; the query string's values
# are never written to the access log (api.accesslog).
PAGES = {"verify_email": "/verify-email", "reset_password": "/reset-password/confirm"}


# -- sign-up and verification ----------------------------------------------------------------


def sign_up(
    session: Session, data: dict, principal: Principal, config: Mapping, language: str
) -> None:
    """Register, or, if the address has an account, tell its owner by mail; the caller
    learns nothing either way. The password is checked and hashed in both cases, so
    that both take the same time. A new account's mails are in ``language`` (the page's);
    an existing one's in its own."""
    check_password(data["password"], data["email"], data["display_name"])
    existing = find_user_by_email(session, data["email"])
    if existing is not None:
        credentials.hash_password(data["password"])  # the same work as a new account
        record(session, "account.registration_repeated", principal, subject_id=existing.id)
        send_mail(
            config,
            to=existing.email,
            **mails.sign_up_repeated(config, existing.language, display_name=existing.display_name),
        )
        return
    user = register(session, data, principal, language=language)
    _send_verification(session, user, config)


def _send_verification(session: Session, user: User, config: Mapping) -> None:
    secret = _issue(session, user, "verify_email", config)
    hours = config["EMAIL_VERIFICATION_TTL_HOURS"]
    send_mail(
        config,
        to=user.email,
        **mails.verification(
            config, user.language, page=PAGES["verify_email"], secret=secret, hours=hours
        ),
    )


def resend_verification(session: Session, user: User, principal: Principal, config: Mapping):
    if user.email_verified_at is not None:
        raise Conflict(ALREADY_VERIFIED)
    _send_verification(session, user, config)
    record(session, "email.verification_sent", principal, subject_id=user.id)


def verify_email(session: Session, secret: str, principal: Principal, config: Mapping) -> User:
    user = _spend(session, secret, "verify_email", config)
    if user.email_verified_at is None:
        user.email_verified_at = _now()
    record(session, "email.verified", principal, user_id=user.id, subject_id=user.id)
    session.flush()
    return user


# -- password reset ---------------------------------------------------------------------------


def request_password_reset(
    session: Session, email: str, principal: Principal, config: Mapping, language: str
) -> None:
    """Mail a reset code to the address if it has an account (in its language), and
    otherwise a note that it has none (in ``language``, the page's): a mail goes out
    either way, so the answer and its timing say nothing."""
    user = find_user_by_email(session, email)
    if user is None:
        send_mail(config, to=email, **mails.reset_without_account(language))
        return
    secret = _issue(session, user, "reset_password", config)
    minutes = config["PASSWORD_RESET_TTL_MINUTES"]
    record(session, "password.reset_requested", principal, user_id=user.id, subject_id=user.id)
    send_mail(
        config,
        to=user.email,
        **mails.password_reset(
            config,
            user.language,
            display_name=user.display_name,
            page=PAGES["reset_password"],
            secret=secret,
            minutes=minutes,
        ),
    )


def reset_password(
    session: Session, secret: str, password: str, principal: Principal, config: Mapping
) -> User:
    """Set a new password with a reset code. Every token of the account is revoked (who
    had the old password is signed out), and the address counts as verified."""
    user = _spend(session, secret, "reset_password", config)
    check_password(password, user.email, user.display_name)
    user.password_hash = credentials.hash_password(password)
    user.email_verified_at = user.email_verified_at or _now()
    user.updated_at = _now()
    revoked = revoke_all_tokens(session, user.id)
    record(
        session,
        "password.reset",
        principal,
        user_id=user.id,
        subject_id=user.id,
        tokens_revoked=revoked,
    )
    session.flush()
    return user
