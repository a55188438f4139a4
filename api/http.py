"""HTTP conventions shared by every endpoint: the transaction boundary, ETags and
conditional requests, what shared caches may keep, request body rules, pagination links."""

from __future__ import annotations

import hashlib
from functools import cache
from urllib.parse import urlencode

import flask_smorest
import marshmallow as ma
from flask import Flask, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.exc import DBAPIError, IntegrityError
from webargs.flaskparser import FlaskParser

from api import replicas
from api.db import db
from api.errors import (
    PreconditionFailed,
    PreconditionRequired,
    database_unavailable,
    handle_integrity_error,
    is_database_unavailable,
    problem_response,
)

JSON_BODY_TYPES = ("application/json", "application/merge-patch+json")
BODY_METHODS = ("POST", "PUT", "PATCH")


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessionInterface()
    app.before_request(_require_json_body)
    # Flask runs after_request functions in reverse order of registration:
    # commit first (a failed commit must still become an error), then the ETag.
    app.after_request(_add_etag_and_answer_conditionals)
    app.after_request(_commit_or_roll_back)


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened only when the request carries its cookie: API
    calls have none, and building the signer for nothing cost 2% of a single item's time."""

    def open_session(self, app, request):
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


class SchemaReusingParser(FlaskParser):
    """webargs makes an instance of an arguments schema class on every request (4% of a
    tile's time); a schema keeps no state between loads, so one instance per class serves
    every request."""

    def _get_schema(self, argmap, req) -> ma.Schema:
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return _schema_instance(argmap)
        return super()._get_schema(argmap, req)


@cache
def _schema_instance(schema_class: type[ma.Schema]) -> ma.Schema:
    return schema_class()


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, its query and body arguments parsed with schemas built once."""

    ARGUMENTS_PARSER = SchemaReusingParser()


def _require_json_body():
    if request.method not in BODY_METHODS or request.routing_exception is not None:
        return None
    if not request.content_length and "chunked" not in request.headers.get("Transfer-Encoding", ""):
        return None  # no body at all (e.g. POST /auth/sign-out): nothing to parse
    view_class = _view_class()
    # Upload views accept other bodies (CSV, NDJSON) and larger ones.
    accepted = getattr(view_class, "body_types", JSON_BODY_TYPES)
    if getattr(view_class, "upload", False):
        request.max_content_length = current_app.config["MAX_UPLOAD_BYTES"]
    if request.mimetype not in accepted:
        got = request.mimetype or "no Content-Type"
        return problem_response(
            415, f"Send the request body as {' or '.join(accepted)} (got {got})."
        )
    return None


def _commit_or_roll_back(response: Response) -> Response:
    session = db.session
    # A replica holds nothing to save (and one that just failed must not fail the answer).
    failed = response.status_code >= 400 and not g.get("keep_changes")
    if failed or replicas.serving_from_replica():
        _roll_back(session)
        return response
    try:
        session.commit()
        replicas.remember_write(session, response)
    except IntegrityError as exc:
        return handle_integrity_error(exc)
    except DBAPIError as exc:
        if not is_database_unavailable(exc):
            raise
        _roll_back(session)
        return database_unavailable(exc, during_commit=True)
    return response


def _roll_back(session) -> None:
    """Roll back; a connection the database dropped has nothing left to roll back (it was
    invalidated and will be replaced), and the response already says what happened."""
    try:
        session.rollback()
    except DBAPIError as exc:
        if not is_database_unavailable(exc):
            raise


# The request headers a representation may depend on, unless its view names its own
# (``vary = (...)`` on the MethodView: a public tile varies with fewer, so a CDN keeps it).
REPRESENTATION_VARY = ("Accept", "Accept-Language", "Authorization")


def _view_class():
    return getattr(current_app.view_functions.get(request.endpoint), "view_class", None)


def _add_etag_and_answer_conditionals(response: Response) -> Response:
    """GET responses get a strong ETag (their own, or a digest of the body) and say what
    they vary with; a matching If-None-Match turns them into 304 Not Modified."""
    if request.method not in ("GET", "HEAD") or response.status_code not in (200, 204):
        return response
    view_class = _view_class()
    response.vary.update(getattr(view_class, "vary", REPRESENTATION_VARY))
    if getattr(view_class, "shared_cache", False):
        _say_who_may_keep_it(response)
    if response.status_code != 200 or response.is_streamed:
        return response
    if not response.get_etag()[0]:
        response.set_etag(hashlib.blake2b(response.get_data(), digest_size=12).hexdigest())
    if not any(header in request.headers for header in CONDITIONAL_HEADERS):
        return response  # nothing to compare (most requests): spare werkzeug's checks
    return response.make_conditional(request)


CONDITIONAL_HEADERS = ("If-None-Match", "If-Match", "If-Modified-Since", "If-Unmodified-Since")


def _say_who_may_keep_it(response: Response) -> None:
    """The one rule for shared caches (the proxy in front of the app, a CDN). A public map
    view (``shared_cache = True``: tiles, lists, clusters) asked without credentials or
    cookies may be kept by anyone for PUBLIC_CACHE_SECONDS, then revalidated with its ETag:
    so an actor hidden now is gone from every cache within that bound (README, "Scaling
    out"). Asked with a token, a session or the read-your-writes cookie, the answer is that
    caller's alone. A representation that already chose (private data: no-store) keeps it."""
    if "Cache-Control" in response.headers:
        return
    if request.authorization is not None or request.cookies:
        response.cache_control.private = True
        response.cache_control.no_cache = True
        return
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["PUBLIC_CACHE_SECONDS"]


# -- documentation shared by endpoints -------------------------------------------------------

BEARER = [{"bearerAuth": []}]  # the OpenAPI security requirement of signed-in endpoints
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}


# -- optimistic concurrency ------------------------------------------------------------


def version_etag(version: int) -> str:
    """The ETag (without quotes) of version ``version`` of a resource."""
    return f"v{version}"


def require_if_match(current_version: int) -> None:
    """PATCH and DELETE must name the version they were made on (no lost updates)."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired(
            "This request must carry an If-Match header with the resource's current ETag."
        )
    current = version_etag(current_version)
    candidates = [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")]
    # A representation's ETag may carry a variant suffix ("v3;1a2b") or a content coding
    # ("v3:gzip", added by compression): the version alone decides.
    versions = {c.split(";")[0].split(":")[0] for c in candidates}
    if "*" not in candidates and current not in versions:
        raise PreconditionFailed(
            f'The resource has changed since you read it: its current ETag is "{current}".',
            headers={"ETag": f'"{current}"'},
        )


# -- pagination -------------------------------------------------------------------------


def link_header(offset: int, limit: int, returned: int, total: int | None) -> str:
    """RFC 8288 Link header for offset pagination, keeping every other query parameter."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in ("offset", "limit")]

    def url(new_offset: int) -> str:
        return f"{request.base_url}?{urlencode([*kept, ('limit', limit), ('offset', new_offset)])}"

    links = [f'<{url(0)}>; rel="first"']
    if offset > 0:
        links.append(f'<{url(max(offset - limit, 0))}>; rel="prev"')
    has_more = offset + returned < total if total is not None else returned == limit
    if has_more:
        links.append(f'<{url(offset + limit)}>; rel="next"')
    return ", ".join(links)


# -- representations --------------------------------------------------------------------

GEOJSON = "application/geo+json"


def json_response(
    data, status: int = 200, *, mimetype: str = "application/json", headers=None
) -> Response:
    body = current_app.json.dumps(data, separators=(",", ":"))
    return text_response(body, mimetype, status=status, headers=headers)


def text_response(body: str, mimetype: str, *, status: int = 200, headers=None) -> Response:
    """A response whose body is ready (e.g. JSON assembled by PostgreSQL)."""
    response = current_app.response_class(body, status=status, mimetype=mimetype)
    response.headers.extend(headers or {})
    return response


def wants_geojson(format_arg: str | None) -> bool:
    """``f=geojson``, or an Accept header that prefers GeoJSON to plain JSON."""
    if format_arg:
        return format_arg == "geojson"
    best = request.accept_mimetypes.best_match(["application/json", GEOJSON])
    return (
        best == GEOJSON
        and request.accept_mimetypes[GEOJSON] > request.accept_mimetypes["application/json"]
    )


def page_response(
    items: list, *, offset: int, limit: int, total: int | None = None, **extra
) -> Response:
    """A page of a list: items, counts and RFC 8288 Link headers."""
    body = {"items": items, "count": len(items), "total": total, "limit": limit, "offset": offset}
    body.update(extra)
    return json_response(body, headers={"Link": link_header(offset, limit, len(items), total)})
