"""Issue 9, the last edges: what an organisation's projects draw, and unhiding what someone
said endangers a person.

1. A project's area follows its organisation's precision, as the organisation's own area of
   operation does: published (and filtered on) only as the cells of that precision, and
   re-generalised when the precision changes (``api.projects.placement``).
2. An item flagged as endangering someone comes back only through the decision of its flag
   review, never by a plain unhide while the review is open (``api.moderation.items``).
3. A library resource's area says no more about where its authors work than their own
   public areas do: generalised to the coarsest author's precision when published, again
   when an author becomes coarser, and by ``flask privacy regeneralise`` for older rows
   (``api.resources.service``).
"""

from __future__ import annotations

import json

import pytest
from shapely import wkt
from shapely.geometry import Point, box, mapping, shape
from sqlalchemy import text

OFFICE = (36.8219, -1.2921)  # 1 km from the southern edge of its 0.1° cell
CELL = box(36.8, -1.3, 36.9, -1.2)


def point(lon, lat):
    return {"type": "Point", "coordinates": [lon, lat]}


def circle(lon, lat, radius_deg):
    return json.loads(json.dumps(mapping(Point(lon, lat).buffer(radius_deg, quad_segs=8))))


@pytest.fixture
def tight_project(client, make_actor, make_user, login):
    """A locality-precision organisation whose member outlines a project 1 km around its
    office, the outline reaching across the edge of the office's cell."""
    actor = make_actor(location=point(*OFFICE), location_precision="locality")
    member = login(make_user(member_of=actor))
    response = client.post(
        "/api/v1/projects",
        json={
            "actor_id": str(actor.id),
            "title": "Safe house dialogues",
            "area": circle(*OFFICE, 0.01),
            "status": "published",
        },
        headers=member,
    )
    assert response.status_code == 201, response.get_json()
    return actor, response.get_json()["id"], member


def projects_in(client, bbox) -> list[str]:
    query = {"bbox": ",".join(map(str, bbox)), "limit": 1000}
    return [p["id"] for p in client.get("/api/v1/projects", query_string=query).get_json()["items"]]


def test_a_project_outlined_around_an_office_is_public_only_at_its_organisations_precision(
    client, tight_project
):
    _, project_id, member = tight_project
    for headers in ({}, member):  # the public, and the member who drew it
        area = shape(
            client.get(f"/api/v1/projects/{project_id}", headers=headers).get_json()["area"]
        )
        assert area.equals(CELL)
    # Bisection by bbox sees the cell only: its far corner finds the project; a sliver just
    # south of the cell edge, where the drawn outline reaches, does not.
    assert project_id in projects_in(client, (36.88, -1.22, 36.89, -1.21))
    assert project_id not in projects_in(client, (36.815, -1.303, 36.83, -1.3005))
    # Comparisons filter with the same rule.
    compared = client.get(
        "/api/v1/reports/comparison", query_string={"bbox": "36.815,-1.303,36.83,-1.3005"}
    )
    assert compared.status_code == 200
    assert "Safe house dialogues" not in compared.get_data(as_text=True)


def test_a_project_area_follows_its_organisation_when_its_precision_changes(
    client, tight_project, make_user, login
):
    actor, project_id, _ = tight_project
    manager = login(make_user(manager_of=actor))
    url = f"/api/v1/actors/{actor.id}"
    etag = client.get(url, headers=manager).headers["ETag"]
    changed = client.patch(
        url, json={"location_precision": "region"}, headers={**manager, "If-Match": etag}
    )
    assert changed.status_code == 200, changed.get_json()
    area = shape(client.get(f"/api/v1/projects/{project_id}").get_json()["area"])
    assert area.equals(box(36, -2, 37, -1))


def test_a_dump_of_the_projects_table_holds_no_drawn_outline(session, tight_project):
    _, project_id, _ = tight_project
    row = session.execute(
        text("SELECT pg_typeof(area)::text, ST_AsText(public_area) FROM projects WHERE id = :id"),
        {"id": project_id},
    ).one()
    assert row[0] == "bytea"  # sealed at rest (api.crypto), like actors' drawn areas
    assert wkt.loads(row[1]).equals(CELL)


# -- 2. unhiding while someone may be in danger ------------------------------------------------


def test_an_item_flagged_as_endangering_someone_is_not_unhidden_past_its_open_review(
    client, make_actor, people_headers
):
    actor = make_actor(location=point(*OFFICE), location_precision="locality")
    reporter, moderator = people_headers("moderator"), people_headers("moderator")
    flagged = client.post(
        "/api/v1/flags",
        json={"target_type": "actor", "target_id": str(actor.id), "reason": "endangers_someone"},
        headers=reporter,
    )
    assert flagged.status_code == 201
    assert client.get(f"/api/v1/actors/{actor.id}").status_code == 404  # hidden at once
    base = f"/api/v1/moderation/items/actor/{actor.id}"
    refused = client.post(f"{base}/unhide", json={"reason": "looks fine"}, headers=moderator)
    assert refused.status_code == 409
    assert refused.content_type == "application/problem+json"
    assert "review" in refused.get_json()["detail"]
    assert client.get(f"/api/v1/actors/{actor.id}").status_code == 404
    (review,) = client.get(
        "/api/v1/moderation/queue?kind=flag_review&limit=1000", headers=moderator
    ).get_json()["items"]
    # The reporter cannot clear it either (four eyes); another moderator decides it.
    dismissed = client.post(
        f"/api/v1/moderation/contributions/{review['id']}/decision",
        json={"decision": "dismiss", "reason": "checked with the organisation"},
        headers=moderator,
    )
    assert dismissed.status_code == 200, dismissed.get_json()
    assert client.get(f"/api/v1/actors/{actor.id}").status_code == 200
    # Once decided, the item is an ordinary one again: hidden and shown at will.
    assert client.post(f"{base}/hide", json={"reason": "r"}, headers=moderator).status_code == 204
    assert client.post(f"{base}/unhide", json={"reason": "r"}, headers=moderator).status_code == 204


def published_resource(client, make_user, login, payload) -> dict:
    """A resource proposed by a contributor and approved by a moderator, over HTTP."""
    author, moderator = login(make_user()), login(make_user("moderator"))
    proposed = client.post(
        "/api/v1/contributions", json={"kind": "new_resource", "payload": payload}, headers=author
    )
    assert proposed.status_code == 201, proposed.get_json()
    cid = proposed.get_json()["id"]
    base = f"/api/v1/moderation/contributions/{cid}"
    assert client.post(f"{base}/claim", headers=moderator).status_code == 200
    decided = client.post(
        f"{base}/decision", json={"decision": "approve", "reason": "ok"}, headers=moderator
    )
    assert decided.status_code == 200, decided.get_json()
    resource_id = decided.get_json()["target_id"]
    return client.get(f"/api/v1/resources/{resource_id}").get_json()


def test_a_resource_outlined_around_its_authors_office_is_public_only_at_their_precision(
    client, make_actor, make_user, login
):
    actor = make_actor(location=point(*OFFICE), location_precision="locality")
    tight = circle(*OFFICE, 0.01)
    resource = published_resource(
        client,
        make_user,
        login,
        {
            "type": "report",
            "title": "What our neighbours told us",
            "url": "https://example.org/report.pdf",
            "language": "en",
            "area": tight,
            "author_actor_ids": [str(actor.id)],
        },
    )
    shown = shape(resource["area"])
    assert shown.equals(CELL), shown.wkt
    ogc = client.get(
        f"/api/v1/ogc/collections/resources/items/{resource['id']}",
        headers={"Accept": "application/geo+json"},
    ).get_json()
    assert shape(ogc["geometry"]).equals(CELL)
    # Made coarser, the organisation takes the resource's area along.
    with_region = actor_made_coarser(client, make_user, login, actor, "region")
    assert with_region.status_code == 200, with_region.get_json()
    again = shape(client.get(f"/api/v1/resources/{resource['id']}").get_json()["area"])
    assert again.contains(box(36.0, -2.0, 37.0, -1.0)), again.wkt


def test_a_resource_without_a_protected_author_keeps_its_area(client, make_actor, make_user, login):
    exact = make_actor(location=point(*OFFICE), location_precision="exact")
    area = circle(*OFFICE, 0.01)
    resource = published_resource(
        client,
        make_user,
        login,
        {
            "type": "brief",
            "title": "A public square's story",
            "url": "https://example.org/brief.pdf",
            "language": "en",
            "area": area,
            "author_actor_ids": [str(exact.id)],
        },
    )
    assert shape(resource["area"]).hausdorff_distance(shape(area)) < 1e-4  # as drawn


def actor_made_coarser(client, make_user, login, actor, precision):
    manager = login(make_user(manager_of=actor))
    current = client.get(f"/api/v1/actors/{actor.id}")
    return client.patch(
        f"/api/v1/actors/{actor.id}",
        json={"location_precision": precision},
        headers={**manager, "If-Match": current.headers["ETag"]},
    )


def test_resource_areas_stored_before_the_rule_are_generalised_by_the_command(
    app, client, session, make_actor, make_user, login
):
    actor = make_actor(location=point(*OFFICE), location_precision="locality")
    resource = published_resource(
        client,
        make_user,
        login,
        {
            "type": "evaluation",
            "title": "Before the rule",
            "url": "https://example.org/evaluation.pdf",
            "language": "en",
            "author_actor_ids": [str(actor.id)],
        },
    )
    drawn = shape(circle(*OFFICE, 0.01))
    session.execute(
        text("UPDATE resources SET area = ST_Multi(ST_GeomFromText(:wkt, 4326)) WHERE id = :id"),
        {"wkt": drawn.wkt, "id": resource["id"]},
    )
    session.commit()
    result = app.test_cli_runner().invoke(args=["privacy", "regeneralise"])
    assert "resources:" in result.output, result.output
    assert shape(client.get(f"/api/v1/resources/{resource['id']}").get_json()["area"]).equals(CELL)
