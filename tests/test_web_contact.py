"""Contact an actor through Peacemap (api/contact.py, api/web/contact.py): written as the
attacks a hostile sender would try first, over HTTP. No manager address, name or count
reaches the sender; the relay cannot be used to spam or to inject mail headers; a manager
can report a message as abuse, after which its sender is refused."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import update

from api.accounts.models import AuditEvent
from api.actors.models import Actor
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


# The manager's reply: through the signed link in the relayed mail, to the sender by mail,
# with nobody's address shown unless its owner ticks the box.


def _reply_link(mailbox, manager) -> str:
    (mail,) = mailbox(manager.email)
    return re.search(r"http://[^/]+(/contact/reply/\S+)", mail.get_content()).group(1)


def _reply(client, link: str, message: str, **fields):
    return client.post(
        link,
        data={"message": message, "csrf_token": form_token(client, link), **fields},
        headers={"Accept-Language": "en"},
    )


@pytest.fixture
def written(app, client, make_user, web_sign_in, org, managers, mailbox):
    """A sender who wrote to the actor, the reply link its first manager received, and that
    manager signed in on a client of their own."""
    sender = make_user(email=f"sender-{uuid.uuid4().hex[:8]}@example.org")
    web_sign_in(client, sender)
    assert _send(client, org.id, "Could we meet in Kisumu?").status_code == 200
    manager_client = app.test_client()
    web_sign_in(manager_client, managers[0])
    return sender, _reply_link(mailbox, managers[0]), manager_client


def test_a_manager_replies_and_nobody_sees_an_address(
    client, written, org, managers, mailbox, session
):
    sender, link, manager_client = written

    page = manager_client.get(link).get_data(as_text=True)
    sent = _reply(manager_client, link, "Yes: Thursday at the community hall.")

    assert sender.email not in page and sender.email not in sent.get_data(as_text=True)
    assert 'name="share_address"' in page and "checked" not in page  # off by default
    assert sent.status_code == 200
    (mail,) = mailbox(sender.email)
    body = mail.get_content()
    assert mail["Subject"] == "A reply to your message through Peacemap"
    assert "Yes: Thursday at the community hall." in body
    assert "Amani Women's Circle" in body
    assert managers[0].email not in str(mail)
    assert "/contact/reply-abuse/" in body
    event = session.query(AuditEvent).filter_by(event="contact.replied").one()
    assert (event.user_id, event.subject_id) == (managers[0].id, sender.id)
    assert event.details["shared_address"] is False
    assert "Thursday" not in str(event.details)  # who wrote to whom and when, not what


def test_a_manager_may_choose_to_share_their_address(client, written, managers, mailbox):
    sender, link, manager_client = written

    sent = _reply(manager_client, link, "Write to me directly.", share_address="true")

    assert sent.status_code == 200
    (mail,) = mailbox(sender.email)
    assert managers[0].email in mail.get_content()
    assert mail["Reply-To"] is None and managers[0].email not in mail["From"]


def test_only_a_manager_of_that_actor_can_use_a_reply_link(
    app, client, make_user, make_actor, web_sign_in, written, mailbox
):
    sender, link, _ = written
    other_manager = app.test_client()
    web_sign_in(other_manager, make_user(manager_of=make_actor()))
    anonymous = app.test_client()

    assert client.get(link).status_code == 403  # the sender themself
    assert other_manager.get(link).status_code == 403
    assert _reply(other_manager, link, "I am not who you wrote to.").status_code == 403
    assert anonymous.get(link).status_code == 303  # to sign in
    assert mailbox(sender.email) == []


def test_a_forged_or_altered_reply_link_is_a_translated_page(written, managers, mailbox):
    sender, link, manager_client = written
    (mail,) = mailbox(managers[0].email)
    abuse_token = re.search(r"/contact/abuse/(\S+)", mail.get_content()).group(1)
    forged = link[:-3] + "xyz"

    # An altered signature, another kind of link's (valid) signature, no token at all.
    for bad in (forged, f"/contact/reply/{abuse_token}", "/contact/reply/not-a-token"):
        answer = manager_client.get(bad, headers={"Accept-Language": "fr"})
        assert answer.status_code == 404
        assert answer.mimetype == "text/html"
        assert "Ce lien ne fonctionne pas" in answer.get_data(as_text=True)  # why, in French
    assert _reply(manager_client, forged, "x").status_code == 404
    assert mailbox(sender.email) == []


def test_an_expired_reply_link_is_refused(written, mailbox, monkeypatch):
    from api import contact

    sender, link, manager_client = written
    monkeypatch.setattr(contact, "REPLY_LINK_DAYS", -1)

    assert manager_client.get(link).status_code == 404
    assert mailbox(sender.email) == []


def test_a_reply_link_cannot_be_replayed_without_end(written, mailbox):
    sender, link, manager_client = written

    answers = [_reply(manager_client, link, f"Reply {i}").status_code for i in range(4)]

    assert answers == [200, 200, 200, 409]
    assert len(mailbox(sender.email)) == 3
    refused = manager_client.get(link, headers={"Accept-Language": "es"})
    assert refused.status_code == 409 and refused.mimetype == "text/html"


def test_a_reply_cannot_add_recipients_or_headers(written, mailbox):
    sender, link, manager_client = written
    victim = f"victim-{uuid.uuid4().hex[:8]}@example.org"

    _reply(manager_client, link, f"Hi\r\nBcc: {victim}\r\nSubject: You won\r\n\r\nclick here")

    assert mailbox(victim) == []
    (mail,) = mailbox(sender.email)
    assert mail["Subject"] == "A reply to your message through Peacemap"
    assert mail["Bcc"] is None
    assert f"Bcc: {victim}" in mail.get_content()


def test_no_reply_once_the_actor_is_hidden(written, org, session, mailbox):
    sender, link, manager_client = written
    session.execute(update(Actor).where(Actor.id == org.id).values(hidden=True))
    session.commit()  # hidden by a moderator after the message was sent

    assert manager_client.get(link).status_code == 404
    assert _reply(manager_client, link, "Still there?").status_code == 404
    assert mailbox(sender.email) == []


def test_an_empty_reply_is_refused_by_field_and_keeps_the_choice(written, mailbox):
    sender, link, manager_client = written

    refused = _reply(manager_client, link, "", share_address="true")

    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'href="#f-message"' in html and "Fill this in." in form_errors(html)
    assert re.search(r'name="share_address"[^>]*checked', html)
    assert mailbox(sender.email) == []


def test_replies_share_the_senders_rate_limit(
    limited_app, make_user, web_sign_in, org, managers, mailbox
):
    app = limited_app(RATELIMIT_CONTACT="2/hour")
    sender_client, manager_client = app.test_client(), app.test_client()
    sender = make_user()
    web_sign_in(sender_client, sender)
    web_sign_in(manager_client, managers[0])
    _send(sender_client, org.id, "Hello")
    link = _reply_link(mailbox, managers[0])

    answers = [_reply(manager_client, link, f"Reply {i}").status_code for i in range(3)]

    assert answers == [200, 200, 429]
    assert len(mailbox(sender.email)) == 2


def test_the_sender_reports_a_reply_and_that_manager_is_refused_from_then_on(
    app, client, written, managers, mailbox, session
):
    sender, link, manager_client = written
    _reply(manager_client, link, "Stop writing to us or else.")
    (mail,) = mailbox(sender.email)
    abuse = re.search(r"http://[^/]+(/contact/reply-abuse/\S+)", mail.get_content()).group(1)

    # Neither the manager nor a forged link can report; the sender can.
    assert (
        manager_client.post(abuse, data={"csrf_token": form_token(manager_client)}).status_code
        == 403
    )
    assert (
        client.post(abuse[:-3] + "xyz", data={"csrf_token": form_token(client)}).status_code == 404
    )
    assert client.get(abuse).status_code == 200
    assert client.post(abuse, data={"csrf_token": form_token(client, abuse)}).status_code == 200

    again = _reply(manager_client, link, "Again.")
    assert again.status_code == 403
    assert "no longer reply" in again.get_data(as_text=True)
    assert len(mailbox(sender.email)) == 1
    (event,) = session.query(AuditEvent).filter_by(event="contact.reply_abuse_reported").all()
    assert event.subject_id == managers[0].id
