"""Sending mail: the one place the service talks SMTP (account mails now; digests and the
web app's mails reuse it). Configured by PEACEMAP_SMTP_* (README, "Configuration"); in
development and tests that is the local aiosmtpd of scripts/smtp.sh.

Mails go out inside the request: if the server refuses them the request fails with a 503
and writes nothing, so no account waits for a mail that never left.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from api.errors import ProblemError

TLS_MODES = ("none", "starttls", "ssl")
TIMEOUT_SECONDS = 10
log = logging.getLogger("peacemap.mail")


NOT_SENT = "The mail could not be sent just now; nothing was changed. Try again later."


class MailNotSent(ProblemError):
    status = 503


def send_mail(config: Mapping, *, to: str, subject: str, text: str, language: str = "en") -> None:
    """Send a plain-text mail through the configured SMTP server, or raise MailNotSent.
    ``language`` is the one it is written in (api/mails.py words each mail in the
    recipient's)."""
    message = EmailMessage()
    sender = config["SMTP_SENDER"]
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message.set_content(text)
    message["Content-Language"] = language  # RFC 3282; after set_content, which clears it
    try:
        with _connect(config) as smtp:
            if config["SMTP_USER"]:
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        # The type only: an SMTP error may echo the message, which carries a token.
        log.warning("mail to the SMTP server failed: %s", type(error).__name__)
        raise MailNotSent(
            NOT_SENT,
            headers={"Retry-After": "60"},
        ) from None


def _connect(config: Mapping) -> smtplib.SMTP:
    host, port, tls = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TLS"]
    if tls == "ssl":
        return smtplib.SMTP_SSL(
            host, port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
    if tls == "starttls":
        smtp.starttls(context=ssl.create_default_context())
    return smtp
