"""Passwords and token secrets: how they are made, hashed and checked."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

TOKEN_PREFIX = "pm_"
# argon2id with the library's defaults (RFC 9106 low-memory profile: 64 MiB, t=3, p=4).
_hasher = PasswordHasher()
# Verified against when an email is unknown, so that failure takes as long either way.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


# zxcvbn's scale: 3 is "safely unguessable", resisting an offline attack on a slow hash.
MIN_PASSWORD_SCORE = 3
# zxcvbn refuses longer inputs (its matching grows fast with length); the first 72
# characters decide, as they do for bcrypt. A long passphrase with a guessable start fails.
ESTIMATED_LENGTH = 72
WEAK_PASSWORD = "is too easy to guess."


def weak_password_reason(password: str, known: list[str]) -> str | None:
    """Why a password is too easy to guess (common, on breached lists, a keyboard walk, a
    date, the user's own name or address), or None. ``known`` are words about the user
    that an attacker would try first. The reason never repeats the password."""
    words = [w for text in known for w in (text, *text.replace("@", " ").split()) if w]
    estimate = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=words)
    if estimate["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = estimate["feedback"]
    hints = " ".join(filter(None, [feedback["warning"], *feedback["suggestions"]]))
    return f"{WEAK_PASSWORD} {hints or 'Use a longer passphrase of uncommon words.'}"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token_secret(prefix: str = TOKEN_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(secret: str, key: str) -> str:
    """Keyed hash (HMAC-SHA256 with the app's secret key): a copy of the database alone
    is not enough to check a guessed token. Tokens have 256 bits of entropy, so a fast
    hash is right here (unlike passwords)."""
    return hmac.new(key.encode(), secret.encode(), hashlib.sha256).hexdigest()
