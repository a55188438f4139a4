"""Cross-origin requests (CORS), in one place.

Two policies, by origin:
- any origin may read public data: GET and HEAD without credentials get
  ``Access-Control-Allow-Origin: *`` (a map on any site can load tiles and lists);
- only the origins in PEACEMAP_CORS_ORIGINS and the service's own may send credentials
  (``Authorization``) or write (POST, PUT, PATCH, DELETE): their preflights allow it, their
  responses name them. A write or a credentialed call that names another origin is refused
  with 403 before it runs, so a page on a hostile site cannot have a browser (or anything
  else that says where it comes from) act for a signed-in person.

flask-cors was considered: it configures one policy per URL pattern, not "anyone may read,
these origins may write" on the same URLs, so the two policies would be split across it and
code like this anyway.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from api.errors import problem_response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What any page may send on a read; browsers send the CORS-safelisted ones without asking.
PUBLIC_REQUEST_HEADERS = ("Accept", "Accept-Language", "If-None-Match", "If-Modified-Since")
TRUSTED_REQUEST_HEADERS = (
    *PUBLIC_REQUEST_HEADERS,
    "Authorization",
    "Content-Type",
    "If-Match",
    "Idempotency-Key",
)
# Response headers a script on another origin may read (beyond the safelisted ones).
EXPOSED_HEADERS = (
    "ETag",
    "Link",
    "Location",
    "Retry-After",
    "Content-Language",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)
PREFLIGHT_MAX_AGE_SECONDS = 600


def init_app(app: Flask) -> None:
    """Register before every other request hook (a preflight is answered before limits,
    authentication or body checks) and so after every other response hook."""
    app.before_request(_answer_preflight_or_refuse)
    app.after_request(_add_headers)


def normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def _trusted(origin: str) -> bool:
    """A configured origin, or the service's own: as the request reached it, or as people
    reach it (PEACEMAP_PUBLIC_URL, e.g. https behind a proxy that ends TLS)."""
    origin = normalise_origin(origin)
    own = {normalise_origin(request.host_url), _origin_of(current_app.config["PUBLIC_URL"])}
    return origin in own or origin in current_app.config["CORS_ORIGINS"]


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return normalise_origin(f"{parts.scheme}://{parts.netloc}")


def _is_preflight() -> bool:
    return (
        request.method == "OPTIONS"
        and "Origin" in request.headers
        and "Access-Control-Request-Method" in request.headers
    )


def _answer_preflight_or_refuse() -> Response | None:
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    if _is_preflight():
        response = Response(status=204)
        if _trusted(origin):
            methods = sorted(request.url_rule.methods) if request.url_rule else ["GET", "HEAD"]
            headers = TRUSTED_REQUEST_HEADERS
        else:
            methods, headers = ["GET", "HEAD"], PUBLIC_REQUEST_HEADERS
        response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
        response.headers["Access-Control-Allow-Headers"] = ", ".join(headers)
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
        return response
    credentialed = "Authorization" in request.headers
    if (credentialed or request.method not in SAFE_METHODS) and not _trusted(origin):
        return problem_response(
            403,
            f"Requests with credentials or that change data are accepted only from the "
            f"origins in PEACEMAP_CORS_ORIGINS; {normalise_origin(origin)!r} is not one.",
        )
    return None


def _add_headers(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if current_app.config["CORS_ORIGINS"] or request.method not in SAFE_METHODS:
        response.vary.add("Origin")  # the answer differs by origin: caches must key on it
    if origin is not None and _trusted(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.vary.add("Origin")
    elif request.method in SAFE_METHODS:
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        return response
    if not _is_preflight():
        response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    return response
