"""Pages have a byte budget: an area of operation drawn with 10,000 vertices belongs to
the actor's own page, not to every list page it appears on."""

from __future__ import annotations

import math

from shapely.geometry import shape

PAGE_BUDGET_BYTES = 50_000  # 50 actors without areas weigh about 35 KB (434 KB with it)


def _detailed_area(vertices: int = 9_999) -> dict:
    """A circle of ~50 km around Nairobi, drawn point by point."""
    ring = [
        [
            36.82 + 0.45 * math.cos(2 * math.pi * i / vertices),
            -1.29 + 0.45 * math.sin(2 * math.pi * i / vertices),
        ]
        for i in range(vertices)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _setup(make_actor, count: int = 49):
    heavy = make_actor(name="Nairobi Peace Network (detailed area)", area=_detailed_area())
    for index in range(count):
        make_actor(name=f"Budget actor {index}")
    return heavy


def test_a_detailed_area_does_not_swell_a_list_page(client, make_actor):
    _setup(make_actor)
    for query in ("limit=50", "limit=50&f=geojson"):
        response = client.get(f"/api/v1/actors?{query}")
        assert response.status_code == 200
        assert response.get_json()["count" if "geojson" not in query else "numberReturned"] == 50
        assert len(response.data) < PAGE_BUDGET_BYTES, (query, len(response.data))


def test_a_list_says_which_actors_have_an_area(client, make_actor):
    heavy = _setup(make_actor, count=1)
    items = client.get("/api/v1/actors?limit=50").get_json()["items"]
    flags = {item["id"]: item["has_area"] for item in items}
    assert flags.pop(str(heavy.id)) is True
    assert set(flags.values()) == {False}
    assert all("area" not in item for item in items)


def test_the_area_comes_when_asked_for(client, make_actor):
    heavy = _setup(make_actor, count=1)
    listed = client.get("/api/v1/actors?fields=name,area&limit=50").get_json()["items"]
    area = next(item["area"] for item in listed if item["id"] == str(heavy.id))
    assert len(shape(area).geoms[0].exterior.coords) == 10_000
    single = client.get(f"/api/v1/actors/{heavy.id}").get_json()
    assert shape(single["area"]).equals(shape(area))
    assert single["has_area"] is True


def test_project_and_resource_lists_leave_areas_out_too(
    client, session, make_actor, make_user, login
):
    """The same rule for every list whose items have areas (api.schemas.LIST_OMITTED)."""
    from api.resources.service import create_resource
    from api.revisions.service import Provenance

    organisation = make_actor(name="Nairobi Peace Platform")
    member = login(make_user(member_of=organisation))
    body = {
        "actor_id": str(organisation.id),
        "title": "Dialogue clubs across Nairobi",
        "countries": ["KE"],
        "area": _detailed_area(),
        "status": "published",
    }
    created = client.post("/api/v1/projects", json=body, headers=member)
    assert created.status_code == 201, created.get_json()
    data = {
        "type": "report",
        "title": "Lessons from Nairobi dialogue clubs",
        "url": "https://example.org/nairobi-report",
        "language": "en",
        "area": shape(_detailed_area()),
    }
    resource = create_resource(session, data, Provenance())
    session.commit()
    for path, item_id in (
        ("/api/v1/projects?limit=50", created.get_json()["id"]),
        ("/api/v1/resources?limit=50", str(resource.id)),
    ):
        page = client.get(path, headers=member)
        assert page.status_code == 200, page.get_json()
        listed = next(item for item in page.get_json()["items"] if item["id"] == item_id)
        assert listed["has_area"] is True
        assert "area" not in listed
        assert len(page.data) < PAGE_BUDGET_BYTES
        single = client.get(f"{path.split('?')[0]}/{item_id}", headers=member).get_json()
        assert single["has_area"] is True
        assert shape(single["area"]).area > 0.5
