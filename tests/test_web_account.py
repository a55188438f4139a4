"""The web application's sign-in and sign-out: a session cookie that signs the reader in
on the web pages only (never on the API), renewed at sign-in, revoked at sign-out, on the
accounts service the API uses (its audit log and rate limits)."""

from __future__ import annotations

import pytest

from api.accounts.models import AuditEvent
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
