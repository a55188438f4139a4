"""Accounts, tried as an attacker would (issue 9, "Accounts"). The promises:

1. Suspending an account revokes its tokens: reinstating it does not bring them back.
   Expired tokens are not listed as live. A moderator's claims lapse when they lose the
   role (or are suspended), and an administrator can release anyone's claim.
3. Common, breached-list and guessable passwords are refused (zxcvbn's estimate, with the
   user's own email and name counted as known), not only short ones; the problem says
   why and never echoes the password.
4. An Idempotency-Key binds the method, path, query string, body and caller: the same key
   on any other request is a 422 that says so, never someone else's or another request's
   reply; a key expires after PEACEMAP_IDEMPOTENCY_TTL_HOURS and is then a new request.
5. Rate limits are counted in Redis, shared by every worker and process: requests made by
   another process count against the same caller. Requests with a bad Authorization
   header (unknown token, wrong scheme) count against the caller's address, so guessing
   tokens is throttled like any anonymous traffic.
"""

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from api.accounts.models import AuditEvent
from api.moderation.models import Contribution, IdempotencyRecord, ModerationEvent
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
