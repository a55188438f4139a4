"""Contact an actor through Peacemap (api/contact.py): the form for signed-in readers, the
reply and abuse report a manager reaches from the relayed mail, and the abuse report the
sender reaches from a reply's mail."""

from __future__ import annotations

import uuid

from flask import current_app, render_template
from flask.views import MethodView
from flask_babel import gettext as _

from api import contact
from api.actors.service import get_actor
from api.auth import current_principal
from api.db import db
from api.errors import ProblemError
from api.idempotency import FORM_FIELD, idempotent
from api.ratelimit import contact_limit
from api.web import forms
from api.web.account import signed_in_page
from api.web.routes import FORM, blp


class Contact(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    def get(self, actor_id):
        actor = get_actor(db.session, actor_id, current_principal())
        # A key per form shown: the same form sent again (a dropped connection) is answered
        # from the first sending and relays nothing twice (api/idempotency.py).
        values = {FORM_FIELD: uuid.uuid4().hex}
        return render_template("find/contact.html", actor=actor, errors={}, values=values)

    @contact_limit
    @idempotent
    def post(self, actor_id):
        """Relay the message; the answer is the same whoever manages the actor."""
        actor = get_actor(db.session, actor_id, current_principal())
        typed = {k: v for k, v in forms.posted().items() if k != FORM_FIELD}
        try:
            data = forms.load(contact.ContactMessageSchema(), typed)
            contact.send_message(
                db.session, current_app.config, actor, current_principal(), data["message"]
            )
        except (forms.Invalid, ProblemError) as refusal:
            return forms.show_again("find/contact.html", refusal, actor=actor)
        return render_template("find/contact_sent.html", actor=actor)


class ReportAbuse(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    def get(self, token):
        contact.reported_message(current_app.config, token)  # a bad link is a 404 at once
        return render_template("find/contact_abuse.html", done=False, reply=False)

    def post(self, token):
        contact.report_abuse(db.session, current_app.config, token, current_principal())
        return render_template("find/contact_abuse.html", done=True, reply=False)


class Reply(MethodView):
    """A manager answers a relayed message; nobody's address is shown on the page."""

    body_types = FORM
    decorators = [signed_in_page]

    def get(self, token):
        try:
            actor, _, _ = contact.replying_to(
                db.session, current_app.config, token, current_principal()
            )
        except ProblemError as refusal:
            return _link_refused(refusal)
        values = {FORM_FIELD: uuid.uuid4().hex}
        return render_template(
            "find/contact_reply.html", actor=actor, token=token, errors={}, values=values
        )

    @contact_limit
    @idempotent
    def post(self, token):
        typed = {k: v for k, v in forms.posted().items() if k != FORM_FIELD}
        try:
            actor, _, _ = contact.replying_to(
                db.session, current_app.config, token, current_principal()
            )
        except ProblemError as refusal:
            return _link_refused(refusal)
        try:
            data = forms.load(contact.ContactReplySchema(), typed)
            contact.send_reply(db.session, current_app.config, token, current_principal(), data)
        except (forms.Invalid, ProblemError) as refusal:
            return forms.show_again("find/contact_reply.html", refusal, actor=actor, token=token)
        return render_template("find/contact_sent.html", actor=actor, reply=True)


def _link_refused(refusal: ProblemError):
    """A reply link that cannot be used (forged, expired, used up, not the reader's, the
    actor hidden): the error page, saying why in the reader's language."""
    html = render_template(
        "error.html",
        status=refusal.status,
        title=_("This reply link cannot be used"),
        advice=forms.in_words(refusal.detail),
    )
    return html, refusal.status


class ReportReplyAbuse(MethodView):
    body_types = FORM
    decorators = [signed_in_page]

    def get(self, token):
        return render_template("find/contact_abuse.html", done=False, reply=True)

    def post(self, token):
        contact.report_reply_abuse(db.session, current_app.config, token, current_principal())
        return render_template("find/contact_abuse.html", done=True, reply=True)


blp.add_url_rule("/actors/<uuid:actor_id>/contact", view_func=Contact.as_view("contact"))
blp.add_url_rule("/contact/abuse/<token>", view_func=ReportAbuse.as_view("contact_abuse"))
blp.add_url_rule("/contact/reply/<token>", view_func=Reply.as_view("contact_reply"))
blp.add_url_rule(
    "/contact/reply-abuse/<token>", view_func=ReportReplyAbuse.as_view("contact_reply_abuse")
)
