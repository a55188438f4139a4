"""Accounts, tokens, roles, permissions, rate limits and the security logs."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from api.accounts.models import AuditEvent, LocationAccess, User
from tests.conftest import PASSWORD, actor_payload

REGISTRATION = {"email": "Ana.Perez@Example.org", "display_name": "Ana", "password": PASSWORD}


def events(session, event):
    return session.scalars(select(AuditEvent).where(AuditEvent.event == event)).all()


# -- registration and sign-in -------------------------------------------------------------


def test_register_then_sign_in_then_me(client):
    created = client.post("/api/v1/auth/register", json=REGISTRATION)
    assert created.status_code == 202  # the same answer for a taken address: nothing to probe
    assert set(created.get_json()) == {"detail"}

    signed_in = client.post(
        "/api/v1/auth/sign-in", json={"email": "ana.perez@example.org", "password": PASSWORD}
    )
    assert signed_in.status_code == 201
    token = signed_in.get_json()
    assert token["token"].startswith("pm_") and token["kind"] == "session"
    assert datetime.fromisoformat(token["expires_at"]) > datetime.now(UTC) + timedelta(days=6)

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['token']}"})
    assert me.status_code == 200
    account = me.get_json()
    assert account["email"] == "Ana.Perez@Example.org"
    assert account["role"] == "contributor" and account["status"] == "active"
    assert "password" not in account and "password_hash" not in account


def test_email_is_unique_whatever_its_case(client, session):
    assert client.post("/api/v1/auth/register", json=REGISTRATION).status_code == 202
    again = {**REGISTRATION, "email": "ANA.PEREZ@example.ORG", "display_name": "Other"}
    assert client.post("/api/v1/auth/register", json=again).status_code == 202
    accounts = session.scalars(select(User).where(User.email.ilike("ana.perez@example.org")))
    assert [u.display_name for u in accounts] == ["Ana"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "ana.perez@example.org"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"display_name": ""}, "display_name"),
        ({"role": "admin"}, "role"),
    ],
)
def test_registration_is_validated(client, change, field):
    response = client.post("/api/v1/auth/register", json={**REGISTRATION, **change})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_failed_sign_in_does_not_say_whether_the_email_exists(client, make_user, session):
    user = make_user(email="known@example.org")
    wrong_password = client.post(
        "/api/v1/auth/sign-in", json={"email": "known@example.org", "password": "not it at all"}
    )
    unknown_email = client.post(
        "/api/v1/auth/sign-in", json={"email": "nobody@example.org", "password": "not it at all"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    strip = lambda r: {k: v for k, v in r.get_json().items() if k != "instance"}  # noqa: E731
    assert strip(wrong_password) == strip(unknown_email)
    # Both failures are in the audit log, although the requests failed.
    failures = events(session, "sign_in.failed")
    assert len(failures) == 2 and {f.user_id for f in failures} == {user.id, None}


def test_suspended_account_cannot_sign_in(client, make_user):
    make_user(email="gone@example.org", status="suspended")
    response = client.post(
        "/api/v1/auth/sign-in", json={"email": "gone@example.org", "password": PASSWORD}
    )
    assert response.status_code == 401


# -- tokens -------------------------------------------------------------------------------


def test_expired_token_is_refused(client, make_user, login):
    headers = login(make_user(), expires_at=datetime.now(UTC) - timedelta(seconds=1))
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_sign_out_revokes_the_token(client, make_user, login, session):
    headers = login(make_user())
    assert client.post("/api/v1/auth/sign-out", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert len(events(session, "token.revoked")) == 1


def test_personal_tokens_are_listed_without_secrets_and_revocable(client, make_user, login):
    headers = login(make_user())
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    created = client.post(
        "/api/v1/me/tokens", json={"name": "CI export", "expires_at": expires}, headers=headers
    )
    assert created.status_code == 201
    personal = created.get_json()
    assert personal["kind"] == "personal" and personal["prefix"] == personal["token"][:10]
    personal_headers = {"Authorization": f"Bearer {personal['token']}"}
    assert client.get("/api/v1/me", headers=personal_headers).status_code == 200

    listed = client.get("/api/v1/me/tokens", headers=headers)
    assert {t["name"] for t in listed.get_json()} == {"test", "CI export"}
    assert personal["token"] not in listed.get_data(as_text=True)
    used = next(t for t in listed.get_json() if t["name"] == "CI export")
    assert used["last_used_at"] is not None

    assert client.delete(f"/api/v1/me/tokens/{personal['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=personal_headers).status_code == 401
    past = client.post(
        "/api/v1/me/tokens",
        json={"name": "x", "expires_at": "2020-01-01T00:00:00Z"},
        headers=headers,
    )
    assert past.status_code == 422 and "expires_at" in past.get_json()["errors"]


def test_nobody_revokes_someone_elses_token_but_an_admin(client, make_user, login, admin):
    owner = make_user()
    owner_headers = login(owner)
    token_id = client.get("/api/v1/me/tokens", headers=owner_headers).get_json()[0]["id"]
    other = login(make_user())
    assert client.delete(f"/api/v1/me/tokens/{token_id}", headers=other).status_code == 404
    listed = client.get(f"/api/v1/users/{owner.id}/tokens", headers=admin).get_json()
    assert [t["id"] for t in listed] == [token_id]
    assert (
        client.delete(f"/api/v1/users/{owner.id}/tokens/{token_id}", headers=admin).status_code
        == 204
    )
    assert client.get("/api/v1/me", headers=owner_headers).status_code == 401


# -- administration -----------------------------------------------------------------------


def _patch_user(client, admin, user_id, changes):
    etag = client.get(f"/api/v1/users/{user_id}", headers=admin).headers["ETag"]
    return client.patch(
        f"/api/v1/users/{user_id}", json=changes, headers={**admin, "If-Match": etag}
    )


def test_suspension_stops_tokens_at_once(client, make_user, login, admin, session):
    user = make_user()
    headers = login(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    response = _patch_user(client, admin, user.id, {"status": "suspended"})
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert [e.subject_id for e in events(session, "user.suspended")] == [user.id]


def test_role_change_is_audited_and_admins_cannot_demote_themselves(
    client, make_user, login, session
):
    admin_user = make_user("admin")
    admin = login(admin_user)
    user = make_user()
    response = _patch_user(client, admin, user.id, {"role": "moderator"})
    assert response.get_json()["role"] == "moderator"
    (event,) = events(session, "user.role_changed")
    assert event.user_id == admin_user.id and event.details == {
        "old": "contributor",
        "new": "moderator",
    }
    assert _patch_user(client, admin, admin_user.id, {"role": "contributor"}).status_code == 409
    stale = client.patch(
        f"/api/v1/users/{user.id}", json={"role": "admin"}, headers={**admin, "If-Match": '"v1"'}
    )
    assert stale.status_code == 412


def test_admins_list_users_and_read_the_audit_log(client, make_user, admin):
    make_user("moderator", email="mod@example.org")
    client.post(
        "/api/v1/auth/sign-in", json={"email": "mod@example.org", "password": "wrong password"}
    )
    users = client.get("/api/v1/users?role=moderator", headers=admin).get_json()
    assert [u["email"] for u in users["items"]] == ["mod@example.org"]
    log = client.get("/api/v1/audit/events?event=sign_in.failed", headers=admin).get_json()
    assert log["count"] == 1 and log["items"][0]["ip"] == "127.0.0.1"


def test_the_audit_log_is_append_only(session, make_user, admin):
    session.add(AuditEvent(event="test", details={}))
    session.commit()
    # The service's role has no right to (tests/test_safety_at_rest.py); the trigger stops
    # even the owner.
    with pytest.raises(DBAPIError, match=r"permission denied|append-only"), session.begin_nested():
        session.execute(text("UPDATE audit_log SET event = 'rewritten'"))
    with pytest.raises(DBAPIError, match=r"permission denied|append-only"), session.begin_nested():
        session.execute(text("DELETE FROM location_access_log"))


# -- permissions --------------------------------------------------------------------------


@pytest.fixture
def world(make_actor, make_user, login):
    """A published organisation and a draft one, each with a manager and a member."""
    published = make_actor(name="Published Org", location_precision="locality")
    draft = make_actor(name="Draft Org", status="draft")
    users = {
        "contributor": make_user(),
        "member": make_user(member_of=published),
        "manager": make_user(manager_of=published),
        "moderator": make_user("moderator"),
        "admin": make_user("admin"),
    }
    for role in ("member", "manager"):
        from api.accounts.service import set_membership
        from api.db import db
        from api.principal import ANONYMOUS

        set_membership(
            db.session,
            users[role],
            draft.id,
            "member" if role == "member" else "manager",
            ANONYMOUS,
        )
    db.session.commit()
    headers = {role: login(user) for role, user in users.items()}
    headers["anonymous"] = {}
    return {"published": published, "draft": draft, "users": users, "headers": headers}


def _current_etag(client, url, headers):
    return client.get(url, headers=headers).headers.get("ETag", '"v1"')


def _request(client, world, endpoint):
    published, draft = world["published"], world["draft"]
    a = f"/api/v1/actors/{published.id}"
    return {
        "list actors": ("get", "/api/v1/actors", None),
        "read published": ("get", a, None),
        "read draft": ("get", f"/api/v1/actors/{draft.id}", None),
        "read private": ("get", f"{a}?include=private", None),
        "create actor": ("post", "/api/v1/actors", actor_payload()),
        "edit actor": ("patch", a, {"summary": "Edited"}),
        "verify actor": ("patch", a, {"verified": True}),
        "archive actor": ("delete", a, None),
        "add theme": (
            "post",
            "/api/v1/themes",
            {"key": "peace_tech", "label": "Tech", "group": "sector"},
        ),
        "list users": ("get", "/api/v1/users", None),
        "read audit": ("get", "/api/v1/audit/events", None),
        "read me": ("get", "/api/v1/me", None),
        "propose": (
            "post",
            "/api/v1/contributions",
            {
                "kind": "new_actor",
                "payload": {k: v for k, v in actor_payload().items() if k != "status"},
            },
        ),
        "flag": (
            "post",
            "/api/v1/flags",
            {"target_type": "actor", "target_id": str(published.id), "reason": "outdated"},
        ),
        "moderation queue": ("get", "/api/v1/moderation/queue", None),
        "moderation log": ("get", "/api/v1/moderation/log", None),
        "hide": ("post", f"/api/v1/moderation/items/actor/{published.id}/hide", {"reason": "test"}),
        "history": ("get", f"/api/v1/moderation/items/actor/{published.id}/history", None),
        "add member": (
            "put",
            f"/api/v1/users/{world['users']['contributor'].id}/memberships/{published.id}",
            {"role": "member"},
        ),
    }[endpoint]


ROLES = ("anonymous", "contributor", "member", "manager", "moderator", "admin")
MATRIX = {
    #                  anonymous contributor member manager moderator admin
    "list actors": (200, 200, 200, 200, 200, 200),
    "read published": (200, 200, 200, 200, 200, 200),
    "read draft": (404, 404, 200, 200, 200, 200),
    "read private": (401, 403, 403, 200, 200, 200),
    "create actor": (401, 403, 403, 403, 201, 201),
    "edit actor": (401, 403, 403, 200, 200, 200),
    "verify actor": (401, 403, 403, 403, 200, 200),
    "archive actor": (401, 403, 403, 403, 204, 204),
    "add theme": (401, 403, 403, 403, 403, 201),
    "list users": (401, 403, 403, 403, 403, 200),
    "read audit": (401, 403, 403, 403, 403, 200),
    "read me": (401, 200, 200, 200, 200, 200),
    "add member": (401, 403, 403, 200, 403, 200),
    "propose": (401, 201, 201, 201, 201, 201),
    "flag": (401, 201, 201, 201, 201, 201),
    "moderation queue": (401, 403, 403, 403, 200, 200),
    "moderation log": (401, 403, 403, 403, 200, 200),
    "hide": (401, 403, 403, 403, 204, 204),
    "history": (401, 403, 403, 200, 200, 200),
}


@pytest.mark.parametrize(
    ("endpoint", "role", "expected"),
    [
        (endpoint, role, status)
        for endpoint, row in MATRIX.items()
        for role, status in zip(ROLES, row, strict=True)
    ],
)
def test_permission_matrix(client, world, endpoint, role, expected):
    method, url, body = _request(client, world, endpoint)
    headers = dict(world["headers"][role])
    if method in ("patch", "delete"):
        headers["If-Match"] = '"v1"'
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)(url, headers=headers, **kwargs)
    assert response.status_code == expected, response.get_json()
    if expected >= 400:
        assert response.content_type == "application/problem+json"


def test_a_manager_never_touches_another_organisations_data(
    client, world, make_actor, make_user, login
):
    other_published = make_actor(name="Other Org").id
    other_draft = make_actor(name="Other Draft", status="draft").id
    contributor = world["users"]["contributor"].id
    manager = world["headers"]["manager"]
    edit = {"json": {"summary": "hijacked"}, "headers": {**manager, "If-Match": '"v1"'}}
    assert client.patch(f"/api/v1/actors/{other_published}", **edit).status_code == 403
    # Unpublished: not even its existence is confirmed.
    assert client.patch(f"/api/v1/actors/{other_draft}", **edit).status_code == 404
    assert client.get(f"/api/v1/actors/{other_draft}", headers=manager).status_code == 404
    assert (
        client.get(f"/api/v1/actors/{other_published}?include=private", headers=manager).status_code
        == 403
    )
    put = client.put(
        f"/api/v1/users/{contributor}/memberships/{other_published}",
        json={"role": "manager"},
        headers=manager,
    )
    assert put.status_code == 403


# -- private details and the exact-location access log -------------------------------------


def test_exact_location_reads_are_logged(client, world, session):
    actor = world["published"]
    moderator = world["users"]["moderator"]
    response = client.get(
        f"/api/v1/actors/{actor.id}?include=private", headers=world["headers"]["moderator"]
    )
    body = response.get_json()
    assert body["exact_location"]["coordinates"] == [36.82, -1.29]
    assert body["location"]["coordinates"] == [36.85, -1.25]
    assert "contact" in body
    assert response.headers["Cache-Control"] == "private, no-store"
    (access,) = session.scalars(select(LocationAccess)).all()
    assert (access.user_id, access.actor_id) == (moderator.id, actor.id)
    log = client.get(
        f"/api/v1/audit/location-access?actor_id={actor.id}", headers=world["headers"]["admin"]
    )
    assert [row["user_id"] for row in log.get_json()["items"]] == [str(moderator.id)]
    # Without include=private nothing private is shown, and nothing is logged.
    plain = client.get(
        f"/api/v1/actors/{actor.id}", headers=world["headers"]["moderator"]
    ).get_json()
    assert "exact_location" not in plain and "contact" not in plain
    assert len(session.scalars(select(LocationAccess)).all()) == 1


# -- rate limits ----------------------------------------------------------------------------


@pytest.fixture
def limited_client(limited_app):
    app = limited_app(
        RATELIMIT_CREDENTIALS="2/minute", RATELIMIT_ANONYMOUS="3/minute", RATELIMIT_USER="4/minute"
    )
    return app.test_client()


def test_sign_in_is_rate_limited_with_retry_after(limited_client):
    attempt = {"email": "someone@example.org", "password": "guess guess guess"}
    statuses = [
        limited_client.post("/api/v1/auth/sign-in", json=attempt).status_code for _ in range(3)
    ]
    assert statuses == [401, 401, 429]
    response = limited_client.post("/api/v1/auth/register", json=REGISTRATION)  # shares the limit
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_limits_are_per_ip_when_anonymous_and_per_account_when_signed_in(
    limited_client, make_user, login
):
    statuses = [limited_client.get("/api/v1/themes").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # Signed-in callers are counted per account, with their own, higher limit.
    first, second = login(make_user()), login(make_user())
    assert [limited_client.get("/api/v1/themes", headers=first).status_code for _ in range(5)] == [
        200
    ] * 4 + [429]
    assert limited_client.get("/api/v1/themes", headers=second).status_code == 200


# -- secrets never leak -------------------------------------------------------------------


def test_no_response_or_log_line_contains_a_password_or_token(client, caplog, admin):
    caplog.set_level(logging.DEBUG)
    client.post("/api/v1/auth/register", json=REGISTRATION)
    client.post(
        "/api/v1/auth/sign-in",
        json={"email": REGISTRATION["email"], "password": "a wrong password"},
    )
    issued = client.post(
        "/api/v1/auth/sign-in", json={"email": REGISTRATION["email"], "password": PASSWORD}
    )
    token = issued.get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    responses = [
        client.get("/api/v1/me", headers=headers),
        client.get("/api/v1/me/tokens", headers=headers),
        client.get("/api/v1/users", headers=admin),
        client.get("/api/v1/audit/events", headers=admin),
        client.post("/api/v1/auth/sign-out", headers=headers),
        client.get("/api/v1/me", headers=headers),
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (PASSWORD, "a wrong password", token, token[3:]):
        assert secret not in logged
        assert all(secret not in r.get_data(as_text=True) for r in responses)


# -- set-up commands ----------------------------------------------------------------------


def test_cli_creates_the_first_admin(app, session):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--email", "root@example.org", "--name", "Root"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    user = session.scalar(select(User).where(User.email == "root@example.org"))
    assert user.role == "admin" and user.email_verified_at is not None
    bad = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--email", "root@example.org", "--name", "Root"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert bad.exit_code != 0 and "already exists" in bad.output


def test_demo_accounts_exist_only_outside_production(app, session):
    from seeds.demo import DEMO_ACCOUNTS, load_demo, load_demo_accounts

    with app.app_context():
        load_demo(session)
        assert load_demo_accounts(session, production=True) == 0
        assert load_demo_accounts(session, production=False) == len(DEMO_ACCOUNTS)
        assert load_demo_accounts(session, production=False) == 0
        session.commit()
    manager = session.scalar(select(User).where(User.email == "manager@demo.peacemap.example"))
    assert [m.role for m in manager.memberships] == ["manager"]
    demo = session.scalars(select(User).where(User.email.like("%@demo.peacemap.example"))).all()
    assert all(u.email_verified_at is not None for u in demo)  # demo accounts contribute at once
