"""HTTP conventions: problem details, conditional requests, compression, limits, docs."""

import gzip

import pytest
from werkzeug.exceptions import BadRequest, Forbidden, TooManyRequests

from api import create_app

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response, status):
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_404_405_415_are_problems(client, admin):
    assert_problem(client.get("/api/v1/nowhere"), 404)
    response = client.put("/api/v1/actors", json={})
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    body = assert_problem(client.post("/api/v1/actors", data="name=x", headers=admin), 415)
    assert "application/json" in body["detail"]


def test_malformed_json_is_400(client, admin):
    response = client.post(
        "/api/v1/actors", data="{not json", content_type="application/json", headers=admin
    )
    assert_problem(response, 400)


def test_oversized_body_is_413(client, admin):
    response = client.post(
        "/api/v1/actors",
        data="[" + "1," * 600_000 + "1]",
        content_type="application/json",
        headers=admin,
    )
    assert_problem(response, 413)


def test_validation_problem_has_a_per_field_errors_map(client):
    body = assert_problem(client.get("/api/v1/actors?limit=abc&kind=x"), 422)
    assert set(body["errors"]) == {"limit", "kind"}
    assert "limit" in body["detail"] and "kind" in body["detail"]


def test_conflict_is_409(client, admin):
    theme = {"key": "peace_tech", "label": "Peace technology", "group": "sector"}
    assert client.post("/api/v1/themes", json=theme, headers=admin).status_code == 201
    assert_problem(client.post("/api/v1/themes", json=theme, headers=admin), 409)


def test_unauthorised_is_401_with_a_challenge(client):
    response = client.post("/api/v1/themes", json={}, headers={"Authorization": "Basic abc"})
    assert_problem(response, 401)
    assert "Bearer" in response.headers["WWW-Authenticate"]


@pytest.fixture(scope="module")
def failing_app(database_url):
    """An app with routes that fail in the ways no real endpoint should, yet."""
    app = create_app({"DATABASE_URL": database_url})

    @app.get("/api/v1/test/crash")
    def crash():
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/api/v1/test/<int:status>")
    def fail(status):
        raise {400: BadRequest, 403: Forbidden, 429: TooManyRequests}[status]()

    return app


def test_unexpected_error_is_a_500_problem_with_an_id_and_no_internals(failing_app, caplog):
    response = failing_app.test_client().get("/api/v1/test/crash")
    body = assert_problem(response, 500)
    assert "hunter2" not in response.get_data(as_text=True)
    assert body["error_id"] in body["detail"]
    assert any(body["error_id"] in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("status", [400, 403, 429])
def test_other_http_errors_are_problems(failing_app, status):
    assert_problem(failing_app.test_client().get(f"/api/v1/test/{status}"), status)


def test_get_has_an_etag_and_answers_304(client, make_actor):
    actor = make_actor()
    for url in (f"/api/v1/actors/{actor.id}", "/api/v1/actors?limit=5", "/api/v1/themes"):
        first = client.get(url)
        etag = first.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        assert again.get_data() == b""


def test_etag_changes_when_the_actor_changes(client, make_actor, admin):
    actor = make_actor()
    url = f"/api/v1/actors/{actor.id}"
    etag = client.get(url).headers["ETag"]
    client.patch(url, json={"summary": "changed"}, headers={**admin, "If-Match": etag})
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_responses_are_gzipped_when_accepted(client, make_actor):
    for i in range(5):
        make_actor(name=f"Gzip test {i}")
    response = client.get("/api/v1/actors", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b'"items"' in gzip.decompress(response.get_data())
    etag = response.headers["ETag"]
    again = client.get("/api/v1/actors", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304
    assert "Content-Encoding" not in client.get("/api/v1/actors").headers


def test_pagination_links_and_total(client, make_actor):
    for i in range(5):
        make_actor(name=f"Paged {i}")
    first = client.get("/api/v1/actors?q=Paged&sort=name&limit=2")
    body = first.get_json()
    assert [i["name"] for i in body["items"]] == ["Paged 0", "Paged 1"]
    assert body["total"] == 5 and body["limit"] == 2 and body["offset"] == 0
    assert 'rel="next"' in first.headers["Link"] and 'rel="prev"' not in first.headers["Link"]
    next_url = first.headers["Link"].split('rel="first", <')[1].split(">")[0]
    second = client.get(next_url).get_json()
    assert [i["name"] for i in second["items"]] == ["Paged 2", "Paged 3"]
    last = client.get("/api/v1/actors?q=Paged&sort=name&limit=2&offset=4")
    assert 'rel="next"' not in last.headers["Link"] and 'rel="prev"' in last.headers["Link"]
    assert client.get("/api/v1/actors?q=Paged&limit=2&offset=40").get_json()["total"] == 5


def test_total_is_omitted_past_the_counting_cap(client, monkeypatch, make_actor):
    from api.actors import service

    monkeypatch.setattr(service, "COUNT_LIMIT", 3)
    for i in range(5):
        make_actor(name=f"Capped {i}")
    assert client.get("/api/v1/actors?q=Capped&limit=2").get_json()["total"] is None


def test_openapi_document_describes_everything(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert {"/api/v1/actors", "/api/v1/actors/{actor_id}", "/api/v1/themes"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    problem = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert "application/problem+json" in problem
    patch = spec["paths"]["/api/v1/actors/{actor_id}"]["patch"]
    assert {"412", "428", "422"} <= set(patch["responses"])
    assert patch["security"] == [{"bearerAuth": []}]
    listing = spec["paths"]["/api/v1/actors"]["get"]
    assert {"bbox", "near", "radius_km", "intersects", "q", "theme", "fields"} <= {
        p["name"] for p in listing["parameters"]
    }
    assert "application/geo+json" in listing["responses"]["200"]["content"]
    operations = [
        op for ops in spec["paths"].values() for op in ops.values() if isinstance(op, dict)
    ]
    assert all("Who:" in op.get("description", "") for op in operations)
    assert client.get("/api/v1/docs").status_code == 200
    with client.get("/static/swagger-ui/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200


def test_themes_list_the_framework_and_sectors(client):
    themes = client.get("/api/v1/themes").get_json()
    framework = {t["key"] for t in themes if t["group"] == "framework"}
    assert framework == {"violence", "legitimacy", "polarisation", "agency", "investment"}
    assert {
        "gender",
        "youth",
        "climate_environment",
        "child_protection",
        "preventing_violent_extremism",
        "education",
        "transitional_justice",
    } <= {t["key"] for t in themes}
