"""Authentication: turn the request's bearer token into a Principal, once per request."""

from __future__ import annotations

import hmac
from functools import wraps

from flask import current_app, g, request, session

from api.errors import Unauthorized
from api.permissions import require
from api.principal import Principal

CHALLENGE = 'Bearer realm="peacemap"'


def current_principal() -> Principal:
    """The caller; a 401 if the request's credentials are bad."""
    principal = _resolved()
    if isinstance(principal, Unauthorized):
        raise principal
    return principal


def init_app(app) -> None:
    """Refuse bad credentials on every request, also where the view would not ask who is
    calling (a bad token is an error, not an anonymous visit). Registered after the rate
    limiter, so that the refused request has been counted against its address first."""
    app.before_request(_refuse_bad_credentials)


def _refuse_bad_credentials() -> None:
    current_principal()


def counted_principal() -> Principal:
    """Whom a request counts against for rate limits. A request whose credentials fail is
    counted by its address, like any anonymous one, so that guessing tokens is throttled
    (and a bad token never spends a real user's budget)."""
    principal = _resolved()
    return Principal(ip=request.remote_addr) if isinstance(principal, Unauthorized) else principal


def _resolved() -> Principal | Unauthorized:
    """Authenticate once per request; a failure is kept too, so it is not looked up twice."""
    if "principal" not in g:
        try:
            g.principal = _authenticate()
        except Unauthorized as failure:
            g.principal = failure
    return g.principal


def _authenticate() -> Principal:
    from api.accounts.service import resolve_token
    from api.db import db

    header = request.headers.get("Authorization")
    if header is None:
        return _web_session_principal()
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(
            "Send credentials as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    scraper_secret = current_app.config.get("METRICS_TOKEN")
    if scraper_secret and hmac.compare_digest(secret.strip().encode(), scraper_secret.encode()):
        return Principal(ip=request.remote_addr, scraper=True)
    token = resolve_token(db.session, secret.strip(), key=current_app.config["SECRET_KEY"])
    if token is None:
        raise Unauthorized(
            "The token is not valid: unknown, expired or revoked, or its account is suspended.",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
        )
    return Principal(user=token.user, token=token, ip=request.remote_addr)


# The session cookie key holding a web sign-in's token secret (api.web.account).
SESSION_TOKEN = "token"


def carries_credentials() -> bool:
    """Whether the request comes signed in (a bearer token, or the web pages' session)
    before they are checked: such requests read and write on the primary (api.replicas)."""
    return "Authorization" in request.headers or bool(session.get(SESSION_TOKEN))


def _web_session_principal() -> Principal:
    """The web pages' sign-in, kept in the session cookie. Read on the web blueprint only:
    the API authenticates by bearer token alone, which a foreign site cannot make a browser
    send, so a session cookie can never carry a forged request to the API. A token revoked
    (sign-out, suspension, password reset) or expired leaves an anonymous visitor."""
    secret = session.get(SESSION_TOKEN) if "web" in request.blueprints else None
    if secret:
        from api.accounts.service import resolve_token
        from api.db import db

        token = resolve_token(db.session, secret, key=current_app.config["SECRET_KEY"])
        if token is not None:
            return Principal(user=token.user, token=token, ip=request.remote_addr)
        session.pop(SESSION_TOKEN)
    return Principal(ip=request.remote_addr)


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
