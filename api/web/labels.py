"""Words the pages show for the service's codes, in the reader's language."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask_babel import force_locale, get_locale, gettext
from flask_babel import lazy_gettext as _l

from metrics.charts import Words

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


def chart_words(language: str | None = None) -> Words:
    """A chart's wording (metrics.charts) in ``language``, else the page's: the same
    catalogues, and the theme names the report pages show. Eager: a chart drawn after the
    request's locale has changed keeps its words."""
    language = language or str(get_locale())
    with force_locale(language):
        names = {key: str(name) for key, name in THEMES.items()}
    return Words(
        gettext=lambda text: _in(language, text),
        theme=lambda key: names.get(key, key),
        language=language,
    )


def _in(language: str, text: str) -> str:
    with force_locale(language):
        return gettext(text)


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


# -- the Find job -------------------------------------------------------------------------

# The theme vocabulary's keys (migration 0001) that actors, resources and observations
# carry, named for readers (the Report job names the framework's five its own way); a
# theme added since shows the label it was created with.
VOCABULARY_THEMES = {
    "violence": _l("Violence"),
    "legitimacy": _l("Legitimacy"),
    "polarisation": _l("Polarisation"),
    "agency": _l("Agency"),
    "investment": _l("Investment in peace"),
    "gender": _l("Gender"),
    "youth": _l("Youth"),
    "climate_environment": _l("Climate and environment"),
    "child_protection": _l("Child protection"),
    "preventing_violent_extremism": _l("Preventing violent extremism"),
    "education": _l("Education"),
    "transitional_justice": _l("Transitional justice"),
    "mediation_dialogue": _l("Mediation and dialogue"),
    "human_rights": _l("Human rights"),
    "governance": _l("Governance"),
    "livelihoods": _l("Livelihoods"),
    "land_natural_resources": _l("Land and natural resources"),
    "media_information": _l("Media and information"),
    "psychosocial": _l("Psychosocial support"),
    "security_disarmament": _l("Security and disarmament"),
    "interfaith": _l("Religion and interfaith"),
    "displacement": _l("Displacement"),
    "research_evaluation": _l("Research and evaluation"),
}

RESOURCE_TYPES = {
    "report": _l("Report"),
    "evaluation": _l("Evaluation"),
    "brief": _l("Brief"),
    "tool": _l("Tool"),
    "dataset": _l("Dataset"),
    "lesson_from_failure": _l("Lesson from failure"),
}


def theme_name(key: str, labels: dict[str, str] | None = None) -> str:
    """A theme in the reader's language; else the vocabulary's label; never the raw key
    when a label exists."""
    if key in VOCABULARY_THEMES:
        return str(VOCABULARY_THEMES[key])
    return (labels or {}).get(key) or key.replace("_", " ").capitalize()
