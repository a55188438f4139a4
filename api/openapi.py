"""The OpenAPI document as a contract: what every operation must state, stated in one place.

An apispec plugin completes each operation as flask-smorest registers it: an
``operationId`` (from the view, stable, for generated clients), a description on every
response, a schema for every non-JSON representation (tiles, CSV, charts) and header.
Views declare their JSON schemas themselves; ``tests/test_contract.py`` checks that none
is missing and that the document passes openapi-spec-validator and Redocly's lint.
"""

from __future__ import annotations

import re
from http import HTTPStatus

import marshmallow as ma
from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow import resolver as default_resolver

TEXT = {"type": "string"}
# Representations that are not JSON: what their bodies are.
MEDIA_SCHEMAS = {
    "application/vnd.mapbox-vector-tile": {
        "type": "string",
        "contentMediaType": "application/vnd.mapbox-vector-tile",
        "description": "A Mapbox Vector Tile (protocol buffers)",
    },
    "image/png": {"type": "string", "contentMediaType": "image/png"},
    "image/svg+xml": {"type": "string", "contentMediaType": "image/svg+xml"},
    "text/csv": {"type": "string", "contentMediaType": "text/csv"},
    "application/geo+json-seq": {
        "type": "string",
        "description": "GeoJSON text sequence (RFC 8142): each Feature after an RS character "
        "(0x1E) and before a line feed",
    },
    "application/x-ndjson": {"type": "string", "description": "One JSON value per line"},
}


# What a creating operation's 201 leads to: clients (and schemathesis' stateful phase)
# follow these OpenAPI links with the new item's id.
LINKS = {
    "actors_post_actors": (
        "actor_id",
        ("actors_get_actor_by_id", "actors_patch_actor_by_id", "actors_delete_actor_by_id"),
    ),
    "contributions_post_contributions": (
        "contribution_id",
        (
            "contributions_get_contribution_by_id",
            "contributions_post_withdraw",
            "contributions_post_resubmit",
            "moderation_post_claim",
            "moderation_post_decide",
        ),
    ),
    "projects_post_projects": (
        "project_id",
        (
            "projects_get_project_by_id",
            "projects_patch_project_by_id",
            "projects_post_values",
            "projects_get_values",
            "projects_post_indicators",
            "projects_get_report",
        ),
    ),
    "auth_post_my_tokens": ("token_id", ("auth_delete_my_token",)),
    "subscriptions_post_subscriptions": (
        "subscription_id",
        (
            "subscriptions_get_subscription_by_id",
            "subscriptions_patch_subscription_by_id",
            "subscriptions_get_deliveries",
            "subscriptions_delete_subscription_by_id",
        ),
    ),
}


def schema_name(schema) -> str:
    """Component names: the class name without "Schema"; an instance that changes the
    class (``partial``, ``exclude``, ``only``) says how, so that no two schemas share a
    name (apispec would otherwise rename one with a number and a warning)."""
    name = default_resolver(schema)
    if isinstance(schema, ma.Schema):
        if schema.partial:
            name += "Partial"
        if schema.only:
            name += "Only" + "".join(f.title().replace("_", "") for f in sorted(schema.only))
        if schema.exclude:
            name += "Without" + "".join(f.title().replace("_", "") for f in sorted(schema.exclude))
    return name


def marshmallow_plugin() -> MarshmallowPlugin:
    return MarshmallowPlugin(schema_name_resolver=schema_name)


def operation_id(endpoint: str, method: str) -> str:
    """``actors.ActorById`` + ``patch`` → ``actors_patch_actor_by_id``."""
    blueprint, _, view = endpoint.partition(".")
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", view).lower()
    return f"{blueprint.replace('-', '_')}_{method}_{snake}"


class ContractPlugin(BasePlugin):
    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            if rule is not None:
                operation.setdefault("operationId", operation_id(rule.endpoint, method))
            operation["responses"] = _merge_statuses(operation.get("responses", {}))
            if link := LINKS.get(operation.get("operationId")):
                _add_links(operation["responses"].get("201"), *link)
            for status, response in operation.get("responses", {}).items():
                if isinstance(response, dict) and "$ref" not in response:
                    _complete_response(str(status), response, operation)


def _add_links(response: dict | None, parameter: str, targets: tuple[str, ...]) -> None:
    if not isinstance(response, dict):
        return
    response["links"] = {
        "".join(part.title() for part in target.split("_")): {
            "operationId": target,
            "parameters": {parameter: "$response.body#/id"},
        }
        for target in targets
    }


def _merge_statuses(responses: dict) -> dict:
    """``@blp.response(200, …)`` files its response under 200, ``@blp.doc(responses=
    {"200": …})`` under "200": merged, or one would silently replace the other in JSON."""
    merged: dict = {}
    for status, response in responses.items():
        key = str(status)
        if key in merged and isinstance(merged[key], dict) and isinstance(response, dict):
            merged[key] = _deep_merge(merged[key], response)
        else:
            merged[key] = response
    return merged


def _deep_merge(base: dict, extra: dict) -> dict:
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def _complete_response(status: str, response: dict, operation: dict) -> None:
    described = []
    for media_type, media in response.get("content", {}).items():
        if "description" in media:  # not allowed there: it belongs to the response
            described.append(f"{media_type}: {media.pop('description')}")
        if "schema" not in media and media_type in MEDIA_SCHEMAS:
            media["schema"] = dict(MEDIA_SCHEMAS[media_type])
    if "description" not in response:
        phrase = HTTPStatus(int(status)).phrase if status.isdigit() else "Response"
        response["description"] = (
            operation.get("summary", phrase) if status.startswith("2") else phrase
        )
    if described:
        response["description"] += " (" + "; ".join(described) + ")"
    for header in response.get("headers", {}).values():
        if isinstance(header, dict) and "schema" not in header and "$ref" not in header:
            header["schema"] = dict(TEXT)
