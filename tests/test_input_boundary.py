"""One input boundary: what a hostile client sends, over HTTP, to every operation.

Each class of bad input goes to every operation and parameter the OpenAPI document lists
(so a new endpoint is attacked without a new test): the answer is a 4xx
application/problem+json that names the field and the rule, never a 500, never a write.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from api import limits

JSON_BODY = {"Content-Type": "application/json"}
SAMPLE_PATH_VALUES = {
    "collection_id": "actors",
    "target_type": "actor",
    "z": "0",
    "x": "0",
    "y": "0",
}


@pytest.fixture(scope="module")
def spec(app):
    with app.test_client() as client:
        return client.get("/api/v1/openapi.json").get_json()


def operations(spec, method=None):
    """(method, concrete path, operation) for every documented operation."""
    for template, item in spec["paths"].items():
        for verb, operation in item.items():
            if verb == "parameters" or (method and verb != method):
                continue
            path = re.sub(
                r"\{(\w+)\}",
                lambda m: SAMPLE_PATH_VALUES.get(m[1], str(uuid.uuid4())),
                template,
            )
            yield verb, path, operation


def resolve(spec, schema):
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def query_parameters(spec, operation):
    for parameter in operation.get("parameters", []):
        parameter = resolve(spec, parameter)
        if parameter["in"] == "query":
            yield parameter["name"], resolve(spec, parameter.get("schema", {}))


def is_upload(operation) -> bool:
    """Uploads (CSV, NDJSON or JSON rows) are streamed and checked row by row against the
    same limits as they are read: tests/test_metrics_edges.py attacks them."""
    return "text/csv" in operation.get("requestBody", {}).get("content", {})


def body_schema(spec, operation):
    content = operation.get("requestBody", {}).get("content", {})
    if is_upload(operation):
        return None
    schema = content.get("application/json", {}).get("schema")
    return resolve(spec, schema) if schema else None


def assert_refused(response, field: str, where: str) -> None:
    assert 400 <= response.status_code < 500, (
        f"{where}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    )
    assert response.mimetype == "application/problem+json", where
    problem = response.get_json()
    assert field in problem["detail"] or field in (problem.get("errors") or {}), (
        f"{where}: the problem does not name {field!r}: {problem}"
    )


def call(client, verb, path, headers, **kwargs):
    return getattr(client, verb)(path, headers=headers, **kwargs)


# -- text: NUL characters, lone surrogates, invalid UTF-8, in every place text enters ---------

TEXT_IN_QUERY = {
    "nul": "a%00b",
    "lone_surrogate": "a%ED%A0%80b",  # U+D800 encoded as if it were UTF-8
    "invalid_utf8": "a%FFb",
    "oversized": "a" * (limits.QUERY_VALUE + 1),
}


@pytest.mark.parametrize("attack", TEXT_IN_QUERY)
def test_bad_text_in_any_query_parameter_is_refused_by_name(client, spec, admin, attack):
    for verb, path, operation in operations(spec):
        for name, _ in query_parameters(spec, operation):
            response = call(client, verb, f"{path}?{name}={TEXT_IN_QUERY[attack]}", admin)
            assert_refused(response, name, f"{verb.upper()} {path}?{name}")


TEXT_IN_BODY = {
    "nul": '"a\\u0000b"',
    "lone_surrogate": '"a\\ud800b"',
}


def first_property(spec, schema) -> str | None:
    return next(iter(schema.get("properties", {})), None) if schema else None


@pytest.mark.parametrize("attack", TEXT_IN_BODY)
def test_bad_text_anywhere_in_any_json_body_is_refused_by_path(client, spec, admin, attack):
    checked = 0
    for verb, path, operation in operations(spec):
        schema = body_schema(spec, operation)
        if (name := first_property(spec, schema)) is None:
            continue
        for body, field in (
            (f'{{"{name}": {TEXT_IN_BODY[attack]}}}', name),
            (f'{{"{name}": {{"deep": [1, {TEXT_IN_BODY[attack]}]}}}}', f"{name}.deep[1]"),
        ):
            response = call(client, verb, path, {**admin, **JSON_BODY}, data=body)
            assert_refused(response, field, f"{verb.upper()} {path} {body}")
            checked += 1
    assert checked >= 20  # every writing operation was attacked


def test_invalid_utf8_body_is_refused(client, spec, admin):
    for verb, path, operation in operations(spec):
        if body_schema(spec, operation) is None:
            continue
        response = call(client, verb, path, {**admin, **JSON_BODY}, data=b'{"name": "a\xffb"}')
        assert_refused(response, "body", f"{verb.upper()} {path}")
        assert response.status_code == 400


def test_nul_in_a_header_is_refused(client, admin):
    response = client.post(
        "/api/v1/flags",
        headers={**admin, **JSON_BODY, "Idempotency-Key": "k\x00ey"},
        data=json.dumps({"target_type": "actor", "target_id": str(uuid.uuid4()), "reason": "spam"}),
    )
    assert_refused(response, "Idempotency-Key", "header")


def test_nul_in_the_path_is_refused(client):
    response = client.get("/api/v1/ogc/collections/act%00ors")
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


# -- JSON of a shape no client needs ----------------------------------------------------------

JSON_SHAPES = {
    "nested_thousands_deep": "[" * 5000 + "]" * 5000,
    "nested_objects_deep": '{"a":' * 2000 + "1" + "}" * 2000,
    "integer_of_thousands_of_digits": '{"x": ' + "9" * 5000 + "}",
    "integer_beyond_bigint": '{"x": 99999999999999999999999}',
    "number_beyond_double": '{"x": 1e400}',
    "nan": '{"x": NaN}',
}


@pytest.mark.parametrize("attack", JSON_SHAPES)
def test_json_of_absurd_shape_is_refused_by_every_writing_operation(client, spec, admin, attack):
    for verb, path, operation in operations(spec):
        if body_schema(spec, operation) is None:
            continue
        response = call(client, verb, path, {**admin, **JSON_BODY}, data=JSON_SHAPES[attack])
        assert 400 <= response.status_code < 500, (verb, path, response.status_code)
        assert response.mimetype == "application/problem+json"


def test_a_refused_body_writes_nothing(client, admin, session):
    from api.actors.models import Actor

    before = session.query(Actor).count()
    body = json.dumps(
        {
            "kind": "organisation",
            "name": "Nul\u0000 Centre",
            "language": "en",
            "location": {"type": "Point", "coordinates": [36.8, -1.3]},
        }
    )
    response = client.post("/api/v1/actors", headers={**admin, **JSON_BODY}, data=body)
    assert_refused(response, "name", "POST /actors")
    assert session.query(Actor).count() == before


# -- declared limits: the OpenAPI document shows every bound the service holds to -----------

UNBOUNDED_STRING_FORMATS = {"uuid", "date", "date-time"}


def undeclared_limits(spec, schema, where: str, seen=None):
    """Paths of input values whose limits the document does not show."""
    seen = set() if seen is None else seen
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen = seen | {schema["$ref"]}
        schema = resolve(spec, schema)
    for variant in schema.get("oneOf", []) + schema.get("anyOf", []) + schema.get("allOf", []):
        yield from undeclared_limits(spec, variant, where, seen)
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "string" in kinds and not (
        "maxLength" in schema
        or "enum" in schema
        or schema.get("format") in UNBOUNDED_STRING_FORMATS
    ):
        yield f"{where}: string without maxLength or enum"
    if "integer" in kinds and not ("minimum" in schema and "maximum" in schema):
        yield f"{where}: integer without minimum and maximum"
    if "array" in kinds:
        if "maxItems" not in schema:
            yield f"{where}: array without maxItems"
        yield from undeclared_limits(spec, schema.get("items", {}), f"{where}[]", seen)
    for name, prop in schema.get("properties", {}).items():
        if not prop.get("readOnly"):
            yield from undeclared_limits(spec, prop, f"{where}.{name}", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        if "maxProperties" not in schema:
            yield f"{where}: object without maxProperties"
        yield from undeclared_limits(spec, schema["additionalProperties"], f"{where}.*", seen)


def test_every_input_value_declares_its_limits(spec):
    missing = []
    for verb, _, operation in operations(spec):
        name = f"{verb.upper()} {operation.get('operationId') or operation.get('summary')}"
        for parameter, schema in query_parameters(spec, operation):
            missing.extend(undeclared_limits(spec, schema, f"{name} ?{parameter}"))
        content = operation.get("requestBody", {}).get("content", {})
        if schema := content.get("application/json", {}).get("schema"):
            if is_upload(operation) and schema.get("type") == "array":
                # An upload: its rows are bounded by PEACEMAP_MAX_UPLOAD_BYTES, not a count.
                schema = schema["items"]
            missing.extend(undeclared_limits(spec, schema, f"{name} body"))
    assert not missing, "\n".join(missing)


# -- time: offsets beyond ±15:59, instants past year 9999 -----------------------------------

BAD_INSTANTS = {
    "offset_beyond_15_59": "2025-06-01T12:00:00+16:00",
    "negative_offset_beyond_15_59": "2025-06-01T12:00:00-23:59",
    "past_9999_in_utc": "9999-12-31T23:59:59-05:00",
    "before_year_1_in_utc": "0001-01-01T00:30:00+01:00",
}


def instant_parameters(spec):
    for _, path, operation in operations(spec, "get"):
        for name, schema in query_parameters(spec, operation):
            if schema.get("format") == "date-time" or name == "datetime":
                yield path, name


@pytest.mark.parametrize("attack", BAD_INSTANTS)
def test_impossible_instants_are_refused_in_every_query(client, spec, admin, attack):
    parameters = list(instant_parameters(spec))
    assert len(parameters) >= 5
    for path, name in parameters:
        value = BAD_INSTANTS[attack].replace("+", "%2B")
        response = client.get(f"{path}?{name}={value}", headers=admin)
        assert_refused(response, name, f"{path}?{name}")


@pytest.mark.parametrize("attack", BAD_INSTANTS)
def test_a_token_cannot_be_given_an_expiry_that_breaks_later_requests(
    client, make_user, login, attack
):
    headers = login(make_user())
    response = client.post(
        "/api/v1/me/tokens",
        headers={**headers, **JSON_BODY},
        data=json.dumps({"name": "script", "expires_at": BAD_INSTANTS[attack]}),
    )
    assert_refused(response, "expires_at", "POST /me/tokens")
    assert client.get("/api/v1/me/tokens", headers=headers).status_code == 200


def test_the_latest_allowed_expiry_keeps_the_token_usable(client, make_user, login):
    headers = login(make_user())
    response = client.post(
        "/api/v1/me/tokens",
        headers={**headers, **JSON_BODY},
        data=json.dumps({"name": "script", "expires_at": "9999-12-29T08:00:00-15:59"}),
    )
    assert response.status_code == 201, response.get_json()
    token = {"Authorization": f"Bearer {response.get_json()['token']}"}
    assert client.get("/api/v1/me", headers=token).status_code == 200
    assert client.get("/api/v1/me/tokens", headers=headers).status_code == 200


# -- enumerations and numbers beyond what the database holds ---------------------------------

NOT_IN_ENUMERATION = [
    "/api/v1/ogc/collections/actors/items?kind=spaceship",
    "/api/v1/ogc/collections/resources/items?type=spaceship",
    "/api/v1/tiles/3/4/3.mvt?kind=spaceship",
    "/api/v1/actors/clusters?zoom=3&kind=spaceship",
    "/api/v1/actors/export?kind=spaceship",
    "/api/v1/actors/export?format=shapefile",
    "/api/v1/ogc/collections/actors/items?f=xml",
]


@pytest.mark.parametrize("url", NOT_IN_ENUMERATION)
def test_values_outside_an_enumeration_are_refused(client, url):
    field = url.rsplit("?", 1)[1].rsplit("&", 1)[-1].split("=")[0]
    assert_refused(client.get(url), field, url)


def test_every_integer_parameter_refuses_values_beyond_its_declared_maximum(client, spec, admin):
    for verb, path, operation in operations(spec, "get"):
        for name, schema in query_parameters(spec, operation):
            for value in (2**31, 2**63, 10**30, -(2**63) - 1):
                if schema.get("type") != "integer":
                    continue
                response = call(client, verb, f"{path}?{name}={value}", admin)
                assert_refused(response, name, f"{path}?{name}={value}")


@pytest.mark.parametrize(
    "path,body,field",
    [
        (
            "/api/v1/moderation/items/actor/{id}/revert",
            {"revision": 2**40, "reason": "x"},
            "revision",
        ),
        (
            "/api/v1/moderation/items/actor/{id}/revert",
            {"revision": 2**31, "reason": "x"},
            "revision",
        ),
    ],
)
def test_integers_beyond_the_column_are_refused_in_bodies(
    client, make_actor, people_headers, path, body, field
):
    actor = make_actor()
    response = client.post(
        path.format(id=actor.id),
        headers={**people_headers("moderator"), **JSON_BODY},
        data=json.dumps(body),
    )
    assert_refused(response, field, path)


def test_projects_refuse_a_population_beyond_bigint(client, make_actor, make_user, login):
    actor = make_actor(kind="organisation")
    headers = login(make_user(manager_of=actor))
    body = {"actor_id": str(actor.id), "title": "Census", "countries": ["KE"], "population": 2**63}
    response = client.post(
        "/api/v1/projects", headers={**headers, **JSON_BODY}, data=json.dumps(body)
    )
    assert_refused(response, "population", "POST /projects")


def test_oversized_text_fields_are_refused_not_truncated(client, admin):
    body = {
        "kind": "organisation",
        "name": "x" * 201,
        "language": "en",
        "location": {"type": "Point", "coordinates": [36.8, -1.3]},
    }
    response = client.post("/api/v1/actors", headers={**admin, **JSON_BODY}, data=json.dumps(body))
    assert_refused(response, "name", "POST /actors")
