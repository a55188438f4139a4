"""Contact an actor through Peacemap (api/contact.py): the form for signed-in readers, and
the abuse report a manager reaches from the relayed mail."""

from __future__ import annotations

import uuid

from flask import current_app, render_template
from flask.views import MethodView

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
        return render_template("find/contact_abuse.html", done=False)

    def post(self, token):
        contact.report_abuse(db.session, current_app.config, token, current_principal())
        return render_template("find/contact_abuse.html", done=True)


blp.add_url_rule("/actors/<uuid:actor_id>/contact", view_func=Contact.as_view("contact"))
blp.add_url_rule("/contact/abuse/<token>", view_func=ReportAbuse.as_view("contact_abuse"))
