"""CORS: any origin reads public data; only configured origins send credentials or write
(api/cors.py). Each case is what a browser on another origin sends: a preflight, then the
request, with its Origin header."""

import pytest
from sqlalchemy import func, select

from api.config import ConfigError, cors_origins
from api.moderation.models import Contribution

APP_ORIGIN = "https://app.peace.example"
HOSTILE_ORIGIN = "https://evil.example"
NEW_ACTOR = {
    "kind": "organisation",
    "name": "Women Mediators of the Valley",
    "summary": "Mediation between herders and farmers.",
    "language": "en",
    "themes": ["mediation_dialogue"],
    "location": {"type": "Point", "coordinates": [36.82, -1.29]},
    "location_precision": "exact",
}


@pytest.fixture
def configured(app, monkeypatch):
    monkeypatch.setitem(app.config, "CORS_ORIGINS", frozenset({APP_ORIGIN}))


def preflight(client, path, origin, method, headers=""):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def listed(value):
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def test_public_get_is_readable_from_any_origin(client, configured, make_actor):
    make_actor()
    answer = preflight(client, "/api/v1/actors", HOSTILE_ORIGIN, "GET", "accept-language")
    assert answer.status_code == 204
    assert "GET" in answer.headers["Access-Control-Allow-Methods"]
    assert "accept-language" in listed(answer.headers["Access-Control-Allow-Headers"])

    response = client.get("/api/v1/actors", headers={"Origin": HOSTILE_ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    exposed = listed(response.headers["Access-Control-Expose-Headers"])
    assert {"etag", "link", "location", "retry-after", "x-ratelimit-remaining"} <= exposed
    assert "Origin" in response.headers["Vary"]  # answers differ by origin once configured


def test_public_get_without_configured_origins_is_cacheable_for_everyone(client):
    response = client.get("/api/v1/actors", headers={"Origin": HOSTILE_ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Origin" not in response.headers.get("Vary", "")


def test_credentialed_post_from_a_configured_origin(client, configured, session, make_user, login):
    answer = preflight(
        client, "/api/v1/contributions", APP_ORIGIN, "POST", "authorization, content-type"
    )
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert {"authorization", "content-type"} <= listed(
        answer.headers["Access-Control-Allow-Headers"]
    )

    headers = {**login(make_user()), "Origin": APP_ORIGIN}
    response = client.post(
        "/api/v1/contributions", json={"kind": "new_actor", "payload": NEW_ACTOR}, headers=headers
    )
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "location" in listed(response.headers["Access-Control-Expose-Headers"])
    assert "Origin" in response.headers["Vary"]


def test_credentialed_post_from_another_origin_is_refused(
    client, configured, session, make_user, login
):
    answer = preflight(
        client, "/api/v1/contributions", HOSTILE_ORIGIN, "POST", "authorization, content-type"
    )
    assert answer.headers.get("Access-Control-Allow-Origin") in (None, "*")
    assert "POST" not in answer.headers["Access-Control-Allow-Methods"]
    assert "authorization" not in listed(answer.headers["Access-Control-Allow-Headers"])

    # Whatever the browser does, the server refuses it before anything is written.
    before = session.scalar(select(func.count()).select_from(Contribution))
    headers = {**login(make_user()), "Origin": HOSTILE_ORIGIN}
    response = client.post(
        "/api/v1/contributions", json={"kind": "new_actor", "payload": NEW_ACTOR}, headers=headers
    )
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"
    assert "PEACEMAP_CORS_ORIGINS" in response.get_json()["detail"]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert session.scalar(select(func.count()).select_from(Contribution)) == before
    # A credentialed read from that origin is refused too (it would read private data).
    private = client.get("/api/v1/me/contributions", headers=headers)
    assert private.status_code == 403


@pytest.mark.parametrize("own", ["http://localhost", "https://peacemap.example"])
def test_a_write_from_the_services_own_origin_is_accepted(
    app, client, session, make_user, login, monkeypatch, own
):
    # As the request reached the service, or as people reach it (TLS ended at a proxy).
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://peacemap.example")
    headers = {**login(make_user()), "Origin": own}
    response = client.post(
        "/api/v1/contributions", json={"kind": "new_actor", "payload": NEW_ACTOR}, headers=headers
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "value", ["*", "app.example.org", "https://app.example.org/path", "ftp://x", "https://*.x.org"]
)
def test_configured_origins_must_be_origins(value):
    with pytest.raises(ConfigError, match="PEACEMAP_CORS_ORIGINS"):
        cors_origins({"PEACEMAP_CORS_ORIGINS": value})


def test_configured_origins_are_normalised():
    assert cors_origins({"PEACEMAP_CORS_ORIGINS": " https://A.org/ ,http://b.org:8080"}) == {
        "https://a.org",
        "http://b.org:8080",
    }
