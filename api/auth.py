"""Who is asking. Until accounts exist, writes need the administrator token from
configuration (``PEACEMAP_ADMIN_TOKEN``) as a bearer token; everyone else is public."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from functools import wraps

from flask import current_app, g, request

from api.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Viewer:
    is_admin: bool = False

    @property
    def sees_private(self) -> bool:
        """May see private fields (contact details, unpublished actors)."""
        return self.is_admin


PUBLIC = Viewer()


def current_viewer() -> Viewer:
    if "viewer" not in g:
        g.viewer = _viewer_from_request()
    return g.viewer


def _viewer_from_request() -> Viewer:
    header = request.headers.get("Authorization")
    if header is None:
        return PUBLIC
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "Send credentials as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="peacemap"'},
        )
    expected = current_app.config["ADMIN_TOKEN"]
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized(
            "The token is not valid.",
            headers={"WWW-Authenticate": 'Bearer realm="peacemap", error="invalid_token"'},
        )
    return Viewer(is_admin=True)


def require_admin() -> Viewer:
    viewer = current_viewer()
    if viewer is PUBLIC:
        raise Unauthorized(
            "This request needs an administrator's bearer token.",
            headers={"WWW-Authenticate": 'Bearer realm="peacemap"'},
        )
    if not viewer.is_admin:
        raise Forbidden("Only administrators may do this.")
    return viewer


def admin_only(view):
    """Check credentials before anything else, so an anonymous caller learns nothing
    from validation errors."""

    @wraps(view)
    def checked(*args, **kwargs):
        require_admin()
        return view(*args, **kwargs)

    return checked
