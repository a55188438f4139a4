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


# -- the Moderate job ---------------------------------------------------------------------

CONTRIBUTION_KINDS = {
    "new_actor": _l("New actor"),
    "actor_edit": _l("Edit of an actor"),
    "new_resource": _l("New resource"),
    "new_observation": _l("New observation"),
    "translation": _l("Translation"),
    "flag_review": _l("Flags to review"),
}

STATES = {
    "submitted": _l("Waiting"),
    "in_review": _l("In review"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "changes_requested": _l("Changes requested"),
    "withdrawn": _l("Withdrawn"),
    "awaiting_consent": _l("Awaiting the manager's consent"),
}

DECISIONS = {
    "approve": _l("Approve"),
    "merge": _l("Merge into an existing actor"),
    "reject": _l("Reject"),
    "request_changes": _l("Request changes"),
    "dismiss": _l("Dismiss the flags"),
    "disclaim": _l("Keep it with a disclaimer"),
    "hide": _l("Hide it"),
}

DISCLAIMER_NAMES = {
    "unverified": _l("Unverified"),
    "community_reported": _l("Reported by the community"),
    "disputed": _l("Disputed"),
    "outdated": _l("Out of date"),
}

FLAG_REASONS = {
    "misinformation": _l("Misinformation"),
    "harmful": _l("Harmful"),
    "endangers_someone": _l("Endangers someone"),
    "spam": _l("Spam"),
    "duplicate": _l("Duplicate"),
    "outdated": _l("Out of date"),
    "other": _l("Other"),
}

TARGET_TYPES = {
    "actor": _l("Actor"),
    "resource": _l("Resource"),
    "observation": _l("Observation"),
    "project": _l("Project"),
}


# -- the Report job -----------------------------------------------------------------------

THEMES = {
    "violence": _l("Violence"),
    "legitimacy": _l("Legitimacy of institutions"),
    "polarisation": _l("Polarisation"),
    "agency": _l("Personal agency"),
    "investment": _l("Investment in peace"),
}

POLARITIES = {
    "higher_is_better": _l("Higher is better"),
    "higher_is_worse": _l("Higher is worse"),
}

DIRECTIONS = {
    "improved": _l("improved"),
    "worsened": _l("worsened"),
    "mixed": _l("mixed: some measures improved, others worsened"),
    "no clear change": _l("no clear change"),
    "not tested": _l("not tested (no sampling uncertainty)"),
    "not comparable": _l("not comparable (the measures differ)"),
}
