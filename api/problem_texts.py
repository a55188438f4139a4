"""Problem details in the reader's language: ``title`` and ``detail`` of every problem
(api.errors) translated into the interface languages, falling back to English.

The texts are gettext messages of their own domain, ``problems``
(``api/web/translations/<language>/LC_MESSAGES/problems.po``, template
``api/web/problems.pot``), apart from the web pages' ``messages``. Code raises problems in
English, with their values already in; a detail is translated when it is one of the
messages below, whole or, for a validation problem, rule by rule. A message with values
is written with named placeholders (``No {item} with id {id}.``): the detail is matched
against it, and the values are put into the translation. Anything else stays English,
and ``Content-Language`` says so.
"""

from __future__ import annotations

import re
from functools import cache
from http import HTTPStatus
from pathlib import Path

from babel.support import NullTranslations, Translations

from api.language import DEFAULT, N_

DIRECTORY = Path(__file__).parent / "web" / "translations"
DOMAIN = "problems"


# Titles: the HTTP status phrases the API answers with.
TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    406: N_("Not Acceptable"),
    409: N_("Conflict"),
    410: N_("Gone"),
    412: N_("Precondition Failed"),
    413: N_("Request Entity Too Large"),
    415: N_("Unsupported Media Type"),
    422: N_("Unprocessable Entity"),
    428: N_("Precondition Required"),
    429: N_("Too Many Requests"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}

DETAILS = (
    # routing and HTTP (werkzeug's own texts)
    N_(
        "The requested URL was not found on the server. If you entered the URL manually "
        "please check your spelling and try again."
    ),
    N_("The method is not allowed for the requested URL."),
    N_("Send the request body as {types} (got {got})."),
    # access
    N_("Sign in to do this."),
    N_("Send credentials as 'Authorization: Bearer <token>'."),
    N_("The token is not valid: unknown, expired or revoked, or its account is suspended."),
    N_("Only {role} may do this."),
    N_("Only the author may do this."),
    N_(
        "Requests with credentials or that change data are accepted only from the origins "
        "in PEACEMAP_CORS_ORIGINS; {origin} is not one."
    ),
    # things that are not there
    N_("No {item} with id {id}."),
    N_("No collection {collection}; see /api/v1/ogc/collections."),
    N_("No feature {feature} in {collection}."),
    # versions and conflicts
    N_("This request must carry an If-Match header with the resource's current ETag."),
    N_('The resource has changed since you read it: its current ETag is "{etag}".'),
    N_("The request conflicts with data that already exists."),
    N_("The request conflicts with data that already exists (rule {rule})."),
    N_("You already have an open flag on this item."),
    N_("Four eyes: nobody moderates their own contribution."),
    N_("Can't {action} a contribution that is {state}."),
    N_(
        "Another moderator holds this contribution: a decision needs their release or the "
        "end of their claim."
    ),
    N_("You can no longer write to this actor through Peacemap."),
    N_("This link does not work: it is unknown or too old."),
    N_("You can no longer reply to this person through Peacemap."),
    N_("This reply link has been used as many times as it may be."),
    # failures
    N_("An unexpected error happened; it was logged as {error_id}."),
    N_(
        "The database is not answering at the moment; nothing was changed. Try again in "
        "{seconds} seconds (logged as {error_id})."
    ),
    N_("The request is not valid."),
)

# The rules of a validation problem (marshmallow's and the input boundary's), one by one.
RULES = (
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Field may not be null."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid boolean."),
    N_("Not a valid UUID."),
    N_("Not a valid datetime."),
    N_("Not a valid list."),
    N_("Not a valid mapping type."),
    N_("Invalid input type."),
    N_("Must be one of: {choices}."),
    N_("Length must be between {min} and {max}."),
    N_("Shorter than minimum length {min}."),
    N_("Longer than maximum length {max}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than or equal to {min}."),
    N_("Must be less than or equal to {max}."),
    N_("is required to {action}: the author sees it."),
    N_("is required to merge."),
    N_("Geometry longitude {longitude} is outside -180..180."),
    N_("Geometry latitude {latitude} is outside -90..90."),
    N_("must be two numbers: lon,lat."),
    N_("must be a longitude within -180..180 and a latitude within -90..90."),
    N_("must be four numbers: west,south,east,north."),
    N_("longitudes must be within -180..180."),
    N_("latitudes must be within -90..90."),
    N_("south must not be greater than north."),
    N_("give an area or a bbox, not both."),
    N_("needs `near`."),
    N_("sorting by distance needs `near`."),
    N_("sorting by relevance needs `q`."),
    N_("{code} is not an ISO 3166-1 alpha-2 country code."),
    N_("{tag} is not a BCP 47 language tag with an ISO 639 language."),
    N_("must not be in the future."),
    N_("must not repeat a value."),
    N_("must be between 1800 and {year}."),
    N_("is required for a translation."),
    N_("Send at least one field to change."),
    # the rows of an upload (metrics.data), each about one column
    N_("is required."),
    N_("must be text."),
    N_("must be a number."),
    N_("must be a finite number."),
    N_("{text} is not a number."),
    N_("{text} is not a date (YYYY-MM-DD)."),
    N_("must be true or false."),
    N_("is before start."),
    N_("{value} is outside the valid range {low}..{high} ({unit})."),
    N_("{measure} is not a measure of {framework} or of this project."),
    N_("must be a whole number of respondents, at least 1."),
    N_("must be at most {max}."),
    N_("must be above 0 and at most {max}."),
    N_("must be one of {choices}."),
    N_("is required for the survey measure {measure}."),
    N_("must be at least {min} for a survey measure."),
    N_(
        "the effective sample size {size} is below the framework's minimum of {min} for a "
        "survey measure."
    ),
    N_("give design_effect or effective_sample_size, not both."),
    N_("only survey measures have one ({measure} is not a survey measure)."),
    N_("keys and values must be text."),
    N_("must be k=v;k=v text or an object."),
    N_("{text} is not key=value."),
    N_("a group key is repeated."),
    N_("group keys have at most {key} characters, their values at most {value}."),
    N_("the group has more than {limit} characters in all."),
    N_("repeats line {line} (same measure, period and group)."),
    N_("unknown field; expected some of {columns}."),
    N_("unknown column; expected some of {columns}."),
    N_("column is missing from the header."),
    N_("column appears more than once."),
    N_("has a field over {limit} characters."),
    N_("has {count} more field(s) than the header."),
    N_("has {count} characters; at most {limit}."),
    N_("contains a NUL character."),
    N_("is not valid UTF-8 text."),
)

# Words a message above carries as a value, named in the reader's language too: the
# workflow's actions and states (api/moderation/workflow.py), as its messages word them,
# and who may do what (_words: the permission table's, extracted from api/permissions.py).
WORKFLOW_WORDS = frozenset(
    {
        N_("claim"),
        N_("release"),
        N_("withdraw"),
        N_("resubmit"),
        N_("consent"),
        N_("refuse consent"),
        N_("ask consent"),
        N_("approve"),
        N_("merge"),
        N_("reject"),
        N_("request changes"),
        N_("dismiss"),
        N_("disclaim"),
        N_("hide"),
        N_("submitted"),
        N_("in review"),
        N_("approved"),
        N_("rejected"),
        N_("changes requested"),
        N_("withdrawn"),
        N_("awaiting consent"),
    }
)


@cache
def _words() -> frozenset[str]:
    # Imported on first use: the permission table raises api.errors' problems, which
    # translate through this module.
    from api.permissions import RULES

    return WORKFLOW_WORDS | {who for _, who in RULES.values()}


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _pattern(message: str) -> re.Pattern:
    parts = _PLACEHOLDER.split(message)
    # split() alternates literal text and placeholder names
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
        for index, part in enumerate(parts)
    )
    return re.compile(regex, re.DOTALL)


_DETAILS = [(message, _pattern(message)) for message in DETAILS]
_RULES = [(message, _pattern(message)) for message in RULES]


@cache
def _catalogue(language: str) -> NullTranslations:
    if language == DEFAULT:
        return NullTranslations()
    return Translations.load(str(DIRECTORY), [language], domain=DOMAIN)


def _translate(text: str, messages: list, catalogue: NullTranslations) -> str | None:
    """``text`` in the catalogue's language, or None when it is none of ``messages``."""
    for message, pattern in messages:
        match = pattern.fullmatch(text)
        if match:
            translated = catalogue.gettext(message)
            if translated == message:
                return None
            values = {
                name: catalogue.gettext(value) if value in _words() else value
                for name, value in match.groupdict().items()
            }
            return translated.format(**values)
    return None


def translate_rule(rule: str, language: str) -> str | None:
    """One validation rule (as marshmallow words it, its full stop optional)."""
    found = _translate(rule.rstrip(".") + ".", _RULES, _catalogue(language))
    return found.rstrip(".") if found is not None else None


def translate(text: str, language: str) -> str | None:
    """A service's message (a problem's detail, or one rule of a field) in ``language``,
    or None when it is not one of the messages above: the web pages' words for what the
    service says (api.web.forms), the same catalogue as the API's problem details."""
    if language == DEFAULT:
        return None
    found = _translate(text, _DETAILS, _catalogue(language))
    return found if found is not None else translate_rule(text, language)


def describe(errors: dict, language: str = DEFAULT, prefix: str = "") -> tuple[list[str], bool]:
    """A validation problem's rules as ``field: rule`` texts, and whether every rule was
    translated (English always is)."""
    parts, complete = [], True
    for field, rule in errors.items():
        name = f"{prefix}{field}"
        if isinstance(rule, dict):
            nested, nested_complete = describe(rule, language, f"{name}.")
            parts.extend(nested)
            complete = complete and nested_complete
        elif isinstance(rule, list) and all(isinstance(r, str) for r in rule):
            texts = [r.rstrip(".") for r in rule]
            if language != DEFAULT:
                translated = [translate_rule(r, language) for r in texts]
                complete = complete and None not in translated
                texts = [t or r for t, r in zip(translated, texts, strict=True)]
            parts.append(f"{name}: {' '.join(texts)}")
        else:
            parts.append(f"{name}: {rule}")
            complete = complete and language == DEFAULT
    return parts, complete


def localise(
    status: int, detail: str, language: str, errors: dict | None = None
) -> tuple[str, str, str]:
    """(title, detail, Content-Language) of a problem for a reader of ``language``; a
    validation problem's detail (made by ``describe``) is translated rule by rule."""
    catalogue = _catalogue(language)
    title = catalogue.gettext(TITLES.get(status, HTTPStatus(status).phrase))
    if language == DEFAULT:
        return title, detail, DEFAULT
    translated = _translate(detail, _DETAILS, catalogue)
    if translated is None and errors and detail == "; ".join(describe(errors)[0]):
        parts, complete = describe(errors, language)
        translated = "; ".join(parts) if complete else None
    if translated is None:
        return title, detail, f"{language}, {DEFAULT}"  # the detail stayed English
    return title, translated, language
