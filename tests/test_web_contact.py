"""Contact an actor through Peacemap (api/contact.py, api/web/contact.py): written as the
attacks a hostile sender would try first, over HTTP. No manager address, name or count
reaches the sender; the relay cannot be used to spam or to inject mail headers; a manager
can report a message as abuse, after which its sender is refused."""

from __future__ import annotations

import re
import uuid

import pytest

from api.accounts.models import AuditEvent
from tests.conftest import form_token
from tests.web import form_errors


@pytest.fixture
def org(make_actor):
    return make_actor(name="Amani Women's Circle", kind="organisation")


@pytest.fixture
def managers(make_user, org):
    return [
        make_user(email=f"manager-{uuid.uuid4().hex[:8]}@example.org", manager_of=org)
        for _ in range(2)
    ]


def _send(client, actor_id, message: str):
    return client.post(
        f"/actors/{actor_id}/contact",
        data={"message": message, "csrf_token": form_token(client, f"/actors/{actor_id}/contact")},
        headers={"Accept-Language": "en"},
    )


def _visible(html: str) -> str:
    """A page without what differs per session (CSRF tokens) or per actor (its id/name)."""
    html = re.sub(r'name="csrf_token" value="[^"]+"', "", html)
    return re.sub(r"/actors/[0-9a-f-]{36}", "/actors/X", html)


def test_anonymous_reader_is_sent_to_sign_in(client, org):
    response = client.get(f"/actors/{org.id}/contact")

    assert response.status_code == 303
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_message_reaches_each_manager_without_revealing_them_to_the_sender(
    client, make_user, web_sign_in, org, managers, mailbox
):
    sender = make_user(email=f"sender-{uuid.uuid4().hex[:8]}@example.org")
    manager_addresses = [m.email for m in managers]
    web_sign_in(client, sender)

    page = client.get(f"/actors/{org.id}/contact").get_data(as_text=True)
    sent = _send(client, org.id, "We run dialogues in Kisumu; could we meet?")

    assert sent.status_code == 200
    html = sent.get_data(as_text=True)
    assert "Message sent" in html
    for address in manager_addresses:
        assert address not in html and address not in page
        (mail,) = mailbox(address)
        assert mail["To"] == address  # one mail each: no manager sees another's address
        body = mail.get_content()
        assert "We run dialogues in Kisumu; could we meet?" in body
        assert "Test contributor" in body  # the sender's display name, not their address
        assert sender.email not in body and sender.email not in str(mail)
        assert "/contact/abuse/" in body
    assert "Test manager" not in html
    assert mailbox(sender.email) == []


def test_the_answer_is_the_same_whether_an_actor_has_managers_or_not(
    client, make_user, make_actor, web_sign_in, org, managers
):
    lonely = make_actor(name="Amani Women's Circle", kind="organisation")
    web_sign_in(client, make_user())

    with_managers = _send(client, org.id, "Hello")
    without = _send(client, lonely.id, "Hello")

    assert with_managers.status_code == without.status_code == 200
    assert _visible(with_managers.get_data(as_text=True)) == _visible(
        without.get_data(as_text=True)
    )


def test_a_message_cannot_add_recipients_or_headers(
    client, make_user, web_sign_in, org, managers, mailbox
):
    web_sign_in(client, make_user())
    victim = f"victim-{uuid.uuid4().hex[:8]}@example.org"

    _send(client, org.id, f"Hi\r\nBcc: {victim}\r\nSubject: You won\r\n\r\nclick here")

    assert mailbox(victim) == []
    (mail,) = mailbox(managers[0].email)
    assert mail["Subject"] == "A message for you through Peacemap"
    assert mail["Bcc"] is None
    assert f"Bcc: {victim}" in mail.get_content()  # only ever text in the body


@pytest.mark.parametrize(("message", "rule"), [("", "Fill this in."), ("x" * 2001, "2000")])
def test_an_empty_or_too_long_message_is_refused_by_field(
    client, make_user, web_sign_in, org, managers, mailbox, message, rule
):
    web_sign_in(client, make_user())

    refused = _send(client, org.id, message)

    assert refused.status_code == 422
    assert rule in form_errors(refused.get_data(as_text=True))
    assert 'href="#f-message"' in refused.get_data(as_text=True)
    assert mailbox(managers[0].email) == []


def test_an_unconfirmed_account_cannot_write(
    client, make_user, web_sign_in, org, managers, mailbox
):
    web_sign_in(client, make_user(verified=False))

    refused = _send(client, org.id, "Hello")

    assert refused.status_code == 403
    assert mailbox(managers[0].email) == []


def test_a_hidden_actor_cannot_be_written_to(client, make_user, make_actor, web_sign_in):
    draft = make_actor(status="draft")
    web_sign_in(client, make_user())

    assert client.get(f"/actors/{draft.id}/contact").status_code == 404
    assert client.post(f"/actors/{draft.id}/contact", data={"message": "x"}).status_code in (
        400,
        404,
    )


def test_one_account_cannot_spam_through_the_relay(
    limited_app, make_user, web_sign_in, org, managers, mailbox
):
    app = limited_app(RATELIMIT_CONTACT="2/hour")
    client = app.test_client()
    web_sign_in(client, make_user())

    answers = [_send(client, org.id, f"Buy now {i}").status_code for i in range(3)]

    assert answers == [200, 200, 429]
    assert len(mailbox(managers[0].email)) == 2


def test_a_manager_reports_abuse_and_the_sender_is_refused_from_then_on(
    app, client, make_user, web_sign_in, org, managers, mailbox, session
):
    sender = make_user()
    web_sign_in(client, sender)
    _send(client, org.id, "You will regret this.")
    (mail,) = mailbox(managers[0].email)
    link = re.search(r"http://[^/]+(/contact/abuse/\S+)", mail.get_content()).group(1)

    # Neither the sender nor a forged link can report; the manager can.
    assert client.post(link, data={"csrf_token": form_token(client)}).status_code == 403
    manager_client = app.test_client()
    web_sign_in(manager_client, managers[0])
    assert manager_client.get(link[:-3] + "xyz").status_code == 404
    assert manager_client.get(link).status_code == 200
    reported = manager_client.post(link, data={"csrf_token": form_token(manager_client, link)})
    assert reported.status_code == 200

    again = _send(client, org.id, "Still here.")
    assert again.status_code == 403
    assert "no longer write" in again.get_data(as_text=True)
    assert len(mailbox(managers[0].email)) == 1
    events = session.query(AuditEvent).filter_by(event="contact.abuse_reported").all()
    assert [e.subject_id for e in events] == [sender.id]


def test_the_same_form_sent_twice_relays_once(
    client, make_user, web_sign_in, org, managers, mailbox
):
    web_sign_in(client, make_user())
    page = client.get(f"/actors/{org.id}/contact").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    fields = {"message": "Hello twice?", "idempotency_key": key, "csrf_token": form_token(client)}

    first = client.post(f"/actors/{org.id}/contact", data=fields)
    again = client.post(f"/actors/{org.id}/contact", data=fields)  # a dropped connection

    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(mailbox(managers[0].email)) == 1
