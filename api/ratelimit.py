"""Rate limits (flask-limiter): per account when signed in, per IP address otherwise
(including every request whose credentials fail), and stricter on sign-in and
registration to slow password guessing. Counters live in Redis, shared by every worker
and process. A breach is a 429 problem with Retry-After."""

from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from api.auth import counted_principal


def _caller_key() -> str:
    principal = counted_principal()
    return f"user:{principal.user_id}" if principal.user else f"ip:{get_remote_address()}"


def _default_limit() -> str:
    config = current_app.config
    return config["RATELIMIT_USER"] if counted_principal().user else config["RATELIMIT_ANONYMOUS"]


def _exempt() -> bool:
    return request.endpoint == "static" or request.endpoint is None


limiter = Limiter(
    key_func=_caller_key,
    default_limits=[_default_limit],
    default_limits_exempt_when=_exempt,
    headers_enabled=True,
    retry_after="delta-seconds",
)


@limiter.request_filter
def _switched_off() -> bool:
    """RATELIMIT_ENABLED of the app serving the request: the limiter object is one per
    process, so its own switch would follow whichever app was created last (tests)."""
    return not current_app.config["RATELIMIT_ENABLED"]


# Shared by sign-in and registration, keyed by IP whoever the caller claims to be.
credential_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_CREDENTIALS"],
    scope="credentials",
    key_func=get_remote_address,
)

# Map tiles: counted apart from the API (a decorated limit replaces the default ones), per
# account or address like the rest, so a map session never spends the API's budget.
tile_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_TILES"], scope="tiles")

# Messages relayed to actors' managers (api/contact.py), per account: a signed-in sender
# cannot turn Peacemap into a spam relay.
contact_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_CONTACT"], scope="contact"
)
