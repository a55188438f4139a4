"""The moderation service, split along the lines of the domain:

- ``items``: published items as moderators act on them (hide, disclaimers) and the log;
- ``contributions``: proposals, their authors' actions and the review queue;
- ``decisions``: claim, release, decide and publish;
- ``flags``: flags, the reviews they open and their decisions.

Every moderator act lands in the append-only moderation log; every published change in a
revision. The routes call these functions through this module."""

from api.moderation.contributions import (
    awaiting_consent_of,
    contributions_of,
    get_contribution,
    give_consent,
    queue,
    resubmit,
    submit,
    withdraw,
)
from api.moderation.decisions import (
    claim,
    decide,
    decide_batch,
    edit_checks,
    edit_diff,
    release,
)
from api.moderation.flags import flag, flags_of_review, list_flags
from api.moderation.items import (
    get_item,
    log,
    moderation_log,
    revert_item,
    set_disclaimers,
    set_hidden,
)

__all__ = [
    "awaiting_consent_of",
    "claim",
    "contributions_of",
    "decide",
    "decide_batch",
    "edit_checks",
    "edit_diff",
    "flag",
    "flags_of_review",
    "get_contribution",
    "get_item",
    "give_consent",
    "list_flags",
    "log",
    "moderation_log",
    "queue",
    "release",
    "resubmit",
    "revert_item",
    "set_disclaimers",
    "set_hidden",
    "submit",
    "withdraw",
]
