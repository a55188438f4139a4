"""What the service does, for its operators (README, "Operating"): /metrics for operators
only, a request id on every request and log line, JSON logs that carry no coordinates,
tokens or contacts, figures summed over gunicorn's workers."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from api import migrate
from api.accounts.models import User
from api.accounts.service import issue_token
from tests.conftest import DATA_KEY, PASSWORD, SECRET_KEY, _password_hash
from tests.servers import gunicorn, request

METRICS_TOKEN = "scraper-" + "Zq7" * 12
NEW_ACTOR = {
    "name": "Lakeside listening circle",
    "kind": "organisation",
    "language": "en",
    "themes": ["land_natural_resources"],
    "location": {"type": "Point", "coordinates": [34.76, -0.09]},
    "location_precision": "locality",
}


def samples(text: str, name: str) -> dict[str, float]:
    """The samples of one metric: {'{labels}': value}."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(\{{.*\}})? (\S+)", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


# -- /metrics is for operators --------------------------------------------------------


def test_metrics_refuse_anonymous_and_non_admin_callers(client, people_headers):
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.mimetype == "application/problem+json"
    assert "WWW-Authenticate" in anonymous.headers
    for role in ("contributor", "moderator"):
        refused = client.get("/metrics", headers=people_headers(role))
        assert refused.status_code == 403, role
        assert refused.mimetype == "application/problem+json"
    guessed = client.get("/metrics", headers={"Authorization": "Bearer not-the-secret"})
    assert guessed.status_code == 401


def test_metrics_answer_an_admin_or_the_scraper_secret(app, client, admin):
    answer = client.get("/metrics", headers=admin)
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    assert answer.headers["Cache-Control"] == "no-store"
    app.config["METRICS_TOKEN"] = METRICS_TOKEN
    try:
        scraper = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    finally:
        app.config["METRICS_TOKEN"] = None
    assert scraper.status_code == 200
    for name in (
        "peacemap_http_request_duration_seconds_count",
        "peacemap_db_pool_checked_out",
        "peacemap_db_pool_size",
        "peacemap_moderation_queue",
        "peacemap_moderation_urgent",
        "peacemap_moderation_oldest_pending_age_seconds",
        "peacemap_flags_open",
    ):
        assert samples(scraper.text, name), name


def test_requests_are_counted_by_url_rule_never_by_raw_path(client, admin, make_actor):
    actor = make_actor()
    assert client.get(f"/api/v1/actors/{actor.id}").status_code == 200
    assert client.get(f"/api/v1/actors/{uuid.uuid4()}").status_code == 404
    assert client.get("/no/such/place/36.81,-1.28").status_code == 404
    text = client.get("/metrics", headers=admin).text
    counts = samples(text, "peacemap_http_request_duration_seconds_count")
    item = 'endpoint="/api/v1/actors/<uuid:actor_id>",method="GET"'
    assert counts[f'{{{item},status="200"}}'] >= 1
    assert counts[f'{{{item},status="404"}}'] >= 1
    assert counts['{endpoint="<unmatched>",method="GET",status="404"}'] >= 1
    assert str(actor.id) not in text and "36.81" not in text


def test_queue_depth_urgency_and_age_come_from_the_database(client, admin, people_headers):
    before = client.get("/metrics", headers=admin).text
    waiting = samples(before, "peacemap_moderation_queue")['{state="submitted"}']
    author = people_headers()
    for _ in range(2):
        body = {"kind": "new_actor", "payload": dict(NEW_ACTOR)}
        made = client.post("/api/v1/contributions", json=body, headers=author)
        assert made.status_code == 201, made.get_json()
    after = client.get("/metrics", headers=admin).text
    assert samples(after, "peacemap_moderation_queue")['{state="submitted"}'] == waiting + 2
    assert samples(after, "peacemap_moderation_oldest_pending_age_seconds")[""] >= 0
    assert samples(after, "peacemap_moderation_urgent")[""] >= 0


# -- request ids ------------------------------------------------------------------------


def test_a_sane_request_id_is_echoed_and_any_other_replaced(client):
    sent = "0f9c2a7e-proxy-id-5b1d"
    assert client.get("/healthz", headers={"X-Request-Id": sent}).headers["X-Request-Id"] == sent
    made = client.get("/healthz").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    made_next = {client.get("/healthz").headers["X-Request-Id"] for _ in range(50)}
    assert len(made_next | {made}) == 51  # a new id for every request
    for hostile in ("x" * 500, 'a" injected="1', "line\\nbreak-ab", "short"):
        echoed = client.get("/healthz", headers={"X-Request-Id": hostile}).headers
        assert echoed["X-Request-Id"] != hostile
        assert re.fullmatch(r"[0-9a-f]{32}", echoed["X-Request-Id"])


def test_errors_carry_the_request_id_too(client):
    answer = client.get("/api/v1/actors?limit=nope", headers={"X-Request-Id": "req-422-abcdef"})
    assert answer.status_code == 422
    assert answer.headers["X-Request-Id"] == "req-422-abcdef"


# -- a real gunicorn: JSON logs, ids, figures over workers, nothing secret --------------


@pytest.fixture(scope="module")
def observed_database(database_urls):
    """A database of this module's own, so that what it writes (an account, contributions)
    never reaches the other tests' queue."""
    urls = {
        key: make_url(url)
        .set(database="peacemap_observe_test")
        .render_as_string(hide_password=False)
        for key, url in database_urls.items()
        if url
    }
    migrate.upgrade(
        urls["MIGRATION_DATABASE_URL"],
        app_url=urls["DATABASE_URL"],
        admin_url=urls.get("ADMIN_DATABASE_URL"),
        recreate=True,
    )
    return urls


@pytest.fixture(scope="module")
def accounts(observed_database):
    engine = create_engine(observed_database["DATABASE_URL"], poolclass=NullPool)
    people = {}
    with Session(engine) as session:
        for role in ("contributor", "admin"):
            user = User(
                email=f"observed-{role}-{uuid.uuid4().hex[:6]}@example.org",
                display_name=f"Observed {role}",
                password_hash=_password_hash(),
                role=role,
                status="active",
                email_verified_at=datetime.now(UTC),
            )
            session.add(user)
            session.flush()
            expires = datetime.now(UTC) + timedelta(hours=1)
            _, secret = issue_token(
                session, user, kind="session", name="observe", key=SECRET_KEY, expires_at=expires
            )
            people[role] = (user.email, secret)
        session.commit()
    engine.dispose()
    return people


def test_json_logs_with_request_ids_and_no_coordinates_tokens_or_contacts(
    observed_database, accounts
):
    contact = {"email": "quiet.witness@example.org", "phone": "+254 733 481 905"}
    secret_place = [36.8123457, -1.2876543]
    admin_email, admin_token = accounts["admin"]
    _, contributor_token = accounts["contributor"]
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": observed_database["DATABASE_URL"],
        "PEACEMAP_SECRET_KEY": SECRET_KEY,
        "PEACEMAP_DATA_KEY": DATA_KEY,
        "PEACEMAP_RATELIMIT_ENABLED": "false",
        "PEACEMAP_METRICS_TOKEN": METRICS_TOKEN,
        "PEACEMAP_WORKERS": "2",
        "PEACEMAP_LOG_LEVEL": "DEBUG",
    }
    with gunicorn(env) as server:
        as_admin = {"Authorization": f"Bearer {admin_token}"}
        as_contributor = {"Authorization": f"Bearer {contributor_token}"}
        signed_in = request(
            server,
            "POST",
            "/api/v1/auth/sign-in",
            {"email": admin_email, "password": PASSWORD},
            {"X-Request-Id": "sign-in-request-1"},
        )
        assert signed_in.status == 201, signed_in.body
        issued = signed_in.json()["token"]
        made = request(
            server,
            "POST",
            "/api/v1/actors",
            {
                **NEW_ACTOR,
                "name": "Observed defenders",
                "location": {"type": "Point", "coordinates": secret_place},
                "location_precision": "region",
                "contact": contact,
                "status": "published",
            },
            as_admin,
        )
        assert made.status == 201, made.body
        actor_id = made.json()["id"]
        area = json.dumps({"type": "Point", "coordinates": secret_place})
        outcomes = [
            request(server, "GET", "/api/v1/actors?near=36.8123457,-1.2876543&radius_km=2"),
            request(server, "GET", "/api/v1/actors?bbox=36.80123,-1.29123,36.82123,-1.27123"),
            request(
                server, "GET", "/api/v1/actors?" + urllib.parse.urlencode({"intersects": area})
            ),
            request(server, "GET", "/api/v1/tiles/14/9771/8252.mvt"),
            request(server, "GET", f"/api/v1/actors/{actor_id}?include=private", None, as_admin),
            request(server, "GET", "/api/v1/actors", None, {"Authorization": f"Bearer {issued}"}),
            request(server, "GET", "/api/v1/actors", None, {"Authorization": "Bearer pm_guessed1"}),
            request(
                server,
                "POST",
                "/api/v1/contributions",
                {
                    "kind": "new_actor",
                    "payload": {
                        **NEW_ACTOR,
                        "location": {"type": "Point", "coordinates": secret_place},
                        "contact": contact,
                    },
                },
                as_contributor,
            ),
        ]
        assert [o.status for o in outcomes] == [200, 200, 200, 204, 200, 200, 401, 201], [
            (o.path, o.status, o.body[:200]) for o in outcomes
        ]
        private = outcomes[4].json()
        assert private["contact"]["email"] == contact["email"]  # the server had them to log
        metrics = [
            request(server, "GET", "/metrics", None, {"Authorization": f"Bearer {METRICS_TOKEN}"})
            for _ in range(6)
        ]
        assert {m.status for m in metrics} == {200}
        # A health check, sign-in, the new actor, the requests above and the scrapes; a
        # worker writes the access line just after the response, so wait for the last.
        expected = 3 + len(outcomes) + len(metrics)
        deadline = time.monotonic() + 20
        while server.log_text().count('"gunicorn.access"') < expected:
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.1)
        log = server.log_text()

    # Every line is one JSON object; every line of a request names its id.
    entries = [json.loads(line) for line in log.splitlines() if line.strip()]
    access = [e for e in entries if e["logger"] == "gunicorn.access"]
    assert len(access) >= expected
    assert all(re.fullmatch(r"[0-9a-f]{32}|[\w.:-]{8,128}", e["request_id"]) for e in access)
    assert any(e["request_id"] == "sign-in-request-1" for e in access)
    replies = {o.headers["x-request-id"] for o in outcomes}
    assert replies <= {e["request_id"] for e in access}
    assert len(replies) == len(outcomes)
    assert all(e["request_id"] for e in entries if e["logger"].startswith("peacemap")), (
        "an app line without its request id"
    )

    # Nothing that places, names or lets anyone act as someone.
    needles = [
        "36.812",
        "-1.2876",
        "36.80123",
        "-1.29123",
        "9771",
        "8252",
        admin_token,
        contributor_token,
        issued,
        "pm_guessed1",
        METRICS_TOKEN,
        PASSWORD,
        *contact.values(),
        "quiet.witness",
        "733 481",
    ]
    for needle in needles:
        for form in {needle, urllib.parse.quote(needle), urllib.parse.quote_plus(needle)}:
            assert form not in log, (needle, log)

    # Figures summed over both workers: every request above is counted once.
    last = metrics[-1].body.decode()
    counts = samples(last, "peacemap_http_request_duration_seconds_count")
    listed = sum(v for k, v in counts.items() if 'endpoint="/api/v1/actors",method="GET"' in k)
    assert listed == 5
    scrapes = sum(v for k, v in counts.items() if 'endpoint="/metrics"' in k)
    assert scrapes == len(metrics) - 1  # the last scrape is counted after it answered
    assert samples(last, "peacemap_moderation_queue")['{state="submitted"}'] == 1
    assert samples(last, "peacemap_db_pool_size")[""] >= 1
