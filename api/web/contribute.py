"""Pages of the Contribute job: propose a new actor, an edit, a resource, an observation or
a translation, and follow one's proposals ("my contributions"): resubmit, withdraw.

Every proposal goes through the contributions service the API's ``POST
/api/v1/contributions`` calls, loaded by the same envelope and payload schemas, under the
same permission (api.permissions) and workflow (api.moderation.workflow). This module only
turns form fields into the API's payload and back.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import shapely
from flask import flash, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from shapely.geometry import shape
from werkzeug.datastructures import MultiDict

from api.actors import service as actors
from api.actors.routes import represent
from api.auth import current_principal
from api.db import db
from api.errors import NotFound, ProblemError
from api.idempotency import FORM_FIELD, idempotent
from api.moderation import contributions as service
from api.moderation.items import get_item
from api.moderation.schemas import ContributionCreateSchema
from api.moderation.workflow import TRANSITIONS
from api.permissions import can, require
from api.resources.models import RESOURCE_TYPES
from api.themes.service import list_themes
from api.translations import TRANSLATABLE
from api.visibility import is_public
from api.web import forms, labels
from api.web.account import signed_in_page
from api.web.routes import FORM, blp
from geo.places import find_place
from geo.privacy import ORDER

# What each precision lets the public see, in plain words (README, "Location safety").
PRECISION_WORDS = {
    "exact": _l(
        "Exact: the point itself is public. Choose it only for an office or a place that "
        "anyone may visit, never for where someone lives or hides."
    ),
    "locality": _l(
        "Town: the public sees only a point somewhere within about 10 km. The street and "
        "the building stay private."
    ),
    "region": _l(
        "Region: the public sees only a point somewhere within about 100 km, such as the province."
    ),
    "country": _l("Country: the public sees only the country."),
}
STATES = {
    "awaiting_consent": _l("Waiting for the consent of the organisation's manager"),
    "submitted": _l("Waiting for a moderator"),
    "in_review": _l("A moderator is reviewing it"),
    "changes_requested": _l("Changes requested"),
    "approved": _l("Published"),
    "rejected": _l("Not published"),
    "withdrawn": _l("Withdrawn by you"),
}
KINDS = {
    "new_actor": _l("New actor"),
    "actor_edit": _l("Edit of an actor"),
    "new_resource": _l("Library resource"),
    "new_observation": _l("Observation"),
    "translation": _l("Translation"),
}
RESOURCE_TYPE_WORDS = {
    "report": _l("Report or study"),
    "evaluation": _l("Evaluation"),
    "brief": _l("Brief"),
    "tool": _l("Tool"),
    "dataset": _l("Dataset"),
    "lesson_from_failure": _l("Lesson from failure"),
}
FIELD_WORDS = {
    "kind": _l("Kind"),
    "name": _l("Name"),
    "title": _l("Title"),
    "summary": _l("Summary"),
    "description": _l("Description"),
    "language": _l("Language"),
    "website": _l("Website"),
    "themes": _l("Themes"),
    "working_languages": _l("Working languages"),
    "countries": _l("Countries where they work"),
    "founded_year": _l("Year founded"),
    "links": _l("Links"),
}
# Languages a proposal's text may be in (any BCP 47 tag through the API).
CONTENT_LANGUAGES = (
    *("en", "fr", "es", "ar", "ru", "sw", "pt", "zh", "hi", "bn", "ur", "fa", "ps", "tr"),
    *("uk", "am", "ti", "so", "ha", "yo", "ig", "rw", "ln", "my", "ne", "id", "ku"),
)
LOCATION_FIELDS = ("place", "latitude", "longitude")
# Fields typed as one text, sent as a list: "sw, en" → ["sw", "en"].
LIST_FIELDS = ("working_languages", "countries")
ACTOR_TEXTS = ("kind", "name", "summary", "description", "language", "website")
EDITABLE = (*ACTOR_TEXTS, "themes", "working_languages", "countries", "founded_year", "links")
# Repeated entries: rows of fields named ``links.0.label``, ``links.0.url``... A form shows
# the rows typed, one blank row, and one more each time "add another" is pressed.
ROWS = {"links": ("label", "url")}
# Areas of work, typed as boxes (edges in degrees) and sent as one ``area`` geometry.
EDGES = ("west", "south", "east", "north")
ENTRY_PARTS = {**ROWS, "areas": EDGES}
CONTACT_FIELDS = ("email", "phone", "messaging", "note")
ADD_ROW = "add_row"


# -- form fields ↔ the API's payload --------------------------------------------------------


def rows(form: MultiDict, name: str) -> list[dict]:
    """The rows of a repeated entry as typed, blank rows left out, in order (the schema's
    messages then name ``links.0.url`` for the first row shown)."""
    numbers = sorted(
        {int(key.split(".")[1]) for key in form if re.fullmatch(rf"{name}\.\d+\.\w+", key)}
    )
    typed = [
        {part: form.get(f"{name}.{n}.{part}", "").strip() for part in ENTRY_PARTS[name]}
        for n in numbers
    ]
    filled = [row for row in typed if any(row.values())]
    return [{part: text for part, text in row.items() if text} for row in filled]


def _rows(form: MultiDict) -> dict:
    return {name: found for name in ROWS if (found := rows(form, name))}


def _areas_of_work(form: MultiDict) -> dict:
    """The areas of work typed as boxes, as one geometry (overlapping boxes merged): the
    schema then checks it as it checks a drawn one."""
    boxes = []
    for row in rows(form, "areas"):
        try:
            edges = [float(row[edge].replace(",", ".")) for edge in EDGES]
        except (KeyError, ValueError):
            raise forms.Invalid(
                {
                    "area": [
                        _(
                            "Enter each area's four edges as numbers of degrees, such as "
                            "west 36.6, south -1.5, east 37.1, north -1.1."
                        )
                    ]
                }
            ) from None
        boxes.append(shapely.box(*edges))
    return {"area": json.loads(shapely.to_geojson(shapely.union_all(boxes)))} if boxes else {}


def _values_of_area(area: dict) -> dict:
    geometry = shape(area)
    parts = geometry.geoms if geometry.geom_type == "MultiPolygon" else [geometry]
    return {
        f"areas.{n}.{edge}": f"{value:g}"
        for n, part in enumerate(parts)
        for edge, value in zip(EDGES, part.bounds, strict=True)
    }


def _contact(form: MultiDict) -> dict:
    """Private contact details, given only if something is typed."""
    typed = {part: form.get(f"contact.{part}", "").strip() for part in CONTACT_FIELDS}
    contact = {part: text for part, text in typed.items() if text}
    return {"contact": contact} if contact else {}


def _location(form: MultiDict) -> dict:
    """The point from typed coordinates (the map fills them in) or a named place; the
    schema then checks it like any other."""
    latitude, longitude = form.get("latitude", "").strip(), form.get("longitude", "").strip()
    place = form.get("place", "").strip()
    if latitude or longitude:
        try:
            point = [float(longitude.replace(",", ".")), float(latitude.replace(",", "."))]
        except ValueError:
            raise forms.Invalid(
                {
                    "location": [
                        _(
                            "Enter the latitude and the longitude as numbers, such as -1.29 "
                            "and 36.82."
                        )
                    ]
                }
            ) from None
    elif place:
        names = {name: code for code, name in get_locale().territories.items()}
        try:
            point = list(find_place(place, names))
        except LookupError:
            raise forms.Invalid(
                {
                    "location": [
                        _(
                            "We do not know this place. Type a large town or a country, or "
                            "coordinates."
                        )
                    ]
                }
            ) from None
    else:
        return {}
    return {"location": {"type": "Point", "coordinates": point}}


def _values_of_location(payload: dict) -> dict:
    if not (location := payload.get("location")):
        return {}
    longitude, latitude = location["coordinates"]
    return {"latitude": str(latitude), "longitude": str(longitude)}


def _as_values(payload: dict) -> MultiDict:
    """A payload back into form fields (to resubmit what a moderator sent back)."""
    values = MultiDict()
    for name, value in payload.items():
        if name == "themes":
            for theme in value:
                values.add("themes", theme)
        elif name in LIST_FIELDS:
            values[name] = ", ".join(value)
        elif name == "texts":
            for field, text in value.items():
                values[f"texts.{field}"] = text
        elif name in ROWS:
            for n, row in enumerate(value):
                for part, text in row.items():
                    values[f"{name}.{n}.{part}"] = text
        elif name == "contact":
            for part, text in value.items():
                values[f"contact.{part}"] = text
        elif name == "author_actor_ids":
            values["author_actor_ids"] = "\n".join(value)
        elif name == "area":  # a resource's as GeoJSON, an actor's as boxes
            values["area"] = value if isinstance(value, str) else json.dumps(value)
            if isinstance(value, dict):
                values.update(_values_of_area(value))
        elif name == "location":
            values.update(_values_of_location(payload))
        elif isinstance(value, str | int):
            values[name] = str(value)
    return values


def actor_payload(form: MultiDict) -> dict:
    return {
        **forms.texts(form, (*ACTOR_TEXTS, "location_precision", "founded_year")),
        **forms.lists(form, ("themes", "working_languages", "countries")),
        **_rows(form),
        **_contact(form),
        **_read_by_hand(form, _areas_of_work, _location),
    }


def _read_by_hand(form: MultiDict, *readers: Callable[[MultiDict], dict]) -> dict:
    """Fields read here before the schema (a place, areas' edges): every one that cannot
    be read is reported, not only the first."""
    read, errors = {}, {}
    for reader in readers:
        try:
            read.update(reader(form))
        except forms.Invalid as unread:
            errors.update(unread.errors)
    if errors:
        raise forms.Invalid(errors)
    return read


def _by_hand(name: str) -> bool:
    return name in LOCATION_FIELDS or name.startswith("areas.")


def resource_payload(form: MultiDict) -> dict:
    return {
        **forms.texts(form, ("type", "title", "summary", "url", "language", "published_on")),
        **forms.lists(form, ("themes", "countries")),
        **_authors(form),
        **forms.geojson_area(form),
    }


def _authors(form: MultiDict) -> dict:
    """Authors by the addresses of their pages on Peacemap (or their ids), one a line: the
    last part of each is the id the schema checks."""
    lines = [line.strip().rstrip("/") for line in form.get("author_actor_ids", "").splitlines()]
    ids = [line.rsplit("/", 1)[-1] for line in lines if line]
    return {"author_actor_ids": ids} if ids else {}


def observation_payload(form: MultiDict) -> dict:
    return {
        **forms.texts(form, ("text", "language", "observed_on", "location_precision", "actor_id")),
        **forms.lists(form, ("themes",)),
        **_location(form),
    }


def translation_payload(form: MultiDict) -> dict:
    texts = {
        name.removeprefix("texts."): value.strip()
        for name, value in form.items()
        if name.startswith("texts.") and value.strip()
    }
    return {**forms.texts(form, ("language",)), **({"texts": texts} if texts else {})}


def edit_payload(form: MultiDict, actor: dict) -> dict:
    """What the form changes of the actor's public profile, and a new location if given."""
    typed = {name: form.get(name, "").strip() for name in (*ACTOR_TEXTS, "founded_year")}
    lists = forms.lists(form, ("working_languages", "countries"))
    typed.update(
        themes=form.getlist("themes"),
        working_languages=lists.get("working_languages", []),
        countries=lists.get("countries", []),
        links=rows(form, "links"),
    )
    changed = {name: value for name, value in typed.items() if not _same(value, actor.get(name))}
    for name in ("website", "founded_year"):  # cleared
        if changed.get(name) == "":
            changed[name] = None
    moved = _read_by_hand(form, _areas_of_work, _location)  # each only if typed
    if "location" in moved:
        changed.update(location=moved["location"], **forms.texts(form, ("location_precision",)))
    if "area" in moved:
        changed["area"] = moved["area"]
    return {**changed, **_contact(form)}


def _same(typed: str | list, current) -> bool:
    if isinstance(typed, list):
        current = current or []
        if any(isinstance(item, dict) for item in (*typed, *current)):  # rows keep their order
            return typed == current
        return sorted(typed) == sorted(current)
    return typed == ("" if current is None else str(current))


def payload_of(kind: str, form: MultiDict) -> dict:
    """The payload of a form; a place, coordinates or areas that cannot be read are
    reported together with what the schema says of the other fields, not alone."""
    build = PROPOSALS[kind].payload
    try:
        return build(form)
    except forms.Invalid as unread:
        rest = MultiDict([(k, v) for k, v in form.items(multi=True) if not _by_hand(k)])
        try:
            service.load_proposal(kind, build(rest))
        except ProblemError as problem:
            errors = forms.field_messages(problem.errors["payload"])
            raise forms.Invalid({**errors, **unread.errors}) from None
        raise


@dataclass(frozen=True)
class Kind:
    template: str
    payload: Callable[[MultiDict], dict]


PROPOSALS = {
    "new_actor": Kind("contribute/actor.html", actor_payload),
    "new_resource": Kind("contribute/resource.html", resource_payload),
    "new_observation": Kind("contribute/observation.html", observation_payload),
    "translation": Kind("contribute/translation.html", translation_payload),
}
EDIT_TEMPLATE = "contribute/edit.html"


# -- the pages ------------------------------------------------------------------------------


@blp.context_processor
def _words():
    return {
        "precision_words": PRECISION_WORDS,
        "precisions": [p.value for p in ORDER],
        "state_words": STATES,
        "kind_words": KINDS,
        "field_words": FIELD_WORDS,
        "translatable_words": FIELD_WORDS,
        "content_languages": content_languages,
        "entry_rows": entry_rows,
        "add_row": ADD_ROW,
        "title_of": title_of,
        "shown": shown,
        "format_date": format_date,
        "new_key": lambda: uuid.uuid4().hex,
    }


def entry_rows(values: MultiDict, name: str) -> list[dict]:
    """The rows a repeated entry shows: those typed, then a blank one, and one more if
    "add another" was pressed for it."""
    blank = {part: "" for part in ENTRY_PARTS[name]}
    more = 2 if values.get(ADD_ROW) == name else 1
    return [{**blank, **row} for row in rows(values, name)] + [blank] * more


def add_row_asked() -> bool:
    return bool(request.form.get(ADD_ROW))


def again_with_a_row(template: str, **context):
    """The form again with one more blank row, nothing checked or sent yet. Its idempotency
    key is new: the submission to come is another request."""
    values = forms.typed()
    values.pop(FORM_FIELD, None)
    return render_template(template, values=values, errors={}, **context)


def content_languages() -> list[tuple[str, str]]:
    """The languages a text may be written in, named in the reader's language."""
    return sorted(
        ((code, labels.language_name(code)) for code in CONTENT_LANGUAGES),
        key=lambda pair: pair[1].casefold(),
    )


def title_of(contribution) -> str:
    """A few words that name a proposal in a list."""
    payload = contribution.payload
    texts = payload.get("texts") or {}
    words = payload.get("name") or payload.get("title") or payload.get("text")
    return (words or next(iter(texts.values()), "") or "")[:80]


def shown(value) -> str:
    if isinstance(value, list):
        return ", ".join(f"{v['label']} ({v['url']})" if isinstance(v, dict) else v for v in value)
    return "—" if value in (None, "") else str(value)


def _form_context(**extra) -> dict:
    principal = current_principal()
    return {
        "themes": list_themes(db.session),
        "resource_types": [(t, RESOURCE_TYPE_WORDS[t]) for t in RESOURCE_TYPES],
        "may_contribute": can(principal, "contribution.submit"),
        **extra,
    }


def _submit(envelope: dict):
    """Propose, exactly as through the API: its permission, schemas and service."""
    principal = current_principal()
    require(principal, "contribution.submit")
    data = forms.load(ContributionCreateSchema(), envelope)
    return service.submit(db.session, principal, data)


def _proposal_errors(refusal):
    """The service names a payload's fields under ``payload``: on the form they are fields."""
    if isinstance(refusal, ProblemError) and refusal.errors and "payload" in refusal.errors:
        return forms.Invalid(forms.field_messages(refusal.errors["payload"]), refusal.status)
    return refusal


def _sent(contribution):
    flash(_("Thank you. Your proposal waits for a moderator's review; follow it here."))
    return redirect(url_for("web.my_contribution", contribution_id=contribution.id), code=303)


@blp.get("/contribute")
@signed_in_page
def contribute():
    """What one may propose, and how."""
    return render_template("contribute/index.html", **_form_context())


class Propose(MethodView):
    """A form for one kind of proposal (new actor, resource, observation)."""

    body_types = FORM
    decorators = [signed_in_page]
    kind: str

    def get(self):
        values = MultiDict(request.args)
        return render_template(
            PROPOSALS[self.kind].template, values=values, errors={}, **_form_context()
        )

    @idempotent
    def post(self):
        spec = PROPOSALS[self.kind]
        if add_row_asked():
            return again_with_a_row(spec.template, **_form_context())
        try:
            payload = payload_of(self.kind, request.form)
            contribution = _submit({"kind": self.kind, "payload": payload})
        except (ProblemError, forms.Invalid) as refusal:
            return forms.show_again(spec.template, _proposal_errors(refusal), **_form_context())
        return _sent(contribution)


class ProposeActor(Propose):
    kind = "new_actor"


class ProposeResource(Propose):
    kind = "new_resource"


class ProposeObservation(Propose):
    kind = "new_observation"


class ProposeEdit(MethodView):
    """An edit of a published actor, previewed as a diff of its public fields first."""

    body_types = FORM
    decorators = [signed_in_page]

    def get(self, actor_id):
        actor = public_actor(actor_id)
        values = _as_values({k: actor.get(k) or "" for k in EDITABLE})
        return render_template(
            EDIT_TEMPLATE, values=values, errors={}, **_form_context(actor=actor)
        )

    @idempotent
    def post(self, actor_id):
        actor = public_actor(actor_id)
        context = _form_context(actor=actor)
        if add_row_asked():
            return again_with_a_row(EDIT_TEMPLATE, **context)
        try:
            payload = edit_payload(request.form, actor)
            if not payload:
                raise forms.Invalid({forms.FORM: [_("Change at least one thing to propose.")]})
            if "send" not in request.form:  # the preview: checked, not proposed yet
                forms.load(service.PROPOSAL_SCHEMAS["actor_edit"], payload)
                values = forms.typed()
                values.pop(FORM_FIELD, None)  # the proposal itself gets a key of its own
                return render_template(
                    EDIT_TEMPLATE,
                    values=values,
                    errors={},
                    diff=_diff(actor, payload),
                    has_location="location" in payload,
                    has_contact="contact" in payload,
                    has_area="area" in payload,
                    **context,
                )
            contribution = _submit(
                {"kind": "actor_edit", "target_id": str(actor["id"]), "payload": payload}
            )
        except (ProblemError, forms.Invalid) as refusal:
            return forms.show_again(EDIT_TEMPLATE, _proposal_errors(refusal), **context)
        return _sent(contribution)


def public_actor(actor_id) -> dict:
    """The actor as the public sees it: an edit is proposed against what one may read."""
    return represent(actors.get_actor(db.session, actor_id, current_principal()))


def _diff(actor: dict, payload: dict) -> list[tuple[str, object, object]]:
    """(field, what the public sees now, what is proposed), for the public fields changed."""
    return [
        (name, actor.get(name), value)
        for name, value in payload.items()
        if name not in ("location", "location_precision", "contact", "area")
    ]


class ProposeTranslation(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    def get(self, target_type, target_id):
        original = self._original(target_type, target_id)
        return render_template(
            "contribute/translation.html",
            values=MultiDict(request.args),
            errors={},
            **_form_context(original=original, target_type=target_type),
        )

    @idempotent
    def post(self, target_type, target_id):
        original = self._original(target_type, target_id)
        context = _form_context(original=original, target_type=target_type)
        try:
            contribution = _submit(
                {
                    "kind": "translation",
                    "target_type": target_type,
                    "target_id": str(target_id),
                    "payload": translation_payload(request.form),
                }
            )
        except (ProblemError, forms.Invalid) as refusal:
            return forms.show_again(
                "contribute/translation.html", _proposal_errors(refusal), **context
            )
        return _sent(contribution)

    @staticmethod
    def _original(target_type: str, target_id) -> dict:
        return original_texts(target_type, target_id)


def original_texts(target_type: str, target_id) -> dict:
    """The published texts to translate, as the public reads them."""
    item = get_item(db.session, target_type, target_id, current_principal())
    if not is_public(db.session, target_type, item.id):
        raise NotFound(f"No {target_type} with id {item.id}.")
    texts = {field: getattr(item, field) for field in TRANSLATABLE[target_type]}
    return {"id": item.id, "language": item.language, "texts": texts}


# -- my contributions -------------------------------------------------------------------------


@blp.get("/my/contributions")
@signed_in_page
def my_contributions():
    """One's proposals, newest first, with their states and moderators' reasons."""
    principal = current_principal()
    rows = service.contributions_of(db.session, principal.user_id, {"offset": 0}, limit=200)
    return render_template("contribute/mine.html", contributions=rows)


class MyContribution(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    def get(self, contribution_id):
        contribution = service.get_contribution(db.session, contribution_id, current_principal())
        return render_template("contribute/contribution.html", **_about(contribution))


def _about(contribution) -> dict:
    return {
        "contribution": contribution,
        "may_withdraw": contribution.state in TRANSITIONS["withdraw"][0],
        "may_resubmit": contribution.state in TRANSITIONS["resubmit"][0],
    }


class Withdraw(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    def post(self, contribution_id):
        principal = current_principal()
        contribution = service.get_contribution(db.session, contribution_id, principal, lock=True)
        try:
            service.withdraw(db.session, contribution, principal)
        except ProblemError as problem:
            flash(forms.in_words(problem.detail))
        else:
            flash(_("Your proposal is withdrawn."))
        return redirect(url_for("web.my_contribution", contribution_id=contribution.id), code=303)


class Resubmit(MethodView):
    """The proposal's form again, filled with what was sent, to change what was asked."""

    body_types = FORM
    decorators = [signed_in_page]

    def get(self, contribution_id):
        contribution = service.get_contribution(db.session, contribution_id, current_principal())
        template, context = _form_for(contribution)
        values = _as_values(contribution.payload)
        if contribution.kind == "actor_edit":
            current = {k: context["actor"].get(k) or "" for k in EDITABLE}
            values = _as_values({**current, **contribution.payload})
        return render_template(template, values=values, errors={}, **context)

    def post(self, contribution_id):
        principal = current_principal()
        contribution = service.get_contribution(db.session, contribution_id, principal, lock=True)
        template, context = _form_for(contribution)
        if add_row_asked():
            return again_with_a_row(template, **context)
        try:
            if contribution.kind == "actor_edit":
                payload = edit_payload(request.form, context["actor"])
            else:
                payload = payload_of(contribution.kind, request.form)
            service.resubmit(db.session, contribution, principal, payload)
        except (ProblemError, forms.Invalid) as refusal:
            return forms.show_again(template, _proposal_errors(refusal), **context)
        flash(_("Thank you. Your proposal waits for a moderator's review again."))
        return redirect(url_for("web.my_contribution", contribution_id=contribution.id), code=303)


def _form_for(contribution) -> tuple[str, dict]:
    """The template and context of a contribution's form, to send it again."""
    if contribution.kind == "actor_edit":
        actor = public_actor(contribution.target_id)
        return EDIT_TEMPLATE, _form_context(actor=actor, resubmit=contribution)
    extra = {}
    if contribution.kind == "translation":
        original = original_texts(contribution.target_type, contribution.target_id)
        extra = {"original": original, "target_type": contribution.target_type}
    return PROPOSALS[contribution.kind].template, _form_context(resubmit=contribution, **extra)


for rule, view, endpoint in (
    ("/contribute/actor", ProposeActor, "propose_actor"),
    ("/contribute/resource", ProposeResource, "propose_resource"),
    ("/contribute/observation", ProposeObservation, "propose_observation"),
    ("/actors/<uuid:actor_id>/propose-edit", ProposeEdit, "propose_edit"),
    (
        "/translate/<any(actor, resource):target_type>/<uuid:target_id>",
        ProposeTranslation,
        "propose_translation",
    ),
    ("/my/contributions/<uuid:contribution_id>", MyContribution, "my_contribution"),
    ("/my/contributions/<uuid:contribution_id>/withdraw", Withdraw, "withdraw"),
    ("/my/contributions/<uuid:contribution_id>/resubmit", Resubmit, "resubmit"),
):
    blp.add_url_rule(rule, view_func=view.as_view(endpoint))
