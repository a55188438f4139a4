"""Accounts, tried as an attacker would (issue 9, "Accounts"). The promises:

1. Suspending an account revokes its tokens: reinstating it does not bring them back.
   Expired tokens are not listed as live. A moderator's claims lapse when they lose the
   role (or are suspended), and an administrator can release anyone's claim.
2. Email verification and password reset go through a real SMTP server (the tests read
   the mails it received). Registration and reset requests answer the same whether the
   address has an account (its owner gets a mail instead), so nobody can probe who is
   registered. Codes in mails are single-use, expire, are superseded by newer ones, only
   do what they were sent for, and are stored hashed. An unconfirmed account signs in
   but cannot contribute or flag. If the mail cannot be sent, nothing is written (503).
   Demo and CLI-made accounts are confirmed (tests/test_accounts.py checks them).
3. Common, breached-list and guessable passwords are refused (zxcvbn's estimate, with the
   user's own email and name counted as known), not only short ones; the problem says
   why and never echoes the password.
4. An Idempotency-Key binds the method, path, query string, body and caller: the same key
   on any other request is a 422 that says so, never someone else's or another request's
   reply; a key expires after PEACEMAP_IDEMPOTENCY_TTL_HOURS and is then a new request.
5. Rate limits are counted in Redis, shared by every worker and process: requests made by
   another process count against the same caller. Requests with a bad Authorization
   header (unknown token, wrong scheme) count against the caller's address, so guessing
   tokens is throttled like any anonymous traffic. While Redis cannot be reached, each
   process still counts on its own (the one in-memory fallback), never a 500.
"""

import json
import re
import socket
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from api.accounts.models import AuditEvent, EmailToken, User
from api.moderation.models import Contribution, IdempotencyRecord, ModerationEvent
from tests.conftest import PASSWORD
from tests.test_moderation import NEW_ACTOR, act, propose


def _patch_user(client, admin, user_id, changes):
    etag = client.get(f"/api/v1/users/{user_id}", headers=admin).headers["ETag"]
    return client.patch(
        f"/api/v1/users/{user_id}", json=changes, headers={**admin, "If-Match": etag}
    )


# -- 1. tokens and claims ---------------------------------------------------------------------


def test_reinstating_a_suspended_account_does_not_revive_its_tokens(
    client, make_user, login, admin, session
):
    user = make_user()
    session_headers = login(user)
    personal = client.post("/api/v1/me/tokens", json={"name": "script"}, headers=session_headers)
    personal_headers = {"Authorization": f"Bearer {personal.get_json()['token']}"}

    assert _patch_user(client, admin, user.id, {"status": "suspended"}).status_code == 200
    assert _patch_user(client, admin, user.id, {"status": "active"}).status_code == 200

    for headers in (session_headers, personal_headers):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert client.get(f"/api/v1/users/{user.id}/tokens", headers=admin).get_json() == []
    (suspended,) = session.scalars(
        select(AuditEvent).where(AuditEvent.event == "user.suspended")
    ).all()
    assert suspended.details["tokens_revoked"] == 2


def test_expired_tokens_are_not_listed_as_live(client, make_user, login, admin):
    user = make_user()
    headers = login(user)
    login(user, name="old", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert [t["name"] for t in client.get("/api/v1/me/tokens", headers=headers).get_json()] == [
        "test"
    ]
    listed = client.get(f"/api/v1/users/{user.id}/tokens", headers=admin).get_json()
    assert [t["name"] for t in listed] == ["test"]


def _claimed_contribution(client, make_user, login, holder):
    author = login(make_user())
    cid = propose(client, author).get_json()["id"]
    assert act(client, login(holder), cid, "claim").status_code == 200
    return cid


def test_a_claim_lapses_when_its_holder_loses_the_moderator_role(
    client, make_user, login, admin, session
):
    holder = make_user("moderator")
    cid = _claimed_contribution(client, make_user, login, holder)
    other = login(make_user("moderator"))
    assert act(client, other, cid, "claim").status_code == 409

    assert _patch_user(client, admin, holder.id, {"role": "contributor"}).status_code == 200

    contribution = session.get(Contribution, cid)
    assert (contribution.state, contribution.claimed_by) == ("submitted", None)
    assert act(client, other, cid, "claim").status_code == 200
    lapsed = session.scalars(
        select(ModerationEvent).where(ModerationEvent.action == "claim_lapsed")
    ).all()
    assert [e.contribution_id for e in lapsed] == [contribution.id]


def test_a_claim_lapses_when_its_holder_is_suspended(client, make_user, login, admin, session):
    holder = make_user("moderator")
    cid = _claimed_contribution(client, make_user, login, holder)
    assert _patch_user(client, admin, holder.id, {"status": "suspended"}).status_code == 200
    assert session.get(Contribution, cid).claimed_by is None
    assert act(client, login(make_user("moderator")), cid, "claim").status_code == 200


def test_an_admin_releases_any_claim_and_a_moderator_does_not(client, make_user, login, admin):
    holder = make_user("moderator")
    cid = _claimed_contribution(client, make_user, login, holder)
    other = login(make_user("moderator"))
    assert act(client, other, cid, "release").status_code == 409

    released = act(client, admin, cid, "release")
    assert released.status_code == 200
    assert released.get_json()["state"] == "submitted"
    assert released.get_json()["claimed_by"] is None
    assert act(client, other, cid, "claim").status_code == 200


# -- 3. passwords -----------------------------------------------------------------------------

COMMON_PASSWORDS = ["Password123!", "P@ssw0rd2024", "iloveyou12345", "qwertyuiop12", "abcdefghij"]


@pytest.mark.parametrize("password", COMMON_PASSWORDS)
def test_common_and_breached_passwords_are_refused(client, password):
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "ana@example.org", "display_name": "Ana", "password": password},
    )
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    (reason,) = problem["errors"]["password"]
    assert "easy to guess" in reason
    assert password not in response.get_data(as_text=True)


def test_a_password_made_of_the_users_own_name_and_address_is_refused(client):
    response = client.post(
        "/api/v1/auth/register",
        json={
            "email": "wanjiku.kamau@example.org",
            "display_name": "Wanjiku Kamau",
            "password": "wanjikukamau",
        },
    )
    assert response.status_code == 422 and "password" in response.get_json()["errors"]


def test_a_passphrase_is_accepted(client):
    response = client.post(
        "/api/v1/auth/register",
        json={
            "email": "amina@example.org",
            "display_name": "Amina",
            "password": "lanterns over the quiet harbour",
        },
    )
    assert response.status_code in (201, 202), response.get_json()


# -- 4. idempotency keys ----------------------------------------------------------------------


def _contribute(client, headers, path="/api/v1/contributions", name="Kisumu Lakeside Forum"):
    body = {"kind": "new_actor", "payload": {**NEW_ACTOR, "name": name}}
    return client.post(path, json=body, headers=headers)


@pytest.mark.parametrize(
    "retry",
    [
        {"path": "/api/v1/contributions?lang=fr"},  # another query string
        {"name": "Another Forum"},  # another body
    ],
)
def test_a_key_reused_on_another_request_is_refused(client, make_user, login, retry):
    headers = {**login(make_user()), "Idempotency-Key": "k-1"}
    assert _contribute(client, headers).status_code == 201
    response = _contribute(client, headers, **retry)
    assert response.status_code == 422
    assert "different request" in response.get_json()["errors"]["Idempotency-Key"][0]


def test_a_key_reused_on_another_path_is_refused(client, make_user, login, make_actor):
    headers = {**login(make_user()), "Idempotency-Key": "k-2"}
    assert _contribute(client, headers).status_code == 201
    actor = make_actor()
    flag = {"target_type": "actor", "target_id": str(actor.id), "reason": "outdated"}
    response = client.post("/api/v1/flags", json=flag, headers=headers)
    assert response.status_code == 422 and "Idempotency-Key" in response.get_json()["errors"]


def test_a_key_is_bound_to_its_caller(client, make_user, login, session):
    first = _contribute(client, {**login(make_user()), "Idempotency-Key": "shared"})
    second = _contribute(client, {**login(make_user()), "Idempotency-Key": "shared"})
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert first.get_json()["id"] != second.get_json()["id"]


def test_a_key_expires(client, make_user, login, session, app):
    headers = {**login(make_user()), "Idempotency-Key": "k-3"}
    first = _contribute(client, headers)
    assert _contribute(client, headers).headers["Idempotent-Replayed"] == "true"
    hours = app.config["IDEMPOTENCY_TTL_HOURS"]
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key == "k-3")
        .values(created_at=datetime.now(UTC) - timedelta(hours=hours + 1))
    )
    session.commit()
    again = _contribute(client, headers, name="A different proposal after expiry")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.get_json()["id"] != first.get_json()["id"]


# -- 5. rate limits ---------------------------------------------------------------------------


def test_bad_tokens_from_one_address_are_rate_limited(limited_app):
    client = limited_app(RATELIMIT_ANONYMOUS="5/minute").test_client()
    guesses = [{"Authorization": f"Bearer pm_guess{n}"} for n in range(4)] + [
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {"Authorization": "Bearer pm_guess5"},
    ]
    statuses = [client.get("/api/v1/themes", headers=h).status_code for h in guesses]
    assert statuses == [401] * 5 + [429]
    blocked = client.get("/api/v1/themes", headers={"Authorization": "Bearer pm_guess6"})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    # The address is blocked as a whole: anonymous reads from it too.
    assert client.get("/api/v1/themes").status_code == 429


def test_a_bad_token_does_not_spend_a_signed_in_users_budget(limited_app, make_user, login):
    client = limited_app(RATELIMIT_ANONYMOUS="2/minute", RATELIMIT_USER="5/minute").test_client()
    headers = login(make_user())
    bad = {"Authorization": "Bearer pm_not_a_token"}
    assert [client.get("/api/v1/themes", headers=bad).status_code for _ in range(3)] == [
        401,
        401,
        429,
    ]
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_limits_are_shared_by_every_process(limited_app, redis_url, database_url):
    app = limited_app(RATELIMIT_ANONYMOUS="3/minute")
    other_process = textwrap.dedent(
        f"""
        import json
        from api import create_app
        app = create_app({{
            "DATABASE_URL": {database_url!r},
            "SECRET_KEY": "another-worker-0123456789abcdefghijklmnop",
            "RATELIMIT_STORAGE_URI": {redis_url!r},
            "RATELIMIT_ANONYMOUS": "3/minute",
        }})
        client = app.test_client()
        print(json.dumps([client.get("/api/v1/openapi.json").status_code for _ in range(2)]))
        """
    )
    ran = subprocess.run(
        [sys.executable, "-c", other_process], capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == [200, 200]
    client = app.test_client()
    assert [client.get("/api/v1/openapi.json").status_code for _ in range(2)] == [200, 429]


# -- 2. mail: verification, reset, and nothing to probe --------------------------------------


def _code(message, prefix):
    (code,) = set(re.findall(rf"\b{prefix}[A-Za-z0-9_-]{{43}}", message.get_content()))
    return code


def _unique(name):
    return f"{name}-{uuid.uuid4().hex[:10]}@example.org"


def _register(client, address, password="lanterns over the quiet harbour", name="Amina"):
    body = {"email": address, "display_name": name, "password": password}
    return client.post("/api/v1/auth/register", json=body)


def test_registration_answers_the_same_whether_the_address_has_an_account(
    client, make_user, mailbox, session
):
    owner = make_user(email=_unique("owner"))
    newcomer = _unique("newcomer")
    taken = _register(client, owner.email.upper())
    fresh = _register(client, newcomer)
    assert taken.status_code == fresh.status_code == 202
    assert taken.get_json() == fresh.get_json()
    assert taken.headers.get("Location") is None and fresh.headers.get("Location") is None

    (warning,) = mailbox(owner.email)
    assert "already has one" in warning.get_content()
    assert not re.search(r"pm[vr]_", warning.get_content())  # no code for the prober to use
    (welcome,) = mailbox(newcomer)
    assert _code(welcome, "pmv_")
    assert "Amina" not in welcome.get_content()  # no text chosen by whoever signed up
    # The existing account is untouched: its password still works, no second account.
    accounts = session.scalars(select(User.id).where(User.email.ilike(owner.email))).all()
    assert accounts == [owner.id]
    sign_in = {"email": owner.email, "password": PASSWORD}
    assert client.post("/api/v1/auth/sign-in", json=sign_in).status_code == 201


def test_an_address_is_confirmed_by_mail_before_its_owner_contributes(client, mailbox):
    address = _unique("ana")
    password = "lanterns over the quiet harbour"
    assert _register(client, address, password).status_code == 202
    signed_in = client.post("/api/v1/auth/sign-in", json={"email": address, "password": password})
    assert signed_in.status_code == 201  # unconfirmed accounts may sign in ...
    headers = {"Authorization": f"Bearer {signed_in.get_json()['token']}"}
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["email_verified_at"] is None
    refused = propose(client, headers)  # ... but not contribute
    assert refused.status_code == 403
    assert "confirmed email address" in refused.get_json()["detail"]

    code = _code(mailbox(address)[-1], "pmv_")
    assert client.post("/api/v1/auth/verify-email", json={"token": code}).status_code == 204
    assert client.get("/api/v1/me", headers=headers).get_json()["email_verified_at"]
    assert propose(client, headers).status_code == 201

    again = client.post("/api/v1/auth/verify-email", json={"token": code})
    assert again.status_code == 422 and "token" in again.get_json()["errors"]


def test_mail_codes_are_stored_hashed_expire_and_are_superseded(
    client, make_user, login, mailbox, session
):
    user = make_user(email=_unique("late"), verified=False)
    headers = login(user)
    assert client.post("/api/v1/me/verify-email", headers=headers).status_code == 202
    first = _code(mailbox(user.email)[-1], "pmv_")
    assert client.post("/api/v1/me/verify-email", headers=headers).status_code == 202
    second = _code(mailbox(user.email)[-1], "pmv_")

    rows = session.scalars(select(EmailToken).where(EmailToken.user_id == user.id)).all()
    assert len(rows) == 2
    stored = " ".join(f"{r.token_hash} {r.email}" for r in rows)
    assert first not in stored and second not in stored and first[4:] not in stored

    superseded = client.post("/api/v1/auth/verify-email", json={"token": first})
    assert superseded.status_code == 422
    session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user.id)
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    session.commit()
    expired = client.post("/api/v1/auth/verify-email", json={"token": second})
    assert expired.status_code == 422
    assert client.get("/api/v1/me", headers=headers).get_json()["email_verified_at"] is None


def test_a_password_is_reset_by_mail_and_old_sessions_end(client, make_user, login, mailbox):
    user = make_user(email=_unique("forgetful"))
    old_session = login(user)
    asked = client.post("/api/v1/auth/password-reset", json={"email": user.email})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": _unique("nobody")})
    assert asked.status_code == unknown.status_code == 202
    assert asked.get_json() == unknown.get_json()
    code = _code(mailbox(user.email)[-1], "pmr_")

    weak = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": code, "password": "Password123!"}
    )
    assert weak.status_code == 422 and "password" in weak.get_json()["errors"]
    new_password = "olive groves after the long rain"
    done = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": code, "password": new_password}
    )
    assert done.status_code == 204  # the refused attempt did not spend the code
    assert client.get("/api/v1/me", headers=old_session).status_code == 401
    for password, status in ((PASSWORD, 401), (new_password, 201)):
        attempt = {"email": user.email, "password": password}
        assert client.post("/api/v1/auth/sign-in", json=attempt).status_code == status
    reused = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": code, "password": "another fine long passphrase"},
    )
    assert reused.status_code == 422


def test_a_code_only_does_what_it_was_sent_for(client, make_user, login, mailbox):
    user = make_user(email=_unique("mixed"), verified=False)
    client.post("/api/v1/me/verify-email", headers=login(user))
    verify_code = _code(mailbox(user.email)[-1], "pmv_")
    response = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": verify_code, "password": "olive groves after the long rain"},
    )
    assert response.status_code == 422 and "token" in response.get_json()["errors"]


def test_when_mail_cannot_be_sent_nothing_is_written(client, app, session, monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setitem(app.config, "SMTP_PORT", closed.getsockname()[1])
    address = _unique("unlucky")
    response = _register(client, address)
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert "Retry-After" in response.headers
    assert session.scalars(select(User).where(User.email == address)).all() == []


def test_while_redis_is_unreachable_each_process_still_counts(limited_app):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"redis://127.0.0.1:{closed.getsockname()[1]}/0"
    client = limited_app(
        RATELIMIT_STORAGE_URI=nowhere, RATELIMIT_ANONYMOUS="2/minute"
    ).test_client()
    assert [client.get("/api/v1/themes").status_code for _ in range(3)] == [200, 200, 429]
