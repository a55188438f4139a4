"""The documentation is the contract: the OpenAPI document is valid for the tools client
developers use (openapi-spec-validator, Redocly's lint), complete (an operationId on every
operation, a description on every response, a schema for every success representation, a
payload schema per contribution kind), and true (schemathesis; generated clients)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

CONTRACT_TOOLS = Path(__file__).parent / "contract"
NODE_BIN = CONTRACT_TOOLS / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def spec(app) -> dict:
    with app.test_client() as client:
        return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture(scope="module")
def spec_file(spec, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("contract") / "openapi.json"
    path.write_text(json.dumps(spec))
    return path


def each_operation(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method, path, operation


def node_tool(name: str) -> str:
    tool = NODE_BIN / name
    assert tool.exists(), f"{tool} missing: run scripts/contract-tools.sh (make test does)"
    return str(tool)


def test_the_document_passes_openapi_spec_validator(spec):
    errors = [str(error)[:500] for error in OpenAPIV31SpecValidator(spec).iter_errors()]
    assert not errors, "\n\n".join(errors)


def test_the_document_passes_redocly_lint_without_errors(spec_file):
    result = subprocess.run(
        [node_tool("redocly"), "lint", str(spec_file), "--format=json"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=CONTRACT_TOOLS,
    )
    report = json.loads(result.stdout)
    errors = [
        f"{p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}"
        for p in report["problems"]
        if p["severity"] == "error"
    ]
    assert not errors, "\n".join(errors)
    assert report["totals"]["errors"] == 0


def test_every_operation_has_a_unique_operation_id_and_every_response_a_description(spec):
    ids = []
    for method, path, operation in each_operation(spec):
        assert operation.get("operationId"), f"{method.upper()} {path}"
        ids.append(operation["operationId"])
        for status, response in operation["responses"].items():
            if "$ref" not in response:
                assert response.get("description"), f"{method.upper()} {path} {status}"
    assert len(ids) == len(set(ids))
    assert spec["servers"]


def test_every_success_representation_has_a_schema(spec):
    missing = []
    for method, path, operation in each_operation(spec):
        for status, response in operation["responses"].items():
            if not status.startswith("2") or status == "204":
                continue
            content = response.get("content")
            if not content:
                missing.append(f"{method.upper()} {path} {status}: no content")
                continue
            for media_type, media in content.items():
                if not media.get("schema"):
                    missing.append(f"{method.upper()} {path} {status} {media_type}: no schema")
    assert not missing, "\n".join(missing)


def test_a_proposal_payload_is_one_schema_per_kind_told_apart_by_kind(spec):
    from api.moderation.schemas import PROPOSABLE

    body = spec["paths"]["/api/v1/contributions"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["discriminator"]["propertyName"] == "kind"
    mapping = schema["discriminator"]["mapping"]
    assert set(mapping) == set(PROPOSABLE)
    assert {v["$ref"] for v in schema["oneOf"]} == set(mapping.values())
    components = spec["components"]["schemas"]
    for kind, ref in mapping.items():
        variant = components[ref.rsplit("/", 1)[1]]
        assert variant["properties"]["kind"]["enum"] == [kind]
        payload = variant["properties"]["payload"]
        assert "$ref" in payload, f"{kind}: the payload is a free-form object"
        assert components[payload["$ref"].rsplit("/", 1)[1]]["properties"]
