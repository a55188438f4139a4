"""The documentation is the contract: the OpenAPI document is valid for the tools client
developers use (openapi-spec-validator, Redocly's lint), complete (an operationId on every
operation, a description on every response, a schema for every success representation, a
payload schema per contribution kind), and true (schemathesis; generated clients)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator
from sqlalchemy.engine import make_url

from api import migrate
from tests.conftest import DATA_KEY, SECRET_KEY

ROOT = Path(__file__).parent.parent
CONTRACT_TOOLS = Path(__file__).parent / "contract"
NODE_BIN = CONTRACT_TOOLS / "node_modules" / ".bin"
VENV_BIN = Path(sys.executable).parent
DEMO_PASSWORD = "peacemap-demo-password"
ROLES = ("contributor", "manager", "moderator", "admin")


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


def test_created_items_link_to_the_operations_that_take_them(spec):
    """OpenAPI links from each creating operation: what schemathesis' stateful phase
    follows (create, then read, change, withdraw, decide on what was created)."""
    by_id = {op["operationId"]: (path, op) for _, path, op in each_operation(spec)}
    creators = ("actors_post_actors", "contributions_post_contributions", "projects_post_projects")
    for creator in creators:
        links = by_id[creator][1]["responses"]["201"]["links"]
        assert links, creator
        for link in links.values():
            path, _ = by_id[link["operationId"]]
            (parameter,) = link["parameters"]
            assert f"{{{parameter}}}" in path, (creator, link)


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


# -- a live server on a database of its own, with the demo data ------------------------------


@pytest.fixture(scope="module")
def live_server(database_urls, smtp_server, tmp_path_factory):
    """gunicorn serving a database of its own (``…_contract``, migrated and loaded with the
    demo data), sending its mail to the SMTP server `make test` starts: the generated
    clients and schemathesis talk HTTP to it, and what they write stays out of the other
    tests' database."""

    def contract_db(url: str | None) -> str | None:
        if url is None:
            return None
        parsed = make_url(url)
        return parsed.set(database=f"{parsed.database}_contract").render_as_string(
            hide_password=False
        )

    urls = {key: contract_db(url) for key, url in database_urls.items()}
    migrate.upgrade(
        urls["MIGRATION_DATABASE_URL"],
        app_url=urls["DATABASE_URL"],
        admin_url=urls["ADMIN_DATABASE_URL"],
        recreate=True,
    )
    env = {
        **os.environ,
        "DATABASE_URL": urls["DATABASE_URL"],
        "PEACEMAP_MIGRATION_DATABASE_URL": urls["MIGRATION_DATABASE_URL"],
        "PEACEMAP_DATA_KEY": DATA_KEY,
        "PEACEMAP_SECRET_KEY": SECRET_KEY,
        "PEACEMAP_RATELIMIT_ENABLED": "false",  # one client, thousands of requests
    }
    if urls["ADMIN_DATABASE_URL"]:
        env["PEACEMAP_ADMIN_DATABASE_URL"] = urls["ADMIN_DATABASE_URL"]
    flask = [str(VENV_BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "seeds", "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    log = tmp_path_factory.mktemp("live") / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "--workers=2",
                "--bind=127.0.0.1:0",  # an ephemeral port, read back from the log
                # The app's own limits are under test here, not gunicorn's request line
                # (the production stack puts its own proxy limits in front).
                "--limit-request-line=0",
                "wsgi:app",
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"Listening at: (http://\S+)", log.read_text())):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        base_url = found[1]
        while True:  # the workers import the app after the master listens
            try:
                with urllib.request.urlopen(f"{base_url}/api/v1/openapi.json", timeout=30):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def sign_in(base_url: str, role: str) -> str:
    body = json.dumps({"email": f"{role}@demo.peacemap.example", "password": DEMO_PASSWORD})
    request = urllib.request.Request(
        f"{base_url}/api/v1/auth/sign-in",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["token"]


# -- schemathesis: every operation, anonymous and as each role -------------------------------

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_schemathesis_finds_no_server_error_and_no_broken_contract(live_server, role, tmp_path):
    headers = (
        [] if role == "anonymous" else ["-H", f"Authorization: Bearer {sign_in(live_server, role)}"]
    )
    # Bounded: a few examples per operation and phase; the stateful phase follows the
    # document's links (a created actor, contribution, project is read back and changed).
    command = [
        str(VENV_BIN / "schemathesis"),
        "run",
        f"{live_server}/api/v1/openapi.json",
        f"--checks={CHECKS}",
        "--phases=examples,fuzzing,stateful",
        "--max-examples=3",
        "--workers=2",
        "--seed=20261123",
        "--no-color",
        "--suppress-health-check=all",
        "--warnings=off",
        "--request-timeout=60",
        *headers,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-12_000:] + result.stderr[-3_000:]


# -- generated clients make typed calls -------------------------------------------------------


def test_a_generated_python_client_makes_typed_calls(live_server, spec_file, tmp_path):
    """openapi-python-client generates a client from the document; tests/contract/
    use_client.py lists actors, signs in, proposes an actor, creates a project, posts a
    value and reads the report through it, every response parsed into its model."""
    config = tmp_path / "generator.json"
    config.write_text(json.dumps({"post_hooks": []}))
    subprocess.run(
        [
            str(VENV_BIN / "openapi-python-client"),
            "generate",
            f"--path={spec_file}",
            f"--output-path={tmp_path / 'peacemap_client'}",
            "--meta=none",
            f"--config={config}",
        ],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
    )
    result = subprocess.run(
        [sys.executable, str(CONTRACT_TOOLS / "use_client.py"), live_server],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-5000:]


def test_generated_typescript_types_check_and_run(live_server, spec_file, tmp_path):
    """openapi-typescript turns the document into types; tests/contract/use_types.ts must
    compile under `tsc --strict` against them, then run with node against the server."""
    (tmp_path / "generated").mkdir()
    subprocess.run(
        [
            node_tool("openapi-typescript"),
            str(spec_file),
            "-o",
            str(tmp_path / "generated" / "schema.d.ts"),
            # Defaults make a response field non-optional; in a request they stay optional.
            "--default-non-nullable",
            "false",
        ],
        check=True,
        capture_output=True,
        timeout=180,
        cwd=CONTRACT_TOOLS,
    )
    shutil.copy(CONTRACT_TOOLS / "use_types.ts", tmp_path / "use_types.ts")
    (tmp_path / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "strict": True,
                    "target": "ES2022",
                    "module": "commonjs",
                    "lib": ["ES2022", "DOM"],
                    "outDir": "out",
                    "noEmitOnError": True,
                },
                "files": ["use_types.ts"],
            }
        )
    )
    compiled = subprocess.run(
        [node_tool("tsc"), "-p", str(tmp_path / "tsconfig.json")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=CONTRACT_TOOLS,
    )
    assert compiled.returncode == 0, compiled.stdout[-5000:]
    ran = subprocess.run(
        ["node", str(tmp_path / "out" / "use_types.js"), live_server],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0 and ran.stdout.startswith("ok "), ran.stderr[-5000:]
