"""Mails in the recipient's language (api/mails.py), read from the local SMTP server: an
account's mails are in the language of the page it was made on, then in the one its owner
chooses with the switcher; a mail to an address without an account is in the language of
the page that sent it; a relayed contact message is in each manager's own language."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from api import mails
from api.accounts.models import User
from api.webhooks.digests import send_due_digests
from tests.conftest import form_token
from tests.test_webhooks import subscribe

PASSWORD = "lantern orchard quietly seventeen"


def _address(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.org"


def _post(client, path: str, language: str, form: str | None = None, **fields):
    """Send the form of the page ``form`` (``path`` by default) to ``path``."""
    return client.post(
        path,
        data={**fields, "csrf_token": form_token(client, form or path)},
        headers={"Accept-Language": language},
    )


def _link(mail, page: str) -> str:
    return re.search(rf"https?://[^/\s]+({page}\?token=[A-Za-z0-9_-]+)", mail.get_content())[1]


def test_a_sign_up_on_a_french_page_is_confirmed_by_a_french_mail(client, mailbox, session):
    address = _address("amina")

    signed_up = _post(
        client, "/sign-up", "fr", display_name="Amina", email=address, password=PASSWORD
    )

    assert signed_up.status_code == 303
    (mail,) = mailbox(address)
    assert mail["Subject"] == "Confirmez votre adresse électronique pour Peacemap"
    assert mail["Content-Language"] == "fr"
    body = mail.get_content()
    assert "Confirmez que cette adresse est la vôtre" in body
    assert "Ouvrez cette page" in body and "Hello" not in body
    assert session.query(User).filter_by(email=address).one().language == "fr"
    # The link in it works, and the page it opens is French too.
    confirm = client.get(_link(mail, "/verify-email"), headers={"Accept-Language": "fr"})
    assert '<html lang="fr"' in confirm.get_data(as_text=True)


def test_a_sign_up_through_the_api_mails_in_the_accept_language(client, mailbox):
    address = _address("layla")

    response = client.post(
        "/api/v1/auth/register",
        json={"display_name": "Layla", "email": address, "password": PASSWORD},
        headers={"Accept-Language": "ar, fr;q=0.5"},
    )

    assert response.status_code == 202, response.get_json()
    (mail,) = mailbox(address)
    assert mail["Subject"] == "أكّد عنوان بريدك الإلكتروني في Peacemap"
    assert mail["Content-Language"] == "ar"
    assert "أكّد أن هذا العنوان لك" in mail.get_content()


def test_a_reset_is_mailed_in_the_accounts_language_whatever_the_page(
    client, mailbox, make_user, session
):
    user = make_user(email=_address("farah"))
    user.language = "ar"
    session.commit()

    _post(client, "/reset-password", "en", email=user.email)

    (mail,) = mailbox(user.email)
    assert mail["Subject"] == "إعادة تعيين كلمة المرور في Peacemap"
    assert mail["Content-Language"] == "ar"
    assert f"مرحبًا {user.display_name}" in mail.get_content()
    assert "/reset-password/confirm?token=" in mail.get_content()


def test_a_reset_for_an_address_without_an_account_is_in_the_pages_language(client, mailbox):
    address = _address("nobody")

    _post(client, "/reset-password", "fr", email=address)

    (mail,) = mailbox(address)
    assert mail["Subject"] == "Réinitialisation du mot de passe Peacemap"
    assert "n'a pas de compte Peacemap" in mail.get_content()


def test_a_repeated_sign_up_warns_the_owner_in_their_own_language(
    client, mailbox, make_user, session
):
    user = make_user(email=_address("owner"))
    user.language = "fr"
    session.commit()

    _post(client, "/sign-up", "ar", display_name="X", email=user.email, password=PASSWORD)

    (mail,) = mailbox(user.email)
    assert mail["Subject"] == "Quelqu'un a essayé de s'inscrire à Peacemap avec votre adresse"
    assert "qui en a déjà un" in mail.get_content()


def test_the_switcher_sets_the_language_of_a_signed_in_readers_mails(
    client, mailbox, make_user, web_sign_in, session
):
    user = make_user(email=_address("switcher"))
    web_sign_in(client, user)

    switched = _post(client, "/language", "en", "/library", lang="ru", next="/")
    assert switched.status_code == 303
    session.expire_all()
    assert session.get(User, user.id).language == "ru"

    _post(client, "/sign-out", "ru", "/library")
    _post(client, "/reset-password", "en", email=user.email)
    assert mailbox(user.email)[-1]["Subject"] == "Сброс пароля Peacemap"  # noqa: RUF001


def test_a_relayed_message_reaches_each_manager_in_their_language(
    client, mailbox, make_actor, make_user, web_sign_in, session
):
    org = make_actor(name="Amani Women's Circle", kind="organisation")
    french = make_user(email=_address("gestion"), manager_of=org)
    arabic = make_user(email=_address("idara"), manager_of=org)
    french.language, arabic.language = "fr", "ar"
    session.commit()
    sender = make_user(email=_address("sender"))
    web_sign_in(client, sender)

    sent = _post(client, f"/actors/{org.id}/contact", "en", message="Could we meet in Kisumu?")

    assert sent.status_code == 200
    (in_french,) = mailbox(french.email)
    assert in_french["Subject"] == "Un message pour vous par Peacemap"
    body = in_french.get_content()
    assert f"{sender.display_name} a écrit à Amani Women's Circle par Peacemap" in body
    assert "Could we meet in Kisumu?" in body  # the message itself as it was written
    assert "Si ce message est abusif, signalez-le" in body
    (in_arabic,) = mailbox(arabic.email)
    assert in_arabic["Subject"] == "رسالة لك عبر Peacemap"
    assert "إن كانت هذه الرسالة إساءة، فأبلغ عنها" in in_arabic.get_content()
    # The abuse link works from the translated mail.
    link = re.search(r"http://[^/]+(/contact/abuse/\S+)", in_arabic.get_content())[1]
    web_sign_in(client, arabic)
    assert client.get(link).status_code == 200


def test_a_digest_is_mailed_in_its_owners_language(
    app, client, session, make_user, login, make_actor, mailbox
):
    owner = make_user(email=_address("digest"))
    owner.language = "ar"
    session.commit()
    assert subscribe(client, login(owner), digest="weekly", country="KE").status_code == 201
    make_actor(name="Shown In Digest")

    with app.app_context():
        later = datetime.now(UTC) + timedelta(weeks=1, minutes=1)
        assert send_due_digests(session, app.config, later) == 1
        session.commit()

    (mail,) = mailbox(owner.email)
    assert mail["Subject"] == "ملخّص Peacemap"
    assert mail["Content-Language"] == "ar"
    body = mail.get_content()
    assert "ملخّصك الأسبوعي من Peacemap (actors). تغيير واحد." in body
    assert "Shown In Digest" in body and "إدارة هذا الاشتراك: http" in body


def test_a_contributions_digest_names_kind_and_state_in_the_readers_words(app):
    item = mails.DigestItem(
        "contribution.decided", "http://x/c/1", contribution=("new_actor", "approved")
    )

    with app.app_context():
        mail = mails.digest("fr", period="daily", topic="contributions", items=[item], manage="m")

    assert "votre contribution (Nouvel acteur) est maintenant : Approuvée" in mail["text"]
    assert mail["text"].startswith("Votre résumé quotidien Peacemap (contributions). 1 ")
