"""The Find job: the map and its list, actor pages, the library, observations, and contact
with an actor through Peacemap."""

from __future__ import annotations

from flask import render_template
from flask_babel import get_locale

from api.actors import service
from api.actors.routes import represent
from api.auth import current_principal
from api.db import db
from api.translations import translations_for
from api.web.routes import blp


@blp.get("/actors/<uuid:actor_id>")
def actor_page(actor_id):
    """An actor's public profile, in the reader's language where a translation exists."""
    actor = service.get_actor(db.session, actor_id, current_principal())
    translations = translations_for(db.session, "actor", [actor.id]).get(actor.id)
    data = represent(actor, translations=translations, wanted=str(get_locale()))
    return render_template("actor.html", actor=data)
