"""Crowdsourced contributions and their moderation: workflow, claims, four eyes, revisions,
duplicates, flags, disclaimers, translations and retries."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.actors.models import Actor
from api.moderation.models import Contribution, ModerationEvent
from api.revisions.models import Revision

NEW_ACTOR = {
    "kind": "organisation",
    "name": "Kisumu Lakeside Peace Forum",
    "summary": "Fishing communities settling disputes over the lake.",
    "language": "en",
    "themes": ["land_natural_resources"],
    "location": {"type": "Point", "coordinates": [34.76, -0.09]},
    "location_precision": "locality",
}


@pytest.fixture
def people(make_user, login):
    users = {
        "author": make_user(),
        "other": make_user(),
        "mod": make_user("moderator"),
        "mod2": make_user("moderator"),
        "admin": make_user("admin"),
    }
    return {name: (user, login(user)) for name, user in users.items()}


def propose(client, headers, kind="new_actor", payload=None, **extra):
    body = {"kind": kind, "payload": payload if payload is not None else dict(NEW_ACTOR), **extra}
    return client.post("/api/v1/contributions", json=body, headers=headers)


def act(client, headers, contribution_id, action, **body):
    path = {
        "claim": f"/api/v1/moderation/contributions/{contribution_id}/claim",
        "release": f"/api/v1/moderation/contributions/{contribution_id}/release",
        "withdraw": f"/api/v1/contributions/{contribution_id}/withdraw",
        "resubmit": f"/api/v1/contributions/{contribution_id}/resubmit",
    }.get(action)
    if path is None:
        path = f"/api/v1/moderation/contributions/{contribution_id}/decision"
        body = {"decision": action, **body}
    return client.post(path, json=body or None, headers=headers)


def test_a_new_actor_from_proposal_to_publication(client, people, session):
    _, author = people["author"]
    mod_user, mod = people["mod"]
    created = propose(client, author)
    assert created.status_code == 201, created.get_json()
    contribution = created.get_json()
    assert contribution["state"] == "submitted" and "author_id" not in contribution
    cid = contribution["id"]
    assert client.get("/api/v1/actors?q=Kisumu Lakeside").get_json()["items"] == []

    claimed = act(client, mod, cid, "claim")
    assert claimed.status_code == 200 and claimed.get_json()["state"] == "in_review"
    assert claimed.get_json()["claimed_by"] == str(mod_user.id)
    approved = act(client, mod, cid, "approve", reason="Known to our partners")
    assert approved.status_code == 200, approved.get_json()
    actor_id = approved.get_json()["target_id"]

    public = client.get(f"/api/v1/actors/{actor_id}").get_json()
    assert public["name"] == "Kisumu Lakeside Peace Forum"
    assert public["disclaimers"] == ["unverified"]  # the author has no track record yet
    assert public["location"]["coordinates"] == [34.75, -0.05]  # generalised, as for any actor
    (revision,) = session.scalars(
        select(Revision).where(Revision.target_id == uuid.UUID(actor_id))
    ).all()
    assert str(revision.contribution_id) == cid and revision.approved_by == mod_user.id
    mine = client.get("/api/v1/me/contributions", headers=author).get_json()["items"]
    assert [(c["id"], c["state"], c["reason"]) for c in mine] == [
        (cid, "approved", "Known to our partners")
    ]
    actions = session.scalars(
        select(ModerationEvent.action)
        .where(ModerationEvent.contribution_id == uuid.UUID(cid))
        .order_by(ModerationEvent.id)
    ).all()
    assert actions == ["claim", "approve"]


def test_contributions_are_validated_like_the_api(client, people):
    _, author = people["author"]
    bad = propose(client, author, payload={**NEW_ACTOR, "kind": "militia", "status": "published"})
    assert bad.status_code == 422
    errors = bad.get_json()["errors"]["payload"]
    assert "kind" in errors and "status" in errors  # contributors can't publish themselves
    assert propose(client, author, kind="actor_edit", payload={"summary": "x"}).status_code == 422
    assert propose(client, {}, payload=dict(NEW_ACTOR)).status_code == 401


# -- the state machine --------------------------------------------------------------------

ACTIONS = ("claim", "release", "withdraw", "resubmit", "approve", "reject", "request_changes")
# state → expected status per action (claim by a second moderator; others by the holder/author)
EXPECTED = {
    "submitted": (200, 409, 200, 409, 200, 200, 200),
    "in_review": (409, 200, 200, 409, 200, 200, 200),
    "approved": (409, 409, 409, 409, 409, 409, 409),
    "rejected": (409, 409, 409, 409, 409, 409, 409),
    "changes_requested": (409, 409, 200, 200, 409, 409, 409),
    "withdrawn": (409, 409, 409, 409, 409, 409, 409),
}


@pytest.mark.parametrize(
    ("state", "action", "expected"),
    [
        (state, action, status)
        for state, row in EXPECTED.items()
        for action, status in zip(ACTIONS, row, strict=True)
    ],
)
def test_every_transition_and_refusal(client, people, session, state, action, expected):
    _, author = people["author"]
    mod_user, mod = people["mod"]
    cid = propose(client, author).get_json()["id"]
    contribution = session.get(Contribution, uuid.UUID(cid))
    contribution.state = state
    if state == "in_review":
        contribution.claimed_by, contribution.claimed_until = (
            mod_user.id,
            datetime.now(UTC) + timedelta(minutes=30),
        )
    session.commit()
    actor = {"withdraw": author, "resubmit": author, "claim": people["mod2"][1]}.get(action, mod)
    body = (
        {"payload": dict(NEW_ACTOR)}
        if action == "resubmit"
        else {"reason": "because"}
        if action in ("reject", "request_changes")
        else {}
    )
    response = act(client, actor, cid, action, **body)
    assert response.status_code == expected, response.get_json()
    if expected == 409:
        assert response.content_type == "application/problem+json"


def test_claims_expire(client, people, session):
    _, author = people["author"]
    cid = propose(client, author).get_json()["id"]
    assert act(client, people["mod"][1], cid, "claim").status_code == 200
    assert act(client, people["mod2"][1], cid, "approve").status_code == 409
    contribution = session.get(Contribution, uuid.UUID(cid))
    contribution.claimed_until = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    assert act(client, people["mod2"][1], cid, "approve").status_code == 200


def test_four_eyes(client, people):
    _, mod = people["mod"]
    cid = propose(client, mod).get_json()["id"]
    assert act(client, mod, cid, "claim").status_code == 403
    assert act(client, mod, cid, "approve").status_code == 403
    assert act(client, people["mod2"][1], cid, "approve").status_code == 200


def test_reasons_are_required_and_shown_to_the_author(client, people):
    _, author = people["author"]
    mod = people["mod"][1]
    cid = propose(client, author).get_json()["id"]
    missing = act(client, mod, cid, "request_changes")
    assert missing.status_code == 422 and "reason" in missing.get_json()["errors"]
    assert (
        act(
            client, mod, cid, "request_changes", reason="Please add a summary in Swahili too"
        ).status_code
        == 200
    )
    seen = client.get(f"/api/v1/contributions/{cid}", headers=author).get_json()
    assert (
        seen["state"] == "changes_requested"
        and seen["reason"] == "Please add a summary in Swahili too"
    )
    resubmitted = act(
        client, author, cid, "resubmit", payload={**NEW_ACTOR, "summary": "Wavuvi… / Fishers…"}
    )
    assert resubmitted.get_json()["state"] == "submitted"
    assert client.get(f"/api/v1/contributions/{cid}", headers=people["other"][1]).status_code == 404


def test_batch_decisions_report_each_item(client, people):
    _, author = people["author"]
    mod = people["mod"][1]
    first, second = (
        propose(client, author, payload={**NEW_ACTOR, "name": f"Batch {i}"}).get_json()["id"]
        for i in (1, 2)
    )
    done = act(client, mod, first, "reject", reason="spam")
    assert done.status_code == 200
    response = client.post(
        "/api/v1/moderation/decisions",
        json={
            "items": [
                {"id": first, "decision": "approve"},
                {"id": second, "decision": "approve"},
                {"id": str(uuid.uuid4()), "decision": "approve"},
            ]
        },
        headers=mod,
    )
    results = response.get_json()["results"]
    assert [(r["ok"], r["status"]) for r in results] == [(False, 409), (True, 200), (False, 404)]
    assert results[1]["state"] == "approved"


def test_concurrent_decisions_one_wins(app, database_url, make_user):
    """Two moderators decide at the same moment, on real separate transactions."""
    from api.accounts.models import User
    from api.db import db
    from api.errors import ProblemError
    from api.moderation import service
    from api.principal import Principal

    engine = db.engine
    with Session(engine) as setup:
        author = User(
            email=f"a-{uuid.uuid4().hex[:6]}@example.org", display_name="a", password_hash="x"
        )
        mods = [
            User(
                email=f"m-{uuid.uuid4().hex[:6]}@example.org",
                display_name="m",
                password_hash="x",
                role="moderator",
            )
            for _ in range(2)
        ]
        setup.add_all([author, *mods])
        setup.flush()
        with app.app_context():
            contribution = service.submit(
                setup,
                Principal(user=author),
                {
                    "kind": "new_actor",
                    "payload": {**NEW_ACTOR, "name": f"Race {uuid.uuid4().hex[:6]}"},
                },
            )
        setup.commit()
        cid, mod_ids = contribution.id, [m.id for m in mods]

    barrier, outcomes = threading.Barrier(2), []

    def decide(mod_id, decision):
        with Session(engine) as s, app.app_context():
            moderator = s.get(User, mod_id)
            barrier.wait()
            try:
                c = s.get(Contribution, cid, with_for_update=True)
                service.decide(
                    s, c, moderator, {"decision": decision, "reason": "r"}, track_record=3
                )
                s.commit()
                outcomes.append(decision)
            except ProblemError as error:
                s.rollback()
                outcomes.append(error.status)

    threads = [
        threading.Thread(target=decide, args=(m, d))
        for m, d in zip(mod_ids, ("approve", "reject"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(map(str, outcomes)) in (["409", "approve"], ["409", "reject"])
    with Session(engine) as check:
        final = check.get(Contribution, cid)
        published = check.scalars(select(Actor).where(Actor.name == final.payload["name"])).all()
        state = final.state
        # This test committed for real: take its rows away again (the logs are append-only).
        for actor in published:
            check.execute(delete(Revision).where(Revision.target_id == actor.id))
            check.delete(actor)
        check.delete(final)
        check.flush()
        check.execute(delete(User).where(User.id.in_([final.author_id, *mod_ids])))
        check.commit()
    assert state in ("approved", "rejected")
    assert len(published) == (1 if state == "approved" else 0)  # nothing half-written


# -- edits, conflicts, history, revert ----------------------------------------------------------


def test_edit_conflict_is_shown_and_decided_by_the_moderator(
    client, people, make_actor, make_user, login, session
):
    actor = make_actor(name="Conflicted Org", summary="Original summary")
    actor_id = actor.id
    manager = login(make_user(manager_of=actor))
    _, author = people["author"]
    mod = people["mod"][1]
    cid = propose(
        client,
        author,
        kind="actor_edit",
        target_id=str(actor_id),
        payload={"summary": "Contributor's summary"},
    ).get_json()["id"]
    # Meanwhile the manager edits the same field directly (published at once, in history).
    assert (
        client.patch(
            f"/api/v1/actors/{actor_id}",
            json={"summary": "Manager's summary"},
            headers={**manager, "If-Match": '"v1"'},
        ).status_code
        == 200
    )

    diff = client.get(f"/api/v1/contributions/{cid}", headers=mod).get_json()["diff"]["summary"]
    assert diff == {
        "base": "Original summary",
        "current": "Manager's summary",
        "proposed": "Contributor's summary",
        "conflict": True,
    }
    refused = act(client, mod, cid, "approve")
    assert refused.status_code == 409 and refused.get_json()["errors"] == {"conflicts": ["summary"]}
    assert (
        client.get(f"/api/v1/actors/{actor_id}").get_json()["summary"] == "Manager's summary"
    )  # no silent overwrite
    assert act(client, mod, cid, "approve", resolutions={"summary": "proposed"}).status_code == 200
    assert client.get(f"/api/v1/actors/{actor_id}").get_json()["summary"] == "Contributor's summary"


def test_history_and_revert(client, people, make_actor, admin):
    actor_id = make_actor(name="History Org", summary="v1").id
    url = f"/api/v1/actors/{actor_id}"
    client.patch(
        url,
        json={"summary": "v2", "location": {"type": "Point", "coordinates": [36.9, -1.3]}},
        headers={**admin, "If-Match": '"v1"'},
    )
    client.patch(url, json={"summary": "v3"}, headers={**admin, "If-Match": '"v2"'})
    mod = people["mod"][1]
    history_url = f"/api/v1/moderation/items/actor/{actor_id}/history"
    revisions = client.get(history_url, headers=mod).get_json()
    assert [(r["number"], r["action"]) for r in revisions] == [
        (1, "created"),
        (2, "edited"),
        (3, "edited"),
    ]
    assert revisions[1]["changes"]["summary"] == ["v1", "v2"]
    # The exact location is redacted: its public form shows what moved.
    assert revisions[1]["changes"]["location"] == ["(private)", "(private)"]
    assert "public_location" in revisions[1]["changes"]
    assert client.get(history_url, headers=people["author"][1]).status_code == 403

    reverted = client.post(
        f"/api/v1/moderation/items/actor/{actor_id}/revert",
        json={"revision": 1, "reason": "vandalism"},
        headers=mod,
    )
    assert reverted.status_code == 200 and reverted.get_json()["number"] == 4
    assert client.get(url).get_json()["summary"] == "v1"
    assert client.get(url).get_json()["location"]["coordinates"] == [36.82, -1.29]
    log = client.get(
        f"/api/v1/moderation/log?item={actor_id}&action=revert", headers=mod
    ).get_json()["items"]
    assert log[0]["reason"] == "vandalism" and log[0]["details"] == {"to_revision": 1}


# -- duplicates and merge -------------------------------------------------------------------


def test_duplicates_are_found_and_merged(client, people, make_actor):
    existing = make_actor(
        name="Kisumu Lakeside Peace Forum",
        summary="",
        location={"type": "Point", "coordinates": [34.75, -0.1]},
        themes=["violence"],
    )
    existing_id = existing.id
    make_actor(
        name="Completely Different Name", location={"type": "Point", "coordinates": [34.76, -0.09]}
    )
    _, author = people["author"]
    mod = people["mod"][1]
    cid = propose(
        client, author, payload={**NEW_ACTOR, "name": "Kisumu Lakeside Peace Forvm"}
    ).get_json()["id"]
    review = client.get(f"/api/v1/contributions/{cid}", headers=mod).get_json()
    assert [d["actor_id"] for d in review["duplicates"]] == [str(existing_id)]
    assert review["duplicates"][0]["similarity"] > 0.5

    merged = act(client, mod, cid, "merge", merge_into=str(existing_id), reason="same forum")
    assert merged.status_code == 200 and merged.get_json()["target_id"] == str(existing_id)
    actor = client.get(f"/api/v1/actors/{existing_id}").get_json()
    assert actor["summary"] == NEW_ACTOR["summary"] and actor["themes"] == [
        "violence",
        "land_natural_resources",
    ]
    assert client.get("/api/v1/actors?q=Forvm").get_json()["items"] == []
    assert act(client, mod, propose(client, author).get_json()["id"], "merge").status_code == 422


# -- flags and disclaimers --------------------------------------------------------------------


def flag(client, headers, target_id, reason="misinformation", target_type="actor", **extra):
    return client.post(
        "/api/v1/flags",
        json={"target_type": target_type, "target_id": str(target_id), "reason": reason, **extra},
        headers=headers,
    )


def test_one_endangers_someone_flag_with_standing_hides_at_once(
    client, people, make_actor, session
):
    """(Standing, and what flags of people without it do: tests/test_safety_visibility.py.)"""
    actor_id = make_actor(name="Exposed Group").id
    _, reporter = people["mod2"]  # staff always have standing
    response = flag(client, reporter, actor_id, "endangers_someone", note="Shows the safe house")
    assert response.status_code == 201 and "reporter_id" not in response.get_json()
    assert client.get(f"/api/v1/actors/{actor_id}").status_code == 404
    assert "Exposed Group" not in client.get("/api/v1/actors?limit=1000").get_data(as_text=True)
    mod = people["mod"][1]
    queue = client.get("/api/v1/moderation/queue?kind=flag_review", headers=mod).get_json()
    (review,) = queue["items"]
    assert (
        review["target_id"] == str(actor_id) and review["flags"][0]["reason"] == "endangers_someone"
    )
    assert review["flags"][0]["reporter_id"] == str(people["mod2"][0].id)  # moderators only
    # The flagger can't review their own flag; another moderator can, and may restore it.
    assert act(client, reporter, review["id"], "dismiss", reason="x").status_code == 403
    assert (
        act(
            client, mod, review["id"], "dismiss", reason="The address was already public"
        ).status_code
        == 200
    )
    assert client.get(f"/api/v1/actors/{actor_id}").status_code == 200


def test_flags_of_other_reasons_queue_the_item_at_the_threshold(
    client, people, make_actor, make_user, login
):
    actor_id = make_actor(name="Disputed Claims Org").id
    reporters = [login(make_user()) for _ in range(3)]
    assert flag(client, reporters[0], actor_id).status_code == 201
    assert flag(client, reporters[0], actor_id).status_code == 409  # one open flag per person
    assert flag(client, reporters[1], actor_id, "outdated").status_code == 201
    mod = people["mod"][1]
    assert (
        client.get("/api/v1/moderation/queue?kind=flag_review", headers=mod).get_json()["items"]
        == []
    )
    assert flag(client, reporters[2], actor_id, "other").status_code == 201
    (review,) = client.get("/api/v1/moderation/queue?kind=flag_review", headers=mod).get_json()[
        "items"
    ]
    assert len(review["flags"]) == 3
    assert client.get(f"/api/v1/actors/{actor_id}").status_code == 200  # still visible meanwhile
    decided = act(
        client,
        mod,
        review["id"],
        "disclaim",
        disclaimers=["disputed", "outdated"],
        reason="Claims disputed by partners",
    )
    assert decided.status_code == 200
    public = client.get(f"/api/v1/actors/{actor_id}").get_json()
    assert public["disclaimers"] == ["disputed", "outdated"]
    listed = client.get("/api/v1/actors?q=Disputed Claims").get_json()["items"][0]
    assert listed["disclaimers"] == ["disputed", "outdated"]
    assert client.get("/api/v1/moderation/flags?state=open", headers=mod).get_json()["items"] == []


def test_moderators_hide_and_set_disclaimers_directly(client, people, make_actor):
    actor_id = make_actor(name="Hide Me").id
    mod = people["mod"][1]
    base = f"/api/v1/moderation/items/actor/{actor_id}"
    assert (
        client.post(
            f"{base}/hide", json={"reason": "harmful"}, headers=people["author"][1]
        ).status_code
        == 403
    )
    assert client.post(f"{base}/hide", json={"reason": "harmful"}, headers=mod).status_code == 204
    assert client.post(f"{base}/hide", json={"reason": "again"}, headers=mod).status_code == 409
    assert client.get(f"/api/v1/actors/{actor_id}").status_code == 404
    assert (
        client.get(f"/api/v1/actors/{actor_id}", headers=mod).status_code == 200
    )  # hidden, not deleted
    assert (
        client.post(f"{base}/unhide", json={"reason": "reviewed"}, headers=mod).status_code == 204
    )
    assert (
        client.put(
            f"{base}/disclaimers",
            json={"disclaimers": ["outdated"], "reason": "2019 data"},
            headers=mod,
        ).status_code
        == 204
    )
    assert client.get(f"/api/v1/actors/{actor_id}").get_json()["disclaimers"] == ["outdated"]
    actions = [
        e["action"]
        for e in client.get(f"/api/v1/moderation/log?item={actor_id}", headers=mod).get_json()[
            "items"
        ]
    ]
    assert actions == ["disclaimed", "unhidden", "hidden"]


# -- resources, observations, translations -----------------------------------------------------


def test_resources_are_contributed_and_searchable(client, people):
    _, author = people["author"]
    mod = people["mod"][1]
    resource = {
        "type": "lesson_from_failure",
        "title": "What went wrong with our dialogue clubs",
        "summary": "Three years of youth dialogue clubs that did not reduce violence.",
        "url": "https://example.org/lessons.pdf",
        "language": "en",
        "themes": ["youth"],
        "countries": ["SL"],
        "published_on": "2024-05-01",
    }
    cid = propose(client, author, kind="new_resource", payload=resource).get_json()["id"]
    assert act(client, mod, cid, "approve").status_code == 200
    found = client.get(
        "/api/v1/resources?q=dialogue clubs&type=lesson_from_failure&country=SL"
    ).get_json()["items"]
    assert [r["title"] for r in found] == [resource["title"]]
    assert found[0]["disclaimers"] == ["unverified"]
    assert client.get("/api/v1/resources?theme=gender").get_json()["items"] == []


def test_observations_keep_their_author_and_exact_place_private(client, people):
    author_user, author = people["author"]
    mod = people["mod"][1]
    observation = {
        "text": "Neighbours are rebuilding their houses in cement: they expect to stay.",
        "language": "en",
        "observed_on": "2025-02-10",
        "location": {"type": "Point", "coordinates": [96.1234, 16.8765]},
        "location_precision": "region",
        "themes": ["agency"],
    }
    cid = propose(client, author, kind="new_observation", payload=observation).get_json()["id"]
    assert act(client, mod, cid, "approve").status_code == 200
    response = client.get("/api/v1/observations?country=MM")
    (item,) = response.get_json()["items"]
    # Yangon's 1° cell is mostly the Gulf of Martaban: the cell inland stands for it.
    assert item["location"]["coordinates"] == [95.5, 17.5]
    assert item["disclaimers"] == ["community_reported", "unverified"]
    text = response.get_data(as_text=True)
    assert str(author_user.id) not in text and "96.1234" not in text and "author" not in text
    assert client.get("/api/v1/observations?bbox=96.1,16.8,96.2,16.9").get_json()["items"] == []


def test_translations_sit_beside_the_original(client, people, make_actor):
    actor_id = make_actor(
        name="Freetown Dialogue Centre", summary="Dialogue between communities.", language="en"
    ).id
    _, author = people["author"]
    mod = people["mod"][1]
    payload = {"language": "fr", "texts": {"summary": "Dialogue entre les communautés."}}
    cid = propose(
        client,
        author,
        kind="translation",
        target_type="actor",
        target_id=str(actor_id),
        payload=payload,
    ).get_json()["id"]
    assert (
        client.get(f"/api/v1/actors/{actor_id}?lang=fr").get_json()["summary"]
        == "Dialogue between communities."
    )
    assert act(client, mod, cid, "approve").status_code == 200

    french = client.get(f"/api/v1/actors/{actor_id}?lang=fr").get_json()
    assert french["summary"] == "Dialogue entre les communautés."
    assert (
        french["name"] == "Freetown Dialogue Centre"
    )  # untranslated texts fall back to the original
    assert french["text_languages"] == {"name": "en", "summary": "fr", "description": "en"}
    assert french["translated_fields"] == ["summary"] and french["language"] == "en"
    by_header = client.get(
        f"/api/v1/actors/{actor_id}", headers={"Accept-Language": "fr-CA,fr;q=0.9"}
    ).get_json()
    assert by_header["summary"] == "Dialogue entre les communautés."
    assert (
        client.get(f"/api/v1/actors/{actor_id}?lang=de").get_json()["summary"]
        == "Dialogue between communities."
    )
    same_language = propose(
        client,
        author,
        kind="translation",
        target_type="actor",
        target_id=str(actor_id),
        payload={"language": "en", "texts": {"summary": "x"}},
    )
    assert same_language.status_code == 422


# -- retries on bad networks -------------------------------------------------------------------


def test_idempotent_retries_create_nothing_new(client, people, session):
    _, author = people["author"]
    headers = {**author, "Idempotency-Key": "retry-7f3a"}
    body = {"kind": "new_actor", "payload": dict(NEW_ACTOR)}
    first = client.post("/api/v1/contributions", json=body, headers=headers)
    again = client.post("/api/v1/contributions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert (
        again.get_json() == first.get_json()
        and again.headers["Location"] == first.headers["Location"]
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(session.scalars(select(Contribution)).all()) == 1
    other = client.post(
        "/api/v1/contributions",
        json={**body, "payload": {**NEW_ACTOR, "name": "Other"}},
        headers=headers,
    )
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["errors"]


def test_idempotent_flags(client, people, make_actor):
    actor_id = make_actor().id
    headers = {**people["other"][1], "Idempotency-Key": "flag-1"}
    assert flag(client, headers, actor_id).status_code == 201
    assert flag(client, headers, actor_id).status_code == 201  # replayed, not a 409


# -- the queue ------------------------------------------------------------------------------


def test_queue_filters_sorts_and_counts(client, people, session):
    _, author = people["author"]
    mod = people["mod"][1]
    kenya = propose(client, author).get_json()["id"]
    colombia = propose(
        client,
        author,
        payload={
            **NEW_ACTOR,
            "name": "Red de Paz",
            "language": "es",
            "themes": ["youth"],
            "location": {"type": "Point", "coordinates": [-74.07, 4.71]},
        },
    ).get_json()["id"]
    old = session.get(Contribution, uuid.UUID(kenya))
    old.submitted_at = datetime.now(UTC) - timedelta(days=3)
    session.commit()
    act(client, mod, colombia, "claim")

    def ids(query):
        return [
            c["id"]
            for c in client.get(f"/api/v1/moderation/queue?{query}", headers=mod).get_json()[
                "items"
            ]
        ]

    assert ids("") == [kenya, colombia]  # oldest first
    assert ids("sort=newest") == [colombia, kenya]
    assert ids("country=CO") == [colombia]
    assert ids("language=es") == [colombia]
    assert ids("theme=land_natural_resources") == [kenya]
    assert ids("bbox=30,-5,40,5") == [kenya]
    assert ids("older_than_hours=24") == [kenya]
    assert ids("state=in_review") == [colombia]
    counts = client.get("/api/v1/moderation/queue", headers=mod).get_json()["counts"]
    assert counts == {"submitted": 1, "in_review": 1}
    assert client.get("/api/v1/moderation/queue", headers=author).status_code == 403


def test_moderation_log_by_moderator_and_period(client, people):
    _, author = people["author"]
    mod_user, mod = people["mod"]
    cid = propose(client, author).get_json()["id"]
    act(client, mod, cid, "reject", reason="not a peace actor")
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    by_mod = client.get(
        "/api/v1/moderation/log",
        query_string={"moderator_id": str(mod_user.id), "since": since},
        headers=mod,
    ).get_json()
    assert [(e["action"], e["reason"]) for e in by_mod["items"]] == [
        ("reject", "not a peace actor")
    ]
    until = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert (
        client.get("/api/v1/moderation/log", query_string={"until": until}, headers=mod).get_json()[
            "items"
        ]
        == []
    )
    assert client.get("/api/v1/moderation/log", headers=author).status_code == 403


def test_managers_direct_edits_are_published_and_recorded(
    client, make_actor, make_user, login, people
):
    actor = make_actor(name="Managed Org")
    actor_id = actor.id
    manager_user = make_user(manager_of=actor)
    manager = login(manager_user)
    response = client.patch(
        f"/api/v1/actors/{actor_id}",
        json={"summary": "Now with youth work"},
        headers={**manager, "If-Match": '"v1"'},
    )
    assert response.status_code == 200
    assert client.get(f"/api/v1/actors/{actor_id}").get_json()["summary"] == "Now with youth work"
    revisions = client.get(
        f"/api/v1/moderation/items/actor/{actor_id}/history", headers=manager
    ).get_json()
    assert (
        revisions[-1]["author_id"] == str(manager_user.id) and revisions[-1]["action"] == "edited"
    )
