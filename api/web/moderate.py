"""Pages of the Moderate job: the queue, a contribution beside the current version, claims
and decisions (one or many), flags and hidden items, an item's disclaimers, history and
revert, and the moderation log; and the flag form any contributor uses on an actor.

Every action calls the moderation service the API calls (api.moderation.service), so the
permission table, the workflow table and the safety rules hold here as they do there;
the forms are loaded with the API's own schemas. What a page shows of a proposal or a
revision is the API's redacted representation: never a private value."""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from datetime import datetime
from urllib.parse import urlencode

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from api.accounts.models import User
from api.actors.service import get_actor
from api.auth import current_principal
from api.db import db
from api.errors import NotFound, ProblemError
from api.idempotency import idempotent
from api.moderation import service
from api.moderation.items import hidden_items, titles_of
from api.moderation.models import CONTRIBUTION_KINDS, STATES, TARGET_TYPES, Contribution
from api.moderation.routes import represent, with_records
from api.moderation.schemas import (
    DecisionSchema,
    DisclaimersSchema,
    FlagCreateSchema,
    ModerationLogArgsSchema,
    QueueArgsSchema,
    ReasonSchema,
    RevertSchema,
    RevisionSchema,
)
from api.moderation.standing import Policy
from api.moderation.workflow import DECISIONS
from api.permissions import can, require
from api.principal import Principal
from api.revisions.service import history
from api.schemas import page_size
from api.web import forms, labels
from api.web.account import signed_in_page
from api.web.routes import FORM, blp

QUEUE_FILTERS = ("kind", "state", "country", "language", "urgent", "sort", "offset")
LOG_FILTERS = ("item", "action", "offset")
PAGE = 25


def _moderator() -> Principal:
    """The reader, if the permission table lets them review; else 401 or 403."""
    principal = current_principal()
    require(principal, "moderation.review")
    return principal


def _checked(schema, data: dict) -> tuple[dict, dict[str, list[str]]]:
    """The form loaded with the API's schema and no errors, or what was sent and the
    schema's messages by field."""
    try:
        return forms.load(schema, data), {}
    except forms.Invalid as invalid:
        return data, invalid.errors


def _filled(args, names) -> dict:
    """The fields among ``names`` a form sent (its query string or its body), without the
    ones left blank (a filter at ``any``)."""
    return {name: args[name] for name in names if args.get(name, "").strip()}


def _title(contribution, titles: dict) -> str:
    payload = contribution.payload or {}
    if contribution.target_id in titles:
        return titles[contribution.target_id]
    # Public fields only: a payload's private values never reach a page.
    return str(payload.get("name") or payload.get("title") or payload.get("text", ""))[:80]


@blp.app_template_filter("shown")
def _shown(value) -> str:
    """A value of a proposal or a revision as text: lists joined, objects as JSON."""
    if value is None or value == "":
        return _("(empty)")
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)


@blp.app_template_filter("datetime_short")
def _datetime_short(value) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(value, "short")


@blp.app_context_processor
def _moderation_words():
    return {
        "contribution_kinds": labels.CONTRIBUTION_KINDS,
        "states": labels.STATES,
        "decision_names": labels.DECISIONS,
        "disclaimer_names": labels.DISCLAIMER_NAMES,
        "flag_reasons": labels.FLAG_REASONS,
        "target_types": labels.TARGET_TYPES,
    }


# -- the queue and batch decisions ---------------------------------------------------------


def _queue_page(*, errors=None, form=None, status=200):
    principal = _moderator()
    filters = _filled(request.args, QUEUE_FILTERS)
    args, filter_errors = _checked(QueueArgsSchema(), {"limit": PAGE, **filters})
    items, counts = [], {}
    if not filter_errors:
        items, counts = service.queue(db.session, args, limit=page_size(args))
    titles = titles_of(db.session, [(c.target_type, c.target_id) for c in items])
    offset = args.get("offset", 0) if not filter_errors else 0
    return render_template(
        "moderate/queue.html",
        items=[(c, _title(c, titles)) for c in items],
        counts=counts,
        filters=filters,
        count_links={
            state: _page_link("web.moderate_queue", {**filters, "state": state}, 0)
            for state in STATES
        },
        errors={**(errors or {}), **filter_errors},
        form=form or MultiDict(),
        me=principal.user_id,
        kinds=CONTRIBUTION_KINDS,
        all_states=STATES,
        batch_decisions=sorted({d for ds in DECISIONS.values() for d in ds} - {"merge"}),
        newer=_page_link("web.moderate_queue", filters, offset - PAGE) if offset else None,
        older=_page_link("web.moderate_queue", filters, offset + PAGE)
        if len(items) == PAGE
        else None,
    ), (422 if filter_errors else status)


def _page_link(endpoint: str, filters: dict, offset: int) -> str:
    query = {**filters, "offset": max(offset, 0)}
    return f"{url_for(endpoint)}?{urlencode(query)}"


@blp.get("/moderate")
@signed_in_page
def moderate_queue():
    """The review queue: urgent flag reviews first, then oldest first, with counts per state."""
    return _queue_page()


class BatchDecisions(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    @idempotent
    def post(self):
        """One decision for the contributions ticked in the queue; each is checked and
        recorded on its own (api.moderation.decisions.decide_batch)."""
        principal = _moderator()
        ids = request.form.getlist("id")
        common = _filled(request.form, ("decision", "reason"))
        errors = {} if ids else {"id": [_("Choose at least one contribution.")]}
        data, item_errors = _checked(DecisionSchema(), common)
        errors.update(item_errors)
        try:
            items = [{"id": uuid.UUID(i), **data} for i in ids]
        except ValueError:
            errors["id"] = [_("That is not a contribution of the queue.")]
        if errors:
            return _queue_page(errors=errors, form=request.form, status=422)
        results = service.decide_batch(
            db.session,
            principal.user,
            items,
            track_record=current_app.config["TRACK_RECORD_APPROVALS"],
        )
        found = {c.id: c for c in _contributions([r["id"] for r in results])}
        titles = titles_of(db.session, [(c.target_type, c.target_id) for c in found.values()])
        return render_template(
            "moderate/batch.html",
            decision=data["decision"],
            results=[
                (r, _title(found[r["id"]], titles) if r["id"] in found else "") for r in results
            ],
        )


def _contributions(ids):
    return db.session.scalars(select(Contribution).where(Contribution.id.in_(ids))).all()


blp.add_url_rule("/moderate/decisions", view_func=BatchDecisions.as_view("moderate_batch"))


# -- one contribution: review, claim, release, decide ---------------------------------------


def _review_page(contribution_id, *, errors=None, form=None, status=200):
    principal = _moderator()
    contribution = service.get_contribution(db.session, contribution_id, principal)
    data = represent(contribution, principal)  # the redacted view: public fields only
    titles = titles_of(db.session, [(contribution.target_type, contribution.target_id)])
    holder = contribution.claimed_by and db.session.get(User, contribution.claimed_by)
    return render_template(
        "moderate/contribution.html",
        contribution=contribution,
        data=data,
        title=_title(contribution, titles),
        holder=holder,
        mine=contribution.claimed_by == principal.user_id,
        own=contribution.author_id == principal.user_id,
        decisions=DECISIONS[contribution.kind],
        conflicts=[f for f, d in data.get("diff", {}).items() if d["conflict"]],
        errors=errors or {},
        form=form or MultiDict(),
    ), status


@blp.get("/moderate/contributions/<uuid:contribution_id>")
@signed_in_page
def moderate_contribution(contribution_id):
    """A contribution beside the current version of what it changes."""
    return _review_page(contribution_id)


def _refused_on_review(contribution_id, error: ProblemError):
    """Show why the service refused, on the review page, with nothing of it written."""
    if isinstance(error, NotFound):
        raise error
    return _review_page(
        contribution_id,
        errors=forms.problem_messages(error),
        form=request.form,
        status=error.status,
    )


def _on_contribution(contribution_id, principal, act):
    """Lock the contribution and let ``act(contribution)`` call the service: a refusal
    undoes this act alone and is shown on the review page. Returns the contribution and
    None, or None and the refusal's page."""
    try:
        with db.session.begin_nested():
            contribution = service.get_contribution(
                db.session, contribution_id, principal, lock=True
            )
            act(contribution)
    except ProblemError as error:
        return None, _refused_on_review(contribution_id, error)
    return contribution, None


class Claim(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    @idempotent
    def post(self, contribution_id):
        """Claim a contribution for review (api.moderation.decisions.claim)."""
        principal = _moderator()
        minutes = current_app.config["CLAIM_MINUTES"]
        __, refused = _on_contribution(
            contribution_id,
            principal,
            lambda contribution: service.claim(
                db.session, contribution, principal.user, minutes=minutes
            ),
        )
        if refused:
            return refused
        flash(
            _(
                "You hold this contribution for %(minutes)d minutes.",
                minutes=current_app.config["CLAIM_MINUTES"],
            )
        )
        return redirect(url_for("web.moderate_contribution", contribution_id=contribution_id), 303)


class Release(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    @idempotent
    def post(self, contribution_id):
        """Give a claimed contribution back to the queue."""
        principal = _moderator()
        __, refused = _on_contribution(
            contribution_id,
            principal,
            lambda contribution: service.release(
                db.session,
                contribution,
                principal.user,
                anyones=can(principal, "claim.release_any"),
            ),
        )
        if refused:
            return refused
        flash(_("The contribution is back in the queue."))
        return redirect(url_for("web.moderate_queue"), 303)


class Decide(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    @idempotent
    def post(self, contribution_id):
        """Approve, merge, reject, request changes; for flags: dismiss, disclaim, hide."""
        principal = _moderator()
        raw = _filled(request.form, ("decision", "reason", "merge_into"))
        if disclaimers := request.form.getlist("disclaimers"):
            raw["disclaimers"] = disclaimers
        resolutions = {
            key.removeprefix("resolution-"): value
            for key, value in request.form.items()
            if key.startswith("resolution-") and value
        }
        if resolutions:
            raw["resolutions"] = resolutions
        schema = DecisionSchema()
        data, errors = _checked(schema, raw)
        if errors:
            return _review_page(contribution_id, errors=errors, form=request.form, status=422)
        contribution, refused = _on_contribution(
            contribution_id,
            principal,
            lambda contribution: service.decide(
                db.session,
                contribution,
                principal.user,
                data,
                track_record=current_app.config["TRACK_RECORD_APPROVALS"],
            ),
        )
        if refused:
            return refused
        flash(
            _(
                "Decided: %(decision)s. The contribution is now: %(state)s.",
                decision=labels.DECISIONS[data["decision"]],
                state=labels.STATES[contribution.state],
            )
        )
        return redirect(url_for("web.moderate_queue"), 303)


for _path, _view, _name in (
    ("claim", Claim, "moderate_claim"),
    ("release", Release, "moderate_release"),
    ("decision", Decide, "moderate_decide"),
):
    blp.add_url_rule(
        f"/moderate/contributions/<uuid:contribution_id>/{_path}",
        view_func=_view.as_view(_name),
    )


# -- flags and hidden items -------------------------------------------------------------------


@blp.get("/moderate/flags")
@signed_in_page
def moderate_flags():
    """Open flags with their reporters' records, and the items that are hidden."""
    _moderator()
    flags = with_records(service.list_flags(db.session, {"state": "open", "offset": 0}, limit=100))
    titles = titles_of(db.session, [(f["target_type"], f["target_id"]) for f in flags])
    return render_template(
        "moderate/flags.html",
        flags=[(f, titles.get(f["target_id"], "")) for f in flags],
        hidden=hidden_items(db.session, limit=100, offset=0),
    )


# -- one published item: hide, disclaimers, history, revert --------------------------------


ITEM = "/moderate/items/<any(" + ", ".join(TARGET_TYPES) + "):target_type>/<uuid:target_id>"


def _item_page(target_type, target_id, *, errors=None, form=None, status=200):
    principal = _moderator()
    item = service.get_item(db.session, target_type, target_id, principal)
    flags = with_records(
        service.list_flags(
            db.session,
            {"state": "open", "target_type": target_type, "target_id": item.id, "offset": 0},
            limit=100,
        )
    )
    return render_template(
        "moderate/item.html",
        target_type=target_type,
        item=item,
        title=titles_of(db.session, [(target_type, item.id)]).get(item.id, ""),
        flags=flags,
        revisions=RevisionSchema(many=True).dump(history(db.session, target_type, item.id)),
        events=service.moderation_log(db.session, {"item": item.id, "offset": 0}, limit=20),
        errors=errors or {},
        form=form or MultiDict(),
    ), status


@blp.get(ITEM)
@signed_in_page
def moderate_item(target_type, target_id):
    """A published item as moderators act on it."""
    return _item_page(target_type, target_id)


class ItemAction(MethodView, ABC):
    """One moderator's act on an item: the form is loaded with the API's schema, the
    service does the act, and a refusal comes back on the item's page."""

    body_types = FORM
    decorators = [signed_in_page]
    schema: type
    done: str  # what the flash says afterwards

    @abstractmethod
    def act(self, item, target_type, data, moderator_id) -> None:
        """Call the moderation service for this action on the item."""

    def fields(self) -> dict:
        return {"reason": request.form.get("reason", "").strip() or None}

    @idempotent
    def post(self, target_type, target_id):
        principal = _moderator()
        raw = {k: v for k, v in self.fields().items() if v is not None}
        schema = self.schema()
        data, errors = _checked(schema, raw)
        if errors:
            return _item_page(target_type, target_id, errors=errors, form=request.form, status=422)
        try:
            with db.session.begin_nested():  # a refusal undoes this act alone
                item = service.get_item(db.session, target_type, target_id, principal, lock=True)
                self.act(item, target_type, data, principal.user_id)
        except ProblemError as error:
            if isinstance(error, NotFound):
                raise
            return _item_page(
                target_type,
                target_id,
                errors=forms.problem_messages(error),
                form=request.form,
                status=error.status,
            )
        flash(str(self.done))
        return redirect(
            url_for("web.moderate_item", target_type=target_type, target_id=target_id), 303
        )


class Hide(ItemAction):
    schema = ReasonSchema
    done = _l("Hidden from the public. Nothing is deleted.")

    def act(self, item, target_type, data, moderator_id):
        service.set_hidden(db.session, target_type, item, True, moderator_id, data["reason"])


class Unhide(ItemAction):
    schema = ReasonSchema
    done = _l("Shown to the public again.")

    def act(self, item, target_type, data, moderator_id):
        service.set_hidden(db.session, target_type, item, False, moderator_id, data["reason"])


class Disclaimers(ItemAction):
    schema = DisclaimersSchema
    done = _l("Disclaimers saved.")

    def fields(self):
        return {**super().fields(), "disclaimers": request.form.getlist("disclaimers")}

    def act(self, item, target_type, data, moderator_id):
        service.set_disclaimers(
            db.session, target_type, item, data["disclaimers"], moderator_id, data["reason"]
        )


class Revert(ItemAction):
    schema = RevertSchema
    done = _l("Reverted: the earlier content is back, as a new revision.")

    def fields(self):
        return {**super().fields(), "revision": request.form.get("revision") or None}

    def act(self, item, target_type, data, moderator_id):
        service.revert_item(
            db.session, target_type, item, data["revision"], moderator_id, data["reason"]
        )


for _path, _view, _name in (
    ("hide", Hide, "moderate_hide"),
    ("unhide", Unhide, "moderate_unhide"),
    ("disclaimers", Disclaimers, "moderate_disclaimers"),
    ("revert", Revert, "moderate_revert"),
):
    blp.add_url_rule(f"{ITEM}/{_path}", view_func=_view.as_view(_name))


# -- the moderation log ---------------------------------------------------------------------


@blp.get("/moderate/log")
@signed_in_page
def moderate_log():
    """The append-only moderation log, newest first: by item or action."""
    _moderator()
    filters = _filled(request.args, LOG_FILTERS)
    args, errors = _checked(ModerationLogArgsSchema(), {"limit": PAGE, **filters})
    events = [] if errors else service.moderation_log(db.session, args, limit=PAGE)
    names = dict(
        db.session.execute(
            select(User.id, User.display_name).where(
                User.id.in_({e.moderator_id for e in events if e.moderator_id})
            )
        )
        .tuples()
        .all()
    )
    titles = titles_of(db.session, [(e.target_type, e.target_id) for e in events])
    offset = 0 if errors else args["offset"]
    return render_template(
        "moderate/log.html",
        events=events,
        names=names,
        titles=titles,
        filters=filters,
        errors=errors,
        newer=_page_link("web.moderate_log", filters, offset - PAGE) if offset else None,
        older=_page_link("web.moderate_log", filters, offset + PAGE)
        if len(events) == PAGE
        else None,
    ), (422 if errors else 200)


# -- flagging (any contributor with a confirmed address) -------------------------------------


class FlagItem(MethodView):
    """Flag an actor as misinformation, harmful, endangering someone…: the API's flag
    service with its limits, standing and hiding rules (api.moderation.flags)."""

    body_types = FORM
    decorators = [signed_in_page]
    template = "moderate/flag.html"

    def get(self, actor_id):
        actor = get_actor(db.session, actor_id, current_principal())
        return render_template(self.template, actor=actor, errors={}, values={})

    @idempotent
    def post(self, actor_id):
        principal = current_principal()
        actor = get_actor(db.session, actor_id, principal)
        typed = {"target_type": "actor", "target_id": str(actor.id), **forms.posted()}
        try:
            require(principal, "flag.create")
            with db.session.begin_nested():  # a refusal undoes this act alone
                service.flag(
                    db.session,
                    principal,
                    forms.load(FlagCreateSchema(), typed),
                    review_threshold=current_app.config["FLAG_REVIEW_THRESHOLD"],
                    policy=Policy.from_config(current_app.config),
                )
        except (ProblemError, forms.Invalid) as refusal:
            return forms.show_again(self.template, refusal, actor=actor)
        if _still_public(actor.id) is None:
            flash(_("Thank you. The profile is hidden until a moderator has looked at it."))
            return redirect("/", 303)
        flash(_("Thank you. A moderator will look at it; your name is never shown."))
        return redirect(f"/actors/{actor.id}", 303)


def _still_public(actor_id):
    """The actor, if the public may still see it (a flag with standing hides it at once)."""
    try:
        return service.get_item(db.session, "actor", actor_id, Principal())
    except NotFound:
        return None


blp.add_url_rule("/actors/<uuid:actor_id>/flag", view_func=FlagItem.as_view("flag_actor"))
