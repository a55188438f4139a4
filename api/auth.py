"""Authentication: turn the request's bearer token into a Principal, once per request."""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request

from api.errors import Unauthorized
from api.permissions import require
from api.principal import Principal

CHALLENGE = 'Bearer realm="peacemap"'


def current_principal() -> Principal:
    if "principal" not in g:
        g.principal = _authenticate()
    return g.principal


def _authenticate() -> Principal:
    from api.accounts.service import resolve_token
    from api.db import db

    header = request.headers.get("Authorization")
    if header is None:
        return Principal(ip=request.remote_addr)
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(
            "Send credentials as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    token = resolve_token(db.session, secret.strip(), key=current_app.config["SECRET_KEY"])
    if token is None:
        raise Unauthorized(
            "The token is not valid: unknown, expired or revoked, or its account is suspended.",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
        )
    return Principal(user=token.user, token=token, ip=request.remote_addr)


def allowed(action: str):
    """Check an action that needs no object before anything else runs (so that an
    anonymous caller learns nothing from validation errors)."""

    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            require(current_principal(), action)
            return view(*args, **kwargs)

        return checked

    return decorate


signed_in = allowed("account.use")
