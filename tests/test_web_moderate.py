"""The Moderate job's pages: the queue with filters and counts, claims, decisions one by one
and in batches, flags and hidden items, disclaimers, history and revert, the moderation log.
They call the moderation service the API calls, so its rules hold here too."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.actors.models import Actor
from api.moderation.models import Contribution
from tests.test_moderation import NEW_ACTOR, propose
from tests.web import form_errors, page, submit, untranslated

# Digits of the proposal's exact point that no generalised location shares.
EXACT = {"type": "Point", "coordinates": [34.761234, -0.091234]}


@pytest.fixture
def author(make_user, login):
    user = make_user()
    return user, login(user)


@pytest.fixture
def moderator(client, make_user, web_sign_in):
    """A moderator signed in to the web pages of ``client``."""
    user = make_user("moderator")
    web_sign_in(client, user)
    return user


def _proposed(client, headers, **changes) -> uuid.UUID:
    response = propose(client, headers, payload={**NEW_ACTOR, "location": EXACT, **changes})
    assert response.status_code == 201, response.get_json()
    return uuid.UUID(response.get_json()["id"])


@pytest.mark.parametrize("role", ["contributor", "admin"])
def test_only_the_permission_table_opens_the_moderation_pages(client, make_user, web_sign_in, role):
    web_sign_in(client, make_user(role))

    assert client.get("/moderate").status_code == {"contributor": 403, "admin": 200}[role]


def test_a_visitor_is_sent_to_sign_in_and_back(client):
    response = client.get("/moderate?kind=new_actor")

    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in?next=/moderate?kind%3Dnew_actor"


def test_queue_lists_proposals_with_counts_and_filters(client, author, moderator):
    _proposed(client, author[1], name="Lakeside Listening Circle")

    html = page(client, "/moderate")
    assert "Lakeside Listening Circle" in html
    assert re.search(r"Waiting</a>: <strong>[1-9]", html)

    only_resources = page(client, "/moderate?kind=new_resource")
    assert "Lakeside Listening Circle" not in only_resources
    assert '<option value="new_resource" selected>' in only_resources


def test_a_bad_filter_is_named_in_the_error_summary(client, moderator):
    response = client.get("/moderate?country=Narnia")

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#f-country"' in form_errors(html)
    assert 'value="Narnia"' in html  # what was typed stays


def test_the_review_page_never_shows_the_exact_location(client, author, moderator):
    contribution_id = _proposed(client, author[1])

    html = page(client, f"/moderate/contributions/{contribution_id}")

    assert "Kisumu Lakeside Peace Forum" in html
    assert "34.761234" not in html and "0.091234" not in html
    assert "(private)" in html


def test_claim_then_approve_publishes_the_actor(client, session, author, moderator):
    contribution_id = _proposed(client, author[1])
    review = f"/moderate/contributions/{contribution_id}"

    claimed = submit(client, review, f"{review}/claim", {})
    assert claimed.status_code == 303
    assert "You hold this contribution" in page(client, review)

    decided = submit(client, review, f"{review}/decision", {"decision": "approve"})
    assert decided.status_code == 303 and decided.headers["Location"] == "/moderate"

    contribution = session.get(Contribution, contribution_id)
    assert contribution.state == "approved" and contribution.decided_by == moderator.id
    assert session.get(Actor, contribution.target_id).status == "published"
    assert "Decided: Approve" in page(client, "/moderate")


def test_a_rejection_without_reason_keeps_the_form_and_names_the_field(
    client, session, author, moderator
):
    contribution_id = _proposed(client, author[1])
    review = f"/moderate/contributions/{contribution_id}"

    response = submit(client, review, f"{review}/decision", {"decision": "reject"})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#f-reason"' in form_errors(html)
    assert 'id="decision-reject" value="reject" checked' in html
    assert session.get(Contribution, contribution_id).state == "submitted"


def test_the_workflow_table_refuses_on_the_web_as_on_the_api(client, session, author, moderator):
    contribution_id = _proposed(client, author[1])
    review = f"/moderate/contributions/{contribution_id}"
    submit(
        client, review, f"{review}/decision", {"decision": "reject", "reason": "Not a peace actor"}
    )

    again = submit(client, review, f"{review}/decision", {"decision": "approve"})

    assert again.status_code == 409
    assert "Can&#39;t approve a contribution that is rejected." in again.get_data(as_text=True)
    assert session.get(Contribution, contribution_id).state == "rejected"


def test_four_eyes_hold_on_the_web(client, session, make_user, login, web_sign_in):
    moderator = make_user("moderator")
    contribution_id = _proposed(client, login(moderator))
    web_sign_in(client, moderator)
    review = f"/moderate/contributions/{contribution_id}"

    assert "Four eyes" in page(client, review)
    response = submit(client, review, f"{review}/decision", {"decision": "approve"})

    assert response.status_code == 403
    assert session.get(Contribution, contribution_id).state == "submitted"


def test_an_edit_shows_the_proposal_beside_the_current_version(
    client, make_actor, author, moderator
):
    actor = make_actor(name="Old Bridge Forum", summary="Talks across the river.")
    response = propose(
        client,
        author[1],
        kind="actor_edit",
        target_id=str(actor.id),
        payload={"summary": "Talks and shared markets across the river."},
    )
    contribution_id = response.get_json()["id"]

    html = page(client, f"/moderate/contributions/{contribution_id}")

    assert "<del>Talks across the river.</del>" in html
    assert "<ins>Talks and shared markets across the river.</ins>" in html


def test_batch_decisions_record_each_on_its_own(client, session, author, moderator):
    first = _proposed(client, author[1], name="First Circle")
    second = _proposed(client, author[1], name="Second Circle")
    submit(
        client,
        f"/moderate/contributions/{second}",
        f"/moderate/contributions/{second}/decision",
        {"decision": "reject", "reason": "Not a peace actor"},
    )

    response = submit(
        client,
        "/moderate",
        "/moderate/decisions",
        {"id": [str(first), str(second)], "decision": "approve"},
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "First Circle</a>:\n    Approved" in html
    assert "not decided" in html and "rejected" in html
    assert session.get(Contribution, first).state == "approved"
    assert session.get(Contribution, second).state == "rejected"


def test_a_batch_with_nothing_ticked_names_the_list(client, moderator):
    response = submit(client, "/moderate", "/moderate/decisions", {"decision": "approve"})

    assert response.status_code == 422
    assert 'href="#f-id"' in form_errors(response.get_data(as_text=True))


def test_an_item_hidden_for_endangering_someone_is_not_unhidden_past_its_review(
    client, session, make_actor, make_user, login, moderator
):
    """The safety rule of api.moderation.items.set_hidden, through the web: a plain "show
    it again" is refused while the endangers-someone review is open; deciding the review
    brings it back."""
    actor = make_actor(name="Safe House Collective")
    reporter = login(make_user("moderator"))  # staff have standing: the flag hides at once
    flagged = client.post(
        "/api/v1/flags",
        json={"target_type": "actor", "target_id": str(actor.id), "reason": "endangers_someone"},
        headers=reporter,
    )
    assert flagged.status_code == 201
    item = f"/moderate/items/actor/{actor.id}"
    assert "Safe House Collective" in page(client, "/moderate/flags")

    refused = submit(client, item, f"{item}/unhide", {"reason": "Looks fine to me"})

    assert refused.status_code == 409
    assert "its review is open" in refused.get_data(as_text=True)
    assert session.get(Actor, actor.id).hidden

    review = session.scalar(
        select(Contribution.id).where(
            Contribution.kind == "flag_review", Contribution.target_id == actor.id
        )
    )
    review_page = f"/moderate/contributions/{review}"
    dismissed = submit(
        client,
        review_page,
        f"{review_page}/decision",
        {"decision": "dismiss", "reason": "The address shown is the public office"},
    )
    assert dismissed.status_code == 303
    assert not session.get(Actor, actor.id).hidden


def test_disclaimers_set_on_the_web_show_on_the_actor_page(client, make_actor, moderator):
    actor = make_actor(name="River Voices")
    item = f"/moderate/items/actor/{actor.id}"

    response = submit(
        client, item, f"{item}/disclaimers", {"disclaimers": ["disputed"], "reason": "Two reports"}
    )

    assert response.status_code == 303
    assert "Some of what this profile says is disputed." in page(client, f"/actors/{actor.id}")


def test_a_disclaimer_without_reason_is_refused_whole(client, session, make_actor, moderator):
    actor = make_actor(name="River Voices")
    item = f"/moderate/items/actor/{actor.id}"

    response = submit(client, item, f"{item}/disclaimers", {"disclaimers": ["disputed"]})

    assert response.status_code == 422
    assert 'href="#f-reason"' in form_errors(response.get_data(as_text=True))
    assert session.get(Actor, actor.id).disclaimers == []


def test_history_and_revert(client, session, make_actor, author, moderator):
    actor = make_actor(name="Hillside Dialogue")
    edit = propose(
        client,
        author[1],
        kind="actor_edit",
        target_id=str(actor.id),
        payload={"name": "Hillside Dialogue (vandalised)"},
    ).get_json()["id"]
    review = f"/moderate/contributions/{edit}"
    submit(client, review, f"{review}/decision", {"decision": "approve"})
    item = f"/moderate/items/actor/{actor.id}"
    html = page(client, item)
    assert "<ins>Hillside Dialogue (vandalised)</ins>" in html

    response = submit(client, item, f"{item}/revert", {"revision": "1", "reason": "Vandalism"})

    assert response.status_code == 303
    assert session.get(Actor, actor.id).name == "Hillside Dialogue"
    log = page(client, f"/moderate/log?item={actor.id}")
    assert "revert" in log and "Vandalism" in log


def test_the_log_names_the_moderator_and_refuses_a_bad_filter(client, author, moderator):
    contribution_id = _proposed(client, author[1])
    review = f"/moderate/contributions/{contribution_id}"
    submit(client, review, f"{review}/claim", {})

    html = page(client, "/moderate/log")
    assert "<strong>claim</strong>" in html and moderator.display_name in html

    response = client.get("/moderate/log?item=not-an-id")
    assert response.status_code == 422
    assert 'href="#f-item"' in form_errors(response.get_data(as_text=True))


def test_forms_need_their_csrf_token(client, author, moderator):
    contribution_id = _proposed(client, author[1])

    response = client.post(
        f"/moderate/contributions/{contribution_id}/claim", data={"csrf_token": "forged"}
    )

    assert response.status_code == 400


def test_the_queue_speaks_the_readers_language_right_to_left_in_arabic(client, moderator):
    html = client.get("/moderate", headers={"Accept-Language": "ar"}).get_data(as_text=True)

    assert '<html lang="ar" dir="rtl">' in html
    assert "قائمة انتظار الإشراف" in html  # "Moderation queue"
    assert "File de modération" in page_in(client, "/moderate", "fr")


def page_in(client, path, language):
    return client.get(path, headers={"Accept-Language": language}).get_data(as_text=True)


@pytest.mark.parametrize("language", ["fr", "es", "ar", "ru", "sw"])
def test_every_text_of_the_moderate_and_report_pages_is_translated(language):
    assert untranslated(language, ["moderate", "report"]) == []


@pytest.fixture
def veteran(make_user, session):
    """A contributor with standing: an account of some weeks with approved contributions."""
    user = make_user()
    user.created_at = datetime.now(UTC) - timedelta(days=60)
    for _ in range(3):
        session.add(
            Contribution(kind="new_resource", author_id=user.id, state="approved", payload={})
        )
    session.commit()
    return user


def test_a_flag_with_standing_hides_the_actor_at_once(
    client, session, make_actor, veteran, web_sign_in
):
    actor = make_actor(name="Safe House Collective")
    web_sign_in(client, veteran)
    form = f"/actors/{actor.id}/flag"

    response = submit(
        client, form, form, {"reason": "endangers_someone", "note": "Shows the safe house"}
    )

    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert session.get(Actor, actor.id).hidden
    assert client.get(f"/actors/{actor.id}").status_code == 404


def test_a_flag_without_standing_puts_the_actor_first_in_the_queue(
    client, session, make_actor, make_user, web_sign_in
):
    actor = make_actor(name="Safe House Collective")
    web_sign_in(client, make_user())
    form = f"/actors/{actor.id}/flag"

    response = submit(client, form, form, {"reason": "endangers_someone"})

    assert response.headers["Location"] == f"/actors/{actor.id}"
    assert not session.get(Actor, actor.id).hidden
    review = session.scalar(
        select(Contribution).where(
            Contribution.kind == "flag_review", Contribution.target_id == actor.id
        )
    )
    assert review.urgent
    again = submit(client, form, form, {"reason": "endangers_someone"})
    assert again.status_code == 409
    assert "already have an open flag" in form_errors(again.get_data(as_text=True))


def test_a_flag_needs_a_reason_and_a_signed_in_reader(client, make_actor, make_user, web_sign_in):
    actor = make_actor(name="Safe House Collective")
    form = f"/actors/{actor.id}/flag"
    assert client.get(form).status_code == 303  # to sign in first
    web_sign_in(client, make_user())
    assert 'href="/actors/' in page(client, f"/actors/{actor.id}")

    response = submit(client, form, form, {"note": "Something is wrong"})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#f-reason"' in form_errors(html)
    assert "Something is wrong</textarea>" in html


def test_a_decision_sent_again_with_its_key_replays_the_first_answer(
    client, session, author, moderator
):
    contribution_id = _proposed(client, author[1])
    review = f"/moderate/contributions/{contribution_id}"
    decision = {"decision": "approve", "idempotency_key": "decide-1"}

    first = submit(client, review, f"{review}/decision", decision)
    again = submit(client, "/moderate", f"{review}/decision", decision)

    assert first.status_code == again.status_code == 303
    assert again.headers["Idempotent-Replayed"] == "true"
    assert session.get(Contribution, contribution_id).state == "approved"


def test_a_duplicate_proposal_is_merged_into_the_existing_actor(
    client, session, make_actor, author, moderator
):
    existing = make_actor(
        name="Kisumu Lakeside Peace Forum",
        location={"type": "Point", "coordinates": [34.76, -0.09]},
        country="KE",
    )
    contribution_id = _proposed(client, author[1])
    review = f"/moderate/contributions/{contribution_id}"
    html = page(client, review)
    assert f'<option value="{existing.id}"' in html  # offered as a possible duplicate

    without_target = submit(client, review, f"{review}/decision", {"decision": "merge"})
    assert without_target.status_code == 422
    assert 'href="#f-merge-into"' in form_errors(without_target.get_data(as_text=True))

    merged = submit(
        client, review, f"{review}/decision", {"decision": "merge", "merge_into": str(existing.id)}
    )
    assert merged.status_code == 303
    assert session.get(Contribution, contribution_id).target_id == existing.id
