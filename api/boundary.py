"""The input boundary: every request's path, query string, headers and JSON body are
checked against ``api.limits`` before any view (and so before the database) sees them.

Field rules (lengths, ranges, enumerations) stay in the schemas, declared with the field
classes of ``api.fields``; what is checked here holds for every value whatever its field:
readable UTF-8, no NUL characters or lone surrogates, bounded sizes, JSON of a sane shape.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, request

from api import limits
from api.errors import problem_response, validation_problem

JSON_TYPES = ("application/json", "application/merge-patch+json")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def init_app(app: Flask) -> None:
    app.before_request(check_request)


def check_request():
    try:
        _check_path()
        _check_query()
        _check_headers()
        _check_json_body()
    except limits.InputError as error:
        if error.malformed:
            return problem_response(
                400, f"{error.field}: {error.rule}", errors={error.field: [error.rule]}
            )
        return validation_problem({error.field: [error.rule]})
    return None


def _wsgi_bytes(value: str) -> bytes:
    # WSGI hands over the raw bytes of the request line and headers as latin-1 text.
    return value.encode("latin-1", "replace")


def _check_path() -> None:
    limits.decode_utf8(_wsgi_bytes(request.environ.get("PATH_INFO", "")), "path")


def _check_query() -> None:
    raw = _wsgi_bytes(request.environ.get("QUERY_STRING", ""))
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name_bytes, _, value_bytes = pair.partition(b"=")
        name = limits.decode_utf8(unquote_to_bytes(name_bytes.replace(b"+", b" ")), "query")
        value = limits.decode_utf8(unquote_to_bytes(value_bytes.replace(b"+", b" ")), name)
        if len(name) > limits.CODE:
            raise limits.InputError("query", f"parameter names are at most {limits.CODE} long.")
        if len(value) > limits.QUERY_VALUE:
            raise limits.InputError(name, f"must be at most {limits.QUERY_VALUE} characters.")


def _check_headers() -> None:
    for name, value in request.headers.items():
        if "\x00" in value:
            raise limits.InputError(name, "must not contain NUL characters.")
        if len(value) > limits.HEADER_VALUE:
            raise limits.InputError(name, f"must be at most {limits.HEADER_VALUE} characters.")


def _check_json_body() -> None:
    if request.method not in BODY_METHODS or request.mimetype not in JSON_TYPES:
        return
    view_class = getattr(current_app.view_functions.get(request.endpoint), "view_class", None)
    if getattr(view_class, "upload", False):
        # Uploads are streamed, never read whole: api.projects.uploads checks each row
        # against the same rules (metrics.data) as it reads it.
        return
    raw = request.get_data(cache=True)
    if raw:
        limits.load_json(raw)
