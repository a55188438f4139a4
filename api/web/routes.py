"""The web blueprint and what every page shares: security headers, CSRF, the layout's
context, fingerprinted assets, the language switcher. Each job's pages live in a module of
their own on this blueprint (find.py, ...); handlers are thin: they call the service
functions the API calls and render a template."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    request,
    send_from_directory,
    session,
)
from flask.views import MethodView
from flask_babel import get_locale
from markupsafe import Markup

from api.auth import current_principal
from api.web import (
    LANGUAGES,
    RIGHT_TO_LEFT,
    STATIC,
    content_security_policy,
    csrf,
    fingerprint,
    forms,
    labels,
)

FORM = ("application/x-www-form-urlencoded", "multipart/form-data")
YEAR = 365 * 24 * 3600

blp = Blueprint("web", __name__, template_folder="templates")
# What a service says, shown on a page (a batch's results, an upload's rows): in words.
blp.add_app_template_filter(forms.in_words, "in_words")


@blp.app_template_filter("isolated")
def isolated(text) -> Markup:
    """Content (a name, a title, a period's label) inside a translated sentence, in its own
    direction: a Latin-script title in an Arabic sentence does not reorder the words around
    it (HTML's <bdi>)."""
    return Markup("<bdi>{}</bdi>").format(text)


@blp.before_request
def _check_csrf():
    csrf.protect()  # a no-op for GET and HEAD


@blp.after_request
def secure_headers(response):
    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app.config.get("BASEMAP_URL")
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


@blp.app_context_processor
def _layout():
    language = str(get_locale())
    return {
        "language": language,
        "direction": "rtl" if language in RIGHT_TO_LEFT else "ltr",
        "languages": LANGUAGES,
        "kinds": labels.KINDS,
        "disclaimers": labels.DISCLAIMERS,
        "language_name": labels.language_name,
        "country_name": labels.country_name,
        # A form's idempotency key (api.idempotency): a resubmission after a dropped
        # connection replays the first answer instead of acting twice.
        "new_key": lambda: uuid.uuid4().hex,
        "asset": lambda filename: f"/assets/{fingerprint(filename)}/{filename}",
    }


@blp.get("/assets/<digest>/<path:filename>")
def asset(digest: str, filename: str):
    """Fingerprinted static files: an old digest is a 404, never a stale file cached forever."""
    if not (STATIC / filename).is_file() or digest != fingerprint(filename):
        abort(404)
    response = send_from_directory(STATIC, filename, max_age=YEAR)
    response.cache_control.immutable = True
    response.cache_control.public = True
    return response


class LanguageSwitch(MethodView):
    body_types = FORM

    def post(self):
        """Keep the reader's choice of interface language in the session cookie, and, for
        a signed-in reader, on the account: its mails are in it from then on (api/mails.py)."""
        chosen = request.form.get("lang", "")
        if chosen not in LANGUAGES:
            abort(422, description=f"lang: one of {', '.join(LANGUAGES)}.")
        session["lang"] = chosen
        if (user := current_principal().user) is not None:
            user.language = chosen
        return redirect(local_path(request.form.get("next", "")), code=303)


def local_path(target: str) -> str:
    """Only a path on this site: a switcher must not become an open redirect."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


blp.add_url_rule("/language", view_func=LanguageSwitch.as_view("language"))
