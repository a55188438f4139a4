"""The HTTP access log without search coordinates or credentials.

A request line such as ``GET /api/v1/actors?near=36.82,-1.29&radius_km=2`` says where
someone is looking, often where they are; a tile address at zoom 14 says the same; an
``Authorization`` header or a token in a query string lets whoever reads the log act as
its owner. Access logs are kept longer and shared more widely than the database, so they
keep only what operations need: the path, the parameter names, the values of parameters
that place nobody (paging, format, sorting, fields, themes and kinds), the status, the
size and the timing.

``RedactingLogger`` is gunicorn's logger with every atom a log format can name made safe
(``%(r)s``, ``%(U)s``, ``%(q)s``, ``%(f)s``, and the request headers and environment
variables ``%({...}i)s`` / ``%({...}e)s``). ``make run`` and the production stack use it
(``--logger-class api.accesslog.RedactingLogger``).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from gunicorn.glogging import Logger

# Query parameters whose values are logged as sent: none of them places or names anyone.
KEPT_VALUES = frozenset(
    {
        "limit",
        "offset",
        "f",
        "format",
        "sort",
        "fields",
        "lang",
        "kind",
        "theme",
        "theme_match",
        "include",
        "status",
    }
)
REDACTED = "-"
# Tiles and similar addresses name a place in the path: keep the zoom, drop the place.
_PLACE_IN_PATH = re.compile(r"(/tiles/\d+)/\d+/\d+")
# Headers and environment variables that may carry credentials or the raw request.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
_RESPONSE_SECRETS = frozenset({"set-cookie"})


def loggable_path(path: str) -> str:
    return _PLACE_IN_PATH.sub(r"\1/-/-", path)


def loggable_query(query: str) -> str:
    """Parameter names kept, values kept only for the parameters in ``KEPT_VALUES``."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True, errors="replace")
    return urlencode(
        [(name, value if name in KEPT_VALUES else REDACTED) for name, value in pairs],
        safe=",-",
    )


def loggable_target(target: str) -> str:
    """A request target (path and query, as sent) fit for the access log."""
    path, _, query = target.partition("?")
    safe = loggable_path(path)
    return f"{safe}?{loggable_query(query)}" if query else safe


def loggable_url(url: str) -> str:
    """A full URL (a Referer) fit for the access log."""
    if not url or url == "-":
        return url
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme, parts.netloc, loggable_path(parts.path), loggable_query(parts.query), "")
    )


class RedactingLogger(Logger):
    """gunicorn's logger, with no search coordinates, tokens or cookies in access lines."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        target = loggable_target(environ.get("RAW_URI") or environ.get("PATH_INFO", ""))
        atoms["r"] = f"{environ['REQUEST_METHOD']} {target} {environ['SERVER_PROTOCOL']}"
        atoms["U"] = loggable_path(environ.get("PATH_INFO", ""))
        atoms["q"] = loggable_query(environ.get("QUERY_STRING", ""))
        atoms["f"] = loggable_url(environ.get("HTTP_REFERER", "-"))
        atoms["u"] = "-"  # a Basic user name is a credential's half
        for name in list(atoms):
            if name.endswith("}e") or (
                name.endswith("}i") and name[1:-2] in _SECRET_HEADERS | {"referer"}
            ):
                del atoms[name]  # unknown atoms are logged as "-"
            elif name.endswith("}o") and name[1:-2] in _RESPONSE_SECRETS:
                del atoms[name]
        return atoms


class JsonLogger(RedactingLogger):
    """gunicorn's logs as JSON, one object per line: the access log (redacted as above,
    with the request id the app echoed in X-Request-Id) and the error log, into which the
    app's own JSON lines also go (deploy/gunicorn.conf.py)."""

    def setup(self, cfg):
        super().setup(cfg)
        from api.observability import JsonFormatter

        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())
        for handler in self.access_log.handlers:
            handler.setFormatter(logging.Formatter("%(message)s"))

    def access(self, resp, req, environ, request_time):
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict):
            return
        request_id = next(
            (value for name, value in resp.headers if name.lower() == "x-request-id"), None
        )
        target = loggable_target(environ.get("RAW_URI") or environ.get("PATH_INFO", ""))
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "info",
            "logger": "gunicorn.access",
            "message": f"{environ['REQUEST_METHOD']} {target} {resp.status_code}",
            "request_id": request_id,
            "method": environ["REQUEST_METHOD"],
            "target": target,
            "status": resp.status_code,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": environ.get("REMOTE_ADDR"),
        }
        try:
            self.access_log.info(json.dumps(entry))
        except Exception:
            self.error(f"Failed to write the access log line of {target}")
