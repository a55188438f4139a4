"""Configuration from environment variables, read when the app is created."""

from __future__ import annotations

import os

DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"
# The local cluster's roles (scripts/db.sh, api.migrate.bootstrap): migrations own the
# tables, the service connects with least privilege, a superuser only sets things up.
OWNER_ROLE = "peacemap_owner"
APP_ROLE = "peacemap_app"
SUPERUSER = "postgres"


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete: the service must not start."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from exc


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from exc


def local_server_port(env: dict[str, str], base: int) -> int:
    """The port of a server the project starts itself: its base port plus
    PEACEMAP_PORT_OFFSET, so that several checkouts can run side by side."""
    return base + _int(env, "PEACEMAP_PORT_OFFSET", 0)


def database_urls(env: dict[str, str]) -> dict[str, str | None]:
    """The service's URL (least privilege), the migrations' (the tables' owner) and, for
    setting up a local cluster only, a superuser's.

    Without DATABASE_URL: the project's own cluster started by scripts/db.sh, with its
    three roles. With it: migrations use PEACEMAP_MIGRATION_DATABASE_URL, or DATABASE_URL
    itself when that is not set (one role for both, which `flask db upgrade` refuses in
    production); nothing is set up as a superuser unless PEACEMAP_ADMIN_DATABASE_URL says so.
    """
    if url := env.get("DATABASE_URL"):
        return {
            "DATABASE_URL": url,
            "MIGRATION_DATABASE_URL": env.get("PEACEMAP_MIGRATION_DATABASE_URL") or url,
            "ADMIN_DATABASE_URL": env.get("PEACEMAP_ADMIN_DATABASE_URL") or None,
        }
    port = env.get("PEACEMAP_PG_PORT") or local_server_port(env, 54329)
    local = f"postgresql+psycopg2://{{}}@127.0.0.1:{port}/peacemap"
    return {
        "DATABASE_URL": local.format(APP_ROLE),
        "MIGRATION_DATABASE_URL": env.get("PEACEMAP_MIGRATION_DATABASE_URL")
        or local.format(OWNER_ROLE),
        "ADMIN_DATABASE_URL": env.get("PEACEMAP_ADMIN_DATABASE_URL") or local.format(SUPERUSER),
    }


def cors_origins(env: dict[str, str]) -> frozenset[str]:
    """PEACEMAP_CORS_ORIGINS: the web origins (``https://app.example.org``, comma-separated)
    allowed to send credentials and write; anyone may read public data (api/cors.py)."""
    origins = set()
    for raw in (env.get("PEACEMAP_CORS_ORIGINS") or "").split(","):
        origin = raw.strip().rstrip("/").lower()
        if not origin:
            continue
        scheme, sep, host = origin.partition("://")
        if not sep or scheme not in ("http", "https") or not host or "/" in host or "*" in host:
            raise ConfigError(
                "PEACEMAP_CORS_ORIGINS must list origins such as https://app.example.org "
                f"(scheme and host, no path, no wildcard), not {raw.strip()!r}"
            )
        origins.add(origin)
    return frozenset(origins)


def from_environment(env: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from PEACEMAP_* variables (and DATABASE_URL)."""
    env = dict(os.environ if env is None else env)
    config = {
        "ENV_NAME": env.get("PEACEMAP_ENV", "development"),
        "SECRET_KEY": env.get("PEACEMAP_SECRET_KEY", DEFAULT_SECRET_KEY),
        **database_urls(env),
        # The key(s) exact locations and contacts are sealed with (api.crypto): the first
        # seals, all open. Without either, development generates one; production refuses.
        "DATA_KEY": env.get("PEACEMAP_DATA_KEY") or None,
        "DATA_KEY_FILE": env.get("PEACEMAP_DATA_KEY_FILE") or None,
        # Bounds on every wait for the database (api.db): a frozen or unreachable one gives
        # 503 + Retry-After within seconds instead of hanging every client.
        "DB_CONNECT_TIMEOUT_SECONDS": _int(env, "PEACEMAP_DB_CONNECT_TIMEOUT", 3),
        "DB_STATEMENT_TIMEOUT_MS": _int(env, "PEACEMAP_DB_STATEMENT_TIMEOUT_MS", 5000),
        "DB_WATCHDOG_MARGIN_SECONDS": _float(env, "PEACEMAP_DB_WATCHDOG_MARGIN", 1.0),
        "DB_POOL_TIMEOUT_SECONDS": _float(env, "PEACEMAP_DB_POOL_TIMEOUT", 2.0),
        "DB_RETRY_AFTER_SECONDS": _int(env, "PEACEMAP_DB_RETRY_AFTER", 5),
        # Streaming replicas that serve anonymous reads (api/replicas.py; README, "Scaling
        # out"), and how far behind the primary one may be before reads leave it.
        "REPLICA_URLS": [
            u.strip() for u in env.get("PEACEMAP_REPLICA_URLS", "").split(",") if u.strip()
        ],
        "REPLICA_MAX_LAG_SECONDS": _float(env, "PEACEMAP_REPLICA_MAX_LAG_SECONDS", 5.0),
        # How long a proxy or CDN may keep a public tile or list page before revalidating:
        # the bound on how long a hidden actor can still be served from a cache.
        "PUBLIC_CACHE_SECONDS": _int(env, "PEACEMAP_PUBLIC_CACHE_SECONDS", 30),
        "MAX_CONTENT_LENGTH": _int(env, "PEACEMAP_MAX_BODY_BYTES", 1_000_000),
        "MAX_UPLOAD_BYTES": _int(env, "PEACEMAP_MAX_UPLOAD_BYTES", 50_000_000),
        "PAGE_LIMIT_DEFAULT": _int(env, "PEACEMAP_PAGE_LIMIT_DEFAULT", 50),
        "PAGE_LIMIT_MAX": _int(env, "PEACEMAP_PAGE_LIMIT_MAX", 1000),
        "GEOMETRY_MAX_VERTICES": _int(env, "PEACEMAP_GEOMETRY_MAX_VERTICES", 10_000),
        "CORS_ORIGINS": cors_origins(env),
        "LOG_LEVEL": env.get("PEACEMAP_LOG_LEVEL", "INFO"),
        # The web map's base layer (api/web/find.py): an OSM-style tile URL template
        # (https://tiles.example.org/{z}/{x}/{y}.png) and its attribution; without one, the
        # country outlines and place names Peacemap ships, which need no internet access.
        "BASEMAP_URL": env.get("PEACEMAP_BASEMAP_URL") or None,
        "BASEMAP_ATTRIBUTION": env.get("PEACEMAP_BASEMAP_ATTRIBUTION", ""),
        # The Prometheus scraper's bearer secret for /metrics (administrators' tokens work too).
        "METRICS_TOKEN": env.get("PEACEMAP_METRICS_TOKEN") or None,
        "TOKEN_TTL_HOURS": _int(env, "PEACEMAP_TOKEN_TTL_HOURS", 24 * 7),
        # How long an Idempotency-Key (and the reply kept for its retries) lives.
        "IDEMPOTENCY_TTL_HOURS": _int(env, "PEACEMAP_IDEMPOTENCY_TTL_HOURS", 24),
        # Mail (api/mail.py): the local aiosmtpd of scripts/smtp.sh unless configured.
        "SMTP_HOST": env.get("PEACEMAP_SMTP_HOST") or "127.0.0.1",
        "SMTP_PORT": _int(env, "PEACEMAP_SMTP_PORT", local_server_port(env, 52525)),
        "SMTP_TLS": env.get("PEACEMAP_SMTP_TLS") or "none",
        "SMTP_USER": env.get("PEACEMAP_SMTP_USER") or None,
        "SMTP_PASSWORD": env.get("PEACEMAP_SMTP_PASSWORD") or None,
        "SMTP_SENDER": env.get("PEACEMAP_SMTP_SENDER") or "Peacemap <no-reply@peacemap.localhost>",
        # Where people reach the service; mails name it.
        "PUBLIC_URL": (env.get("PEACEMAP_PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "EMAIL_VERIFICATION_TTL_HOURS": _int(env, "PEACEMAP_EMAIL_VERIFICATION_TTL_HOURS", 48),
        "PASSWORD_RESET_TTL_MINUTES": _int(env, "PEACEMAP_PASSWORD_RESET_TTL_MINUTES", 60),
        "CLAIM_MINUTES": _int(env, "PEACEMAP_CLAIM_MINUTES", 30),
        "FLAG_REVIEW_THRESHOLD": _int(env, "PEACEMAP_FLAG_REVIEW_THRESHOLD", 3),
        # Flags per reporter (api/moderation/standing.py): per 24 hours before trust counts,
        # open urgent ones without standing, and the account age standing needs.
        "FLAG_DAILY_LIMIT": _int(env, "PEACEMAP_FLAG_DAILY_LIMIT", 20),
        "FLAG_URGENT_LIMIT": _int(env, "PEACEMAP_FLAG_URGENT_LIMIT", 5),
        "FLAG_STANDING_DAYS": _int(env, "PEACEMAP_FLAG_STANDING_DAYS", 7),
        # Approved contributions before a contributor's new ones stop being marked unverified.
        "TRACK_RECORD_APPROVALS": _int(env, "PEACEMAP_TRACK_RECORD_APPROVALS", 3),
        # Number of reverse proxies in front of the app whose X-Forwarded-For to trust.
        "TRUSTED_PROXIES": _int(env, "PEACEMAP_TRUSTED_PROXIES", 0),
        # Webhooks (api/webhooks): loopback and private targets only where allowed (tests,
        # local development); retries wait base, 2 x base, 4 x base... then give up.
        "WEBHOOKS_ALLOW_PRIVATE": env.get("PEACEMAP_WEBHOOKS_ALLOW_PRIVATE", "false").lower()
        == "true",
        "WEBHOOK_RETRY_BASE_SECONDS": _float(env, "PEACEMAP_WEBHOOK_RETRY_BASE_SECONDS", 30.0),
        "WEBHOOK_MAX_ATTEMPTS": _int(env, "PEACEMAP_WEBHOOK_MAX_ATTEMPTS", 8),
        "WEBHOOK_TIMEOUT_SECONDS": _float(env, "PEACEMAP_WEBHOOK_TIMEOUT_SECONDS", 10.0),
        "WORKER_CONCURRENCY": _int(env, "PEACEMAP_WORKER_CONCURRENCY", 4),
        "RATELIMIT_ENABLED": env.get("PEACEMAP_RATELIMIT_ENABLED", "true").lower() != "false",
        # Counters shared by every worker and process: the project's own Redis by default.
        "RATELIMIT_STORAGE_URI": env.get("PEACEMAP_RATELIMIT_STORAGE")
        or f"redis://127.0.0.1:{env.get('PEACEMAP_REDIS_PORT') or local_server_port(env, 56379)}/0",
        # While Redis is unreachable each worker counts on its own (logged), rather than
        # failing every request; README, "Rate limits".
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_ANONYMOUS": env.get("PEACEMAP_RATELIMIT_ANONYMOUS", "300/minute"),
        "RATELIMIT_USER": env.get("PEACEMAP_RATELIMIT_USER", "1200/minute"),
        "RATELIMIT_CREDENTIALS": env.get("PEACEMAP_RATELIMIT_CREDENTIALS", "10/minute;50/hour"),
        # Map tiles in a bucket of their own: one panning session asks for hundreds, and a
        # mobile carrier puts thousands of phones behind one address.
        "RATELIMIT_TILES": env.get("PEACEMAP_RATELIMIT_TILES", "6000/minute"),
        # Messages one account may relay to actors' managers (api/contact.py).
        "RATELIMIT_CONTACT": env.get("PEACEMAP_RATELIMIT_CONTACT", "5/hour;20/day"),
    }
    return config


def check_mail(config: dict) -> None:
    """Mails carry single-use tokens: in production they travel encrypted unless the relay
    is on this machine."""
    tls = config.get("SMTP_TLS", "none")
    if tls not in ("none", "starttls", "ssl"):
        raise ConfigError(f"PEACEMAP_SMTP_TLS must be none, starttls or ssl, not {tls!r}")
    local = config.get("SMTP_HOST") in ("127.0.0.1", "::1", "localhost")
    if config.get("ENV_NAME") == "production" and tls == "none" and not local:
        raise ConfigError(
            "Refusing to start in production: PEACEMAP_SMTP_TLS must be starttls or ssl "
            "for a mail server on another machine (mails carry account tokens)."
        )


def check_safe_for_production(config: dict) -> None:
    """Refuse to run in production with a secret everybody can read in this repository."""
    if config.get("ENV_NAME") != "production":
        return
    secret = config.get("SECRET_KEY") or DEFAULT_SECRET_KEY
    if secret == DEFAULT_SECRET_KEY or len(secret) < 32:
        raise ConfigError(
            "Refusing to start in production: PEACEMAP_SECRET_KEY must be set to a random "
            "value of at least 32 characters (it keys the hashes of access tokens)."
        )
