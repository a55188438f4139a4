"""Idempotency-Key for POSTs that create: clients on flaky networks retry safely.

A retry with the same key and body gets the original response and creates nothing; the
same key with another body is 422. The response is stored in the request's transaction,
so it exists exactly when what it reports does.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from flask import Response, make_response, request

from api.auth import current_principal
from api.db import db
from api.errors import Unprocessable
from api.moderation.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")
DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Retry-safe creation: a repeat with the same key and body gets the same reply",
}


def idempotent(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        principal = current_principal()
        if not key or principal.user is None:
            return view(*args, **kwargs)
        if len(key) > 255:
            raise Unprocessable(
                f"{HEADER}: at most 255 characters.", errors={HEADER: ["Longer than 255."]}
            )
        digest = hashlib.sha256(
            request.method.encode() + request.path.encode() + request.get_data()
        ).hexdigest()
        stored = db.session.get(IdempotencyRecord, (principal.user_id, key))
        if stored is not None:
            if stored.request_hash != digest:
                message = (
                    "was used before with a different request; use a new key for a new request."
                )
                raise Unprocessable(f"{HEADER}: {message}", errors={HEADER: [message]})
            response = Response(stored.body, status=stored.status, headers=stored.headers)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response = view(*args, **kwargs)
        if not isinstance(response, Response):
            response = make_response(response)
        if 200 <= response.status_code < 300:
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

    return wrapper
