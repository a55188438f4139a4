"""Accounts, tried as an attacker would (issue 9, "Accounts"). The promises:

1. Suspending an account revokes its tokens: reinstating it does not bring them back.
   Expired tokens are not listed as live. A moderator's claims lapse when they lose the
   role (or are suspended), and an administrator can release anyone's claim.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.accounts.models import AuditEvent
from api.moderation.models import Contribution, ModerationEvent
from tests.test_moderation import act, propose


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
