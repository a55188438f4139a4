"""The Contribute job's pages: proposals through the contributions service the API uses
(its permission, schemas and workflow), errors by field with what was typed kept,
idempotent submission, and "my contributions" with resubmit and withdraw."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from shapely.geometry import Point, shape

from api.moderation.models import Contribution
from tests.conftest import csrf_token
from tests.web import form_errors, untranslated

SECRET_POINT = {"type": "Point", "coordinates": [36.817123, -1.286389]}


@pytest.fixture
def contributor(client, make_user, web_sign_in):
    user = make_user()
    web_sign_in(client, user)
    return user


def _form(client, path: str) -> dict:
    """The hidden fields of the form on a page (CSRF token, idempotency key)."""
    html = client.get(path).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]*)"', html)
    return {"csrf_token": csrf_token(html), **({"idempotency_key": key[1]} if key else {})}


def _contributions(session, user):
    session.expire_all()
    return session.query(Contribution).filter_by(author_id=user.id).all()


NEW_ACTOR = {
    "kind": "organisation",
    "name": "Amani Youth Forum",
    "summary": "Football and dialogue for young people.",
    "language": "en",
    "themes": "mediation_dialogue",
    "place": "Nairobi",
    "location_precision": "region",
}


def test_contribute_pages_ask_a_stranger_to_sign_in_first(client):
    for path in ("/contribute", "/contribute/actor", "/my/contributions"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/sign-in?next=")


def test_new_actor_proposed_with_a_named_place(client, contributor, session):
    sent = client.post(
        "/contribute/actor", data={**NEW_ACTOR, **_form(client, "/contribute/actor")}
    )

    assert sent.status_code == 303
    (proposal,) = _contributions(session, contributor)
    assert sent.headers["Location"] == f"/my/contributions/{proposal.id}"
    assert proposal.kind == "new_actor"
    assert proposal.state == "submitted"
    assert proposal.payload["name"] == "Amani Youth Forum"
    assert proposal.payload["themes"] == ["mediation_dialogue"]
    assert proposal.payload["location_precision"] == "region"
    assert shape(proposal.payload["location"]).equals_exact(Point(36.81667, -1.28333), 1e-5)
    assert proposal.country == "KE"


def test_new_actor_with_typed_coordinates(client, contributor, session):
    data = {**NEW_ACTOR, "place": "", "latitude": "-1,2921", "longitude": "36.8219"}

    sent = client.post("/contribute/actor", data={**data, **_form(client, "/contribute/actor")})

    assert sent.status_code == 303
    (proposal,) = _contributions(session, contributor)
    assert shape(proposal.payload["location"]).equals_exact(Point(36.8219, -1.2921), 1e-6)


def test_refused_proposal_names_each_field_and_keeps_what_was_typed(client, contributor, session):
    data = {**NEW_ACTOR, "name": "", "website": "not a web address", "place": "Atlantis"}

    refused = client.post("/contribute/actor", data={**data, **_form(client, "/contribute/actor")})

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert '<a href="#f-location">We do not know this place.' in html
    assert '<a href="#f-name">Fill this in.</a>' in html
    assert '<a href="#f-website">' in html
    assert 'value="not a web address"' in html
    assert 'value="mediation_dialogue" checked' in html
    assert 'value="region" checked' in html
    assert _contributions(session, contributor) == []


AREAS = {
    "areas.0.west": "36.6",
    "areas.0.south": "-1.5",
    "areas.0.east": "37,1",
    "areas.0.north": "-1.1",
    "areas.1.west": "34.5",
    "areas.1.south": "-0.2",
    "areas.1.east": "34.9",
    "areas.1.north": "0.2",
}


def test_new_actor_with_several_areas_of_work(client, contributor, session):
    data = {**NEW_ACTOR, **AREAS}

    sent = client.post("/contribute/actor", data={**data, **_form(client, "/contribute/actor")})

    assert sent.status_code == 303, form_errors(sent.get_data(as_text=True))
    (proposal,) = _contributions(session, contributor)
    area = shape(proposal.payload["area"])
    assert area.geom_type == "MultiPolygon" and area.bounds == (34.5, -1.5, 37.1, 0.2)


def test_add_another_area_shows_one_more_row_keeps_what_was_typed_and_sends_nothing(
    client, contributor, session
):
    data = {**NEW_ACTOR, **AREAS, "add_row": "areas"}

    more = client.post("/contribute/actor", data={**data, **_form(client, "/contribute/actor")})

    html = more.get_data(as_text=True)
    assert more.status_code == 200 and form_errors(html) == ""
    assert 'name="areas.3.north"' in html and 'name="areas.4.north"' not in html
    assert 'value="37,1"' in html
    assert _contributions(session, contributor) == []


def test_an_area_that_is_not_four_numbers_is_named_with_the_other_fields(
    client, contributor, session
):
    data = {**NEW_ACTOR, **AREAS, "areas.1.north": "north of Kisumu", "name": ""}

    refused = client.post("/contribute/actor", data={**data, **_form(client, "/contribute/actor")})

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert '<a href="#f-area">Enter each area' in html
    assert '<a href="#f-name">Fill this in.</a>' in html
    assert 'id="f-area"' in html and 'value="north of Kisumu"' in html
    assert _contributions(session, contributor) == []


def test_an_area_the_schema_refuses_is_named(client, contributor, session):
    data = {**NEW_ACTOR, **AREAS, "areas.1.north": "95"}  # beyond the pole

    refused = client.post("/contribute/actor", data={**data, **_form(client, "/contribute/actor")})

    assert refused.status_code == 422
    assert '<a href="#f-area">' in form_errors(refused.get_data(as_text=True))
    assert _contributions(session, contributor) == []


def test_a_resubmitted_form_creates_one_proposal(client, contributor, session):
    """A dropped connection: the browser sends the same form again, with the same key."""
    data = {**NEW_ACTOR, **_form(client, "/contribute/actor")}

    first = client.post("/contribute/actor", data=data)
    again = client.post("/contribute/actor", data=data)

    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(_contributions(session, contributor)) == 1
    # A new form (a new key) is a new proposal.
    client.post("/contribute/actor", data={**NEW_ACTOR, **_form(client, "/contribute/actor")})
    assert len(_contributions(session, contributor)) == 2


def test_an_unconfirmed_address_may_not_propose_yet(client, make_user, web_sign_in, session):
    user = make_user(verified=False)
    web_sign_in(client, user)

    page = client.get("/contribute/actor").get_data(as_text=True)
    refused = client.post(
        "/contribute/actor", data={**NEW_ACTOR, **_form(client, "/contribute/actor")}
    )

    assert "Confirm your email address to contribute" in page
    assert 'action="/verify-email/resend"' in page
    assert refused.status_code == 403
    assert _contributions(session, user) == []


def test_precision_levels_are_explained_in_the_readers_language(client, contributor):
    html = client.get("/contribute/actor", headers={"Accept-Language": "sw"}).get_data(as_text=True)

    for precision in ("exact", "locality", "region", "country"):
        assert f'name="location_precision" value="{precision}"' in html
    assert "ndani ya takriban km 10" in html  # "within about 10 km"
    assert "ndani ya takriban km 100" in html


def test_resource_proposed(client, contributor, session):
    data = {
        "type": "lesson_from_failure",
        "title": "What our ceasefire monitoring missed",
        "url": "https://example.org/lessons.pdf",
        "language": "en",
        "countries": "KE, UG",
    }

    sent = client.post(
        "/contribute/resource", data={**data, **_form(client, "/contribute/resource")}
    )

    assert sent.status_code == 303
    (proposal,) = _contributions(session, contributor)
    assert proposal.kind == "new_resource"
    assert proposal.payload["countries"] == ["KE", "UG"]


def test_observation_proposed(client, contributor, session):
    data = {
        "text": "Neighbours started building houses of cement.",
        "language": "en",
        "observed_on": "2026-10-01",
        "place": "Kinshasa",
        "location_precision": "locality",
    }

    sent = client.post(
        "/contribute/observation", data={**data, **_form(client, "/contribute/observation")}
    )

    assert sent.status_code == 303
    (proposal,) = _contributions(session, contributor)
    assert proposal.kind == "new_observation"
    assert proposal.country == "CD"


@pytest.fixture
def actor(make_actor):
    return make_actor(name="Amani Women's Circle", summary="Mediation.", location=SECRET_POINT)


def test_translation_proposed(client, contributor, session, actor):
    path = f"/translate/actor/{actor.id}"
    page = client.get(path).get_data(as_text=True)
    assert "Amani Women&#39;s Circle" in page

    data = {
        "language": "fr",
        "texts.name": "Cercle des femmes Amani",
        "texts.summary": "Médiation.",
    }
    sent = client.post(path, data={**data, **_form(client, path)})

    assert sent.status_code == 303
    (proposal,) = _contributions(session, contributor)
    assert proposal.kind == "translation"
    assert proposal.payload == {
        "language": "fr",
        "texts": {"name": "Cercle des femmes Amani", "summary": "Médiation."},
    }


def test_edit_is_previewed_as_a_diff_then_proposed_with_only_what_changed(
    client, contributor, session, actor
):
    path = f"/actors/{actor.id}/propose-edit"
    page = client.get(path).get_data(as_text=True)
    assert 'value="Amani Women&#39;s Circle"' in page
    assert "36.81" not in page and "1.28" not in page  # no location in the form

    fields = {
        "kind": "organisation",
        "name": "Amani Women's Circle",
        "summary": "Mediation between neighbourhoods of Nairobi.",
        "language": "en",
        "themes": "mediation_dialogue",
    }
    preview = client.post(path, data={**fields, **_form(client, path), "preview": "1"})

    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "<del>Mediation.</del>" in html
    assert "<ins>Mediation between neighbourhoods of Nairobi.</ins>" in html
    assert _contributions(session, contributor) == []

    key = re.search(r'name="idempotency_key" value="([^"]*)"', html)[1]
    sent = client.post(
        path,
        data={**fields, "csrf_token": csrf_token(html), "idempotency_key": key, "send": "1"},
    )
    assert sent.status_code == 303
    (proposal,) = _contributions(session, contributor)
    assert proposal.kind == "actor_edit"
    assert proposal.payload == {"summary": "Mediation between neighbourhoods of Nairobi."}


def test_edit_that_changes_nothing_says_so(client, contributor, actor):
    path = f"/actors/{actor.id}/propose-edit"
    fields = {
        "kind": "organisation",
        "name": "Amani Women's Circle",
        "summary": "Mediation.",
        "language": "en",
        "themes": "mediation_dialogue",
    }

    refused = client.post(path, data={**fields, **_form(client, path), "send": "1"})

    assert refused.status_code == 422
    assert "Change at least one thing" in refused.get_data(as_text=True)


def test_an_actor_the_public_may_not_see_cannot_be_edited(client, contributor, make_actor):
    draft_id = make_actor(status="draft").id

    assert client.get(f"/actors/{draft_id}/propose-edit").status_code == 404
    assert client.get(f"/translate/actor/{draft_id}").status_code == 404


# -- my contributions -------------------------------------------------------------------------


@pytest.fixture
def proposal(client, contributor, session):
    client.post("/contribute/actor", data={**NEW_ACTOR, **_form(client, "/contribute/actor")})
    (made,) = _contributions(session, contributor)
    return made


def test_my_contributions_lists_states_and_reasons(client, proposal, session):
    proposal.state, proposal.reason = "changes_requested", "Please name the town, not the city."
    session.commit()

    html = client.get("/my/contributions").get_data(as_text=True)

    assert "Amani Youth Forum" in html
    assert "Changes requested" in html
    assert "Please name the town, not the city." in html


def test_resubmit_after_changes_were_requested(client, contributor, proposal, session):
    proposal.state, proposal.reason = "changes_requested", "Add a summary in Swahili."
    session.commit()
    path = f"/my/contributions/{proposal.id}/resubmit"

    form = client.get(path).get_data(as_text=True)
    assert "Add a summary in Swahili." in form
    assert 'value="Amani Youth Forum"' in form
    sent = client.post(
        path,
        data={
            **NEW_ACTOR,
            "summary": "Mpira na mazungumzo kwa vijana.",
            "csrf_token": csrf_token(form),
        },
    )

    assert sent.status_code == 303
    (now,) = _contributions(session, contributor)
    assert now.state == "submitted"
    assert now.payload["summary"] == "Mpira na mazungumzo kwa vijana."


def test_withdraw_through_the_workflow(client, contributor, proposal, session):
    page = client.get(f"/my/contributions/{proposal.id}").get_data(as_text=True)

    withdrawn = client.post(
        f"/my/contributions/{proposal.id}/withdraw", data={"csrf_token": csrf_token(page)}
    )
    again = client.post(
        f"/my/contributions/{proposal.id}/withdraw", data={"csrf_token": csrf_token(page)}
    )

    assert withdrawn.status_code == again.status_code == 303
    (now,) = _contributions(session, contributor)
    assert now.state == "withdrawn"
    html = client.get(f"/my/contributions/{proposal.id}").get_data(as_text=True)
    assert "Withdraw it" not in html
    assert "Can&#39;t withdraw a contribution that is withdrawn." in html


def test_someone_elses_contribution_is_not_found(client, proposal, app, make_user, web_sign_in):
    other = web_sign_in(app.test_client(), make_user())

    assert other.get(f"/my/contributions/{proposal.id}").status_code == 404
    assert other.get(f"/my/contributions/{uuid.uuid4()}").status_code == 404


def test_my_contribution_page_shows_no_coordinates(client, proposal):
    html = client.get(f"/my/contributions/{proposal.id}").get_data(as_text=True)

    assert "36.8" not in html and "1.28" not in html


@pytest.mark.parametrize("language", ["fr", "es", "ar", "ru", "sw"])
def test_every_text_of_the_account_and_contribute_pages_is_translated(language):
    assert untranslated(language, ["account", "contribute", "forms"]) == []


def test_edit_may_move_the_actor_with_a_precision_of_its_own(client, contributor, session, actor):
    path = f"/actors/{actor.id}/propose-edit"
    fields = {
        "kind": "organisation",
        "name": "Amani Women's Circle",
        "summary": "Mediation.",
        "language": "en",
        "themes": "mediation_dialogue",
        "place": "Kinshasa",
        "location_precision": "country",
    }

    preview = client.post(path, data={**fields, "csrf_token": _form(client, path)["csrf_token"]})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "And a new location, which moderators will see." in html
    key = re.search(r'name="idempotency_key" value="([^"]*)"', html)[1]
    sent = client.post(
        path, data={**fields, "csrf_token": csrf_token(html), "idempotency_key": key, "send": "1"}
    )

    assert sent.status_code == 303
    (proposal,) = _contributions(session, contributor)
    assert proposal.payload["location_precision"] == "country"
    assert shape(proposal.payload["location"]).equals_exact(Point(15.31357, -4.32758), 1e-5)


def test_new_actor_with_countries_year_links_and_a_private_contact(client, contributor, session):
    path = "/contribute/actor"
    page = client.get(path).get_data(as_text=True)
    assert "The public never sees them" in page
    fields = {
        **NEW_ACTOR,
        "countries": "ke, UG",
        "founded_year": "2004",
        "links.0.label": "Annual report",
        "links.0.url": "https://amani.example.org/report",
        "contact.email": "amani@example.org",
    }

    # "add another" without JavaScript: the form again with one more row, nothing sent
    more = client.post(path, data={**fields, **_form(client, path), "add_row": "links"})
    html = more.get_data(as_text=True)
    assert more.status_code == 200 and _contributions(session, contributor) == []
    assert 'name="links.2.url"' in html and 'value="Annual report"' in html
    assert 'value="amani@example.org"' in html

    key = re.search(r'name="idempotency_key" value="([^"]*)"', html)[1]
    second = {"links.1.label": "Radio", "links.1.url": "https://radio.example.org"}
    sent = client.post(
        path, data={**fields, **second, "csrf_token": csrf_token(html), "idempotency_key": key}
    )

    assert sent.status_code == 303
    (proposal,) = _contributions(session, contributor)
    payload = proposal.payload
    assert payload["countries"] == ["ke", "UG"] and payload["founded_year"] == "2004"
    assert payload["links"] == [
        {"label": "Annual report", "url": "https://amani.example.org/report"},
        {"label": "Radio", "url": "https://radio.example.org"},
    ]
    assert payload["contact"] == {"email": "amani@example.org"}


def test_each_invalid_new_field_is_named_and_nothing_is_written(client, contributor, session):
    path = "/contribute/actor"
    fields = {
        **NEW_ACTOR,
        "countries": "KE, XX",
        "founded_year": "1700",
        "links.0.label": "",
        "links.1.label": "Radio",
        "links.1.url": "radio",
        "contact.phone": "call me",
    }

    refused = client.post(path, data={**fields, **_form(client, path)})

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    for field, message in (
        ("countries", "Enter countries by their codes"),
        ("founded-year", "Enter a year between 1800 and"),
        ("links-0-url", "Enter a web address"),
        ("contact-phone", "Enter a phone number"),
    ):
        assert f'href="#f-{field}">{message}' in html, field
        assert f'id="f-{field}"' in html
    assert 'value="call me"' in html and 'value="KE, XX"' in html
    assert _contributions(session, contributor) == []


def test_new_actor_fields_in_french(client, contributor):
    fields = {**NEW_ACTOR, "founded_year": "1700", **_form(client, "/contribute/actor")}

    response = client.post("/contribute/actor", data=fields, headers={"Accept-Language": "fr"})
    html = response.get_data(as_text=True)

    assert "Saisissez une année entre 1800 et" in html


def test_edit_proposes_links_countries_and_a_contact_shown_in_the_preview(
    client, contributor, session, actor
):
    path = f"/actors/{actor.id}/propose-edit"
    fields = {
        "kind": "organisation",
        "name": "Amani Women's Circle",
        "summary": "Mediation.",
        "language": "en",
        "themes": "mediation_dialogue",
        "countries": "KE",
        "founded_year": "2010",
        "links.0.label": "Radio",
        "links.0.url": "https://radio.example.org",
        "contact.phone": "+254 700 000000",
    }
    preview = client.post(path, data={**fields, **_form(client, path), "preview": "1"})

    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "<ins>Radio (https://radio.example.org)</ins>" in html
    assert "<ins>2010</ins>" in html
    assert "which only moderators and the profile" in html
    key = re.search(r'name="idempotency_key" value="([^"]*)"', html)[1]
    sent = client.post(
        path,
        data={**fields, "csrf_token": csrf_token(html), "idempotency_key": key, "send": "1"},
    )
    assert sent.status_code == 303
    (proposal,) = _contributions(session, contributor)
    assert proposal.payload["links"] == [{"label": "Radio", "url": "https://radio.example.org"}]
    assert proposal.payload["contact"] == {"phone": "+254 700 000000"}
    assert proposal.payload["founded_year"] == "2010"


AREA = {
    "type": "Polygon",
    "coordinates": [[[36.0, -2.0], [37.5, -2.0], [37.5, -0.5], [36.0, -0.5], [36.0, -2.0]]],
}


def test_resource_with_authors_and_an_area(client, contributor, session, actor):
    data = {
        "type": "report",
        "title": "Dialogue in Nairobi",
        "url": "https://example.org/dialogue.pdf",
        "language": "en",
        "author_actor_ids": f"https://peacemap.example.org/actors/{actor.id}/\n",
        "area": json.dumps(AREA),
    }

    sent = client.post(
        "/contribute/resource", data={**data, **_form(client, "/contribute/resource")}
    )

    assert sent.status_code == 303
    (proposal,) = _contributions(session, contributor)
    assert proposal.payload["author_actor_ids"] == [str(actor.id)]
    assert proposal.payload["area"] == AREA


def test_resource_authors_and_area_refused_by_field(client, contributor, session):
    data = {
        "type": "report",
        "title": "Dialogue in Nairobi",
        "url": "https://example.org/dialogue.pdf",
        "language": "en",
        "author_actor_ids": "somebody",
        "area": "Nairobi and around",
    }

    refused = client.post(
        "/contribute/resource", data={**data, **_form(client, "/contribute/resource")}
    )

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'href="#f-author-actor-ids">This is not a known item.' in html
    assert 'id="f-author-actor-ids"' in html and 'id="f-area"' in html
    assert 'href="#f-area">Paste a GeoJSON polygon' in html
    assert ">Nairobi and around</textarea>" in html and ">somebody</textarea>" in html
    assert _contributions(session, contributor) == []


def test_edit_proposes_new_areas_of_work_shown_in_the_preview(client, contributor, session, actor):
    path = f"/actors/{actor.id}/propose-edit"
    fields = {
        "kind": "organisation",
        "name": "Amani Women's Circle",
        "summary": "Mediation.",
        "language": "en",
        "themes": "mediation_dialogue",
        "areas.0.west": "36.6",
        "areas.0.south": "-1.5",
        "areas.0.east": "37.1",
    }
    unread = client.post(
        path, data={**fields, "areas.0.north": "up", **_form(client, path), "preview": "1"}
    )
    preview = client.post(
        path, data={**fields, "areas.0.north": "-1.1", **_form(client, path), "preview": "1"}
    )

    assert unread.status_code == 422
    assert '<a href="#f-area">Enter each area' in form_errors(unread.get_data(as_text=True))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, form_errors(html)
    assert "And new areas of work" in html and 'value="-1.1"' in html
    key = re.search(r'name="idempotency_key" value="([^"]*)"', html)[1]
    sent = client.post(
        path,
        data={
            **fields,
            "areas.0.north": "-1.1",
            "csrf_token": csrf_token(html),
            "idempotency_key": key,
            "send": "1",
        },
    )
    assert sent.status_code == 303, form_errors(sent.get_data(as_text=True))
    (proposal,) = _contributions(session, contributor)
    assert shape(proposal.payload["area"]).bounds == (36.6, -1.5, 37.1, -1.1)
