"""Who may do what: the one place where access rules are declared.

Handlers ask ``can(principal, action, obj)`` or ``require(...)``; they never compare
roles themselves. Actions name a resource and a verb; rules take the user (None when
anonymous) and the object the action is about.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.errors import Forbidden, Unauthorized
from api.language import N_
from api.principal import Principal


def is_admin(user) -> bool:
    return user is not None and user.role == "admin"


def is_staff(user) -> bool:
    """Moderators and administrators."""
    return user is not None and user.role in ("moderator", "admin")


def _membership_role(user, actor) -> str | None:
    if user is None or actor is None:
        return None
    return next((m.role for m in user.memberships if m.actor_id == actor.id), None)


def manages(user, actor) -> bool:
    return _membership_role(user, actor) == "manager"


def belongs_to(user, actor) -> bool:
    return _membership_role(user, actor) is not None


class _ActorRef:
    """Just an actor's id, for membership rules about things that belong to an actor."""

    def __init__(self, actor_id):
        self.id = actor_id


def signed_in(user, obj=None) -> bool:
    return user is not None


def verified(user, obj=None) -> bool:
    """Signed in with a confirmed email address: what contributing takes."""
    return user is not None and user.email_verified_at is not None


Rule = Callable[[Any, Any], bool]

RULES: dict[str, tuple[Rule, str]] = {
    # action: (rule, who, as the API documentation states it)
    "actor.create": (lambda u, o: is_staff(u), N_("a moderator or an admin")),
    "actor.update": (
        lambda u, a: is_staff(u) or manages(u, a),
        N_("a moderator, an admin or the actor's manager"),
    ),
    "actor.moderate": (lambda u, a: is_staff(u), N_("a moderator or an admin")),  # status, verified
    "actor.archive": (lambda u, a: is_staff(u), N_("a moderator or an admin")),
    "actor.read_unpublished": (
        lambda u, a: is_staff(u) or belongs_to(u, a),
        N_("a moderator, an admin or a member of the actor"),
    ),
    "actor.read_private": (
        lambda u, a: is_staff(u) or manages(u, a),
        N_("a moderator, an admin or the actor's manager"),
    ),
    "theme.create": (lambda u, o: is_admin(u), N_("an admin")),
    "user.manage": (lambda u, o: is_admin(u), N_("an admin")),
    "audit.read": (lambda u, o: is_admin(u), N_("an admin")),
    # The scraper's secret (PEACEMAP_METRICS_TOKEN) is let through by api.observability.
    "metrics.read": (lambda u, o: is_admin(u), N_("an admin (or the metrics scraper)")),
    "membership.manage": (
        lambda u, a: is_admin(u) or manages(u, a),
        N_("an admin or the actor's manager"),
    ),
    "account.use": (signed_in, N_("a signed-in user")),
    "contribution.submit": (verified, N_("a signed-in user with a confirmed email address")),
    "contribution.consent": (
        lambda u, actor: manages(u, actor),
        N_("the actor's manager"),
    ),
    "flag.create": (verified, N_("a signed-in user with a confirmed email address")),
    # A message relayed to an actor's managers (api/contact.py); who manages stays unknown.
    "actor.contact": (verified, N_("a signed-in user with a confirmed email address")),
    "contact.report_abuse": (lambda u, actor: manages(u, actor), N_("the actor's manager")),
    # A manager's reply to a relayed message, through the signed link in its mail.
    "contact.reply": (lambda u, actor: manages(u, actor), N_("the actor's manager")),
    "contact.report_reply_abuse": (
        lambda u, sender_id: u is not None and u.id == sender_id,
        N_("the person the reply was sent to"),
    ),
    "moderation.review": (lambda u, o: is_staff(u), N_("a moderator or an admin")),
    "claim.release_any": (lambda u, o: is_admin(u), N_("an admin")),
    "project.create": (
        lambda u, actor: is_staff(u) or belongs_to(u, actor),
        N_("a member or manager of the organisation, a moderator or an admin"),
    ),
    "project.edit": (
        lambda u, project: is_staff(u) or belongs_to(u, _ActorRef(project.actor_id)),
        N_("a member or manager of the project's organisation, a moderator or an admin"),
    ),
    # Push (api/webhooks): a subscription is its maker's, or its organisation's managers'.
    "subscription.create": (verified, N_("a signed-in user with a confirmed email address")),
    "subscription.for_organisation": (
        lambda u, actor: manages(u, actor),
        N_("the actor's manager"),
    ),
    "subscription.manage": (
        lambda u, s: (
            u is not None
            and (manages(u, _ActorRef(s.actor_id)) if s.actor_id is not None else s.user_id == u.id)
        ),
        N_("the subscription's maker or, for an organisation's subscription, its managers"),
    ),
    "history.read": (
        lambda u, item: is_staff(u) or (item is not None and manages(u, item)),
        N_("a moderator, an admin or the actor's manager"),
    ),
}


def can(principal: Principal, action: str, obj: Any = None) -> bool:
    rule, _ = RULES[action]
    return rule(principal.user, obj)


def require(principal: Principal, action: str, obj: Any = None) -> None:
    if can(principal, action, obj):
        return
    if principal.is_anonymous:
        raise Unauthorized(
            "Sign in to do this.", headers={"WWW-Authenticate": 'Bearer realm="peacemap"'}
        )
    raise Forbidden(f"Only {RULES[action][1]} may do this.")


def who(action: str) -> str:
    """The people allowed to do ``action``, for the API documentation."""
    return RULES[action][1]
