"""The web application for people: server-rendered pages on the same service functions as
the API, with sessions by cookie, CSRF on every form, a strict Content-Security-Policy and
an interface in the reader's language (gettext catalogues under translations/)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

# The interface languages: a catalogue under translations/ for each but English.
LANGUAGES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
    "ru": "Русский",
    "sw": "Kiswahili",
}
RIGHT_TO_LEFT = {"ar"}
STATIC = Path(__file__).parent / "static"

# No inline script or style anywhere: what a page runs and how it looks comes from our files.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

csrf = CSRFProtect()


@cache
def content_security_policy(basemap_url: str | None) -> str:
    """The policy, letting images come from the map's tile server when one is configured
    (PEACEMAP_BASEMAP_URL); nothing else from anywhere else."""
    parts = urlsplit((basemap_url or "").replace("{s}", "a"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return CONTENT_SECURITY_POLICY
    origin = f"{parts.scheme}://{parts.netloc}"
    return CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")


def interface_language() -> str:
    """The language the reader chose with the switcher, else the best of Accept-Language."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default="en")


@cache
def fingerprint(filename: str) -> str:
    """A short digest of a static file's bytes: its URL changes when it does, so it can be
    cached for good."""
    return hashlib.blake2b((STATIC / filename).read_bytes(), digest_size=6).hexdigest()


def init_app(app: Flask) -> None:
    production = app.config.get("ENV_NAME") == "production"
    # Flask's defaults exist for all three, so these are set, not defaulted.
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
    )
    # The API authenticates by bearer token, which a foreign site cannot send: CSRF tokens
    # are checked on the web blueprint's forms only (api.web.routes).
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent / "translations")
    )
    csrf.init_app(app)
    Babel(app, locale_selector=interface_language)

    # One module per job; importing one adds its pages to the blueprint.
    from api.web import (  # noqa: F401
        account,
        contact,
        contribute,
        errors,
        find,
        library,
        moderate,
        project_form,
        report,
    )
    from api.web.routes import blp

    app.register_blueprint(blp)
    app.extensions["peacemap.error_page"] = errors.error_page
