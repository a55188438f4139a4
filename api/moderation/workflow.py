"""The review workflow as data: which action moves a contribution from which states to
which, and which decisions each kind of contribution allows. One place for the rules."""

from __future__ import annotations

from api.errors import Conflict

OPEN = ("submitted", "in_review")
# A proposal that lowers an actor's privacy (a finer precision, contact details) waits in
# this state for the consent of the actor's manager, where it has one, before review.
AWAITING_CONSENT = "awaiting_consent"

# action: (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "claim": (OPEN, "in_review"),
    "release": (("in_review",), "submitted"),
    "withdraw": ((AWAITING_CONSENT, "submitted", "in_review", "changes_requested"), "withdrawn"),
    "resubmit": (("changes_requested",), "submitted"),
    # The actor's manager on a proposal that lowers its privacy.
    "consent": ((AWAITING_CONSENT,), "submitted"),
    "refuse_consent": ((AWAITING_CONSENT,), "rejected"),
    # Where the actor has a manager who did not make the proposal, it asks them first.
    "ask_consent": (("submitted",), AWAITING_CONSENT),
    "approve": (OPEN, "approved"),
    "merge": (OPEN, "approved"),
    "reject": (OPEN, "rejected"),
    "request_changes": (OPEN, "changes_requested"),
    # Decisions on a review opened by flags.
    "dismiss": (OPEN, "rejected"),
    "disclaim": (OPEN, "approved"),
    "hide": (OPEN, "approved"),
}

DECISIONS: dict[str, tuple[str, ...]] = {
    "new_actor": ("approve", "merge", "reject", "request_changes"),
    "actor_edit": ("approve", "reject", "request_changes"),
    "new_resource": ("approve", "reject", "request_changes"),
    "new_observation": ("approve", "reject", "request_changes"),
    "translation": ("approve", "reject", "request_changes"),
    "flag_review": ("dismiss", "disclaim", "hide"),
}
ALL_DECISIONS = tuple(dict.fromkeys(d for ds in DECISIONS.values() for d in ds))
NEEDS_REASON = ("reject", "request_changes", "dismiss", "hide")


def next_state(kind: str, state: str, action: str) -> str:
    """The state ``action`` leads to, or a 409 naming why it can't happen now."""
    if action in ALL_DECISIONS and action not in DECISIONS[kind]:
        raise Conflict(
            f"A {kind} contribution can't be decided with {action!r}: "
            f"use {', '.join(DECISIONS[kind])}."
        )
    sources, target = TRANSITIONS[action]
    if state not in sources:
        raise Conflict(
            f"Can't {action.replace('_', ' ')} a contribution that is {state.replace('_', ' ')}."
        )
    return target
