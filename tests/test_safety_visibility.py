"""Hidden means hidden everywhere; revert restores content only; flags protect people
without becoming a weapon. Each test does over HTTP what a hostile contributor, a careless
moderator or a curious member of the public would do.

The promises checked here:

1. When an actor leaves public view (hidden by a flag or a moderator, archived or
   unpublished), nothing public points to it or describes it any more: its own record,
   search results and counts, its projects (title, area, reports, comparisons), the
   observations and resources linked to it, its translations, the OGC collections (items,
   counts, extents), vector tiles at low zoom (the trigger-kept cell table) and high zoom,
   clusters and exports. All of it comes back, in the same transaction, when it returns.
2. The cell table behind low-zoom tiles counts exactly the actors the visibility rule
   declares public, whatever mix of states they are in.
3. Projects can be flagged and hidden like any other content, and hidden projects vanish.
4. A revert restores content (name, texts, themes, contacts, languages, areas, location) and
   nothing else: never `hidden`, `status`, `verified` or disclaimers, never an open review,
   and never a finer location precision than the current one. In particular a moderator's
   revert cannot bring back an actor hidden by an `endangers_someone` flag under review.
5. One `endangers_someone` flag hides at once only when its reporter has standing (staff,
   or an account of some age with approved contributions or confirmed flags and no record
   of dismissed ones). Anyone else's goes to the urgent queue, first in line for moderators.
6. Each reporter has limits: flags per day (higher with trust) and open urgent flags at a
   time; beyond them a 429 problem says why and when to come back. Flags sent at the same
   moment cannot slip past them.
7. Trust grows with confirmed flags and shrinks (twice as fast) with dismissed ones: a
   reporter whose flags are dismissed loses the power to hide at once.
8. Moderators see each reporter's record beside the flag; the public never does.
9. A hostile fresh account that flags a hundred actors as endangering someone hides none
   of them, is stopped at its limit, and leaves moderators an urgent queue to work.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import mapbox_vector_tile
import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from api.accounts.models import User
from api.actors.models import Actor
from api.actors.schemas import ActorCreateSchema
from api.actors.service import create_actor
from api.db import db
from api.errors import ProblemError
from api.moderation import service
from api.moderation.models import Contribution, Flag, Translation
from api.moderation.standing import Policy
from api.observations.schemas import ObservationCreateSchema
from api.observations.service import create_observation
from api.principal import Principal
from api.resources.schemas import ResourceCreateSchema
from api.resources.service import create_resource
from api.revisions.models import Revision
from api.revisions.service import Provenance
from api.visibility import PUBLIC
from tests.conftest import actor_payload
from tests.test_maps import tile_of

EXAMPLE = Path(__file__).resolve().parent.parent / "metrics" / "examples" / "worked-example.csv"
ULAANBAATAR = [106.91, 47.92]
PUBLIC_POINT = [106.95, 47.95]  # the centre of its 0.1° cell (precision locality)
STEPPE = {
    "type": "Polygon",
    "coordinates": [[[106.0, 47.0], [108.0, 47.0], [108.0, 49.0], [106.0, 49.0], [106.0, 47.0]]],
}


def flag(client, headers, target_id, reason="endangers_someone", target_type="actor"):
    return client.post(
        "/api/v1/flags",
        json={"target_type": target_type, "target_id": str(target_id), "reason": reason},
        headers=headers,
    )


def decide(client, headers, review_id, decision, **body):
    return client.post(
        f"/api/v1/moderation/contributions/{review_id}/decision",
        json={"decision": decision, "reason": "reviewed", **body},
        headers=headers,
    )


@pytest.fixture
def veteran(make_user, login, session):
    """Headers of a contributor with standing: an account of some weeks with a record of
    approved contributions."""

    def make(role="contributor"):
        user = make_user(role)
        user.created_at = datetime.now(UTC) - timedelta(days=60)
        for _ in range(3):
            session.add(
                Contribution(kind="new_resource", author_id=user.id, state="approved", payload={})
            )
        session.commit()
        return user, login(user)

    return make


def aged(session, user, days=60):
    user.created_at = datetime.now(UTC) - timedelta(days=days)
    session.commit()


def reviews(client, mod, query=""):
    return client.get(
        f"/api/v1/moderation/queue?kind=flag_review&limit=1000{query}", headers=mod
    ).get_json()["items"]


# -- 1. hiding and archiving reach everything --------------------------------------------------


@pytest.fixture
def steppe(app, client, session, make_actor, make_user, login):
    """An actor in Mongolia with everything that can point to it; a bystander in Kenya."""
    actor = make_actor(
        name="Hidden Valley Women's Circle",
        location={"type": "Point", "coordinates": ULAANBAATAR},
        location_precision="locality",
        area=STEPPE,
    )
    bystander = make_actor(name="Nairobi Bystanders")
    member = login(make_user(member_of=actor))
    response = client.post(
        "/api/v1/projects",
        json={
            "actor_id": str(actor.id),
            "title": "Steppe dialogue circles",
            "countries": ["MN"],
            "area": STEPPE,
            "population": 100000,
            "status": "published",
        },
        headers=member,
    )
    assert response.status_code == 201, response.get_json()
    project_id = response.get_json()["id"]
    uploaded = client.post(
        f"/api/v1/projects/{project_id}/values/bulk",
        data=EXAMPLE.read_text(),
        content_type="text/csv",
        headers=member,
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    observation_id = _observation(app, session, actor.id, ULAANBAATAR)
    resource_id = _resource(app, session, actor.id, STEPPE, "Lessons from the steppe circles")
    # The bystander's own: the extents shrink to Kenya, not to the whole world.
    _observation(app, session, bystander.id, [36.82, -1.29])
    _resource(app, session, bystander.id, NAIROBI, "Nairobi dialogue notes")
    session.add(
        Translation(
            target_type="actor",
            target_id=actor.id,
            language="fr",
            texts={"name": "Cercle des femmes de la vallée cachée"},
        )
    )
    session.commit()
    return {
        "actor": str(actor.id),
        "project": project_id,
        "observation": str(observation_id),
        "resource": str(resource_id),
    }


NAIROBI = {
    "type": "Polygon",
    "coordinates": [[[36.5, -1.5], [37.0, -1.5], [37.0, -1.0], [36.5, -1.0], [36.5, -1.5]]],
}


def _observation(app, session, actor_id, point):
    with app.app_context():
        data = ObservationCreateSchema().load(
            {
                "text": "Herders meet at the well again after a year apart.",
                "language": "en",
                "observed_on": "2025-03-01",
                "location": {"type": "Point", "coordinates": point},
                "location_precision": "region",
                "actor_id": str(actor_id),
            }
        )
    observation = create_observation(session, data, Provenance())
    session.commit()
    return observation.id


def _resource(app, session, actor_id, area, title):
    with app.app_context():
        data = ResourceCreateSchema().load(
            {
                "type": "report",
                "title": title,
                "url": "https://example.org/report.pdf",
                "language": "en",
                "area": area,
                "author_actor_ids": [str(actor_id)],
            }
        )
    resource = create_resource(session, data, Provenance())
    session.commit()
    return resource.id


def sightings(client, ids) -> dict[str, bool]:
    """Every public place where the steppe actor, or something of it, can be seen."""
    a, p, o, r = ids["actor"], ids["project"], ids["observation"], ids["resource"]

    def ok(url):
        return client.get(url).status_code == 200

    def shows(url, needle):
        return needle in client.get(url).get_data(as_text=True)

    def items(collection):
        return client.get(f"/api/v1/ogc/collections/{collection}/items?limit=1000").get_json()

    def in_extent(collection):
        west, south, east, north = client.get(f"/api/v1/ogc/collections/{collection}").get_json()[
            "extent"
        ]["spatial"]["bbox"][0]
        return west <= 108 and east >= 106 and south <= 49 and north >= 47  # meets the steppe

    def tile_features(z, ogc=False):
        x, y = tile_of(*PUBLIC_POINT, z)
        url = f"/api/v1/tiles/{z}/{x}/{y}.mvt"
        if ogc:
            url = f"/api/v1/ogc/collections/actors/tiles/WebMercatorQuad/{z}/{y}/{x}"
        response = client.get(url)
        if response.status_code == 204:
            return []
        return mapbox_vector_tile.decode(response.data)["actors"]["features"]

    return {
        "actor": ok(f"/api/v1/actors/{a}"),
        "actor search": shows("/api/v1/actors?q=Hidden Valley", a),
        "actor count": client.get("/api/v1/actors?country=MN").get_json()["total"] == 1,
        "translation": "Cercle des femmes de la vallée cachée"
        in {i["name"] for i in client.get("/api/v1/actors?lang=fr&limit=1000").get_json()["items"]},
        "project": ok(f"/api/v1/projects/{p}"),
        "project list": shows("/api/v1/projects?limit=1000", "Steppe dialogue"),
        "project by area": shows("/api/v1/projects?bbox=106,47,108,49", p),
        "project report": ok(f"/api/v1/projects/{p}/report"),
        "comparison": shows("/api/v1/reports/comparison", "Steppe dialogue"),
        "comparison csv": shows("/api/v1/reports/comparison?format=csv", "Steppe dialogue"),
        "web organisation projects": shows(f"/organisations/{a}/projects", "Steppe dialogue"),
        "web project": ok(f"/projects/{p}"),
        "web project report": ok(f"/projects/{p}/report"),
        "web project report json": ok(f"/projects/{p}/report.json"),
        "web comparison": shows("/reports/comparison", "Steppe dialogue"),
        "web comparison csv": shows("/reports/comparison.csv", "Steppe dialogue"),
        "observation": ok(f"/api/v1/observations/{o}"),
        "observation list": shows("/api/v1/observations?limit=1000", o),
        "observation by actor": shows(f"/api/v1/observations?actor_id={a}", o),
        "resource": ok(f"/api/v1/resources/{r}"),
        "resource list": shows("/api/v1/resources?limit=1000", r),
        "resource search": shows("/api/v1/resources?q=steppe circles", r),
        "ogc actors": a in {f["id"] for f in items("actors")["features"]},
        "ogc actors count": items("actors")["numberMatched"] == 2,
        "ogc actors extent": in_extent("actors"),
        "ogc actor item": ok(f"/api/v1/ogc/collections/actors/items/{a}"),
        "ogc actors by filter": a
        in {
            f["id"]
            for f in client.get(
                "/api/v1/ogc/collections/actors/items",
                query_string={"filter": "S_INTERSECTS(geometry, BBOX(106, 47, 108, 49))"},
            ).get_json()["features"]
        },
        "ogc observations": o in {f["id"] for f in items("observations")["features"]},
        "ogc observations extent": in_extent("observations"),
        "ogc observation item": ok(f"/api/v1/ogc/collections/observations/items/{o}"),
        "ogc resources": r in {f["id"] for f in items("resources")["features"]},
        "ogc resources count": items("resources")["numberMatched"] == 2,
        "ogc resources extent": in_extent("resources"),
        "tile low zoom": bool(tile_features(3)),
        "tile high zoom": a in {f["properties"].get("id") for f in tile_features(12)},
        "ogc tile": a in {f["properties"].get("id") for f in tile_features(12, ogc=True)},
        "clusters": shows("/api/v1/actors/clusters?zoom=12&bbox=106,47,108,49", a),
        "export": shows("/api/v1/actors/export?format=geojsonl", a),
        "export sequence": shows("/api/v1/actors/export?format=geojsonseq", a),
        "translated name search": shows("/api/v1/actors?q=Cercle des femmes de la vallée", a),
        "export csv": shows("/api/v1/actors/export?format=csv", a),
        "web actor page": ok(f"/actors/{a}"),
        "web map list": shows("/?country=MN", a),
        "web map search": shows("/?q=Hidden Valley", a),
        "web library": shows("/library", r),
        "web library search": shows("/library?q=steppe circles", r),
        "web resource page": ok(f"/library/{r}"),
        "web observations": shows("/observations", o),
    }


def _etag(client, url, headers):
    return client.get(url, headers=headers).headers["ETag"]


def _set_status(client, actor_id, status, headers):
    url = f"/api/v1/actors/{actor_id}"
    response = client.patch(
        url, json={"status": status}, headers={**headers, "If-Match": _etag(client, url, headers)}
    )
    assert response.status_code == 200, response.get_json()


def _leave(client, how, actor_id, mod, reporter):
    """Take the actor out of public view; return how to bring it back."""
    base = f"/api/v1/moderation/items/actor/{actor_id}"
    if how == "flagged":
        assert flag(client, reporter, actor_id).status_code == 201
        (review,) = reviews(client, mod)

        def back():
            assert decide(client, mod, review["id"], "dismiss").status_code == 200

    elif how == "hidden":
        assert client.post(f"{base}/hide", json={"reason": "r"}, headers=mod).status_code == 204

        def back():
            assert (
                client.post(f"{base}/unhide", json={"reason": "r"}, headers=mod).status_code == 204
            )

    elif how == "archived":
        url = f"/api/v1/actors/{actor_id}"
        headers = {**mod, "If-Match": _etag(client, url, mod)}
        assert client.delete(url, headers=headers).status_code == 204

        def back():
            _set_status(client, actor_id, "published", mod)

    else:  # unpublished
        _set_status(client, actor_id, "draft", mod)

        def back():
            _set_status(client, actor_id, "published", mod)

    return back


@pytest.mark.parametrize("how", ["flagged", "hidden", "archived", "unpublished"])
def test_an_actor_out_of_public_view_vanishes_everywhere_and_comes_back(
    client, steppe, how, people_headers, veteran
):
    before = sightings(client, steppe)
    assert all(before.values()), [k for k, v in before.items() if not v]
    mod = people_headers("moderator")
    back = _leave(client, how, steppe["actor"], mod, veteran()[1])
    hidden = sightings(client, steppe)
    assert not any(hidden.values()), [k for k, v in hidden.items() if v]
    back()
    again = sightings(client, steppe)
    assert all(again.values()), [k for k, v in again.items() if not v]


def test_staff_still_see_what_the_public_no_longer_sees(client, steppe, people_headers):
    mod = people_headers("moderator")
    a = steppe["actor"]
    client.post(f"/api/v1/moderation/items/actor/{a}/hide", json={"reason": "r"}, headers=mod)
    for url in (
        f"/api/v1/actors/{a}",
        f"/api/v1/projects/{steppe['project']}",
        f"/api/v1/observations/{steppe['observation']}",
        f"/api/v1/resources/{steppe['resource']}",
    ):
        assert client.get(url, headers=mod).status_code == 200, url
        assert client.get(url).status_code == 404, url


def test_the_cell_table_counts_exactly_the_public_actors(client, make_actor, session):
    states = [
        {"status": "published"},
        {"status": "draft"},
        {"status": "archived"},
        {"status": "published", "hidden": True},
        {"status": "published"},
    ]
    for i, state in enumerate(states):
        actor = make_actor(
            name=f"Cell {i}",
            location={"type": "Point", "coordinates": [100.0 + i, 40.0]},
            status=state["status"],
        )
        actor.hidden = state.get("hidden", False)
        session.commit()
    public = session.scalar(select(func.count()).select_from(Actor).where(PUBLIC["actor"]))
    for z in (0, 4, 8):
        cells = session.scalar(
            text("SELECT coalesce(sum(n), 0) FROM actor_cells WHERE z = :z"), {"z": z}
        )
        assert cells == public, z


# -- projects can be flagged ----------------------------------------------------------------------


def test_projects_can_be_flagged_and_hidden(client, steppe, people_headers, veteran):
    p = steppe["project"]
    mod = people_headers("moderator")
    assert flag(client, veteran()[1], p, target_type="project").status_code == 201
    assert client.get(f"/api/v1/projects/{p}").status_code == 404
    assert "Steppe dialogue" not in client.get("/api/v1/projects").get_data(as_text=True)
    (review,) = reviews(client, mod)
    assert review["target_type"] == "project" and review["target_id"] == p
    assert decide(client, mod, review["id"], "dismiss").status_code == 200
    assert client.get(f"/api/v1/projects/{p}").status_code == 200

    base = f"/api/v1/moderation/items/project/{p}"
    assert client.post(f"{base}/hide", json={"reason": "r"}, headers=mod).status_code == 204
    assert client.get(f"/api/v1/projects/{p}/report").status_code == 404
    assert "Steppe dialogue" not in client.get("/api/v1/reports/comparison").get_data(as_text=True)
    assert client.post(f"{base}/unhide", json={"reason": "r"}, headers=mod).status_code == 204
    disclaimed = client.put(
        f"{base}/disclaimers", json={"disclaimers": ["disputed"], "reason": "r"}, headers=mod
    )
    assert disclaimed.status_code == 204
    assert client.get(f"/api/v1/projects/{p}").get_json()["disclaimers"] == ["disputed"]


# -- 2. revert restores content only ------------------------------------------------------------


def test_a_revert_never_brings_back_an_actor_hidden_by_an_endangers_flag(
    client, make_actor, people_headers, veteran
):
    actor_id = make_actor(name="Safe House Network").id
    mod = people_headers("moderator")
    assert flag(client, veteran()[1], actor_id).status_code == 201
    assert client.get(f"/api/v1/actors/{actor_id}").status_code == 404
    reverted = client.post(
        f"/api/v1/moderation/items/actor/{actor_id}/revert",
        json={"revision": 1, "reason": "undo vandalism"},
        headers=mod,
    )
    assert reverted.status_code == 200, reverted.get_json()
    assert client.get(f"/api/v1/actors/{actor_id}").status_code == 404
    (review,) = reviews(client, mod)
    assert review["state"] == "submitted" and review["target_id"] == str(actor_id)


def test_a_revert_restores_content_and_nothing_else(client, make_actor, people_headers, admin):
    actor = make_actor(
        name="Old Name",
        summary="old summary",
        themes=["mediation_dialogue"],
        working_languages=["en"],
        contact={"email": "old@example.org"},
        location_precision="exact",
    )
    url = f"/api/v1/actors/{actor.id}"
    changed = client.patch(
        url,
        json={
            "name": "New Name",
            "summary": "new summary",
            "themes": ["gender"],
            "working_languages": ["fr"],
            "contact": {"email": "new@example.org"},
            "location": {"type": "Point", "coordinates": [36.9, -1.2]},
            "location_precision": "region",
            "verified": True,
        },
        headers={**admin, "If-Match": _etag(client, url, admin)},
    )
    assert changed.status_code == 200, changed.get_json()
    mod = people_headers("moderator")
    client.put(
        f"/api/v1/moderation/items/actor/{actor.id}/disclaimers",
        json={"disclaimers": ["disputed"], "reason": "r"},
        headers=mod,
    )
    reverted = client.post(
        f"/api/v1/moderation/items/actor/{actor.id}/revert",
        json={"revision": 1, "reason": "vandalism"},
        headers=mod,
    )
    assert reverted.status_code == 200, reverted.get_json()
    public = client.get(url).get_json()
    assert (public["name"], public["summary"], public["themes"], public["working_languages"]) == (
        "Old Name",
        "old summary",
        ["mediation_dialogue"],
        ["en"],
    )
    private = client.get(f"{url}?include=private", headers=admin).get_json()
    assert private["contact"] == {"email": "old@example.org"}
    # Not content: the moderators' own fields stay as they are now.
    assert public["verified"] is True and public["disclaimers"] == ["disputed"]
    # The old place comes back, but never finer than the precision chosen since.
    assert public["location_precision"] == "region"
    assert public["location"]["coordinates"] == [36.5, -1.5]  # the old point's 1° cell
    assert private["exact_location"]["coordinates"] == [36.82, -1.29]


# -- 3. flags without becoming a weapon ---------------------------------------------------------


def test_a_fresh_account_cannot_hide_a_hundred_actors(
    client, make_actor, make_user, login, people_headers
):
    ids = [
        make_actor(
            name=f"Peace group {i}",
            location={"type": "Point", "coordinates": [30 + i * 0.1, -1.0]},
        ).id
        for i in range(100)
    ]
    hostile = login(make_user())
    answers = [flag(client, hostile, actor_id) for actor_id in ids]
    accepted = [r for r in answers if r.status_code == 201]
    refused = [r for r in answers if r.status_code == 429]
    assert len(accepted) + len(refused) == 100 and 0 < len(accepted) <= 10
    problem = refused[0].get_json()
    assert refused[0].content_type == "application/problem+json"
    assert "flag" in problem["detail"] and int(refused[0].headers["Retry-After"]) > 0
    assert client.get("/api/v1/actors?limit=1000").get_json()["total"] == 100  # none hidden
    mod = people_headers("moderator")
    urgent = reviews(client, mod, "&urgent=true")
    assert len(urgent) == len(accepted) and all(r["urgent"] for r in urgent)
    record = urgent[0]["flags"][0]["reporter"]
    assert record["standing"] is False and record["account_age_days"] == 0


def test_flags_per_day_are_bounded_and_grow_with_trust(
    client, make_actor, make_user, login, people_headers, app
):
    limit = app.config["FLAG_DAILY_LIMIT"]
    ids = [
        make_actor(
            name=f"Daily {i}", location={"type": "Point", "coordinates": [30 + i * 0.1, -2.0]}
        ).id
        for i in range(limit + 3)
    ]
    user = make_user()
    reporter = login(user)
    answers = [flag(client, reporter, actor_id, reason="misinformation") for actor_id in ids]
    assert [r.status_code for r in answers] == [201] * limit + [429] * 3
    refused = answers[-1]
    assert "24 hours" in refused.get_json()["detail"]
    assert 23 * 3600 < int(refused.headers["Retry-After"]) <= 24 * 3600 + 1
    # Moderators confirm two of them (others' flags bring the items to review): trust 2,
    # four more flags a day.
    mod = people_headers("moderator")
    for actor_id in ids[:2]:
        for _ in range(2):
            assert flag(client, login(make_user()), actor_id, reason="spam").status_code == 201
        (review,) = [r for r in reviews(client, mod) if r["target_id"] == str(actor_id)]
        assert decide(client, mod, review["id"], "hide").status_code == 200
    more = [flag(client, reporter, actor_id, reason="misinformation") for actor_id in ids[limit:]]
    assert [r.status_code for r in more] == [201, 201, 201]


def test_standing_flags_hide_at_once_and_others_wait_first_in_line(
    client, make_actor, make_user, login, people_headers, veteran, session
):
    mod = people_headers("moderator")
    routine = make_actor(name="Routine Flag Org").id
    for _ in range(3):
        flag(client, login(make_user()), routine, reason="spam")
    fresh_target = make_actor(name="Fresh Reporter Target").id
    assert flag(client, login(make_user()), fresh_target).status_code == 201
    assert client.get(f"/api/v1/actors/{fresh_target}").status_code == 200  # not hidden
    queue = reviews(client, mod)
    assert queue[0]["target_id"] == str(fresh_target)  # urgent first
    assert queue[0]["urgent"] is True and queue[1]["urgent"] is False

    # A reporter with standing hides the same item at once: the danger is contained.
    assert flag(client, veteran()[1], fresh_target).status_code == 201
    assert client.get(f"/api/v1/actors/{fresh_target}").status_code == 404
    assert reviews(client, mod, "&urgent=true") == []
    # Hidden by a moderator directly, an item's review is no longer urgent either.
    other = make_actor(name="Hidden by a moderator").id
    assert flag(client, login(make_user()), other).status_code == 201
    assert [r["target_id"] for r in reviews(client, mod, "&urgent=true")] == [str(other)]
    hide = f"/api/v1/moderation/items/actor/{other}/hide"
    assert client.post(hide, json={"reason": "r"}, headers=mod).status_code == 204
    assert reviews(client, mod, "&urgent=true") == []
    # Moderators themselves always have standing.
    staff_target = make_actor(name="Staff Flag Target").id
    assert flag(client, people_headers("moderator"), staff_target).status_code == 201
    assert client.get(f"/api/v1/actors/{staff_target}").status_code == 404


def test_trust_grows_with_confirmed_flags_and_shrinks_with_dismissed_ones(
    client, make_actor, make_user, login, people_headers, session
):
    mod = people_headers("moderator")
    user = make_user()
    reporter = login(user)
    aged(session, user)

    def raise_and_decide(decision):
        target = make_actor(name=f"Trust target {uuid.uuid4().hex[:6]}").id
        assert flag(client, reporter, target).status_code == 201
        review = next(r for r in reviews(client, mod) if r["target_id"] == str(target))
        assert decide(client, mod, review["id"], decision).status_code == 200
        return target

    # Without a record, an old account still has no standing: its flag waits.
    first = raise_and_decide("hide")
    record = client.get(f"/api/v1/moderation/flags?state=resolved&target_id={first}", headers=mod)
    assert record.get_json()["items"][0]["reporter"]["confirmed_flags"] == 1
    raise_and_decide("hide")
    # Two confirmed flags: standing; the next flag hides at once.
    hidden_at_once = make_actor(name="Now hidden at once").id
    assert flag(client, reporter, hidden_at_once).status_code == 201
    assert client.get(f"/api/v1/actors/{hidden_at_once}").status_code == 404
    (review,) = [r for r in reviews(client, mod) if r["target_id"] == str(hidden_at_once)]
    assert review["flags"][0]["reporter"]["standing"] is True
    assert decide(client, mod, review["id"], "dismiss").status_code == 200
    # One dismissal weighs as much as two confirmations: standing is gone.
    waits = make_actor(name="Waits for review").id
    assert flag(client, reporter, waits).status_code == 201
    assert client.get(f"/api/v1/actors/{waits}").status_code == 200
    (review,) = [r for r in reviews(client, mod) if r["target_id"] == str(waits)]
    record = review["flags"][0]["reporter"]
    assert (record["confirmed_flags"], record["dismissed_flags"], record["trust"]) == (2, 1, 0)
    assert record["standing"] is False and review["urgent"] is True


def test_the_reporters_record_is_for_moderators_only(client, make_actor, make_user, login):
    actor_id = make_actor().id
    response = flag(client, login(make_user()), actor_id, reason="misinformation")
    assert response.status_code == 201
    body = response.get_data(as_text=True)
    assert "reporter" not in body and "standing" not in body and "trust" not in body


def test_concurrent_flags_cannot_slip_past_the_limits(app, database_url):
    """Eight flags from one fresh account at the same moment, on real separate transactions:
    the urgent limit still holds (the reporter's flags are taken one at a time)."""
    policy = Policy.from_config(app.config)
    engine = db.engine
    with Session(engine) as setup, app.app_context():
        reporter = User(
            email=f"r-{uuid.uuid4().hex[:6]}@example.org", display_name="r", password_hash="x"
        )
        setup.add(reporter)
        actors = [
            create_actor(setup, ActorCreateSchema().load(actor_payload(name=f"Race target {i}")))
            for i in range(policy.urgent_limit + 3)
        ]
        setup.commit()
        reporter_id, actor_ids = reporter.id, [a.id for a in actors]

    barrier, outcomes = threading.Barrier(len(actor_ids)), []

    def raise_flag(actor_id):
        with Session(engine) as s, app.app_context():
            principal = Principal(user=s.get(User, reporter_id))
            barrier.wait()
            try:
                service.flag(
                    s,
                    principal,
                    {
                        "target_type": "actor",
                        "target_id": actor_id,
                        "reason": "endangers_someone",
                        "note": "",
                    },
                    review_threshold=3,
                    policy=policy,
                )
                s.commit()
                outcomes.append(201)
            except ProblemError as error:
                s.rollback()
                outcomes.append(error.status)

    threads = [threading.Thread(target=raise_flag, args=(a,)) for a in actor_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with Session(engine) as check:
        # This test committed for real: take its rows away again.
        reviews = select(Flag.review_id).where(Flag.reporter_id == reporter_id)
        review_ids = list(check.scalars(reviews))
        check.execute(delete(Flag).where(Flag.reporter_id == reporter_id))
        check.execute(delete(Contribution).where(Contribution.id.in_(review_ids)))
        check.execute(delete(Revision).where(Revision.target_id.in_(actor_ids)))
        check.execute(delete(Actor).where(Actor.id.in_(actor_ids)))
        check.execute(delete(User).where(User.id == reporter_id))
        check.commit()
    assert sorted(outcomes) == [201] * policy.urgent_limit + [429] * 3
