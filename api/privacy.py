"""Privacy as data: which fields of each kind of content are private, and the one path a
response takes when it carries them.

- ``PRIVATE_FIELDS`` is the one declaration of what the public never sees.
- A change to private fields only changes nothing public: ``version`` and ``updated_at``
  move only when a public column changes (``track_public_changes``), so ETags, the
  changes feed and tiles cannot tell that an exact location or a contact changed.
- Whatever puts private values into a response calls ``disclose``: the read goes to the
  exact-location access log (who, what, which fields, through which endpoint), and the
  response is sent ``Cache-Control: private, no-store`` (``init_app``). Views that do not
  need private values show ``REDACTED`` in their place (``redact``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

# Per kind of content: the fields the public never sees (exact places, how to reach people,
# who reported what).
PRIVATE_FIELDS: dict[str, tuple[str, ...]] = {
    "actor": ("location", "contact", "area"),
    "observation": ("location", "author_id"),
    "project": ("area",),  # as drawn; the public sees public_area (api.projects.placement)
    "resource": (),
}
# The fields that make a response a read of a protected person's whereabouts or contacts.
LOGGED_FIELDS = ("location", "contact", "area")
REDACTED = "(private)"
# Bookkeeping columns: they follow public changes, they are not content.
BOOKKEEPING = frozenset({"version", "updated_at", "created_at", "search_vector"})


def private_fields(target_type: str | None) -> tuple[str, ...]:
    return PRIVATE_FIELDS.get(target_type or "", ())


def redact(target_type: str | None, values: dict | None) -> dict | None:
    """``values`` with each private field's value replaced by ``REDACTED``."""
    if values is None:
        return None
    hidden = private_fields(target_type)
    return {k: (REDACTED if k in hidden and v is not None else v) for k, v in values.items()}


def redact_changes(target_type: str | None, changes: dict) -> dict:
    """A revision's ``{field: [old, new]}`` with private values redacted."""
    hidden = private_fields(target_type)
    return {
        field: [REDACTED if v is not None else None for v in values] if field in hidden else values
        for field, values in changes.items()
    }


def disclose(
    session: Session,
    principal,
    target_type: str,
    target_id: uuid.UUID,
    fields,
    *,
    log: bool = True,
) -> None:
    """Record that this response carries ``fields`` (private) of an item: the response is
    made uncacheable and, with ``log``, the read is written to the access log."""
    from api.accounts.models import LocationAccess

    fields = sorted(set(fields))
    if not fields:
        return
    if has_request_context():
        g.carries_private = True
    logged = [f for f in fields if f in LOGGED_FIELDS]
    if log and logged and principal is not None and principal.user_id is not None:
        session.add(
            LocationAccess(
                user_id=principal.user_id,
                actor_id=target_id,
                target_type=target_type,
                fields=logged,
                endpoint=request.endpoint if has_request_context() else None,
                ip=principal.ip,
            )
        )


def init_app(app: Flask) -> None:
    app.after_request(_no_store_when_private)


def _no_store_when_private(response: Response) -> Response:
    if g.get("carries_private"):
        response.headers["Cache-Control"] = "private, no-store"
    return response


# -- public changes -----------------------------------------------------------------------


def _comparable(value):
    if isinstance(value, WKBElement):  # loaded (EWKB) and new (WKB) forms of one geometry
        return to_shape(value).wkb
    return value


def public_change(obj, target_type: str) -> bool:
    """Whether a pending change of ``obj`` touches a column the public can see."""
    state = inspect(obj)
    hidden = set(private_fields(target_type)) | BOOKKEEPING
    for attr in state.mapper.column_attrs:
        if attr.key in hidden:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        if not history.deleted or not history.added:
            return True  # a value we had not loaded: assume it changed
        if _comparable(history.deleted[0]) != _comparable(history.added[0]):
            return True
    return False


def track_public_changes(model, target_type: str) -> None:
    """Let ``version`` and ``updated_at`` of ``model`` move only with its public content.
    (The model maps ``version`` with ``version_id_generator=False``: the ORM still checks
    it on every UPDATE, this listener decides when it moves.)"""

    @event.listens_for(Session, "before_flush")
    def _bump(session, _context, _instances):
        for obj in session.new:
            if isinstance(obj, model) and obj.version is None:
                obj.version = 1
        for obj in session.dirty:
            if not isinstance(obj, model) or not session.is_modified(obj):
                continue
            state = inspect(obj)
            if public_change(obj, target_type):
                if not state.attrs.version.history.has_changes():
                    obj.version += 1
                obj.updated_at = datetime.now(UTC)
            elif state.attrs.updated_at.history.has_changes():
                # An explicit updated_at on a private-only change would still betray it.
                (previous,) = state.attrs.updated_at.history.deleted or (None,)
                if previous is not None:
                    obj.updated_at = previous
