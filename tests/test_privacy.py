"""Location safety: nobody outside the server can learn an exact location that its
owner chose to generalise, however they query."""

import json

import pytest
from shapely.geometry import Point, shape

# A women's-rights group in Kenema, Sierra Leone, that publishes its locality only.
EXACT = (-11.1873, 7.8764)


@pytest.fixture
def sensitive(make_actor):
    return make_actor(
        name="Kenema Women's Safe Space",
        kind="organisation",
        themes=["gender"],
        location={"type": "Point", "coordinates": list(EXACT)},
        location_precision="locality",
        contact={"email": "safe@example.org", "phone": "+232 76 000000"},
    )


def ids(response):
    body = response.get_json()
    assert response.status_code == 200, body
    return [item["id"] for item in body["items"]]


def test_public_location_is_the_cell_centre_not_the_exact_point(client, sensitive):
    body = client.get(f"/api/v1/actors/{sensitive.id}").get_json()
    public = shape(body["location"])
    assert public.equals_exact(Point(-11.15, 7.85), 1e-9)
    assert not public.equals_exact(Point(*EXACT), 1e-3)
    assert body["location_precision"] == "locality"


def test_exact_coordinates_appear_in_no_public_response(client, sensitive):
    needles = ("11.1873", "7.8764", "safe@example.org", "000000")
    for url in (
        f"/api/v1/actors/{sensitive.id}",
        f"/api/v1/actors/{sensitive.id}?f=geojson",
        "/api/v1/actors",
        "/api/v1/actors?f=geojson",
        "/api/v1/actors?near=-11.1873,7.8764&radius_km=50",
    ):
        text = client.get(url).get_data(as_text=True)
        assert not any(needle in text for needle in needles), url


def test_public_cannot_locate_sensitive_actor_by_shrinking_bbox(client, sensitive):
    lon, lat = EXACT
    # A bbox around the exact point but not the public one finds nothing...
    for half in (0.03, 0.01, 0.001, 0.0001):
        bbox = f"{lon - half},{lat - half},{lon + half},{lat + half}"
        assert str(sensitive.id) not in ids(client.get(f"/api/v1/actors?bbox={bbox}")), half
    # ...and any bbox that finds it contains the public point, wherever the exact one is.
    assert str(sensitive.id) in ids(client.get("/api/v1/actors?bbox=-11.16,7.84,-11.14,7.86"))


def test_public_cannot_locate_sensitive_actor_by_radius(client, sensitive):
    lon, lat = EXACT
    for radius in (4, 1, 0.1, 0.01):
        found = ids(client.get(f"/api/v1/actors?near={lon},{lat}&radius_km={radius}"))
        assert str(sensitive.id) not in found, radius
    # Distances are measured to the public point: they reveal nothing finer than the cell.
    body = client.get(f"/api/v1/actors?near={lon},{lat}&radius_km=10").get_json()
    (item,) = [i for i in body["items"] if i["id"] == str(sensitive.id)]
    assert item["distance_km"] == pytest.approx(5.04, abs=0.05)


def test_public_cannot_locate_sensitive_actor_by_intersects(client, sensitive):
    lon, lat = EXACT
    tiny = {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - 0.001, lat - 0.001],
                [lon + 0.001, lat - 0.001],
                [lon + 0.001, lat + 0.001],
                [lon - 0.001, lat + 0.001],
                [lon - 0.001, lat - 0.001],
            ]
        ],
    }
    found = ids(client.get("/api/v1/actors", query_string={"intersects": json.dumps(tiny)}))
    assert str(sensitive.id) not in found


def test_distance_sort_uses_the_public_location(client, make_actor, sensitive):
    # A decoy sits 3 km from the exact point but right on the public point's cell centre.
    decoy = make_actor(
        name="Decoy",
        location={"type": "Point", "coordinates": [-11.15, 7.85]},
        location_precision="exact",
    )
    body = client.get(f"/api/v1/actors?near={EXACT[0]},{EXACT[1]}&radius_km=20").get_json()
    distances = {item["id"]: item["distance_km"] for item in body["items"]}
    # Both are measured to the same public point, so the order cannot betray the exact one.
    assert distances[str(decoy.id)] == distances[str(sensitive.id)]


def test_actors_in_the_same_cell_share_one_public_point(make_actor):
    first = make_actor(
        location={"type": "Point", "coordinates": [36.801, -1.201]}, location_precision="locality"
    )
    second = make_actor(
        location={"type": "Point", "coordinates": [36.899, -1.299]}, location_precision="locality"
    )
    assert bytes(first.public_location.data) == bytes(second.public_location.data)


def test_country_precision_reveals_only_the_country(client, make_actor):
    from geo.countries import countries

    actor = make_actor(
        location={"type": "Point", "coordinates": [96.16, 16.87]}, location_precision="country"
    )
    body = client.get(f"/api/v1/actors/{actor.id}").get_json()
    assert shape(body["location"]).equals_exact(Point(*countries()["MM"].point), 1e-9)
    assert body["country"] == "MM"


def test_the_public_location_is_stored_once_not_jittered_per_request(client, sensitive):
    seen = {
        json.dumps(client.get(f"/api/v1/actors/{sensitive.id}").get_json()["location"])
        for _ in range(5)
    }
    assert len(seen) == 1
