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
SAMPLE_PATH_VALUES = {"collection_id": "actors", "target_type": "actor", "z": "0", "x": "0", "y": "0"}


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


def body_schema(spec, operation):
    content = operation.get("requestBody", {}).get("content", {})
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
