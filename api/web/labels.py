"""Words the pages show for the service's codes, in the reader's language."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

KINDS = {
    "organisation": _l("Organisation"),
    "practitioner": _l("Practitioner"),
    "academic": _l("Academic"),
    "network": _l("Network"),
    "funder": _l("Funder"),
    "government": _l("Government body"),
    "media": _l("Media"),
}

DISCLAIMERS = {
    "unverified": _l("Nobody has yet confirmed what this profile says."),
    "community_reported": _l("This profile was reported by the community, not by the actor."),
    "disputed": _l("Some of what this profile says is disputed."),
    "outdated": _l("This profile may be out of date."),
}


def language_name(code: str) -> str:
    """A language's name in the reader's language (``sw`` → "swahili" for a French reader)."""
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name(get_locale()) or code
    except (ValueError, UnknownLocaleError):
        return code


def country_name(code: str) -> str:
    return get_locale().territories.get(code.upper(), code)
