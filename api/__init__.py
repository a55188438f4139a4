"""The Peacemap HTTP API."""

from __future__ import annotations

from flask import Flask, redirect
from flask_compress import Compress
from werkzeug.middleware.proxy_fix import ProxyFix

from api import (
    auth,
    boundary,
    cors,
    crypto,
    http,
    language,
    observability,
    privacy,
    replicas,
    web,
)
from api import config as configuration
from api.db import db
from api.errors import PeacemapApi
from api.openapi import ContractPlugin, marshmallow_plugin
from api.ratelimit import limiter

API_PREFIX = "/api/v1"


class PeacemapFlask(Flask):
    def log_exception(self, exc_info) -> None:
        """Unhandled errors are logged once, with their error id, by api.errors."""

    def dispatch_request(self):
        """A read whose replica fails runs again on the primary (api.replicas)."""
        return replicas.dispatch_with_fallback(super().dispatch_request)


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment, with ``config`` overriding it (tests)."""
    settings = {**configuration.from_environment(), **(config or {})}
    configuration.check_safe_for_production(settings)
    configuration.check_mail(settings)
    crypto.install(crypto.keyring_from_config(settings))

    app = PeacemapFlask(__name__, static_url_path="/static")
    app.config.update(settings)
    app.config.update(
        API_TITLE="Peacemap API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/static/swagger-ui/",
        # Errors must reach our problem+json handler, in tests too.
        PROPAGATE_EXCEPTIONS=False,
        JSON_SORT_KEYS=False,
        COMPRESS_ALGORITHM=["gzip"],
        COMPRESS_ALGORITHM_STREAMING=["gzip"],  # exports: compressed chunk by chunk
        COMPRESS_MIN_SIZE=500,
        COMPRESS_MIMETYPES=[
            "application/json",
            "application/geo+json",
            "application/geo+json-seq",
            "application/x-ndjson",
            "text/csv",
            "application/vnd.mapbox-vector-tile",
            "application/problem+json",
            "text/html",
            "text/css",
            "application/javascript",
            "text/javascript",  # what Python 3.12's mimetypes names a .js file
        ],
    )
    app.json.sort_keys = False

    if proxies := app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    observability.init_app(app)  # first: the request id exists before anything can log
    Compress(app)  # registered first so that it runs after the ETag has been computed
    db.init_app(app)
    cors.init_app(app)  # first request hook: a preflight is answered before any other
    http.init_app(app)
    language.init_app(app)
    boundary.init_app(app)  # after http's body-type check, which sets upload sizes
    privacy.init_app(app)
    limiter.init_app(app)
    auth.init_app(app)  # after the limiter: a request with bad credentials is counted first
    web.init_app(app)

    api = PeacemapApi(
        app,
        spec_kwargs={
            "info": {
                "description": "Find peacebuilders, contribute what you know, show what changes. "
                "Errors are RFC 9457 problem details (application/problem+json).",
                "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
            },
            # Paths carry /api/v1: the document is served by the server it describes.
            "servers": [{"url": "/", "description": "The server that serves this document"}],
            # Anonymous or signed in; operations that need a sign-in say so themselves.
            "security": [{}, {"bearerAuth": []}],
            "marshmallow_plugin": marshmallow_plugin(),
            "extra_plugins": [ContractPlugin()],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /api/v1/auth/sign-in or a personal API token",
        },
    )
    from api.accounts.routes import audit_blp, auth_blp, users_blp
    from api.actors.routes import blp as actors_blp
    from api.cli import register_commands
    from api.health import blp as health_blp
    from api.maps.routes import blp as maps_blp
    from api.moderation.routes import contributions_blp, moderation_blp
    from api.observations.routes import blp as observations_blp
    from api.ogc.routes import blp as ogc_blp
    from api.ogc.tiles import blp as ogc_tiles_blp
    from api.projects.routes import blp as projects_blp
    from api.resources.routes import blp as resources_blp
    from api.themes.routes import blp as themes_blp
    from api.webhooks.routes import blp as subscriptions_blp

    for blueprint in (
        auth_blp,
        maps_blp,
        actors_blp,
        resources_blp,
        observations_blp,
        themes_blp,
        contributions_blp,
        moderation_blp,
        projects_blp,
        ogc_blp,
        ogc_tiles_blp,
        users_blp,
        audit_blp,
        health_blp,
        subscriptions_blp,
    ):
        api.register_blueprint(blueprint)
    register_commands(app)

    @app.get(API_PREFIX)
    def api_root():
        return redirect(f"{API_PREFIX}/docs")

    return app
