"""Nothing about a protected location can be inferred, and every exact read is logged.

Each test tries, over HTTP, what a hostile contributor or client would do. The promises:

1. Proposals are no oracle: whether a proposal is accepted never depends on private
   fields (a proposed country is checked against public data; the moderator sees whether
   it fits the exact location, and that read is logged).
2. The generalisation guarantee is about area: the part of a public cell inside the
   actor's country is at least half a whole cell of its level at that latitude, or the
   point falls back to a neighbouring cell, or to the country.
3. Areas of operation follow the actor's precision: a non-exact actor's public area is
   made of whole cells of its precision, and ``intersects`` sees only that.
4. A change to private fields only (an exact location within the same public cell,
   contacts) changes nothing public: not the version, ``updated_at``, ETag, the changes
   feed or the tiles.
5. An observation linked to an actor is never more precise than that actor.
6. A proposal that lowers an actor's privacy waits for the consent of its manager, and is
   marked as such to moderators.
7. Every response that carries private fields is logged and sent ``private, no-store``;
   lists, history and revert responses show them redacted.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry import Point, box, mapping, shape
from sqlalchemy import select, text, update

from api.accounts.models import LocationAccess
from api.actors.models import Actor
from geo.countries import countries
from geo.privacy import CELL_SIZE_DEG, Precision

# A women's-rights group in Busia, Kenya, 2 km from the Ugandan border, and one in Nairobi,
# 300 km from it. Both publish their locality only.
BORDER = (34.1005, 0.4705)
INLAND = (36.8219, -1.2921)


def point(lon, lat):
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.fixture
def two_groups(make_actor):
    return [
        make_actor(
            name=f"Women's Safe Space {where}",
            location=point(*spot),
            location_precision="locality",
            contact={"email": f"{where}@example.org"},
        )
        for where, spot in (("border", BORDER), ("inland", INLAND))
    ]


def propose(client, headers, kind, payload, **extra):
    body = {"kind": kind, "payload": payload, **extra}
    return client.post("/api/v1/contributions", json=body, headers=headers)


def accesses(session):
    return session.scalars(select(LocationAccess).order_by(LocationAccess.id)).all()


# -- 1. proposals are no oracle ----------------------------------------------------------


def test_a_proposed_country_answers_the_same_wherever_the_exact_point_is(
    client, two_groups, people_headers
):
    attacker = people_headers()
    answers = [
        propose(client, attacker, "actor_edit", {"country": "UG"}, target_id=str(actor.id))
        for actor in two_groups
    ]
    assert [a.status_code for a in answers] == [201, 201], [a.get_json() for a in answers]
    assert answers[0].get_json().keys() == answers[1].get_json().keys()
    # Nor does a change of precision alone depend on where the exact point is.
    answers = [
        propose(
            client,
            attacker,
            "actor_edit",
            {"location_precision": "region"},
            target_id=str(actor.id),
        )
        for actor in two_groups
    ]
    assert [a.status_code for a in answers] == [201, 201]


def test_the_moderator_sees_whether_a_proposed_country_fits_and_the_read_is_logged(
    client, two_groups, people_headers, make_user, login, session
):
    border, inland = two_groups
    attacker = people_headers()
    moderator = make_user("moderator")
    mod = login(moderator)
    fits = {}
    for actor in two_groups:
        created = propose(
            client, attacker, "actor_edit", {"country": "UG"}, target_id=str(actor.id)
        )
        # The queue shows no verdict: it would be read without being logged.
        queue = client.get("/api/v1/moderation/queue", headers=mod).get_json()
        (item,) = [i for i in queue["items"] if i["id"] == created.get_json()["id"]]
        assert "checks" not in item
        detail = client.get(f"/api/v1/contributions/{item['id']}", headers=mod)
        assert detail.headers["Cache-Control"] == "private, no-store"
        fits[actor.name] = detail.get_json()["checks"]["country_holds_exact_location"]
    assert fits == {border.name: True, inland.name: False}
    logged = [(a.user_id, a.actor_id, a.target_type) for a in accesses(session)]
    assert logged == [(moderator.id, actor.id, "actor") for actor in two_groups]
    # Approving an edit that does not fit is refused to the moderator, with the reason.
    cid = next(c for c in queue["items"] if c["target_id"] == str(inland.id))["id"]
    client.post(f"/api/v1/moderation/contributions/{cid}/claim", headers=mod)
    refused = client.post(
        f"/api/v1/moderation/contributions/{cid}/decision",
        json={"decision": "approve"},
        headers=mod,
    )
    assert refused.status_code == 422 and "location" in refused.get_json()["errors"]


# -- 4. private changes stay private ---------------------------------------------------------


def test_a_change_to_private_fields_only_changes_nothing_public(
    client, make_actor, make_user, login, session
):
    actor = make_actor(
        name="Kenema Women's Safe Space",
        location=point(-11.1873, 7.8764),
        location_precision="locality",
        contact={"email": "safe@example.org"},
    )
    # Old enough for the changes feed to hand it out.
    session.execute(
        update(Actor)
        .where(Actor.id == actor.id)
        .values(updated_at=datetime.now(UTC) - timedelta(minutes=5))
    )
    session.commit()
    manager = login(make_user(manager_of=actor))
    url = f"/api/v1/actors/{actor.id}"
    tiles = [f"/api/v1/tiles/{z}/{x}/{y}.mvt" for z, x, y in ((4, 7, 7), (12, 1921, 1958))]

    def public_view():
        read = client.get(url)
        feed = client.get("/api/v1/actors/changes").get_json()
        return (
            read.get_json(),
            read.headers["ETag"],
            [c for c in feed["changes"] if c["id"] == str(actor.id)],
            [client.get(t).get_data() for t in tiles],
        )

    before = public_view()
    cursor = client.get("/api/v1/actors/changes").get_json()["next"]
    moved = client.patch(
        url,
        json={"location": point(-11.1601, 7.8512), "contact": {"phone": "+232 76 123456"}},
        headers={**manager, "If-Match": before[1]},
    )
    assert moved.status_code == 200, moved.get_json()
    after = public_view()
    for seen, was in zip(after, before, strict=True):
        assert seen == was
    assert client.get(f"/api/v1/actors/changes?since={cursor}").get_json()["changes"] == []
    # The private representation does change (its own ETag), for those who may see it.
    private = client.get(f"{url}?include=private", headers=manager)
    assert private.get_json()["exact_location"]["coordinates"] == [-11.1601, 7.8512]
    # A move to another cell is public: it is a new version.
    moved = client.patch(
        url,
        json={"location": point(-11.3, 7.8)},
        headers={**manager, "If-Match": before[1]},
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.headers["ETag"] != before[1]
    assert client.get(url).get_json()["version"] == before[0]["version"] + 1


# -- 5. observations never more precise than their actor --------------------------------------


def test_an_observation_linked_to_an_actor_is_never_more_precise_than_it(
    client, make_actor, make_user, login
):
    actor = make_actor(
        name="Region-only network",
        location=point(*INLAND),
        location_precision="region",
    )
    author, mod = login(make_user()), login(make_user("moderator"))
    manager = login(make_user(manager_of=actor))
    created = propose(
        client,
        author,
        "new_observation",
        {
            "text": "The network's office was visited by armed men.",
            "language": "en",
            "observed_on": "2026-11-01",
            "location": point(*INLAND),
            "location_precision": "exact",
            "actor_id": str(actor.id),
        },
    )
    assert created.status_code == 201, created.get_json()
    cid = created.get_json()["id"]
    client.post(f"/api/v1/moderation/contributions/{cid}/claim", headers=mod)
    approved = client.post(
        f"/api/v1/moderation/contributions/{cid}/decision",
        json={"decision": "approve"},
        headers=mod,
    ).get_json()
    observation_url = f"/api/v1/observations/{approved['target_id']}"
    actor_public = client.get(f"/api/v1/actors/{actor.id}").get_json()
    observation = client.get(observation_url).get_json()
    assert observation["location_precision"] == "region"
    assert shape(observation["location"]).equals(shape(actor_public["location"]))
    # When the actor becomes coarser, its observations follow.
    client.patch(
        f"/api/v1/actors/{actor.id}",
        json={"location_precision": "country"},
        headers={**manager, "If-Match": f'"v{actor_public["version"]}"'},
    )
    observation = client.get(observation_url).get_json()
    assert observation["location_precision"] == "country"
    assert shape(observation["location"]).equals(
        shape(client.get(f"/api/v1/actors/{actor.id}").get_json()["location"])
    )


def test_observations_follow_an_actor_made_coarser_by_a_revert(
    client, make_actor, make_user, login, session
):
    from api.observations.models import Observation
    from api.observations.service import create_observation
    from api.revisions.service import Provenance

    actor = make_actor(location=point(*INLAND), location_precision="country")
    admin = login(make_user("admin"))
    client.patch(
        f"/api/v1/actors/{actor.id}",
        json={"location_precision": "locality"},
        headers={**admin, "If-Match": '"v1"'},
    )
    data = {
        "text": "Seen at the office.",
        "language": "en",
        "observed_on": datetime(2026, 11, 1).date(),
        "location": Point(*INLAND),
        "location_precision": "exact",
        "actor_id": actor.id,
    }
    observation = create_observation(session, data, Provenance())
    session.commit()
    assert observation.location_precision == "locality"
    reverted = client.post(
        f"/api/v1/moderation/items/actor/{actor.id}/revert",
        json={"revision": 1, "reason": "Back to the country only, as they asked"},
        headers=admin,
    )
    assert reverted.status_code == 200, reverted.get_json()
    session.expire_all()
    assert session.get(Observation, observation.id).location_precision == "country"


# -- 7. every exact read is logged; staff see only what they need ----------------------------


def test_every_response_with_private_fields_is_logged_and_never_stored(
    client, make_actor, make_user, login, session
):
    actor = make_actor(
        name="Exact but with private contacts",
        location=point(*INLAND),
        location_precision="exact",
        contact={"email": "private@example.org"},
    )
    moderator = make_user("moderator")
    author, mod = login(make_user()), login(moderator)
    secret = "+254 700 000001"
    created = propose(
        client,
        author,
        "actor_edit",
        {"contact": {"phone": secret}, "summary": "New summary"},
        target_id=str(actor.id),
    )
    cid = created.get_json()["id"]
    # The author reads their own words back: not logged, but never stored by a cache, nor
    # in their list, nor when a retry replays the answer.
    assert created.headers["Cache-Control"] == "private, no-store"
    mine = client.get("/api/v1/me/contributions", headers=author)
    assert secret in mine.get_data(as_text=True)
    assert mine.headers["Cache-Control"] == "private, no-store"
    retry = {**author, "Idempotency-Key": "retry-1"}
    body = {
        "kind": "actor_edit",
        "target_id": str(actor.id),
        "payload": {"contact": {"phone": secret}},
    }
    client.post("/api/v1/contributions", json=body, headers=retry)
    replayed = client.post("/api/v1/contributions", json=body, headers=retry)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.headers["Cache-Control"] == "private, no-store"
    assert accesses(session) == []

    needles = (secret, "private@example.org")
    queue = client.get("/api/v1/moderation/queue", headers=mod)
    claimed = client.post(f"/api/v1/moderation/contributions/{cid}/claim", headers=mod)
    for response in (queue, claimed):
        assert not any(n in response.get_data(as_text=True) for n in needles)
    assert accesses(session) == []

    detail = client.get(f"/api/v1/contributions/{cid}", headers=mod)
    assert secret in detail.get_data(as_text=True)
    assert detail.get_json()["diff"]["contact"]["current"] == {"email": "private@example.org"}
    assert detail.headers["Cache-Control"] == "private, no-store"
    (access,) = accesses(session)
    assert (access.user_id, access.actor_id, access.fields) == (moderator.id, actor.id, ["contact"])
    assert access.endpoint == "contributions.ContributionById"

    client.post(
        f"/api/v1/moderation/contributions/{cid}/decision",
        json={"decision": "approve"},
        headers=mod,
    )
    history = client.get(f"/api/v1/moderation/items/actor/{actor.id}/history", headers=mod)
    reverted = client.post(
        f"/api/v1/moderation/items/actor/{actor.id}/revert",
        json={"revision": 1, "reason": "Vandalism"},
        headers=mod,
    )
    assert reverted.status_code == 200, reverted.get_json()
    for response in (history, reverted):
        text = response.get_data(as_text=True)
        assert not any(n in text for n in needles), text
    assert history.get_json()[-1]["changes"]["contact"] == ["(private)", "(private)"]

    # include=private is logged for every actor: contacts are private even where the
    # location is exact.
    read = client.get(f"/api/v1/actors/{actor.id}?include=private", headers=mod)
    assert read.headers["Cache-Control"] == "private, no-store"
    assert [a.fields for a in accesses(session)][-1] == ["area", "contact", "location"]
    log = client.get(
        f"/api/v1/audit/location-access?actor_id={actor.id}", headers=login(make_user("admin"))
    ).get_json()
    assert {row["endpoint"] for row in log["items"]} == {
        "contributions.ContributionById",
        "actors.ActorById",
    }


def test_public_responses_stay_cacheable(client, make_actor):
    actor = make_actor(location_precision="locality")
    response = client.get(f"/api/v1/actors/{actor.id}")
    assert "no-store" not in response.headers.get("Cache-Control", "")


# -- 2. the generalisation guarantee is about area ---------------------------------------------

# Along real borders and coasts, small and thin countries included; Fiji crosses the
# antimeridian. Singapore, Bahrain and Luxembourg are smaller than half a region cell: the
# whole country is all that can be left of them, and their country is public anyway.
SWEEP = ("GM", "LB", "CL", "SG", "BH", "LU", "PS", "QA", "SL", "FJ")
SMALLER_THAN_A_REGION = {"SG", "BH", "LU", "PS", "QA", "GM", "LB"}


def border_points(code: str, count: int) -> list[tuple[float, float]]:
    """Points just inside a country's borders and coasts, spread along them."""
    inner = countries()[code].boundary.buffer(-0.02)
    parts = sorted(getattr(inner, "geoms", [inner]), key=lambda p: -p.exterior.length)
    rings = [p.exterior for p in parts[:4]]
    total = sum(r.length for r in rings)
    spots = []
    for ring in rings:
        share = max(2, round(count * ring.length / total))
        for i in range(share):
            spot = ring.interpolate(i / share, normalized=True)
            spots.append((round(spot.x, 5), round(spot.y, 5)))
    return spots


def area_left_km2(session, public: Point, precision: str, code: str) -> tuple[float, float]:
    """On the spheroid, by PostGIS: the area of the public point's cell inside the country,
    and the area of the whole cell (what an attacker who knows the rules is left with)."""
    boundary = countries()[code].boundary
    if precision == "country":
        cell = boundary.envelope
    else:
        size = CELL_SIZE_DEG[Precision(precision)]
        west = math.floor((public.x + 180) / size) * size - 180
        south = math.floor((public.y + 90) / size) * size - 90
        cell = box(west, south, west + size, south + size)
    part = shapely.clip_by_rect(boundary, *cell.bounds)
    left, whole = session.execute(
        text(
            "SELECT ST_Area(ST_Intersection(ST_MakeValid(ST_GeomFromWKB(:part, 4326)),"
            " ST_GeomFromWKB(:cell, 4326))::geography) / 1e6,"
            " ST_Area(ST_GeomFromWKB(:cell, 4326)::geography) / 1e6"
        ),
        {"part": part.wkb, "cell": cell.wkb},
    ).one()
    return left, whole


@pytest.mark.parametrize("precision", ["locality", "region"])
def test_a_public_point_leaves_at_least_half_a_cell_along_borders_and_coasts(
    client, make_actor, session, precision
):
    failures = []
    for code in SWEEP:
        for lon, lat in border_points(code, 12):
            actor = make_actor(location=point(lon, lat), location_precision=precision, country=code)
            body = client.get(f"/api/v1/actors/{actor.id}").get_json()
            public = shape(body["location"])
            assert body["country"] == code
            if public.equals(Point(countries()[code].point)):
                # No cell of this level in the country is half inside it: all of it is left.
                left, _ = area_left_km2(session, public, "country", code)
                whole = area_left_km2(session, Point(lon, lat), precision, code)[1]
                if left < whole / 2 and code not in SMALLER_THAN_A_REGION:
                    failures.append((code, lon, lat, "country", round(left)))
                continue
            left, whole = area_left_km2(session, public, precision, code)
            if left < whole / 2:
                failures.append((code, lon, lat, round(left), round(whole)))
    assert failures == []


def test_public_locations_stored_under_older_rules_are_recomputed(app, make_actor, session):
    # Freetown's 1° cell is mostly sea: stored as its sliver's point, as the old rule did.
    actor = make_actor(location=point(-13.234, 8.484), location_precision="region")
    sliver = "SRID=4326;POINT(-13.2 8.45)"
    session.execute(update(Actor).where(Actor.id == actor.id).values(public_location=sliver))
    session.commit()
    session.expire_all()
    result = app.test_cli_runner().invoke(args=["privacy", "regeneralise"])
    assert "actors: 1 public locations moved." in result.output, result.output
    session.expire_all()
    fixed = session.get(Actor, actor.id)
    assert to_shape(fixed.public_location).equals(Point(-12.5, 8.5))
    assert fixed.version == 2  # clients see it move in the changes feed


# -- 3. areas of operation follow the actor's precision ------------------------------------------


def circle(lon, lat, radius_deg):
    return json.loads(json.dumps(mapping(Point(lon, lat).buffer(radius_deg, quad_segs=8))))


def found_by(client, geometry) -> list[str]:
    query = {"intersects": json.dumps(geometry), "limit": 1000}
    return [
        item["id"] for item in client.get("/api/v1/actors", query_string=query).get_json()["items"]
    ]


def test_an_area_drawn_around_an_office_is_public_only_at_the_actors_precision(
    client, make_actor, make_user, login
):
    # A 1 km area around an office 1 km from the edge of its 0.1° cell.
    office = (36.8219, -1.2921)
    actor = make_actor(
        location=point(*office), location_precision="locality", area=circle(*office, 0.01)
    )
    body = client.get(f"/api/v1/actors/{actor.id}").get_json()
    # The public area is the office's whole cell: it does not tell which side of the cell
    # edge the office is on, nor anything the public point does not.
    assert shape(body["area"]).equals(box(36.8, -1.3, 36.9, -1.2))
    private = client.get(
        f"/api/v1/actors/{actor.id}?include=private", headers=login(make_user(manager_of=actor))
    ).get_json()
    assert shape(private["exact_area"]).equals(shape(circle(*office, 0.01)))
    # `intersects` sees the public area only: anywhere in the cell finds it, just across the
    # edge (where the drawn area reaches) does not.
    assert str(actor.id) in found_by(client, circle(36.89, -1.21, 0.001))
    assert str(actor.id) not in found_by(client, circle(36.8219, -1.3015, 0.001))
    for precision, expected in (
        ("region", box(36, -2, 37, -1)),
        ("country", box(*countries()["KE"].boundary.bounds)),
    ):
        other = make_actor(
            location=point(*office), location_precision=precision, area=circle(*office, 0.01)
        )
        area = shape(client.get(f"/api/v1/actors/{other.id}").get_json()["area"])
        assert area.symmetric_difference(expected).area < 1e-6, precision


def test_an_area_in_a_sliver_of_a_cell_is_shown_as_the_cell_that_stands_for_it(client, make_actor):
    # Freetown's 1° cell is mostly sea: as for the public point, the cell inland stands for it.
    actor = make_actor(
        location=point(-13.234, 8.484),
        location_precision="region",
        area=circle(-13.234, 8.484, 0.05),
    )
    body = client.get(f"/api/v1/actors/{actor.id}").get_json()
    assert shape(body["area"]).equals(box(-13, 8, -12, 9))
    assert shape(body["location"]).within(shape(body["area"]))


def test_an_area_across_the_antimeridian_is_read_the_short_way_round(client, make_actor):
    across = {
        "type": "Polygon",
        "coordinates": [[[179.5, -17], [-179.5, -17], [-179.5, -16], [179.5, -16], [179.5, -17]]],
    }
    actor = make_actor(
        location=point(179.7, -16.5), location_precision="exact", country="FJ", area=across
    )
    area = shape(client.get(f"/api/v1/actors/{actor.id}").get_json()["area"])
    assert area.area == pytest.approx(1.0)  # two halves of 0.5°, not 359° around the world
    assert str(actor.id) in found_by(client, circle(-179.8, -16.5, 0.01))
    assert str(actor.id) not in found_by(client, circle(0, -16.5, 0.01))


# -- 6. lowering an actor's privacy needs its manager's consent -----------------------------------


def test_a_proposal_that_lowers_privacy_waits_for_the_managers_consent(
    client, make_actor, make_user, login, session
):
    actor = make_actor(location=point(*INLAND), location_precision="region")
    manager_user = make_user(manager_of=actor)
    author, manager, mod = login(make_user()), login(manager_user), login(make_user("moderator"))
    finer = propose(
        client,
        author,
        "actor_edit",
        {"location_precision": "exact", "contact": {"phone": "+254 700 000002"}},
        target_id=str(actor.id),
    ).get_json()
    assert finer["state"] == "awaiting_consent"
    assert finer["privacy"] == {"lowers": ["location_precision", "contact"], "consent": "awaiting"}
    # Not in the moderators' queue yet; the manager finds it in theirs.
    queue = client.get("/api/v1/moderation/queue", headers=mod).get_json()["items"]
    assert finer["id"] not in [item["id"] for item in queue]
    waiting = client.get("/api/v1/me/consents", headers=manager).get_json()["items"]
    assert [item["id"] for item in waiting] == [finer["id"]]
    # Nobody else may consent, nor may a moderator claim it before.
    other = login(make_user())
    assert (
        client.post(
            f"/api/v1/contributions/{finer['id']}/consent", json={"consent": True}, headers=other
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/moderation/contributions/{finer['id']}/claim", headers=mod
        ).status_code
        == 409
    )
    consented = client.post(
        f"/api/v1/contributions/{finer['id']}/consent", json={"consent": True}, headers=manager
    )
    assert consented.status_code == 200, consented.get_json()
    assert consented.get_json()["state"] == "submitted"
    # The moderator sees it marked.
    queue = client.get("/api/v1/moderation/queue", headers=mod).get_json()["items"]
    (item,) = [i for i in queue if i["id"] == finer["id"]]
    assert item["privacy"]["consent"] == "granted"
    assert item["privacy"]["lowers"] == ["location_precision", "contact"]

    # Refused: rejected, with the reason, and never reviewed.
    again = propose(
        client,
        author,
        "actor_edit",
        {"contact": {"email": "x@example.org"}},
        target_id=str(actor.id),
    ).get_json()
    refused = client.post(
        f"/api/v1/contributions/{again['id']}/consent",
        json={"consent": False, "reason": "We do not publish an email."},
        headers=manager,
    ).get_json()
    assert (refused["state"], refused["reason"]) == ("rejected", "We do not publish an email.")

    # Without a manager it goes to review, marked; a coarser precision lowers nothing.
    alone = make_actor(location=point(*INLAND), location_precision="region")
    marked = propose(
        client, author, "actor_edit", {"location_precision": "locality"}, target_id=str(alone.id)
    ).get_json()
    assert (marked["state"], marked["privacy"]["consent"]) == ("submitted", "no_manager")
    coarser = propose(
        client, author, "actor_edit", {"location_precision": "country"}, target_id=str(alone.id)
    ).get_json()
    assert (coarser["state"], coarser["privacy"]) == ("submitted", None)
