"""Push instead of polling (issue 12): subscriptions through the API, signed webhooks
(Standard Webhooks, verified with the ``standardwebhooks`` receiver library), retries with
back-off and a give-up, the delivery log, replay, email digests in the local SMTP maildir,
and the attacks: a subscriber aiming the server at internal addresses (SSRF), an area
subscription used as an oracle on exact points, private-only edits and hidden actors.

Attempts run here in-process (``delivery.attempt``, what the worker's job calls) against a
real HTTP receiver; tests/test_webhooks_worker.py runs the real worker process."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import box, mapping, shape
from sqlalchemy import delete, select, text, update
from standardwebhooks.webhooks import Webhook

from api.accounts.models import Membership, User
from api.actors.schemas import ActorCreateSchema
from api.actors.service import create_actor
from api.limits import SUBSCRIPTIONS_PER_OWNER
from api.webhooks.delivery import attempt, backoff
from api.webhooks.digests import send_due_digests
from api.webhooks.models import Delivery, Subscription
from tests.conftest import actor_payload
from tests.servers import Receiver

NAIROBI = [36.82, -1.29]


@pytest.fixture
def loopback(app, monkeypatch):
    """Webhooks may go to this machine (PEACEMAP_WEBHOOKS_ALLOW_PRIVATE), as in development."""
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", True)
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ATTEMPTS", 3)


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def subscribe(client, headers, **body):
    return client.post("/api/v1/subscriptions", json={"topic": "actors", **body}, headers=headers)


def deliveries_of(session, subscription_id) -> list[Delivery]:
    stmt = select(Delivery).where(Delivery.subscription_id == uuid.UUID(str(subscription_id)))
    return list(session.scalars(stmt.order_by(Delivery.occurred_at)))


def run(app, session, delivery, retry=0):
    """One attempt, as the worker's job makes it."""
    with app.app_context():
        due = attempt(session, app.config, delivery.id, retry=retry)
        session.commit()
    return due


def test_a_subscription_is_made_listed_paused_and_deleted_by_its_owner(
    client, loopback, receiver, people_headers
):
    me = people_headers()
    made = subscribe(client, me, url=receiver.url, country="KE", theme="mediation_dialogue")
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["secret"].startswith("whsec_") and made.headers["Cache-Control"] == "no-store"
    url = made.headers["Location"]
    assert url.endswith(f"/api/v1/subscriptions/{body['id']}")

    listed = client.get("/api/v1/subscriptions", headers=me).get_json()
    assert [s["id"] for s in listed["items"]] == [body["id"]]
    read = client.get(url, headers=me).get_json()
    assert "secret" not in read and read["country"] == "KE"  # the secret is shown once

    paused = client.patch(url, json={"paused": True}, headers=me)
    assert paused.status_code == 200 and paused.get_json()["paused"] is True
    assert client.delete(url, headers=me).status_code == 204
    assert client.get(url, headers=me).status_code == 404


def test_nobody_else_reads_or_changes_my_subscription(client, loopback, receiver, make_user, login):
    mine = subscribe(client, login(make_user()), url=receiver.url).get_json()
    url = f"/api/v1/subscriptions/{mine['id']}"
    other = login(make_user())
    assert client.get(url, headers=other).status_code == 404
    assert client.patch(url, json={"paused": True}, headers=other).status_code == 404
    assert client.delete(url, headers=other).status_code == 404
    assert client.get(f"{url}/deliveries", headers=other).status_code == 404
    assert client.get("/api/v1/subscriptions", headers=other).get_json()["items"] == []
    assert client.get(url).status_code == 401
    unconfirmed = login(make_user(verified=False))
    refused = subscribe(client, unconfirmed, url=receiver.url)
    assert refused.status_code == 403


def test_an_organisation_subscribes_through_its_manager_only(
    client, loopback, receiver, make_actor, make_user, login
):
    organisation = make_actor()
    org_id = str(organisation.id)
    manager, member = (
        login(make_user(manager_of=organisation)),
        login(make_user(member_of=organisation)),
    )
    second = login(make_user(manager_of=organisation))
    refused = subscribe(client, member, url=receiver.url, actor_id=org_id)
    assert refused.status_code == 422 and "actor_id" in refused.get_json()["errors"]
    made = subscribe(client, manager, url=receiver.url, actor_id=org_id)
    assert made.status_code == 201
    # Its other managers see and manage it too.
    assert client.get(made.headers["Location"], headers=second).status_code == 200


def test_a_former_manager_hears_and_reads_nothing_more_of_the_organisation(
    app, client, session, loopback, receiver, make_actor, make_user, login
):
    organisation = make_actor()
    org_id = str(organisation.id)
    user = make_user(manager_of=organisation)
    user_id, manager = user.id, login(user)
    made = subscribe(client, manager, url=receiver.url, actor_id=org_id)
    make_actor()
    session.execute(delete(Membership).where(Membership.user_id == user_id))
    session.commit()
    (delivery,) = deliveries_of(session, made.get_json()["id"])
    run(app, session, delivery)
    assert receiver.received == [] and delivery.status == "dropped"
    assert client.get(made.headers["Location"], headers=manager).status_code == 404
    assert client.get("/api/v1/subscriptions", headers=manager).get_json()["items"] == []


def test_a_suspended_account_is_sent_nothing(
    app, client, session, loopback, receiver, make_user, login, make_actor
):
    user = make_user()
    user_id, me = user.id, login(user)
    made = subscribe(client, me, url=receiver.url).get_json()
    make_actor()
    session.execute(update(User).where(User.id == user_id).values(status="suspended"))
    session.commit()
    (delivery,) = deliveries_of(session, made["id"])
    run(app, session, delivery)
    assert receiver.received == [] and delivery.status == "dropped"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://nowhere.invalid/hook",
    ],
)
def test_webhooks_cannot_be_aimed_at_internal_addresses(client, people_headers, session, url):
    me = people_headers()
    refused = subscribe(client, me, url=url)
    assert refused.status_code == 422, refused.get_json()
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "url" in refused.get_json()["errors"]
    assert session.scalar(select(Subscription).where(Subscription.url == url)) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.org/hook"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "https://user:secret@example.org/hook"}, "url"),
        ({}, "url"),
        ({"url": "https://example.org/h", "digest": "daily"}, "url"),
        ({"digest": "hourly"}, "digest"),
        ({"digest": "daily", "topic": "weather"}, "topic"),
        ({"digest": "daily", "theme": "no_such_theme"}, "theme"),
        ({"digest": "daily", "country": "XX"}, "country"),
        ({"digest": "daily", "bbox": [10, 5, 20]}, "bbox"),
        ({"digest": "daily", "topic": "contributions", "country": "KE"}, "topic"),
    ],
)
def test_bad_subscriptions_are_problems_naming_the_field(client, people_headers, body, field):
    refused = subscribe(client, people_headers(), **body)
    assert refused.status_code == 422, refused.get_json()
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert field in refused.get_json()["errors"], refused.get_json()


def test_one_account_cannot_make_the_worker_send_without_bound(client, session, people_headers):
    me = people_headers()
    for n in range(SUBSCRIPTIONS_PER_OWNER):
        assert (
            subscribe(client, me, digest="daily", theme=None if n % 2 else "gender").status_code
            == 201
        )
    refused = subscribe(client, me, digest="weekly")
    assert refused.status_code == 409
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert str(SUBSCRIPTIONS_PER_OWNER) in refused.get_json()["detail"]
    listed = client.get("/api/v1/subscriptions?limit=1000", headers=me).get_json()
    assert len(listed["items"]) == SUBSCRIPTIONS_PER_OWNER
    assert subscribe(client, people_headers(), digest="weekly").status_code == 201  # others may


def test_link_local_addresses_are_refused_even_where_loopback_is_allowed(
    client, loopback, people_headers
):
    refused = subscribe(client, people_headers(), url="http://169.254.169.254/")
    assert refused.status_code == 422


def test_a_signed_delivery_verifies_with_the_standard_webhooks_library(
    app, client, session, loopback, receiver, people_headers, make_actor
):
    me = people_headers()
    made = subscribe(client, me, url=receiver.url).get_json()
    actor = make_actor(name="Lakeside Dialogue Forum")
    (delivery,) = deliveries_of(session, made["id"])
    assert run(app, session, delivery) is None

    (got,) = receiver.wait_for(1)
    event = Webhook(made["secret"]).verify(got.body, got.headers)
    assert got.headers["webhook-id"] == f"msg_{delivery.id.hex}"
    assert event["type"] == "actor.created"
    assert event["data"]["actor"]["id"] == str(actor.id)
    assert event["data"]["actor"]["name"] == "Lakeside Dialogue Forum"
    with pytest.raises(Exception):  # noqa: B017 - any verification failure
        Webhook(made["secret"]).verify(got.body + b" ", got.headers)

    log = client.get(f"/api/v1/subscriptions/{made['id']}/deliveries", headers=me).get_json()
    (entry,) = log["items"]
    assert entry["status"] == "delivered" and entry["response_code"] == 200
    assert entry["attempts"] == 1 and entry["next_attempt_at"] is None
    assert [a["response_code"] for a in entry["attempt_log"]] == [200]


def test_the_payload_is_the_public_representation_at_public_precision(
    app, client, session, loopback, receiver, people_headers, make_actor
):
    made = subscribe(client, people_headers(), url=receiver.url).get_json()
    exact = [36.8123, -1.2876]
    actor = make_actor(
        location={"type": "Point", "coordinates": exact},
        location_precision="region",
        contact={"email": "safe@example.org", "phone": "+254700000000"},
    )
    (delivery,) = deliveries_of(session, made["id"])
    run(app, session, delivery)
    (got,) = receiver.wait_for(1)
    sent = got.body.decode()
    public = client.get(f"/api/v1/actors/{actor.id}").get_json()
    shown = json.loads(sent)["data"]["actor"]
    assert shape(shown["location"]).equals(shape(public["location"]))
    assert not shape(shown["location"]).equals_exact(
        shape({"type": "Point", "coordinates": exact}), 1e-6
    )
    for secret in ("safe@example.org", "+254700000000", "36.8123", "exact_location", "contact"):
        assert secret not in sent


def test_an_area_subscription_is_no_oracle_on_exact_points(
    client, session, loopback, receiver, people_headers, make_actor
):
    lon, lat = 36.8123, -1.2876
    around_exact = mapping(box(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001))
    tight = subscribe(client, people_headers(), url=receiver.url, area=around_exact).get_json()
    actor = make_actor(
        location={"type": "Point", "coordinates": [lon, lat]}, location_precision="region"
    )
    public = shape(client.get(f"/api/v1/actors/{actor.id}").get_json()["location"])
    assert deliveries_of(session, tight["id"]) == []  # the exact point matches nothing

    w, s, e, n = public.buffer(0.01).bounds
    near_public = subscribe(client, people_headers(), url=receiver.url, bbox=[w, s, e, n])
    make_actor(location={"type": "Point", "coordinates": [lon, lat]}, location_precision="region")
    assert len(deliveries_of(session, near_public.get_json()["id"])) == 1


def test_country_and_theme_filters_match_the_public_fields(
    client, session, loopback, receiver, people_headers, make_actor
):
    kenya = subscribe(client, people_headers(), url=receiver.url, country="KE").get_json()
    gender = subscribe(client, people_headers(), url=receiver.url, theme="gender").get_json()
    make_actor()  # Nairobi, mediation_dialogue
    make_actor(location={"type": "Point", "coordinates": [32.58, 0.32]})  # Kampala
    assert len(deliveries_of(session, kenya["id"])) == 1
    assert deliveries_of(session, gender["id"]) == []


def test_a_change_to_private_fields_only_announces_nothing(
    client, session, loopback, receiver, people_headers, make_user, login, make_actor
):
    made = subscribe(client, people_headers(), url=receiver.url).get_json()
    actor = make_actor()
    manager = login(make_user(manager_of=actor))
    url = f"/api/v1/actors/{actor.id}"
    etag = client.get(url).headers["ETag"]
    changed = client.patch(
        url,
        json={"contact": {"email": "new@example.org"}},
        headers={**manager, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.get_json()
    assert [d.event_type for d in deliveries_of(session, made["id"])] == ["actor.created"]
    etag = client.get(url).headers["ETag"]
    renamed = client.patch(
        url, json={"summary": "Now also in Kisumu."}, headers={**manager, "If-Match": etag}
    )
    assert renamed.status_code == 200
    assert [d.event_type for d in deliveries_of(session, made["id"])] == [
        "actor.created",
        "actor.updated",
    ]


def test_the_job_is_queued_in_the_transaction_of_the_change(
    app, client, session, loopback, receiver, people_headers
):
    made = subscribe(client, people_headers(), url=receiver.url).get_json()

    def queued():
        return session.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one()

    before = queued()
    with app.app_context():
        data = ActorCreateSchema().load(actor_payload())
    change = session.begin_nested()
    create_actor(session, data)
    assert queued() == before + 1 and len(deliveries_of(session, made["id"])) == 1
    change.rollback()  # the change fails: its event and job go with it
    assert queued() == before and deliveries_of(session, made["id"]) == []


def test_an_actor_hidden_before_delivery_is_dropped_not_sent(
    app, client, session, loopback, receiver, people_headers, make_actor
):
    me = people_headers()
    made = subscribe(client, me, url=receiver.url).get_json()
    actor = make_actor(name="Soon Hidden")
    mod = people_headers("moderator")
    hidden = client.post(
        f"/api/v1/moderation/items/actor/{actor.id}/hide", json={"reason": "r"}, headers=mod
    )
    assert hidden.status_code == 204
    (delivery,) = deliveries_of(session, made["id"])
    assert run(app, session, delivery) is None
    assert receiver.received == []
    log = client.get(f"/api/v1/subscriptions/{made['id']}/deliveries", headers=me).get_json()
    assert log["items"][0]["status"] == "dropped" and log["items"][0]["attempts"] == 0


def test_a_failed_attempt_is_logged_retried_with_back_off_and_given_up(
    app, client, session, loopback, people_headers, make_actor
):
    me = people_headers()
    with Receiver(answers=(500, 503, 500)) as failing:
        made = subscribe(client, me, url=failing.url).get_json()
        make_actor()
        (delivery,) = deliveries_of(session, made["id"])
        first = run(app, session, delivery, retry=0)
        second = run(app, session, delivery, retry=1)
        assert first is not None and second is not None
        assert second - first >= backoff(app.config, 2) - backoff(app.config, 1)
        log = client.get(f"/api/v1/subscriptions/{made['id']}/deliveries", headers=me)
        entry = log.get_json()["items"][0]
        assert entry["status"] == "retrying" and entry["next_attempt_at"] is not None
        assert run(app, session, delivery, retry=2) is None  # the third of 3: give up
        failing.wait_for(3)
    log = client.get(f"/api/v1/subscriptions/{made['id']}/deliveries", headers=me)
    entry = log.get_json()["items"][0]
    assert entry["status"] == "failed" and entry["next_attempt_at"] is None
    assert [a["response_code"] for a in entry["attempt_log"]] == [500, 503, 500]
    assert entry["attempts"] == 3 and entry["response_code"] == 500


def test_back_off_doubles_and_is_capped(app):
    waits = [backoff({"WEBHOOK_RETRY_BASE_SECONDS": 30}, n) for n in range(1, 5)]
    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert backoff({"WEBHOOK_RETRY_BASE_SECONDS": 30}, 40) == timedelta(hours=12)


def test_a_receiver_that_cannot_be_reached_is_logged_without_an_answer(
    app, client, session, loopback, people_headers, make_actor
):
    me = people_headers()
    with Receiver() as gone:
        url = gone.url
    made = subscribe(client, me, url=url).get_json()
    make_actor()
    (delivery,) = deliveries_of(session, made["id"])
    assert run(app, session, delivery) is not None
    entry = client.get(f"/api/v1/subscriptions/{made['id']}/deliveries", headers=me).get_json()
    (tried,) = entry["items"][0]["attempt_log"]
    assert tried["response_code"] is None and tried["error"] == "ConnectionRefusedError"


def test_a_replay_sends_the_same_webhook_id_again(
    app, client, session, loopback, receiver, people_headers, make_actor
):
    me = people_headers()
    made = subscribe(client, me, url=receiver.url).get_json()
    make_actor()
    (delivery,) = deliveries_of(session, made["id"])
    run(app, session, delivery)
    replayed = client.post(
        f"/api/v1/subscriptions/{made['id']}/deliveries/{delivery.id}/replay", headers=me
    )
    assert replayed.status_code == 202 and replayed.get_json()["status"] == "pending"
    queued = session.execute(
        text(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'deliver' "
            "AND args->>'delivery_id' = :id"
        ),
        {"id": str(delivery.id)},
    ).scalar_one()
    assert queued == 2  # the event's job and the replay's, each in its request's transaction
    run(app, session, delivery)
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    Webhook(made["secret"]).verify(second.body, second.headers)
    other = people_headers()
    elsewhere = client.post(
        f"/api/v1/subscriptions/{made['id']}/deliveries/{delivery.id}/replay", headers=other
    )
    assert elsewhere.status_code == 404


def test_a_paused_subscription_holds_its_deliveries_until_resumed(
    app, client, session, loopback, receiver, people_headers, make_actor
):
    me = people_headers()
    made = subscribe(client, me, url=receiver.url).get_json()
    make_actor()
    url = f"/api/v1/subscriptions/{made['id']}"
    client.patch(url, json={"paused": True}, headers=me)
    make_actor()  # while paused: not even recorded
    (delivery,) = deliveries_of(session, made["id"])
    run(app, session, delivery)
    assert receiver.received == [] and delivery.status == "pending"
    client.patch(url, json={"paused": False}, headers=me)
    run(app, session, delivery)
    assert len(receiver.wait_for(1)) == 1


def test_the_outcome_of_my_contribution_reaches_me(
    app, client, session, loopback, receiver, people_headers
):
    author = people_headers()
    made = subscribe(client, author, url=receiver.url, topic="contributions").get_json()
    proposal = {
        "kind": "new_actor",
        "payload": {
            "kind": "organisation",
            "name": "Proposed Forum",
            "language": "en",
            "themes": ["mediation_dialogue"],
            "location": {"type": "Point", "coordinates": NAIROBI},
            "location_precision": "locality",
        },
    }
    proposed = client.post("/api/v1/contributions", json=proposal, headers=author)
    assert proposed.status_code == 201, proposed.get_json()
    cid = proposed.get_json()["id"]
    mod = people_headers("moderator")
    decided = client.post(
        f"/api/v1/moderation/contributions/{cid}/decision",
        json={"decision": "reject", "reason": "Not a peace actor."},
        headers=mod,
    )
    assert decided.status_code == 200, decided.get_json()
    (delivery,) = deliveries_of(session, made["id"])
    run(app, session, delivery)
    (got,) = receiver.wait_for(1)
    event = Webhook(made["secret"]).verify(got.body, got.headers)
    assert event["type"] == "contribution.decided"
    assert event["data"]["contribution"] == {
        "id": cid,
        "kind": "new_actor",
        "state": "rejected",
        "decided_at": event["data"]["contribution"]["decided_at"],
        "target_type": None,
        "target_id": None,
    }


def test_a_digest_mail_arrives_and_names_only_what_is_public(
    app, client, session, people_headers, make_user, login, make_actor, mailbox
):
    owner = make_user(email=f"digest-{uuid.uuid4().hex[:8]}@example.org")
    made = subscribe(client, login(owner), digest="daily", country="KE")
    assert made.status_code == 201 and made.get_json()["secret"] is None
    make_actor(name="Shown In Digest")
    gone = make_actor(name="Hidden Before Digest")
    mod = people_headers("moderator")
    client.post(f"/api/v1/moderation/items/actor/{gone.id}/hide", json={"reason": "r"}, headers=mod)

    with app.app_context():
        assert send_due_digests(session, app.config, datetime.now(UTC)) == 0  # not yet a day
        tomorrow = datetime.now(UTC) + timedelta(days=1, minutes=1)
        assert send_due_digests(session, app.config, tomorrow) == 1
        session.commit()
    (mail,) = mailbox(owner.email)
    body = mail.get_content()
    assert "Shown In Digest" in body and "Hidden Before Digest" not in body
    statuses = sorted(d.status for d in deliveries_of(session, made.get_json()["id"]))
    assert statuses == ["digested", "dropped"]
    with app.app_context():  # nothing new: no mail
        assert send_due_digests(session, app.config, tomorrow + timedelta(days=1)) == 0


def test_metrics_show_queue_depth_and_webhook_failures(
    app, client, session, loopback, admin, people_headers, make_actor
):
    from tests.test_observability import samples

    with Receiver(answers=(500,)) as failing:
        made = subscribe(client, people_headers(), url=failing.url).get_json()
        make_actor()
        before = client.get("/metrics", headers=admin).get_data(as_text=True)
        (delivery,) = deliveries_of(session, made["id"])
        run(app, session, delivery)
    after = client.get("/metrics", headers=admin).get_data(as_text=True)
    assert samples(before, "peacemap_queue_jobs")['{queue="webhooks",status="todo"}'] >= 1
    failed = "peacemap_webhook_failed_attempts_total"
    assert samples(after, failed)[""] == samples(before, failed)[""] + 1
    assert samples(after, "peacemap_webhook_deliveries")['{status="retrying"}'] >= 1
