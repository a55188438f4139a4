"""One error shape for the whole API: RFC 9457 problem details.

Domain code raises ``ProblemError`` subclasses, which know nothing of Flask; werkzeug's
HTTP exceptions (404 routing, 405, 413, webargs' 422 …) and unexpected exceptions are
turned into the same shape here, and nowhere else.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus

import marshmallow as ma
from flask import Response, current_app, g, json, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from api.language import interface_language
from api.problem_texts import describe, localise

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("peacemap")


class ProblemError(Exception):
    """An error whose message is safe to show to the client."""

    status = 400
    type = "about:blank"
    # Whether what the request wrote before failing is still committed (e.g. the audit
    # record of a failed sign-in); by default a failed request writes nothing.
    keep_changes = False

    def __init__(self, detail: str, *, errors: dict | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class Unauthorized(ProblemError):
    status = 401


class Forbidden(ProblemError):
    status = 403


class NotFound(ProblemError):
    status = 404


class Conflict(ProblemError):
    status = 409


class PreconditionFailed(ProblemError):
    status = 412


class Unprocessable(ProblemError):
    status = 422
    type = "urn:peacemap:problem:validation"


class PreconditionRequired(ProblemError):
    status = 428


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation of every error response)."""

    type = ma.fields.String(
        metadata={
            "description": "URI reference naming the problem type; about:blank for plain HTTP"
        }
    )
    title = ma.fields.String(metadata={"description": "Short summary of the problem type"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong in this request"})
    instance = ma.fields.String(metadata={"description": "The request path"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        metadata={"description": "For validation problems: the rules each field broke, by field"},
    )
    error_id = ma.fields.String(
        metadata={"description": "For 500: the id under which the failure was logged"}
    )


def problem_response(
    status: int,
    detail: str,
    *,
    type_: str = "about:blank",
    errors: dict | None = None,
    headers: dict | None = None,
    extra: dict | None = None,
) -> Response:
    if (page := _page_for_people(status, extra)) is not None:
        page.headers.update(headers or {})  # Retry-After above all
        return page
    title, detail, language = localise(status, detail, interface_language(), errors)
    body = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    response = Response(
        json.dumps(body, separators=(",", ":")), status=status, mimetype=PROBLEM_JSON
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    return response


def _page_for_people(status: int, extra: dict | None) -> Response | None:
    """The web application's HTML error page, where it has one (api.web.errors)."""
    render = current_app.extensions.get("peacemap.error_page")
    return render(status, (extra or {}).get("error_id")) if render else None


def _field_errors(messages: dict) -> dict:
    """webargs nests messages by location ({"json": {"name": [...]}}): flatten to fields."""
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def validation_problem(errors: dict) -> Response:
    return problem_response(
        422,
        "; ".join(describe(errors)[0]) or "The request is not valid.",
        type_=Unprocessable.type,
        errors=errors,
    )


class PeacemapApi(Api):
    """flask-smorest's Api with problem+json errors, documented as such."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"

    def _register_responses(self):
        # Same as flask-smorest's, but the OpenAPI document names the real content type.
        for status in HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_error_handlers(self):
        super()._register_error_handlers()
        self._app.register_error_handler(ProblemError, handle_problem_error)
        self._app.register_error_handler(IntegrityError, handle_integrity_error)
        self._app.register_error_handler(DBAPIError, handle_database_error)
        self._app.register_error_handler(PoolTimeoutError, handle_database_error)

    def handle_http_exception(self, error: HTTPException):
        if isinstance(error, InternalServerError):
            return internal_error(error.original_exception or error)
        data = getattr(error, "data", None) or {}
        headers = dict(data.get("headers") or {})
        if error.code == 405 and (allowed := error.get_headers()):
            headers.update({k: v for k, v in allowed if k == "Allow"})
        messages = data.get("errors") or data.get("messages")
        if error.code == 422 and messages:
            response = validation_problem(_field_errors(messages))
            response.headers.extend(headers)
            return response
        detail = data.get("message") or error.description or HTTPStatus(error.code).phrase
        return problem_response(error.code, detail, headers=headers)


def handle_problem_error(error: ProblemError):
    g.keep_changes = error.keep_changes
    return problem_response(
        error.status, error.detail, type_=error.type, errors=error.errors, headers=error.headers
    )


def handle_integrity_error(error: IntegrityError):
    from api.db import db

    db.session.rollback()
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    detail = "The request conflicts with data that already exists"
    if constraint:
        detail += f" (rule {constraint})"
    return problem_response(409, detail + ".", type_="urn:peacemap:problem:conflict")


def is_database_unavailable(error: BaseException) -> bool:
    """The database did not answer in time, refused the connection, went away mid-call, or
    cancelled the statement at its timeout: a passing condition, worth a retry."""
    if isinstance(error, PoolTimeoutError | OperationalError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def database_unavailable(error: BaseException, *, during_commit: bool = False) -> Response:
    """503 + Retry-After, and one log line with an error id (no traceback: an outage would
    otherwise write one per request)."""
    error_id = uuid.uuid4().hex
    cause = getattr(error, "orig", None) or error
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    from api.accesslog import loggable_path  # a tile's path names a place

    path = loggable_path(request.path)
    log.warning("database unavailable %s %s %s: %s", error_id, request.method, path, reason)
    retry_after = current_app.config.get("DB_RETRY_AFTER_SECONDS", 5)
    outcome = (
        "The database stopped answering while saving: read the result back, or repeat the "
        "request with the same Idempotency-Key."
        if during_commit
        else "The database is not answering at the moment; nothing was changed."
    )
    return problem_response(
        503,
        f"{outcome} Try again in {retry_after} seconds (logged as {error_id}).",
        type_="urn:peacemap:problem:database-unavailable",
        headers={"Retry-After": str(retry_after)},
        extra={"error_id": error_id},
    )


def handle_database_error(error: Exception):
    if is_database_unavailable(error):
        return database_unavailable(error)
    return internal_error(error)


def internal_error(exc: BaseException):
    error_id = uuid.uuid4().hex
    log.error("unhandled error %s", error_id, exc_info=exc)
    return problem_response(
        500,
        f"An unexpected error happened; it was logged as {error_id}.",
        extra={"error_id": error_id},
    )
