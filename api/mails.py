"""What Peacemap mails, in the recipient's language: each function words one mail (its
subject and text) in an interface language and returns what ``api.mail.send_mail`` takes.

Whose language: an account's own (``users.language``: the page's at sign-up, then the one
chosen with the web pages' switcher), and for an address without an account, the language
of the page or request that made the mail go out (``reader_language``). The texts are the
web pages' gettext catalogue (``messages``; extracted through api/web/babel.cfg), so a
language added there (README, "Adding a language") is added here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from flask import has_request_context
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _

from api.language import DEFAULT, INTERFACE_LANGUAGES


def reader_language() -> str:
    """The interface language of the page or request at hand (English outside one)."""
    if not has_request_context():
        return DEFAULT
    return str(get_locale())


def _in(language: str | None) -> str:
    return language if language in INTERFACE_LANGUAGES else DEFAULT


def _mail(language: str, subject: str, text: str) -> dict:
    return {"subject": subject, "text": text, "language": language}


def _code(config: Mapping, page: str, api_path: str, secret: str) -> str:
    """How to use a code sent by mail: the web page that takes it, an app, or the API."""
    url = config["PUBLIC_URL"]
    return _(
        "Open this page:\n  %(page)s\n\nOr, in a Peacemap app, your code: %(code)s\n"
        "Or send it yourself:\n  %(request)s\n",
        page=f"{url}{page}?token={secret}",
        code=secret,
        request=f'POST {url}/api/v1{api_path}  {{"token": "{secret}", ...}}',
    )


def verification(config: Mapping, language: str, *, page: str, secret: str, hours: int) -> dict:
    language = _in(language)
    with force_locale(language):
        return _mail(
            language,
            _("Confirm your email address for Peacemap"),
            # No display name: whoever signed up chose it, and the address may not be theirs.
            _("Hello,\n\nConfirm that this address is yours to start contributing to Peacemap.")
            + "\n\n"
            + _code(config, page, "/auth/verify-email", secret)
            + "\n"
            + _(
                "The code works once, within %(hours)s hours. If you did not sign up, ignore "
                "this mail.",
                hours=hours,
            )
            + "\n",
        )


def sign_up_repeated(config: Mapping, language: str, *, display_name: str) -> dict:
    language = _in(language)
    url = config["PUBLIC_URL"]
    with force_locale(language):
        return _mail(
            language,
            _("Someone tried to sign up to Peacemap with your address"),
            _(
                "Hello %(name)s,\n\nSomeone (perhaps you) tried to create a Peacemap account "
                "with this address, which already has one. Nothing was changed.\n\nIf you "
                "forgot your password, ask for a new one:\n  %(page)s\n  or %(request)s\n",
                name=display_name,
                page=f"{url}/reset-password",
                request=f"POST {url}/api/v1/auth/password-reset",
            ),
        )


def reset_without_account(language: str) -> dict:
    language = _in(language)
    with force_locale(language):
        return _mail(
            language,
            _("Peacemap password reset"),
            _(
                "Someone (perhaps you) asked to reset the Peacemap password of this address, "
                "but it has no Peacemap account. If it was not you, ignore this mail."
            )
            + "\n",
        )


def password_reset(
    config: Mapping, language: str, *, display_name: str, page: str, secret: str, minutes: int
) -> dict:
    language = _in(language)
    with force_locale(language):
        return _mail(
            language,
            _("Peacemap password reset"),
            _(
                "Hello %(name)s,\n\nSomeone (perhaps you) asked to reset your Peacemap "
                "password. To choose a new one, open the page below, or send the code with it "
                '(as "password").',
                name=display_name,
            )
            + "\n\n"
            + _code(config, page, "/auth/password-reset/confirm", secret)
            + "\n"
            + _(
                "The code works once, within %(minutes)s minutes. If you did not ask, ignore "
                "this mail: your password stays as it is.",
                minutes=minutes,
            )
            + "\n",
        )


def contact_message(
    language: str, *, sender: str, actor: str, message: str, abuse_link: str, reply_link: str
) -> dict:
    language = _in(language)
    with force_locale(language):
        return _mail(
            language,
            _("A message for you through Peacemap"),
            _("%(sender)s wrote to %(actor)s through Peacemap:", sender=sender, actor=actor)
            + f"\n\n{message}\n\n--\n"
            + _(
                "Peacemap did not give them your address, nor you theirs: they see only this "
                "message."
            )
            + "\n"
            + _(
                "To reply through Peacemap (your address stays hidden unless you choose to "
                "share it; you will need to sign in):"
            )
            + f"\n{reply_link}\n"
            + _("If this message is abuse, report it (you will need to sign in):")
            + f"\n{abuse_link}\n",
        )


def contact_reply(
    language: str, *, manager: str, actor: str, message: str, address: str | None, abuse_link: str
) -> dict:
    """A manager's reply to a relayed message; ``address`` only if the manager chose to
    share it."""
    language = _in(language)
    with force_locale(language):
        shared = (
            _(
                "%(manager)s chose to share their address with you: %(address)s",
                manager=manager,
                address=address,
            )
            if address
            else _("Peacemap did not give them your address, nor you theirs.")
        )
        return _mail(
            language,
            _("A reply to your message through Peacemap"),
            _("%(manager)s replied for %(actor)s through Peacemap:", manager=manager, actor=actor)
            + f"\n\n{message}\n\n--\n"
            + shared
            + "\n"
            + _("If this reply is abuse, report it (you will need to sign in):")
            + f"\n{abuse_link}\n",
        )


class DigestItem(NamedTuple):
    """One change in a digest: the event's type, the item's API address, and either its
    name or, for a contribution, its kind and state (worded in the reader's language)."""

    event: str
    url: str
    title: str | None = None
    contribution: tuple[str, str] | None = None


def digest(language: str, *, period: str, topic: str, items: list[DigestItem], manage: str):
    from api.web.labels import CONTRIBUTION_KINDS, STATES  # the pages' names for them

    language = _in(language)
    with force_locale(language):
        heading = (
            _("Your daily Peacemap digest (%(topic)s).", topic=topic)
            if period == "daily"
            else _("Your weekly Peacemap digest (%(topic)s).", topic=topic)
        )
        lines = []
        for item in items:
            title = item.title
            if item.contribution is not None:
                kind, state = item.contribution
                title = _(
                    "your contribution (%(kind)s) is now: %(state)s",
                    kind=CONTRIBUTION_KINDS.get(kind, kind),
                    state=STATES.get(state, state),
                )
            lines.append(f"- {item.event}: {title}\n  {item.url}")
        count = ngettext("%(num)d change.", "%(num)d changes.", len(items))
        return _mail(
            language,
            _("Peacemap digest"),
            f"{heading} {count}\n\n"
            + "\n".join(lines)
            + "\n\n"
            + _("Manage this subscription: %(url)s", url=manage)
            + "\n",
        )
