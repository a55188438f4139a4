"""Idempotency-Key for POSTs that create: clients on flaky networks retry safely.

A key is bound to the caller, the method, the path, the query string and the body: a
retry of that very request gets the original response and creates nothing; the same key
on any other request is 422. Keys expire after ``IDEMPOTENCY_TTL_HOURS``
(PEACEMAP_IDEMPOTENCY_TTL_HOURS), after which the key starts afresh. The response is
stored in the request's transaction, so it exists exactly when what it reports does.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from flask import Response, current_app, make_response, request
from sqlalchemy import delete, func

from api.auth import current_principal
from api.db import db
from api.errors import Unprocessable
from api.moderation.models import IdempotencyRecord

REUSED = "was used before with a different request; use a new key for a new request."

HEADER = "Idempotency-Key"
# The web pages' forms carry their key in a hidden field, one per form shown (api.web).
FORM_FIELD = "idempotency_key"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")
DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Retry-safe creation: a repeat of the same request (method, path, query, "
    "body, caller) with the same key gets the same reply; keys expire after "
    "PEACEMAP_IDEMPOTENCY_TTL_HOURS",
}


class KeyReused(Unprocessable):
    """The key of an earlier request that did something, on a different one: for a web
    form, the form sent again with changes after the back button (api.web.errors answers
    it with a page). ``result`` is where the first answer sent its sender, if anywhere."""

    def __init__(self, result: str | None):
        super().__init__(f"{HEADER}: {REUSED}", errors={HEADER: [REUSED]})
        self.result = result


def _request_digest(principal) -> str:
    """What a key is bound to. Each part is length-prefixed, so that no two different
    requests concatenate to the same bytes."""
    digest = hashlib.sha256()
    for part in (
        str(principal.user_id).encode(),
        request.method.encode(),
        request.path.encode(),
        request.query_string,
        _body(),
    ):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _body() -> bytes:
    """The request's body; for a form, read already (the CSRF check reads it first), its
    fields in order, without the CSRF token and the key itself: a token made a second later
    for the same form is the same request (it carries a timestamp)."""
    if request.form:
        not_data = {FORM_FIELD, current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")}
        fields = [(k, v) for k, v in request.form.items(multi=True) if k not in not_data]
        return urlencode(fields).encode()
    return request.get_data()


def _key() -> str | None:
    if key := request.headers.get(HEADER):
        return key
    return request.form.get(FORM_FIELD) if request.mimetype in FORM_TYPES else None


def _forget_expired(user_id) -> None:
    ttl = timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.created_at < func.now() - ttl
        )
    )


def idempotent(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = _key()
        principal = current_principal()
        if not key or principal.user is None:
            return view(*args, **kwargs)
        if len(key) > 255:
            raise Unprocessable(
                f"{HEADER}: at most 255 characters.", errors={HEADER: ["Longer than 255."]}
            )
        digest = _request_digest(principal)
        _forget_expired(principal.user_id)
        stored = db.session.get(IdempotencyRecord, (principal.user_id, key))
        if stored is not None:
            if stored.request_hash != digest:
                raise KeyReused(stored.headers.get("Location"))
            response = Response(stored.body, status=stored.status, headers=stored.headers)
            response.headers["Idempotent-Replayed"] = "true"
            # A replay repeats a response made for one caller, private fields and all.
            response.headers["Cache-Control"] = "private, no-store"
            return response
        response = view(*args, **kwargs)
        if not isinstance(response, Response):
            response = make_response(response)
        # A form's answer is a redirect to what it made (303): a resubmit is sent there too.
        if 200 <= response.status_code < 300 or response.status_code == 303:
            db.session.add(
                IdempotencyRecord(
                    user_id=principal.user_id,
                    key=key,
                    request_hash=digest,
                    status=response.status_code,
                    body=response.get_data(as_text=True),
                    headers={
                        h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers
                    },
                )
            )
        return response

    wrapper.idempotent = True  # kept by functools.wraps: tests find every such view
    return wrapper
