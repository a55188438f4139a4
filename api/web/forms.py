"""HTML forms on the API's own schemas and services: a posted form is loaded by the schema
the API uses, and a refusal (the schema's or a service's) comes back as messages attached
to the form's fields, in the reader's language, with what was typed kept.

The rules stay where they are declared (schemas, services); this module only words their
refusals for people.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import marshmallow as ma
from flask import g, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from api import problem_texts
from api.accounts.credentials import WEAK_PASSWORD
from api.accounts.service import PASSWORD_IS_PERSONAL, SIGN_IN_FAILED
from api.accounts.verification import ALREADY_VERIFIED, INVALID_TOKEN
from api.errors import ProblemError
from api.idempotency import FORM_FIELD
from api.mail import NOT_SENT

# Fields a form never shows again after an error: the reader types them anew.
SECRET_FIELDS = frozenset({"password", "csrf_token"})
# A refusal that names no field of the form is shown at the top, under this key.
FORM = "form"

# The services' and marshmallow's messages, in words for people. A message not listed here
# is shown as the API words it for the reader (api/problem_texts.py), else as the service
# wrote it (English), never hidden.
_MESSAGES: dict[str, object] = {
    "Missing data for required field.": _l("Fill this in."),
    "Field may not be null.": _l("Fill this in."),
    "Not a valid email address.": _l("Enter an email address such as name@example.org."),
    "Not a valid string.": _l("Enter text."),
    "Not a valid number.": _l("Enter a number."),
    "Not a valid integer.": _l("Enter a whole number."),
    "Not a valid URL.": _l("Enter a web address starting with https://."),
    "Not a valid UUID.": _l("This is not a known item."),
    "Unknown field.": _l("This form does not have this field."),
    SIGN_IN_FAILED: _l("The email address or password is not right."),
    PASSWORD_IS_PERSONAL: _l("Choose a password that is not your email address or name."),
    ALREADY_VERIFIED: _l("Your email address is confirmed already."),
    NOT_SENT: _l("The mail could not be sent just now; nothing was changed. Try again later."),
    INVALID_TOKEN: _l(
        "This link or code does not work: it is unknown, used already, replaced by a newer "
        "one or expired. Ask for a new one."
    ),
}
_PATTERNS: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (
        re.compile(r"Length must be between (\d+) and (\d+)\."),
        lambda m: _("Enter between %(min)s and %(max)s characters.", min=m[1], max=m[2]),
    ),
    (
        re.compile(r"Shorter than minimum length (\d+)\."),
        lambda m: _("Enter at least %(min)s characters.", min=m[1]),
    ),
    (
        re.compile(r"Longer than maximum length (\d+)\."),
        lambda m: _("Enter at most %(max)s characters.", max=m[1]),
    ),
    (re.compile(r"Must be one of: .*"), lambda m: _("Choose one of the options.")),
    (
        re.compile(r"must be between (\d+) and (\d+)\."),
        lambda m: _("Enter a year between %(min)s and %(max)s.", min=m[1], max=m[2]),
    ),
    (
        re.compile(r"'.*' is not an ISO 3166-1 alpha-2 country code\."),
        lambda m: _("Enter countries by their codes of two letters, such as KE or UG."),
    ),
    (
        re.compile(r"must be a GeoJSON geometry \(JSON\)\.|Geometry .*"),
        lambda m: _("Paste a GeoJSON polygon, such as one a map tool exports."),
    ),
    (
        re.compile(r"is not a phone number\."),
        lambda m: _("Enter a phone number with digits only, such as +254 700 000000."),
    ),
    (
        re.compile(re.escape(WEAK_PASSWORD) + ".*"),
        lambda m: _(
            "This password is too easy to guess: common words, names, dates and keyboard "
            "patterns are tried first. Use a longer passphrase of uncommon words."
        ),
    ),
]


def in_words(message: str) -> str:
    """A schema's or service's message (about a field, or the whole request), in the
    reader's language: in the pages' own words where they have some, else as the API words
    it for the reader (api/problem_texts.py, the problems catalogue), else as written."""
    if (known := _MESSAGES.get(message)) is not None:
        return str(known)
    for pattern, word in _PATTERNS:
        if match := pattern.fullmatch(message):
            return word(match)
    return problem_texts.translate(message, str(get_locale())) or message


def field_messages(errors: dict, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages, flattened to one list per form field
    (``location.coordinates`` for a nested one), worded for people."""
    flat: dict[str, list[str]] = {}
    for field, rule in errors.items():
        if isinstance(field, int) and not isinstance(rule, dict):
            # an item of a list of values (``countries.1``) is its list's field; an item of
            # a list of rows keeps its row (``links.1.url``)
            name = prefix.removesuffix(".") or FORM
        else:
            name = f"{prefix}{field}" if field != "_schema" else FORM
        if isinstance(rule, dict):
            for nested, messages in field_messages(rule, f"{name}.").items():
                flat.setdefault(nested, []).extend(messages)
        else:
            rules = rule if isinstance(rule, list) else [rule]
            flat.setdefault(name, []).extend(in_words(str(r)) for r in rules)
    return flat


def problem_messages(problem: ProblemError) -> dict[str, list[str]]:
    """A service's refusal: its field errors if it names fields, else one form message."""
    if problem.errors:
        return field_messages(problem.errors)
    return {FORM: [in_words(problem.detail)]}


def posted() -> dict[str, str]:
    """The form as typed, without blank fields (a blank required field is then "missing",
    as in the API) and without what is not data (the CSRF token, the idempotency key)."""
    return {
        name: value
        for name, value in request.form.items()
        if value.strip() and name not in ("csrf_token", "next", FORM_FIELD)
    }


def load(schema: ma.Schema, data: dict) -> dict:
    """Load a form with the API's schema; a refusal becomes an ``Invalid`` for the page."""
    try:
        return schema.load(data)
    except ma.ValidationError as error:
        raise Invalid(field_messages(error.normalized_messages())) from error


class Invalid(Exception):
    """A form to show again with messages by field (``FORM`` for the whole form)."""

    def __init__(self, errors: dict[str, list[str]], status: int = 422):
        super().__init__(errors)
        self.errors = errors
        self.status = status


def typed() -> MultiDict:
    """The form as it was posted, to show again (never a password)."""
    return MultiDict([(k, v) for k, v in request.form.items(multi=True) if k not in SECRET_FIELDS])


def show_again(template: str, refusal: Invalid | ProblemError, **context):
    """The page again, with an error summary, the messages by field and what was typed
    (never a password). A service's refusal keeps its status, and what it keeps written
    (a failed sign-in stays in the audit log, as through the API)."""
    if isinstance(refusal, ProblemError):
        g.keep_changes = refusal.keep_changes
        refusal = Invalid(problem_messages(refusal), refusal.status)
    html = render_template(template, errors=refusal.errors, values=typed(), **context)
    return html, refusal.status


# -- form fields to the API's payload ------------------------------------------------------


def texts(form: MultiDict, names: tuple[str, ...]) -> dict:
    """The named fields that hold more than blanks, trimmed."""
    return {name: form[name].strip() for name in names if form.get(name, "").strip()}


def lists(form: MultiDict, names: tuple[str, ...]) -> dict:
    """Ticked themes, or codes typed with commas between them (countries, languages)."""
    found = {}
    for name in names:
        if name == "themes":
            chosen = form.getlist("themes")
        else:
            chosen = [part.strip() for part in form.get(name, "").split(",") if part.strip()]
        if chosen:
            found[name] = chosen
    return found


def geojson_area(form: MultiDict) -> dict:
    """An area as GeoJSON; text that is not JSON goes to the schema as it is, to be refused
    there with the API's message."""
    if not (text := form.get("area", "").strip()):
        return {}
    try:
        return {"area": json.loads(text)}
    except ValueError:
        return {"area": text}
