"""Liveness and readiness endpoints (the outage cases are in tests/test_faults.py)."""

from __future__ import annotations

from sqlalchemy import text


def test_healthz_says_the_process_lives(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "alive"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_says_ready_when_the_database_answers_and_is_migrated(client, session):
    revision = session.scalar(text("SELECT version_num FROM alembic_version"))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "revision": revision}


def test_readyz_refuses_traffic_when_migrations_are_not_current(client, monkeypatch):
    """New code deployed before its migrations ran: not ready."""
    from api import health

    monkeypatch.setattr(health, "expected_revisions", lambda: frozenset({"9999_newer"}))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "expects 9999_newer" in response.get_json()["detail"]
    assert int(response.headers["Retry-After"]) > 0
