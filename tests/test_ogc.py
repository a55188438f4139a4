"""OGC API - Features beyond Part 1: parameters a server does not apply are refused (never
silently ignored), and each collection's queryables are its public properties only."""

import pytest

from api.ogc.collections import COLLECTIONS

ITEMS = "/api/v1/ogc/collections/actors/items"


@pytest.mark.parametrize(
    "query",
    [
        "crs=http://www.opengis.net/def/crs/EPSG/0/3857",  # Part 2, not implemented
        "bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857",
        "bbx=0,0,1,1",  # a misspelt bbox
        "limit=5&sortby=name&kind=government&resultType=hits",
    ],
)
def test_unknown_or_unsupported_parameters_are_400_naming_them(client, make_actor, query):
    make_actor()
    response = client.get(f"{ITEMS}?{query}")
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    name = next(
        p.split("=")[0]
        for p in query.split("&")
        if p.split("=")[0] in ("crs", "bbox-crs", "bbx", "resultType")
    )
    assert name in body["errors"] and name in body["detail"]
    assert "bbox" in body["detail"]  # and what the operation does accept


def test_known_parameters_still_work(client, make_actor):
    make_actor(kind="government")
    response = client.get(f"{ITEMS}?kind=government&limit=5&fields=name")
    assert response.status_code == 200 and response.get_json()["numberReturned"] == 1


@pytest.mark.parametrize("collection_id", list(COLLECTIONS))
def test_queryables_are_the_public_properties_only(client, collection_id):
    response = client.get(f"/api/v1/ogc/collections/{collection_id}/queryables")
    assert response.status_code == 200
    assert response.content_type == "application/schema+json"
    schema = response.get_json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/collections/{collection_id}/queryables")
    assert schema["additionalProperties"] is False
    public = set(COLLECTIONS[collection_id].properties)
    assert set(schema["properties"]) == public | {"geometry"}
    assert schema["properties"]["geometry"]["format"].startswith("geometry-")
    # Privacy: nothing that is not published on the map is offered to filter on.
    for secret in (
        "location",
        "contact",
        "email",
        "phone",
        "exact_location",
        "created_by",
        "author",
    ):
        assert secret not in schema["properties"]
    assert schema["properties"]["updated_at"] == {
        "title": "Updated at",
        "type": "string",
        "format": "date-time",
    }
    links = client.get(f"/api/v1/ogc/collections/{collection_id}").get_json()["links"]
    assert any(link["rel"].endswith("/queryables") for link in links)


def test_queryables_types(client):
    properties = client.get("/api/v1/ogc/collections/actors/queryables").get_json()["properties"]
    assert properties["name"]["type"] == "string"
    assert properties["verified"]["type"] == "boolean"
    assert properties["themes"] == {"title": "Themes", "type": "array", "items": {"type": "string"}}


def test_queryables_of_an_unknown_collection_is_404(client):
    assert client.get("/api/v1/ogc/collections/unicorns/queryables").status_code == 404
