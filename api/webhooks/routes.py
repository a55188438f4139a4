"""HTTP endpoints for subscriptions (push instead of polling): parse, call the service,
represent."""

from __future__ import annotations

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import current_principal, signed_in
from api.db import db
from api.http import BEARER, json_response, page_response
from api.permissions import who
from api.schemas import PageArgsSchema, page_schema, page_size
from api.webhooks import service
from api.webhooks.schemas import (
    DeliveryAttemptSchema,
    DeliverySchema,
    SubscriptionCreatedSchema,
    SubscriptionCreateSchema,
    SubscriptionPatchSchema,
    SubscriptionSchema,
)

OWNERS = f"Who: {who('subscription.manage')}."

blp = Blueprint(
    "subscriptions",
    __name__,
    url_prefix="/api/v1/subscriptions",
    description="Push instead of polling: signed webhooks (Standard Webhooks) or email "
    "digests of public changes and of your contributions' outcomes.",
)


def _owned(subscription_id):
    return service.get_subscription(db.session, current_principal(), subscription_id)


def _delivery(delivery, attempts) -> dict:
    shown = DeliverySchema(exclude=("attempt_log",)).dump(delivery)
    return shown | {"attempt_log": DeliveryAttemptSchema(many=True).dump(attempts)}


@blp.route("")
class Subscriptions(MethodView):
    @signed_in
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(SubscriptionSchema, "SubscriptionPage"))
    @blp.alt_response(401, description="Not signed in")
    @blp.doc(security=BEARER, description=OWNERS)
    def get(self, args):
        """List my subscriptions (and my organisations')"""
        limit = page_size(args)
        found = service.list_subscriptions(
            db.session, current_principal(), limit=limit, offset=args["offset"]
        )
        items = SubscriptionSchema(many=True).dump(found)
        return page_response(items, offset=args["offset"], limit=limit)

    @signed_in
    @blp.arguments(SubscriptionCreateSchema)
    @blp.response(201, SubscriptionCreatedSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Email address not confirmed")
    @blp.alt_response(409, description="As many subscriptions as one owner may hold")
    @blp.alt_response(422, description="Invalid subscription (the field and rule are named)")
    @blp.doc(security=BEARER, description=f"Who: {who('subscription.create')}.")
    def post(self, data):
        """Subscribe: a webhook (url) or an email digest

        A webhook's signing secret is in this response only."""
        subscription, secret = service.create_subscription(
            db.session,
            current_principal(),
            data,
            allow_private=current_app.config["WEBHOOKS_ALLOW_PRIVATE"],
        )
        body = SubscriptionCreatedSchema().dump(subscription) | {"secret": secret}
        location = url_for(
            "subscriptions.SubscriptionById", subscription_id=subscription.id, _external=True
        )
        return json_response(body, 201, headers={"Location": location, "Cache-Control": "no-store"})


@blp.route("/<uuid:subscription_id>")
class SubscriptionById(MethodView):
    @signed_in
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such subscription of yours")
    @blp.doc(security=BEARER, description=OWNERS)
    def get(self, subscription_id):
        """Read a subscription"""
        return _owned(subscription_id)

    @signed_in
    @blp.arguments(SubscriptionPatchSchema)
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such subscription of yours")
    @blp.alt_response(422, description="Invalid change")
    @blp.doc(security=BEARER, description=OWNERS)
    def patch(self, changes, subscription_id):
        """Pause or resume a subscription"""
        return service.set_paused(db.session, _owned(subscription_id), changes["paused"])

    @signed_in
    @blp.response(204)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such subscription of yours")
    @blp.doc(security=BEARER, description=OWNERS)
    def delete(self, subscription_id):
        """Delete a subscription and its delivery log"""
        service.delete_subscription(db.session, _owned(subscription_id))


@blp.route("/<uuid:subscription_id>/deliveries")
class Deliveries(MethodView):
    @signed_in
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(DeliverySchema, "DeliveryPage"))
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such subscription of yours")
    @blp.doc(security=BEARER, description=OWNERS)
    def get(self, args, subscription_id):
        """The delivery log: status, attempts, response codes, next attempt"""
        limit = page_size(args)
        log = service.deliveries(
            db.session, _owned(subscription_id), limit=limit, offset=args["offset"]
        )
        items = [_delivery(delivery, attempts) for delivery, attempts in log]
        return page_response(items, offset=args["offset"], limit=limit)


@blp.route("/<uuid:subscription_id>/deliveries/<uuid:delivery_id>/replay")
class Replay(MethodView):
    @signed_in
    @blp.response(202, DeliverySchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such subscription or delivery of yours")
    @blp.alt_response(422, description="A digest subscription")
    @blp.doc(security=BEARER, description=OWNERS)
    def post(self, subscription_id, delivery_id):
        """Send a delivery again (same webhook-id, payload built anew)"""
        subscription = _owned(subscription_id)
        delivery = service.get_delivery(db.session, subscription, delivery_id)
        service.replay(db.session, subscription, delivery)
        attempts = service.attempts_of(db.session, [delivery.id])[delivery.id]
        return json_response(_delivery(delivery, attempts), 202)
