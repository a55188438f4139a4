"""Contributions, the moderation queue and decisions, flags, and moderators' actions on
published items (hide, disclaimers, history, revert)."""

from __future__ import annotations

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import allowed, current_principal, signed_in
from api.db import db
from api.http import BEARER, json_response, page_response
from api.idempotency import DOC as IDEMPOTENCY_KEY
from api.idempotency import idempotent
from api.moderation import service
from api.moderation.contributions import PROPOSAL_SCHEMAS
from api.moderation.models import TARGET_TYPES
from api.moderation.schemas import (
    BatchDecisionSchema,
    BatchResultsSchema,
    ConsentSchema,
    ContributionCreateSchema,
    ContributionReviewSchema,
    ContributionSchema,
    DecisionSchema,
    DisclaimersSchema,
    FlagCreateSchema,
    FlagQueryArgsSchema,
    FlagReviewSchema,
    FlagSchema,
    ModerationEventSchema,
    ModerationLogArgsSchema,
    MyContributionsArgsSchema,
    QueueArgsSchema,
    QueuePageSchema,
    ReasonSchema,
    ResubmitSchema,
    RevertSchema,
    RevisionSchema,
    proposal_variants,
)
from api.moderation.standing import Policy, records
from api.permissions import can, is_staff, require, who
from api.privacy import disclose, private_fields, redact
from api.revisions.service import history
from api.schemas import PageArgsSchema, page_schema, page_size

REVIEWERS = f"Who: {who('moderation.review')}."

contributions_blp = Blueprint(
    "contributions",
    __name__,
    url_prefix="/api/v1",
    description="Propose new actors, edits, resources, observations and translations; follow them.",
)
moderation_blp = Blueprint(
    "moderation",
    __name__,
    url_prefix="/api/v1/moderation",
    description="The review queue, decisions, flags and the moderation log (moderators).",
)


# What each kind of contribution proposes: whose private fields its payload may carry.
PROPOSES = {"new_actor": "actor", "actor_edit": "actor", "new_observation": "observation"}


def represent(contribution, principal, *, detail: bool = False) -> dict:
    """A contribution as ``principal`` may see it. Private values in it (an exact location,
    contacts) are shown to its author (their own words: not logged) and in a moderator's
    ``detail`` view (logged); every other view of staff shows them redacted."""
    proposes = PROPOSES.get(contribution.kind)
    private = {
        field for field in private_fields(proposes) if contribution.payload.get(field) is not None
    }
    if not is_staff(principal.user):
        # Its author reads their own words (not logged); an actor's manager asked for consent
        # reads what is proposed about the actor (logged).
        own = contribution.author_id == principal.user_id
        target = ("contribution", contribution.id) if own else ("actor", contribution.target_id)
        disclose(db.session, principal, *target, private, log=not own)
        return ContributionSchema().dump(contribution)
    data = ContributionReviewSchema().dump(contribution)
    if contribution.kind == "actor_edit":
        data["diff"] = service.edit_diff(db.session, contribution, private=detail)
        if detail and (checks := service.edit_checks(db.session, contribution)):
            data["checks"] = checks
            private.add("location")
    if detail:
        target = (
            ("actor", contribution.target_id)
            if contribution.kind == "actor_edit"
            else ("contribution", contribution.id)
        )
        disclose(db.session, principal, *target, private)
    else:
        data["payload"] = redact(proposes, data["payload"])
    if contribution.kind == "flag_review":
        data["flags"] = with_records(service.flags_of_review(db.session, contribution.id))
    return data


def _flag_policy() -> Policy:
    return Policy.from_config(current_app.config)


def with_records(flags) -> list[dict]:
    """Flags as moderators see them: each with its reporter's record (never public)."""
    found = records(db.session, [f.reporter_id for f in flags], _flag_policy())
    return [
        {**FlagReviewSchema().dump(f), "reporter": found[f.reporter_id].asdict()} for f in flags
    ]


@contributions_blp.route("/contributions")
class Contributions(MethodView):
    @allowed("contribution.submit")
    @idempotent
    @contributions_blp.arguments(ContributionCreateSchema)
    @contributions_blp.response(201, ContributionSchema)
    @contributions_blp.alt_response(401, description="Not signed in")
    @contributions_blp.alt_response(403, description="Your email address is not confirmed yet")
    @contributions_blp.alt_response(
        404, description="The item to edit or translate is not published"
    )
    @contributions_blp.alt_response(
        422, description="Invalid proposal (errors under payload) or reused Idempotency-Key"
    )
    @contributions_blp.doc(
        security=BEARER,
        parameters=[IDEMPOTENCY_KEY],
        description=f"Who: {who('contribution.submit')}.",
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": proposal_variants(PROPOSAL_SCHEMAS)}},
        },
    )
    def post(self, data):
        """Propose something: it waits for a moderator's review"""
        principal = current_principal()
        contribution = service.submit(db.session, principal, data)
        location = url_for(
            "contributions.ContributionById", contribution_id=contribution.id, _external=True
        )
        return json_response(
            represent(contribution, principal), 201, headers={"Location": location}
        )


@contributions_blp.route("/contributions/<uuid:contribution_id>")
class ContributionById(MethodView):
    @signed_in
    @contributions_blp.response(200, ContributionReviewSchema)
    @contributions_blp.alt_response(401, description="Not signed in")
    @contributions_blp.alt_response(404, description="No such contribution of yours")
    @contributions_blp.doc(
        security=BEARER,
        description="Who: its author; moderators and admins, who also see the author, "
        "possible duplicates and the diff.",
    )
    def get(self, contribution_id):
        """Read a contribution, its state and the moderator's reason"""
        principal = current_principal()
        contribution = service.get_contribution(db.session, contribution_id, principal)
        return json_response(represent(contribution, principal, detail=True))


@contributions_blp.route("/contributions/<uuid:contribution_id>/withdraw")
class Withdraw(MethodView):
    @signed_in
    @contributions_blp.response(200, ContributionSchema)
    @contributions_blp.alt_response(401, description="Not signed in")
    @contributions_blp.alt_response(403, description="Not the author")
    @contributions_blp.alt_response(404, description="No such contribution of yours")
    @contributions_blp.alt_response(409, description="Already decided")
    @contributions_blp.doc(security=BEARER, description="Who: its author, before a decision.")
    def post(self, contribution_id):
        """Withdraw a contribution"""
        principal = current_principal()
        contribution = service.get_contribution(db.session, contribution_id, principal, lock=True)
        return service.withdraw(db.session, contribution, principal)


@contributions_blp.route("/contributions/<uuid:contribution_id>/resubmit")
class Resubmit(MethodView):
    @signed_in
    @contributions_blp.arguments(ResubmitSchema)
    @contributions_blp.response(200, ContributionSchema)
    @contributions_blp.alt_response(401, description="Not signed in")
    @contributions_blp.alt_response(403, description="Not the author")
    @contributions_blp.alt_response(404, description="No such contribution of yours")
    @contributions_blp.alt_response(409, description="No changes were requested")
    @contributions_blp.alt_response(422, description="Invalid proposal")
    @contributions_blp.doc(
        security=BEARER, description="Who: its author, when changes were requested."
    )
    def post(self, data, contribution_id):
        """Resubmit a contribution with the changes a moderator asked for"""
        principal = current_principal()
        contribution = service.get_contribution(db.session, contribution_id, principal, lock=True)
        return service.resubmit(db.session, contribution, principal, data["payload"])


@contributions_blp.route("/contributions/<uuid:contribution_id>/consent")
class Consent(MethodView):
    @signed_in
    @contributions_blp.arguments(ConsentSchema)
    @contributions_blp.response(200, ContributionSchema)
    @contributions_blp.alt_response(401, description="Not signed in")
    @contributions_blp.alt_response(403, description="Not the actor's manager")
    @contributions_blp.alt_response(404, description="No such contribution that you may see")
    @contributions_blp.alt_response(409, description="Not awaiting consent")
    @contributions_blp.doc(
        security=BEARER,
        description=f"Who: {who('contribution.consent')}, for an edit that lowers the actor's "
        "privacy (a finer location precision, contact details). Consented, the edit goes to "
        "the review queue marked so; refused, it is rejected with the reason.",
    )
    def post(self, data, contribution_id):
        """Consent to (or refuse) an edit that lowers your organisation's privacy"""
        principal = current_principal()
        contribution = service.get_contribution(db.session, contribution_id, principal, lock=True)
        service.give_consent(
            db.session, contribution, principal, data["consent"], data.get("reason")
        )
        return json_response(represent(contribution, principal))


@contributions_blp.route("/me/consents")
class MyConsents(MethodView):
    @signed_in
    @contributions_blp.arguments(PageArgsSchema, location="query")
    @contributions_blp.response(200, page_schema(ContributionSchema, "ConsentPage"))
    @contributions_blp.alt_response(401, description="Not signed in")
    @contributions_blp.doc(
        security=BEARER, description="Who: any signed-in user, for the actors they manage."
    )
    def get(self, args):
        """Edits waiting for your consent as manager of their actor, oldest first"""
        principal, limit = current_principal(), page_size(args)
        rows = service.awaiting_consent_of(
            db.session, principal.user, limit=limit, offset=args["offset"]
        )
        items = [represent(c, principal) for c in rows]
        return page_response(items, offset=args["offset"], limit=limit)


@contributions_blp.route("/me/contributions")
class MyContributions(MethodView):
    @signed_in
    @contributions_blp.arguments(MyContributionsArgsSchema, location="query")
    @contributions_blp.response(200, page_schema(ContributionSchema, "ContributionPage"))
    @contributions_blp.alt_response(401, description="Not signed in")
    @contributions_blp.doc(security=BEARER, description="Who: any signed-in user, for their own.")
    def get(self, args):
        """Your contributions, newest first, with their states and moderators' reasons"""
        principal, limit = current_principal(), page_size(args)
        rows = service.contributions_of(db.session, principal.user_id, args, limit=limit)
        items = [represent(c, principal) for c in rows]
        return page_response(items, offset=args["offset"], limit=limit)


@contributions_blp.route("/flags")
class Flags(MethodView):
    @allowed("flag.create")
    @idempotent
    @contributions_blp.arguments(FlagCreateSchema)
    @contributions_blp.response(201, FlagSchema)
    @contributions_blp.alt_response(401, description="Not signed in")
    @contributions_blp.alt_response(403, description="Your email address is not confirmed yet")
    @contributions_blp.alt_response(404, description="No such published item")
    @contributions_blp.alt_response(409, description="You already have an open flag on it")
    @contributions_blp.alt_response(
        429, description="Beyond your flags per day, or your open urgent flags (Retry-After)"
    )
    @contributions_blp.doc(
        security=BEARER,
        parameters=[IDEMPOTENCY_KEY],
        description=f"Who: {who('flag.create')}. Your name is never shown to the public. "
        "An endangers_someone flag hides the item at once if you have standing (staff, or an "
        "account of some age with a record of approved contributions or confirmed flags); "
        "otherwise it puts the item first in the moderators' queue. Flags per day grow with "
        "confirmed flags and shrink with dismissed ones.",
    )
    def post(self, data):
        """Flag published content as misinformation, harmful, endangering someone, spam…"""
        threshold = current_app.config["FLAG_REVIEW_THRESHOLD"]
        new_flag = service.flag(
            db.session,
            current_principal(),
            data,
            review_threshold=threshold,
            policy=_flag_policy(),
        )
        return json_response(FlagSchema().dump(new_flag), 201)


# -- moderators ---------------------------------------------------------------------------


@moderation_blp.route("/queue")
class Queue(MethodView):
    @allowed("moderation.review")
    @moderation_blp.arguments(QueueArgsSchema, location="query")
    @moderation_blp.response(200, QueuePageSchema)
    @moderation_blp.alt_response(401, description="Not signed in")
    @moderation_blp.alt_response(403, description="Not a moderator")
    @moderation_blp.doc(security=BEARER, description=REVIEWERS)
    def get(self, args):
        """The review queue, oldest first, with counts per state"""
        principal, limit = current_principal(), page_size(args)
        items, counts = service.queue(db.session, args, limit=limit)
        items = [represent(c, principal) for c in items]
        return page_response(items, offset=args["offset"], limit=limit, counts=counts)


@moderation_blp.route("/contributions/<uuid:contribution_id>/claim")
class Claim(MethodView):
    @allowed("moderation.review")
    @moderation_blp.response(200, ContributionReviewSchema)
    @moderation_blp.alt_response(403, description="Not a moderator, or your own contribution")
    @moderation_blp.alt_response(404, description="No such contribution")
    @moderation_blp.alt_response(409, description="Held by another moderator, or already decided")
    @moderation_blp.doc(security=BEARER, description=REVIEWERS)
    def post(self, contribution_id):
        """Claim a contribution for review (the claim expires after 30 minutes by default)"""
        principal = current_principal()  # @allowed has checked the role
        contribution = service.get_contribution(db.session, contribution_id, principal, lock=True)
        minutes = current_app.config["CLAIM_MINUTES"]
        return json_response(
            represent(
                service.claim(db.session, contribution, principal.user, minutes=minutes), principal
            )
        )


@moderation_blp.route("/contributions/<uuid:contribution_id>/release")
class Release(MethodView):
    @allowed("moderation.review")
    @moderation_blp.response(200, ContributionReviewSchema)
    @moderation_blp.alt_response(403, description="Not a moderator")
    @moderation_blp.alt_response(404, description="No such contribution")
    @moderation_blp.alt_response(409, description="Not in review, or held by another moderator")
    @moderation_blp.doc(
        security=BEARER,
        description=f"{REVIEWERS} Another moderator's claim: {who('claim.release_any')}.",
    )
    def post(self, contribution_id):
        """Give a claimed contribution back to the queue"""
        principal = current_principal()  # @allowed has checked the role
        contribution = service.get_contribution(db.session, contribution_id, principal, lock=True)
        anyones = can(principal, "claim.release_any")
        return json_response(
            represent(
                service.release(db.session, contribution, principal.user, anyones=anyones),
                principal,
            )
        )


@moderation_blp.route("/contributions/<uuid:contribution_id>/decision")
class Decide(MethodView):
    @allowed("moderation.review")
    @moderation_blp.arguments(DecisionSchema)
    @moderation_blp.response(200, ContributionReviewSchema)
    @moderation_blp.alt_response(
        403, description="Not a moderator, or your own contribution (four eyes)"
    )
    @moderation_blp.alt_response(404, description="No such contribution")
    @moderation_blp.alt_response(
        409,
        description="Invalid transition, held by another moderator, or unresolved edit conflicts",
    )
    @moderation_blp.alt_response(422, description="Missing reason, merge target or disclaimers")
    @moderation_blp.doc(
        security=BEARER,
        description=REVIEWERS + " Approval publishes and records a revision in one transaction.",
    )
    def post(self, decision, contribution_id):
        """Decide: approve, merge, reject, request changes; for flags: dismiss, disclaim, hide"""
        principal = current_principal()  # @allowed has checked the role
        contribution = service.get_contribution(db.session, contribution_id, principal, lock=True)
        track_record = current_app.config["TRACK_RECORD_APPROVALS"]
        service.decide(
            db.session, contribution, principal.user, decision, track_record=track_record
        )
        return json_response(represent(contribution, principal))


@moderation_blp.route("/decisions")
class BatchDecisions(MethodView):
    @allowed("moderation.review")
    @moderation_blp.arguments(BatchDecisionSchema)
    @moderation_blp.response(200, BatchResultsSchema)
    @moderation_blp.alt_response(403, description="Not a moderator")
    @moderation_blp.doc(
        security=BEARER, description=REVIEWERS + " Each item is checked and recorded on its own."
    )
    def post(self, data):
        """Decide on several contributions at once"""
        principal = current_principal()  # @allowed has checked the role
        track_record = current_app.config["TRACK_RECORD_APPROVALS"]
        return {
            "results": service.decide_batch(
                db.session, principal.user, data["items"], track_record=track_record
            )
        }


@moderation_blp.route("/log")
class Log(MethodView):
    @allowed("moderation.review")
    @moderation_blp.arguments(ModerationLogArgsSchema, location="query")
    @moderation_blp.response(200, page_schema(ModerationEventSchema, "ModerationEventPage"))
    @moderation_blp.alt_response(403, description="Not a moderator")
    @moderation_blp.doc(security=BEARER, description=REVIEWERS)
    def get(self, args):
        """The append-only moderation log, newest first: by item, moderator or period"""
        limit = page_size(args)
        rows = service.moderation_log(db.session, args, limit=limit)
        return page_response(
            ModerationEventSchema(many=True).dump(rows), offset=args["offset"], limit=limit
        )


@moderation_blp.route("/flags")
class FlagList(MethodView):
    @allowed("moderation.review")
    @moderation_blp.arguments(FlagQueryArgsSchema, location="query")
    @moderation_blp.response(200, page_schema(FlagReviewSchema, "FlagPage"))
    @moderation_blp.alt_response(403, description="Not a moderator")
    @moderation_blp.doc(security=BEARER, description=REVIEWERS)
    def get(self, args):
        """Flags, oldest first"""
        limit = page_size(args)
        rows = service.list_flags(db.session, args, limit=limit)
        return page_response(with_records(rows), offset=args["offset"], limit=limit)


ITEM = "/items/<any(" + ", ".join(TARGET_TYPES) + "):target_type>/<uuid:target_id>"


@moderation_blp.route(ITEM + "/hide")
class Hide(MethodView):
    @allowed("moderation.review")
    @moderation_blp.arguments(ReasonSchema)
    @moderation_blp.response(204)
    @moderation_blp.alt_response(403, description="Not a moderator")
    @moderation_blp.alt_response(404, description="No such item")
    @moderation_blp.alt_response(409, description="Already hidden")
    @moderation_blp.doc(
        security=BEARER,
        description=REVIEWERS + " Hiding removes from public view; nothing is deleted.",
    )
    def post(self, data, target_type, target_id):
        """Hide an item from the public"""
        principal = current_principal()  # @allowed has checked the role
        item = service.get_item(db.session, target_type, target_id, principal, lock=True)
        service.set_hidden(db.session, target_type, item, True, principal.user_id, data["reason"])


@moderation_blp.route(ITEM + "/unhide")
class Unhide(MethodView):
    @allowed("moderation.review")
    @moderation_blp.arguments(ReasonSchema)
    @moderation_blp.response(204)
    @moderation_blp.alt_response(403, description="Not a moderator")
    @moderation_blp.alt_response(404, description="No such item")
    @moderation_blp.alt_response(
        409, description="Not hidden, or an endangers_someone flag on it awaits its review"
    )
    @moderation_blp.doc(
        security=BEARER,
        description=REVIEWERS + " An item flagged as endangering someone comes back only "
        "through the decision of its flag review, never by a plain unhide.",
    )
    def post(self, data, target_type, target_id):
        """Show a hidden item again"""
        principal = current_principal()  # @allowed has checked the role
        item = service.get_item(db.session, target_type, target_id, principal, lock=True)
        service.set_hidden(db.session, target_type, item, False, principal.user_id, data["reason"])


@moderation_blp.route(ITEM + "/disclaimers")
class Disclaimers(MethodView):
    @allowed("moderation.review")
    @moderation_blp.arguments(DisclaimersSchema)
    @moderation_blp.response(204)
    @moderation_blp.alt_response(403, description="Not a moderator")
    @moderation_blp.alt_response(404, description="No such item")
    @moderation_blp.doc(security=BEARER, description=REVIEWERS)
    def put(self, data, target_type, target_id):
        """Set an item's disclaimers (unverified, community_reported, disputed, outdated)"""
        principal = current_principal()  # @allowed has checked the role
        item = service.get_item(db.session, target_type, target_id, principal, lock=True)
        service.set_disclaimers(
            db.session, target_type, item, data["disclaimers"], principal.user_id, data["reason"]
        )


@moderation_blp.route(ITEM + "/history")
class History(MethodView):
    @signed_in
    @moderation_blp.response(200, RevisionSchema(many=True))
    @moderation_blp.alt_response(401, description="Not signed in")
    @moderation_blp.alt_response(403, description="Not allowed to read this item's history")
    @moderation_blp.alt_response(404, description="No such item")
    @moderation_blp.doc(security=BEARER, description=f"Who: {who('history.read')}.")
    def get(self, target_type, target_id):
        """An item's revisions: who, when, what changed, through which contribution"""
        principal = current_principal()
        item = service.get_item(db.session, target_type, target_id, principal)
        require(principal, "history.read", item if target_type == "actor" else None)
        return json_response(
            RevisionSchema(many=True).dump(history(db.session, target_type, item.id))
        )


@moderation_blp.route(ITEM + "/revert")
class Revert(MethodView):
    @allowed("moderation.review")
    @moderation_blp.arguments(RevertSchema)
    @moderation_blp.response(200, RevisionSchema)
    @moderation_blp.alt_response(403, description="Not a moderator")
    @moderation_blp.alt_response(404, description="No such item or revision")
    @moderation_blp.doc(
        security=BEARER,
        description=REVIEWERS + " The revert is itself a new revision. It restores content "
        "only: never hidden, status, verified or disclaimers, never a finer location precision "
        "than the current one; open reviews stay open.",
    )
    def post(self, data, target_type, target_id):
        """Put an item back as it was at an earlier revision"""
        principal = current_principal()  # @allowed has checked the role
        item = service.get_item(db.session, target_type, target_id, principal, lock=True)
        return service.revert_item(
            db.session, target_type, item, data["revision"], principal.user_id, data["reason"]
        )
