"""Actor profiles: create, read, change, archive, validation and search."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import Point, shape

from tests.conftest import actor_payload


@pytest.fixture
def post_actor(client, admin):
    def post(**overrides):
        return client.post("/api/v1/actors", json=actor_payload(**overrides), headers=admin)

    return post


def names(response):
    return [item["name"] for item in response.get_json()["items"]]


# -- create, read, update, archive -------------------------------------------------------


def test_admin_creates_an_actor(client, post_actor):
    response = post_actor(name="Nairobi Peace Initiative", countries=["KE", "SO"])
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/actors/{body['id']}")
    assert response.headers["ETag"] == '"v1"'
    assert body["name"] == "Nairobi Peace Initiative"
    assert body["country"] == "KE"  # derived from the point
    assert body["countries"] == ["KE", "SO"]
    assert body["version"] == 1
    assert shape(body["location"]).equals_exact(Point(36.82, -1.29), 1e-9)
    created = datetime.fromisoformat(body["created_at"])
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)

    read = client.get(f"/api/v1/actors/{body['id']}")
    assert read.status_code == 200
    assert read.get_json()["name"] == "Nairobi Peace Initiative"
    assert read.headers["ETag"] == '"v1"'


def test_create_stores_every_profile_field(client, admin, post_actor):
    area = {"type": "Polygon", "coordinates": [[[34, -2], [38, -2], [38, 2], [34, 2], [34, -2]]]}
    response = post_actor(
        kind="network",
        description="A long description.",
        website="https://peace.example.org",
        links=[{"label": "Report 2025", "url": "https://peace.example.org/report"}],
        contact={"email": "hello@peace.example.org", "phone": "+254 700 000000"},
        working_languages=["sw", "EN", "so"],
        themes=["violence", "gender", "youth"],
        area=area,
        founded_year=2004,
        verified=True,
    )
    body = response.get_json()
    assert response.status_code == 201, body
    assert body["working_languages"] == ["sw", "en", "so"]  # tags normalised
    assert body["area"]["type"] == "MultiPolygon"
    assert shape(body["area"]).equals(shape(area))
    assert body["links"][0]["label"] == "Report 2025"
    assert body["founded_year"] == 2004 and body["verified"] is True
    assert "contact" not in body  # private details only on request, see test_accounts


def test_public_never_sees_contact_details(client, make_actor):
    actor = make_actor(contact={"email": "secret@example.org"})
    body = client.get(f"/api/v1/actors/{actor.id}").get_json()
    assert "contact" not in body
    assert client.get("/api/v1/actors?fields=name,contact").status_code == 422
    assert client.get(f"/api/v1/actors/{actor.id}?include=private").status_code == 401
    assert "secret@example.org" not in client.get("/api/v1/actors?f=geojson").get_data(as_text=True)


def test_actors_are_drafts_unless_published(client, admin):
    payload = {k: v for k, v in actor_payload().items() if k != "status"}
    response = client.post("/api/v1/actors", json=payload, headers=admin)
    actor_id = response.get_json()["id"]
    assert response.get_json()["status"] == "draft"
    assert client.get(f"/api/v1/actors/{actor_id}").status_code == 404
    assert client.get(f"/api/v1/actors/{actor_id}", headers=admin).status_code == 200
    assert actor_id not in [
        i["id"] for i in client.get("/api/v1/actors?limit=1000").get_json()["items"]
    ]
    drafts = client.get("/api/v1/actors?status=draft", headers=admin).get_json()["items"]
    assert actor_id in [i["id"] for i in drafts]


def test_unknown_actor_is_404(client):
    response = client.get(f"/api/v1/actors/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert client.get("/api/v1/actors/not-a-uuid").status_code == 404


def test_patch_changes_fields_and_bumps_the_version(client, make_actor, admin):
    actor = make_actor(name="Old name")
    response = client.patch(
        f"/api/v1/actors/{actor.id}",
        json={"name": "New name", "website": None, "themes": ["agency"]},
        headers={**admin, "If-Match": '"v1"'},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == "New name" and body["themes"] == ["agency"] and body["website"] is None
    assert body["version"] == 2
    assert response.headers["ETag"] == '"v2"'
    assert body["updated_at"] > body["created_at"]


def test_patch_without_if_match_is_428_and_stale_is_412(client, make_actor, admin):
    actor = make_actor()
    url = f"/api/v1/actors/{actor.id}"
    missing = client.patch(url, json={"name": "x"}, headers=admin)
    assert missing.status_code == 428
    assert missing.content_type == "application/problem+json"
    assert (
        client.patch(url, json={"name": "first"}, headers={**admin, "If-Match": '"v1"'}).status_code
        == 200
    )
    # A second editor who read version 1 must not overwrite the first one's change.
    stale = client.patch(url, json={"name": "second"}, headers={**admin, "If-Match": '"v1"'})
    assert stale.status_code == 412
    assert stale.headers["ETag"] == '"v2"'
    assert client.get(url).get_json()["name"] == "first"


def test_if_match_accepts_the_etag_of_any_representation(client, make_actor, admin):
    actor = make_actor()
    url = f"/api/v1/actors/{actor.id}"
    etag = client.get(f"{url}?f=geojson", headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    assert etag != '"v1"'
    assert (
        client.patch(url, json={"summary": "s"}, headers={**admin, "If-Match": etag}).status_code
        == 200
    )


def test_patch_location_recomputes_the_public_location(client, make_actor, admin):
    actor = make_actor(location_precision="locality")
    url = f"/api/v1/actors/{actor.id}"
    response = client.patch(
        url,
        json={"location": {"type": "Point", "coordinates": [-74.07, 4.71]}},
        headers={**admin, "If-Match": '"v1"'},
    )
    body = response.get_json()
    assert body["country"] == "CO"
    assert shape(body["location"]).equals_exact(Point(-74.05, 4.75), 1e-9)
    response = client.patch(
        url, json={"location_precision": "region"}, headers={**admin, "If-Match": '"v2"'}
    )
    assert shape(response.get_json()["location"]).equals_exact(Point(-74.5, 4.5), 1e-9)


def test_patch_rejects_a_country_that_does_not_hold_the_point(client, make_actor, admin):
    actor = make_actor()
    response = client.patch(
        f"/api/v1/actors/{actor.id}", json={"country": "CO"}, headers={**admin, "If-Match": '"v1"'}
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"location": ["is not inside country CO."]}


def test_empty_patch_is_422(client, make_actor, admin):
    actor = make_actor()
    response = client.patch(
        f"/api/v1/actors/{actor.id}", json={}, headers={**admin, "If-Match": '"v1"'}
    )
    assert response.status_code == 422


def test_delete_archives_and_hides_from_the_public(client, make_actor, admin):
    actor = make_actor(name="Archived Org")
    url = f"/api/v1/actors/{actor.id}"
    assert client.delete(url, headers=admin).status_code == 428
    assert client.delete(url, headers={**admin, "If-Match": '"v9"'}).status_code == 412
    assert client.delete(url, headers={**admin, "If-Match": '"v1"'}).status_code == 204
    assert client.get(url).status_code == 404
    archived = client.get(url, headers=admin).get_json()
    assert archived["status"] == "archived" and archived["version"] == 2  # kept, not deleted
    assert "Archived Org" not in names(client.get("/api/v1/actors?q=Archived"))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/actors"),
        ("patch", "/api/v1/actors/{id}"),
        ("delete", "/api/v1/actors/{id}"),
    ],
)
def test_writes_need_the_admin_token(client, make_actor, method, path):
    actor = make_actor()
    url = path.format(id=actor.id)
    kwargs = {"json": {"name": "x"}} if method != "delete" else {}
    anonymous = getattr(client, method)(url, **kwargs)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = getattr(client, method)(url, headers={"Authorization": "Bearer nope"}, **kwargs)
    assert wrong.status_code == 401


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"kind": "militia"}, "kind", "Must be one of"),
        ({"name": ""}, "name", "Length must be between 1 and 200"),
        ({"name": "x" * 201}, "name", "Length must be between 1 and 200"),
        ({"language": "english"}, "language", "not a BCP 47 language tag"),
        ({"language": "qq"}, "language", "not a BCP 47 language tag"),
        ({"working_languages": ["en", "en"]}, "working_languages", "must not repeat"),
        ({"themes": ["peace_and_love"]}, "themes", "unknown theme(s) peace_and_love"),
        ({"country": "ZZ"}, "country", "not an ISO 3166-1 alpha-2"),
        ({"countries": ["KE", "XX"]}, "countries", "not an ISO 3166-1 alpha-2"),
        ({"country": "CO"}, "location", "is not inside country CO"),
        (
            {"location": {"type": "Point", "coordinates": [-30, 0]}},
            "country",
            "could not be derived",
        ),
        ({"location": {"type": "Point", "coordinates": [200, 0]}}, "location", "longitude 200.0"),
        (
            {"location": {"type": "Polygon", "coordinates": []}},
            "location",
            "type must be one of Point",
        ),
        ({"location_precision": "street"}, "location_precision", "Must be one of"),
        ({"website": "ftp://peace.example.org"}, "website", "Not a valid URL"),
        ({"website": "javascript:alert(1)"}, "website", "Not a valid URL"),
        ({"links": [{"label": "x"}]}, "links", "Missing data for required field"),
        ({"contact": {"email": "not-an-email"}}, "contact", "Not a valid email"),
        ({"founded_year": 1700}, "founded_year", "between 1800"),
        ({"founded_year": 3000}, "founded_year", "between 1800"),
        ({"status": "deleted"}, "status", "Must be one of"),
        ({"verified": "perhaps"}, "verified", "Not a valid boolean"),
        ({"owner": "me"}, "owner", "Unknown field"),
        (
            {
                "area": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
                }
            },
            "area",
            "Self-intersection",
        ),
    ],
)
def test_invalid_actor_is_422_naming_the_field_and_rule(client, overrides, field, rule, post_actor):
    response = post_actor(**overrides)
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert field in problem["errors"]
    assert rule in str(problem["errors"][field])
    assert field in problem["detail"]


def test_missing_required_fields_are_all_named(client, admin):
    response = client.post("/api/v1/actors", json={}, headers=admin)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"kind", "name", "language", "location"}


def test_a_refused_create_writes_nothing(client, session, post_actor):
    from api.actors.models import Actor

    before = session.query(Actor).count()
    post_actor(themes=["violence", "unknown_theme"])
    assert session.query(Actor).count() == before


# -- search ------------------------------------------------------------------------------


@pytest.fixture
def map_of_actors(make_actor):
    make_actor(
        name="Freetown Women Mediators",
        kind="network",
        themes=["gender", "violence"],
        location={"type": "Point", "coordinates": [-13.23, 8.48]},
        working_languages=["en", "kri"],
    )
    make_actor(
        name="Bogotá Jóvenes por la Paz",
        kind="organisation",
        themes=["youth", "violence"],
        language="es",
        location={"type": "Point", "coordinates": [-74.07, 4.71]},
        countries=["CO", "VE"],
        working_languages=["es"],
        summary="Jóvenes que previenen el reclutamiento",
    )
    make_actor(
        name="Osh Dialogue Centre",
        kind="organisation",
        themes=["polarisation"],
        location={"type": "Point", "coordinates": [72.79, 40.51]},
        working_languages=["ky", "ru"],
        summary="Interethnic dialogue and early warning",
    )
    make_actor(
        name="Nairobi Peace Fund",
        kind="funder",
        themes=["investment", "gender"],
        location={"type": "Point", "coordinates": [36.82, -1.29]},
        countries=["KE", "SO", "SL"],
    )
    make_actor(
        name="Fiji Reconciliation Forum",
        kind="network",
        themes=["transitional_justice"],
        location={"type": "Point", "coordinates": [178.44, -18.14]},
    )
    make_actor(
        name="Samoa Youth Voices",
        kind="media",
        themes=["youth"],
        location={"type": "Point", "coordinates": [-171.76, -13.83]},
    )


def test_filters_by_kind_theme_country_and_language(client, map_of_actors):
    assert sorted(names(client.get("/api/v1/actors?kind=network"))) == [
        "Fiji Reconciliation Forum",
        "Freetown Women Mediators",
    ]
    assert sorted(names(client.get("/api/v1/actors?kind=funder,media"))) == [
        "Nairobi Peace Fund",
        "Samoa Youth Voices",
    ]
    assert sorted(names(client.get("/api/v1/actors?theme=gender&theme=youth"))) == [
        "Bogotá Jóvenes por la Paz",
        "Freetown Women Mediators",
        "Nairobi Peace Fund",
        "Samoa Youth Voices",
    ]
    assert names(client.get("/api/v1/actors?theme=gender,violence&theme_match=all")) == [
        "Freetown Women Mediators"
    ]
    # Based in or operating in the country.
    assert sorted(names(client.get("/api/v1/actors?country=SL"))) == [
        "Freetown Women Mediators",
        "Nairobi Peace Fund",
    ]
    assert names(client.get("/api/v1/actors?country=ve")) == ["Bogotá Jóvenes por la Paz"]
    assert names(client.get("/api/v1/actors?language=ky")) == ["Osh Dialogue Centre"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("theme=gender&country=SL", ["Freetown Women Mediators", "Nairobi Peace Fund"]),
        ("theme=violence&country=ve", ["Bogotá Jóvenes por la Paz"]),  # operating there
        (
            "theme=investment,youth&country=SO,CO",
            ["Bogotá Jóvenes por la Paz", "Nairobi Peace Fund"],
        ),
        ("theme=gender,violence&theme_match=all&country=SL", ["Freetown Women Mediators"]),
        ("theme=gender,investment&theme_match=all&country=KE,SL", ["Nairobi Peace Fund"]),
        ("theme=youth&country=SL", []),
    ],
)
def test_theme_with_country_through_their_pairs(client, map_of_actors, query, expected):
    """A theme with a country is looked up by its (country, theme) pairs (migration 0024);
    the answer is what each filter alone would give together, whatever the pairs."""
    assert names(client.get(f"/api/v1/actors?{query}&sort=name")) == expected


def test_text_search_is_ranked_and_tolerates_typos(client, map_of_actors):
    assert names(client.get("/api/v1/actors?q=dialogue"))[0] == "Osh Dialogue Centre"
    assert names(client.get("/api/v1/actors?q=reclutamiento")) == ["Bogotá Jóvenes por la Paz"]
    assert "Freetown Women Mediators" in names(client.get("/api/v1/actors?q=Freetwn"))
    assert names(client.get("/api/v1/actors?q=zzzzqqqq")) == []


def test_text_search_puts_name_matches_first_then_texts_then_close_spellings(client, make_actor):
    """The order README's "Text search" promises, over pages of two: every word in the
    name, then in the name and summary together, then a name spelled close; each group by
    name; no actor on two pages, none left out."""
    for name, summary in [
        ("Zed Harmony Group", "Harmony and dialogue in Kisumu"),
        ("Ant Works", "Harmony clubs in schools"),
        ("Harmonie Collective", ""),
        ("Bee Harmony Circle", ""),
        ("Cat Dialogue Hub", "Listening sessions"),
    ]:
        make_actor(name=name, summary=summary)
    expected = [
        "Bee Harmony Circle",  # the name
        "Zed Harmony Group",
        "Ant Works",  # the summary
        "Harmonie Collective",  # a name spelled close
    ]
    assert names(client.get("/api/v1/actors?q=harmony")) == expected
    paged = [
        name
        for offset in (0, 2, 4)
        for name in names(client.get(f"/api/v1/actors?q=harmony&limit=2&offset={offset}"))
    ]
    assert paged == expected
    both = names(client.get("/api/v1/actors?q=harmony dialogue"))
    assert both == ["Zed Harmony Group"]  # both words: one in the name, one in the summary
    assert names(client.get("/api/v1/actors?q=harmony&sort=name")) == sorted(expected)


def test_bbox_filter_and_antimeridian(client, map_of_actors):
    assert names(client.get("/api/v1/actors?bbox=-80,0,-70,10")) == ["Bogotá Jóvenes por la Paz"]
    crossing = names(client.get("/api/v1/actors?bbox=170,-25,-165,-10&sort=name"))
    assert crossing == ["Fiji Reconciliation Forum", "Samoa Youth Voices"]


def test_radius_search_sorts_by_distance_in_km(client, map_of_actors):
    body = client.get("/api/v1/actors?near=-13.0,8.5&radius_km=6000").get_json()
    found = [(i["name"], i["distance_km"]) for i in body["items"]]
    assert [name for name, _ in found] == ["Freetown Women Mediators", "Nairobi Peace Fund"]
    assert found[0][1] == pytest.approx(25.9, abs=1)  # Freetown is ~26 km from (-13, 8.5)
    assert found == sorted(found, key=lambda pair: pair[1])
    assert names(client.get("/api/v1/actors?near=-13.0,8.5&radius_km=10")) == []


def test_intersects_matches_location_or_area_of_operation(client, make_actor, map_of_actors):
    make_actor(
        name="Regional Sahel Platform",
        location={"type": "Point", "coordinates": [2.35, 48.85]},
        area={
            "type": "Polygon",
            "coordinates": [[[-5, 10], [15, 10], [15, 20], [-5, 20], [-5, 10]]],
        },
    )
    mali = '{"type":"Point","coordinates":[0,15]}'
    assert names(client.get("/api/v1/actors", query_string={"intersects": mali})) == [
        "Regional Sahel Platform"
    ]
    andes = '{"type":"Polygon","coordinates":[[[-80,0],[-70,0],[-70,10],[-80,10],[-80,0]]]}'
    assert names(client.get("/api/v1/actors", query_string={"intersects": andes})) == [
        "Bogotá Jóvenes por la Paz"
    ]
    bad = client.get("/api/v1/actors", query_string={"intersects": "{not json"})
    assert bad.status_code == 422 and "intersects" in bad.get_json()["errors"]


def test_updated_since_and_sorting(client, session, map_of_actors, make_actor):
    from api.actors.models import Actor

    old = datetime(2020, 1, 1, tzinfo=UTC)
    session.query(Actor).update({Actor.updated_at: old})
    session.commit()
    make_actor(name="Recently Updated")
    since = (old + timedelta(days=1)).isoformat()
    assert names(client.get("/api/v1/actors", query_string={"updated_since": since})) == [
        "Recently Updated"
    ]
    by_name = names(client.get("/api/v1/actors?sort=name"))
    assert by_name == sorted(by_name)
    assert names(client.get("/api/v1/actors?sort=-name")) == by_name[::-1]
    assert names(client.get("/api/v1/actors?sort=-updated"))[0] == "Recently Updated"


def test_fields_selects_properties(client, map_of_actors):
    items = client.get("/api/v1/actors?fields=name,country&limit=2").get_json()["items"]
    assert all(set(item) == {"id", "name", "country"} for item in items)
    bad = client.get("/api/v1/actors?fields=name,secret_field")
    assert bad.status_code == 422 and "fields" in bad.get_json()["errors"]


def test_geojson_by_parameter_or_accept_header(client, map_of_actors):
    response = client.get("/api/v1/actors?f=geojson&kind=funder")
    assert response.content_type == "application/geo+json"
    collection = response.get_json()
    assert collection["type"] == "FeatureCollection"
    assert collection["numberReturned"] == 1 and collection["numberMatched"] == 1
    feature = collection["features"][0]
    assert feature["properties"]["name"] == "Nairobi Peace Fund"
    assert "location" not in feature["properties"]
    assert shape(feature["geometry"]).equals_exact(Point(36.82, -1.29), 1e-9)
    by_accept = client.get("/api/v1/actors?kind=funder", headers={"Accept": "application/geo+json"})
    assert by_accept.content_type == "application/geo+json"
    item = client.get(f"/api/v1/actors/{feature['id']}", headers={"Accept": "application/geo+json"})
    assert item.get_json()["type"] == "Feature"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=0,10,5,5", "bbox"),
        ("bbox=0,-91,5,5", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("near=1", "near"),
        ("near=0,95", "near"),
        ("radius_km=5", "radius_km"),
        ("near=0,0&radius_km=-1", "radius_km"),
        ("sort=distance", "sort"),
        ("sort=relevance", "sort"),
        ("sort=size", "sort"),
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("offset=-1", "offset"),
        ("kind=militia", "kind"),
        ("country=ZZ", "country"),
        ("theme_match=some", "theme_match"),
        ("updated_since=yesterday", "updated_since"),
        ("f=xml", "f"),
    ],
)
def test_invalid_query_is_422_naming_the_parameter(client, query, field):
    response = client.get(f"/api/v1/actors?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_list_runs_a_constant_number_of_queries(client, make_actor, count_queries):
    for i in range(3):
        make_actor(name=f"Few {i}")
    with count_queries() as few:
        client.get("/api/v1/actors?limit=2")
    for i in range(20):
        make_actor(name=f"Many {i}")
    with count_queries() as many:
        client.get("/api/v1/actors?limit=20")
    assert many.count == few.count <= 3  # the page, the capped count, the translations
