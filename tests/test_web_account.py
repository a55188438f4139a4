"""The web application's sign-in and sign-out: a session cookie that signs the reader in
on the web pages only (never on the API), renewed at sign-in, revoked at sign-out, on the
accounts service the API uses (its audit log and rate limits)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from api.accounts.models import AuditEvent, User
from tests.conftest import PASSWORD, csrf_token, form_token


def _sign_in(client, email, password, **extra):
    return client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": form_token(client), **extra},
        headers={"Accept-Language": "en"},
    )


def test_sign_in_page_labels_every_input(client):
    html = client.get("/sign-in", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert '<label for="f-email">Email address</label>' in html
    assert '<label for="f-password">Password</label>' in html
    assert 'autocomplete="current-password"' in html


def test_sign_in_signs_the_reader_in_on_the_web_pages(client, make_user, web_sign_in):
    user = make_user()

    web_sign_in(client, user)

    html = client.get("/sign-in").get_data(as_text=True)
    assert user.display_name in html
    assert 'action="/sign-out"' in html


def test_sign_in_goes_back_to_the_page_it_came_from_on_this_site_only(client, make_user):
    user = make_user()

    back = _sign_in(client, user.email, PASSWORD, next="/actors/x")
    assert back.headers["Location"] == "/actors/x"

    client.post("/sign-out", data={"csrf_token": form_token(client)})
    away = _sign_in(client, user.email, PASSWORD, next="//evil.example/")
    assert away.headers["Location"] == "/"


def test_sign_in_renews_the_session_so_nothing_planted_before_it_carries_over(client, make_user):
    """Session fixation: a token (here the CSRF token) known before the sign-in, e.g. from
    a cookie an attacker set, is worthless after it."""
    user = make_user()
    planted = form_token(client)

    client.post("/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": planted})
    reused = client.post("/language", data={"lang": "fr", "next": "/", "csrf_token": planted})

    assert reused.status_code == 400
    assert "CSRF" in reused.get_json()["detail"]


def test_sign_in_keeps_the_chosen_language(client, make_user, web_sign_in):
    client.post("/language", data={"lang": "sw", "next": "/", "csrf_token": form_token(client)})

    web_sign_in(client, make_user())

    assert '<html lang="sw"' in client.get("/sign-in").get_data(as_text=True)


def test_wrong_password_is_refused_keeping_the_email_but_never_the_password(
    client, make_user, session
):
    user = make_user()

    refused = _sign_in(client, user.email, "not my password at all")

    html = refused.get_data(as_text=True)
    assert refused.status_code == 401
    assert "There is a problem" in html
    assert "The email address or password is not right." in html
    assert f'value="{user.email}"' in html
    assert "not my password at all" not in html
    # Logged as the API logs it: the same service did the checking.
    failed = session.query(AuditEvent).filter_by(event="sign_in.failed", user_id=user.id).all()
    assert len(failed) == 1


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client, make_user):
    known = _sign_in(client, make_user().email, "wrong wrong wrong")
    unknown = _sign_in(client, "nobody-here@example.org", "wrong wrong wrong")

    assert known.status_code == unknown.status_code == 401
    assert "The email address or password is not right." in unknown.get_data(as_text=True)


def test_blank_fields_are_named_in_the_error_summary_linking_to_them(client):
    refused = _sign_in(client, "", "")

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert '<a href="#f-email">Fill this in.</a>' in html
    assert '<a href="#f-password">Fill this in.</a>' in html
    assert 'aria-describedby="f-email-error" aria-invalid="true"' in html


def test_errors_are_worded_in_the_readers_language(client):
    refused = client.post(
        "/sign-in",
        data={"email": "not an address", "password": "x", "csrf_token": form_token(client)},
        headers={"Accept-Language": "fr"},
    )

    html = refused.get_data(as_text=True)
    assert "Il y a un problème" in html
    assert "Saisissez une adresse électronique" in html


def test_sign_in_without_the_csrf_token_is_refused(client, make_user):
    """Login CSRF: a foreign site must not sign a browser in as the attacker."""
    user = make_user()

    refused = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})

    assert refused.status_code == 400
    assert "sign-out" not in client.get("/sign-in").get_data(as_text=True)


def test_the_web_session_cookie_is_no_credential_for_the_api(client, make_user, web_sign_in):
    """The API takes bearer tokens only: a page elsewhere that makes the signed-in
    browser call the API (with its cookie) acts as nobody."""
    web_sign_in(client, make_user())

    assert client.get("/api/v1/me").status_code == 401
    created = client.post("/api/v1/me/tokens", json={"name": "stolen"})
    assert created.status_code == 401


def test_sign_out_revokes_the_sign_in_so_a_copied_cookie_signs_nobody_in(
    app, client, make_user, web_sign_in
):
    user = make_user()
    web_sign_in(client, user)
    copied = client.get_cookie("session").value

    signed_out = client.post("/sign-out", data={"csrf_token": form_token(client)})

    assert signed_out.status_code == 303
    assert user.display_name not in client.get("/sign-in").get_data(as_text=True)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert user.display_name not in thief.get("/sign-in").get_data(as_text=True)


def test_sign_out_without_the_csrf_token_is_refused(client, make_user, web_sign_in):
    user = make_user()
    web_sign_in(client, user)

    assert client.post("/sign-out").status_code == 400
    assert user.display_name in client.get("/sign-in").get_data(as_text=True)


def test_a_suspended_account_is_signed_out_of_the_web_pages(client, make_user, web_sign_in, admin):
    user = make_user()
    web_sign_in(client, user)
    etag = client.get(f"/api/v1/users/{user.id}", headers=admin).headers["ETag"]

    client.patch(
        f"/api/v1/users/{user.id}",
        json={"status": "suspended"},
        headers={**admin, "If-Match": etag},
    )

    assert user.display_name not in client.get("/sign-in").get_data(as_text=True)
    assert _sign_in(client, user.email, PASSWORD).status_code == 401


@pytest.fixture
def limited_client(limited_app):
    return limited_app(RATELIMIT_CREDENTIALS="2/minute").test_client()


def test_web_sign_in_shares_the_apis_sign_in_limit(limited_client):
    attempt = {"email": "someone@example.org", "password": "guess guess guess"}
    assert limited_client.post("/api/v1/auth/sign-in", json=attempt).status_code == 401
    assert limited_client.post("/api/v1/auth/sign-in", json=attempt).status_code == 401

    page = limited_client.get("/sign-in")  # reading the form costs nothing
    refused = limited_client.post(
        "/sign-in", data={**attempt, "csrf_token": csrf_token(page.get_data(as_text=True))}
    )

    assert page.status_code == 200
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert refused.mimetype == "text/html"  # a page for people, in their language
    assert "Too many attempts" in refused.get_data(as_text=True)


# -- sign-up, confirmation and a new password by mail ---------------------------------------

NEWCOMER_PASSWORD = "lantern orchard quietly seventeen"


def _code_link(message, page: str) -> str:
    """The path and query of the link in a mail that opens ``page``."""
    return re.search(rf"https?://[^/\s]+({page}\?token=[A-Za-z0-9_-]+)", message.get_content())[1]


def _token(message, page: str) -> str:
    return parse_qs(urlsplit(_code_link(message, page)).query)["token"][0]


def _sign_up(client, email, password=NEWCOMER_PASSWORD, name="Neema"):
    return client.post(
        "/sign-up",
        data={
            "display_name": name,
            "email": email,
            "password": password,
            "csrf_token": form_token(client, "/sign-up"),
        },
    )


def test_sign_up_mails_a_link_that_confirms_the_address(client, mailbox, session):
    address = f"neema-{uuid.uuid4().hex[:8]}@example.org"

    signed_up = _sign_up(client, address)

    assert signed_up.status_code == 303
    assert signed_up.headers["Location"] == "/check-your-email?sent=sign-up"
    link = _code_link(mailbox(address)[-1], "/verify-email")
    page = client.get(link).get_data(as_text=True)
    token = _token(mailbox(address)[-1], "/verify-email")
    assert f'value="{token}"' in page  # the link fills the code in; a button confirms it
    # Opening the link (as a mail scanner does) confirms nothing.
    assert session.query(User).filter_by(email=address).one().email_verified_at is None

    confirmed = client.post("/verify-email", data={"token": token, "csrf_token": csrf_token(page)})

    assert confirmed.status_code == 303
    assert session.query(User).filter_by(email=address).one().email_verified_at is not None


def test_sign_up_answers_the_same_for_an_address_that_has_an_account(client, make_user, mailbox):
    """Enumeration: the page says nothing; the owner of the address gets a warning mail."""
    user = make_user()
    new = _sign_up(client, f"new-{uuid.uuid4().hex[:8]}@example.org")

    existing = _sign_up(client, user.email)

    assert existing.status_code == new.status_code == 303
    assert existing.headers["Location"] == new.headers["Location"]
    assert "already has one" in mailbox(user.email)[-1].get_content()


def test_sign_up_with_a_guessable_password_keeps_the_rest_and_says_why(client):
    refused = _sign_up(client, "amani@example.org", password="password123", name="Amani")

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert '<a href="#f-password">This password is too easy to guess' in html
    assert 'value="amani@example.org"' in html
    assert 'value="Amani"' in html
    assert "password123" not in html


def test_a_bad_code_is_named_on_its_field(client):
    refused = client.post(
        "/verify-email",
        data={"token": "pmv_forged", "csrf_token": form_token(client, "/verify-email")},
        headers={"Accept-Language": "es"},
    )

    assert refused.status_code == 422
    assert '<a href="#f-token">Este enlace o código no funciona' in refused.get_data(as_text=True)


def test_resend_sends_a_new_code_and_the_old_one_stops_working(
    client, make_user, web_sign_in, mailbox
):
    user = make_user(verified=False)
    web_sign_in(client, user)

    def resend() -> str:
        before = {_token(m, "/verify-email") for m in mailbox(user.email)}
        sent = client.post(
            "/verify-email/resend", data={"csrf_token": form_token(client), "next": "/sign-in"}
        )
        assert sent.status_code == 303
        (code,) = {_token(m, "/verify-email") for m in mailbox(user.email)} - before
        return code

    old, new = resend(), resend()

    refused = client.post("/verify-email", data={"token": old, "csrf_token": form_token(client)})
    assert refused.status_code == 422
    confirmed = client.post("/verify-email", data={"token": new, "csrf_token": form_token(client)})
    assert confirmed.status_code == 303


def test_password_reset_by_mail_signs_every_browser_out(
    app, client, make_user, web_sign_in, mailbox
):
    user = make_user()
    elsewhere = web_sign_in(app.test_client(), user)
    address = user.email

    asked = client.post(
        "/reset-password", data={"email": address, "csrf_token": form_token(client)}
    )
    unknown = client.post(
        "/reset-password",
        data={"email": "nobody-at-all@example.org", "csrf_token": form_token(client)},
    )
    assert asked.status_code == unknown.status_code == 303
    assert asked.headers["Location"] == unknown.headers["Location"]

    link = _code_link(mailbox(address)[-1], "/reset-password/confirm")
    page = client.get(link).get_data(as_text=True)
    changed = client.post(
        "/reset-password/confirm",
        data={
            "token": _token(mailbox(address)[-1], "/reset-password/confirm"),
            "password": NEWCOMER_PASSWORD,
            "csrf_token": csrf_token(page),
        },
    )

    assert changed.status_code == 303
    assert "Your password is changed" in client.get("/sign-in").get_data(as_text=True)
    assert user.display_name not in elsewhere.get("/sign-in").get_data(as_text=True)
    assert _sign_in(client, address, PASSWORD).status_code == 401
    assert _sign_in(client, address, NEWCOMER_PASSWORD).status_code == 303
