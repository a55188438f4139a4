"""OGC API - Features Parts 3, 6 and 8 on the items: CQL2 filters (text and JSON) on the
public queryables only, translated to SQL; sortby, properties, skipGeometry; and a
conformance document whose every class is exercised here."""

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

from api.ogc.routes import CONFORMANCE

ITEMS = "/api/v1/ogc/collections/actors/items"
EXACT = (-11.1873, 7.8764)  # Kenema; published at locality precision, as (-11.15, 7.85)
PUBLIC = (-11.15, 7.85)
LAST_WEEK = datetime.now(UTC) - timedelta(days=7)

# Which test exercises each declared conformance class (checked against CONFORMANCE).
EXERCISED_BY = {
    "ogcapi-features-1/1.0/conf/core": "test_ogc_filter.py::test_items_paginate_with_a_filter",
    "ogcapi-features-1/1.0/conf/geojson": "test_ogc_filter.py::test_items_paginate_with_a_filter",
    "ogcapi-features-3/1.0/conf/queryables": "test_ogc_filter.py::test_a_filter_names_only_queryables",
    "ogcapi-features-3/1.0/conf/filter": "test_ogc_filter.py::test_cql2_text_and_json_give_the_same_answer",
    "ogcapi-features-3/1.0/conf/features-filter": "test_ogc_filter.py::test_cql2_text_and_json_give_the_same_answer",
    "ogcapi-features-6/1.0/conf/property-selection": "test_ogc_filter.py::test_properties_and_skip_geometry",
    "ogcapi-features-8/1.0/conf/sorting": "test_ogc_filter.py::test_sortby",
    "cql2/1.0/conf/cql2-text": "test_ogc_filter.py::test_cql2_text_and_json_give_the_same_answer",
    "cql2/1.0/conf/cql2-json": "test_ogc_filter.py::test_cql2_text_and_json_give_the_same_answer",
    "cql2/1.0/conf/basic-cql2": "test_ogc_filter.py::test_basic_cql2",
    "cql2/1.0/conf/advanced-comparison-operators": "test_ogc_filter.py::test_advanced_comparison_operators",
    "cql2/1.0/conf/case-insensitive-comparison": "test_ogc_filter.py::test_case_insensitive_comparison",
    "cql2/1.0/conf/basic-spatial-functions": "test_ogc_filter.py::test_spatial_functions_on_the_public_geometry",
    "cql2/1.0/conf/basic-spatial-functions-plus": "test_ogc_filter.py::test_spatial_functions_on_the_public_geometry",
    "cql2/1.0/conf/spatial-functions": "test_ogc_filter.py::test_spatial_functions_on_the_public_geometry",
    "cql2/1.0/conf/temporal-functions": "test_ogc_filter.py::test_temporal_functions_on_updated_at",
    "cql2/1.0/conf/array-functions": "test_ogc_filter.py::test_array_functions_on_themes",
    "ogcapi-tiles-1/1.0/conf/core": "test_ogc_tiles.py::test_an_empty_or_missing_tile",
    "ogcapi-tiles-1/1.0/conf/tileset": "test_ogc_tiles.py::test_tileset_metadata_names_the_matrix_set_zooms_layer_and_template",
    "ogcapi-tiles-1/1.0/conf/tilesets-list": "test_ogc_tiles.py::test_tiles_are_found_from_the_landing_page_and_the_collection",
    "ogcapi-tiles-1/1.0/conf/geodata-tilesets": "test_ogc_tiles.py::test_tiles_are_found_from_the_landing_page_and_the_collection",
    "ogcapi-tiles-1/1.0/conf/mvt": "test_ogc_tiles.py::test_an_ogc_tile_is_the_map_tile_with_its_public_points_only",
}


@pytest.fixture
def actors(make_actor, session):
    from api.actors.models import Actor

    made = {
        "kenema": make_actor(
            name="Kenema Women's Safe Space",
            kind="organisation",
            themes=["gender", "mediation_dialogue"],
            location={"type": "Point", "coordinates": list(EXACT)},
            location_precision="locality",
        ),
        "freetown": make_actor(
            name="Freetown Peace Office",
            kind="government",
            themes=["governance"],
            location={"type": "Point", "coordinates": [-13.234, 8.484]},
            location_precision="exact",
        ),
        "bogota": make_actor(
            name="Bogotá Memory House",
            kind="academic",
            themes=["youth", "gender"],
            location={"type": "Point", "coordinates": [-74.07, 4.71]},
            location_precision="exact",
            verified=True,
        ),
        "draft": make_actor(
            name="Unpublished Group",
            kind="government",
            status="draft",
            location={"type": "Point", "coordinates": [-13.2, 8.45]},
        ),
    }
    # Bogotá was updated a week ago, the others now.
    session.query(Actor).filter(Actor.id == made["bogota"].id).update({Actor.updated_at: LAST_WEEK})
    session.commit()
    return {key: str(actor.id) for key, actor in made.items()}


def names(client, query, **params) -> list[str]:
    response = client.get(ITEMS, query_string={"filter": query, **params})
    assert response.status_code == 200, response.get_json()
    return [f["properties"]["name"] for f in response.get_json()["features"]]


def refused(client, query, **params) -> dict:
    response = client.get(ITEMS, query_string={"filter": query, **params})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    return response.get_json()


def test_conformance_declares_only_what_is_exercised(client):
    declared = client.get("/api/v1/ogc/conformance").get_json()["conformsTo"]
    assert declared == CONFORMANCE
    short = {uri.removeprefix("http://www.opengis.net/spec/") for uri in declared}
    assert short == set(EXERCISED_BY)
    here = Path(__file__).parent
    for proof in set(EXERCISED_BY.values()):
        module, name = proof.split("::")
        tree = ast.parse((here / module).read_text())
        assert name in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_basic_cql2(client, actors):
    assert names(client, "kind = 'government'") == ["Freetown Peace Office"]
    assert sorted(names(client, "kind <> 'government'")) == [
        "Bogotá Memory House",
        "Kenema Women's Safe Space",
    ]
    assert names(client, "verified = true AND kind = 'academic'") == ["Bogotá Memory House"]
    assert names(client, "verified") == ["Bogotá Memory House"]  # a boolean property alone
    assert sorted(names(client, "kind = 'academic' OR kind = 'government'")) == [
        "Bogotá Memory House",
        "Freetown Peace Office",
    ]
    assert names(client, "NOT (kind <> 'government')") == ["Freetown Peace Office"]
    assert names(client, "name > 'F' AND name < 'G'") == ["Freetown Peace Office"]
    assert len(names(client, "summary IS NOT NULL")) == 3
    assert names(client, "summary IS NULL") == []
    # The draft is never found, whatever the filter says.
    assert "Unpublished Group" not in names(client, "kind = 'government' OR true")


def test_advanced_comparison_operators(client, actors):
    assert names(client, "name LIKE 'Free%'") == ["Freetown Peace Office"]
    assert names(client, "name LIKE '_ogot_ Memory House'") == ["Bogotá Memory House"]
    assert len(names(client, "name NOT LIKE 'Free%'")) == 2
    assert sorted(names(client, "kind IN ('academic', 'government')")) == [
        "Bogotá Memory House",
        "Freetown Peace Office",
    ]
    assert len(names(client, "kind NOT IN ('academic', 'government')")) == 1
    assert names(client, "name BETWEEN 'E' AND 'G'") == ["Freetown Peace Office"]


def test_case_insensitive_comparison(client, actors):
    assert names(client, "CASEI(name) = casei('FREETOWN PEACE OFFICE')") == [
        "Freetown Peace Office"
    ]
    body = {
        "op": "=",
        "args": [
            {"op": "casei", "args": [{"property": "kind"}]},
            {"op": "casei", "args": ["GOVERNMENT"]},
        ],
    }
    assert names(client, json.dumps(body), **{"filter-lang": "cql2-json"}) == [
        "Freetown Peace Office"
    ]


def test_cql2_text_and_json_give_the_same_answer(client, actors):
    text = "kind = 'organisation' AND S_INTERSECTS(geometry, BBOX(-12, 7, -11, 8))"
    document = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "kind"}, "organisation"]},
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [-12, 7, -11, 8]}]},
        ],
    }
    assert names(client, text) == ["Kenema Women's Safe Space"]
    assert names(client, text, **{"filter-lang": "cql2-text"}) == ["Kenema Women's Safe Space"]
    assert names(client, json.dumps(document), **{"filter-lang": "cql2-json"}) == [
        "Kenema Women's Safe Space"
    ]
    crs = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert names(client, text, **{"filter-crs": crs}) == ["Kenema Women's Safe Space"]
    response = client.get(ITEMS, query_string={"filter": text, "filter-crs": "EPSG:3857"})
    assert response.status_code == 422 and "filter-crs" in response.get_json()["errors"]


def test_spatial_functions_on_the_public_geometry(client, actors):
    west_africa = "POLYGON((-14 7, -10 7, -10 9, -14 9, -14 7))"
    assert sorted(names(client, f"S_INTERSECTS(geometry, {west_africa})")) == [
        "Freetown Peace Office",
        "Kenema Women's Safe Space",
    ]
    assert names(client, f"S_WITHIN(geometry, {west_africa}) AND kind = 'government'") == [
        "Freetown Peace Office"
    ]
    assert names(client, f"S_DISJOINT(geometry, {west_africa})") == ["Bogotá Memory House"]
    assert names(client, "S_INTERSECTS(geometry, POINT(-74.07 4.71))") == ["Bogotá Memory House"]
    assert names(client, "S_EQUALS(geometry, POINT(-74.07 4.71))") == ["Bogotá Memory House"]
    assert names(client, "S_CONTAINS(geometry, POINT(-74.07 4.71))") == ["Bogotá Memory House"]
    line = "LINESTRING(-75 4.71, -73 4.71)"
    assert names(client, f"S_TOUCHES(geometry, {line})") == []  # a point inside, not on the ends
    assert names(client, f"S_INTERSECTS(geometry, {line})") == ["Bogotá Memory House"]
    assert names(client, f"S_CROSSES(geometry, {line})") == []
    assert names(client, f"S_OVERLAPS(geometry, {west_africa})") == []
    multi = "MULTIPOINT((-74.07 4.71), (0 0))"
    assert names(client, f"S_INTERSECTS(geometry, {multi})") == ["Bogotá Memory House"]
    geojson = {
        "op": "s_within",
        "args": [
            {"property": "geometry"},
            {"type": "Polygon", "coordinates": [[[-80, 0], [-70, 0], [-70, 10], [-80, 0]]]},
        ],
    }
    assert names(client, json.dumps(geojson), **{"filter-lang": "cql2-json"}) == [
        "Bogotá Memory House"
    ]


def test_temporal_functions_on_updated_at(client, actors):
    day_before = (LAST_WEEK - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    day_after = (LAST_WEEK + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert names(client, f"T_BEFORE(updated_at, TIMESTAMP('{day_after}'))") == [
        "Bogotá Memory House"
    ]
    assert len(names(client, f"T_AFTER(updated_at, TIMESTAMP('{day_after}'))")) == 2
    during = f"T_DURING(updated_at, INTERVAL('{day_before}', '{day_after}'))"
    assert names(client, during) == ["Bogotá Memory House"]
    assert names(client, f"T_INTERSECTS(updated_at, INTERVAL('..', '{day_after}'))") == [
        "Bogotá Memory House"
    ]
    assert (
        len(names(client, f"T_DISJOINT(updated_at, INTERVAL('{day_before}', '{day_after}'))")) == 2
    )
    assert names(client, f"updated_at < TIMESTAMP('{day_after}')") == ["Bogotá Memory House"]
    document = {
        "op": "t_after",
        "args": [{"property": "updated_at"}, {"timestamp": day_after}],
    }
    assert len(names(client, json.dumps(document), **{"filter-lang": "cql2-json"})) == 2


def test_array_functions_on_themes(client, actors):
    assert sorted(names(client, "A_CONTAINS(themes, ('gender'))")) == [
        "Bogotá Memory House",
        "Kenema Women's Safe Space",
    ]
    assert names(client, "A_CONTAINS(themes, ('gender', 'youth'))") == ["Bogotá Memory House"]
    assert names(client, "A_EQUALS(themes, ('governance'))") == ["Freetown Peace Office"]
    assert names(client, "A_CONTAINEDBY(themes, ('governance', 'youth'))") == [
        "Freetown Peace Office"
    ]
    assert len(names(client, "A_OVERLAPS(themes, ('youth', 'governance'))")) == 2


def test_items_paginate_with_a_filter(client, actors):
    first = client.get(ITEMS, query_string={"filter": "kind <> 'academic'", "limit": 1})
    body = first.get_json()
    assert first.status_code == 200 and first.content_type.startswith("application/geo+json")
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 2 and body["numberReturned"] == 1
    (next_link,) = [link for link in body["links"] if link["rel"] == "next"]
    assert "filter=kind" in next_link["href"]
    second = client.get(next_link["href"]).get_json()
    assert second["numberReturned"] == 1
    assert body["features"][0]["id"] != second["features"][0]["id"]


def test_sortby(client, actors):
    def order(sortby, **params):
        response = client.get(ITEMS, query_string={"sortby": sortby, **params})
        assert response.status_code == 200, response.get_json()
        return [f["properties"]["name"] for f in response.get_json()["features"]]

    alphabetical = ["Bogotá Memory House", "Freetown Peace Office", "Kenema Women's Safe Space"]
    assert order("name") == alphabetical
    assert order("+name") == alphabetical
    assert order("-name") == alphabetical[::-1]
    assert order("-updated_at,name")[-1] == "Bogotá Memory House"
    assert order("kind,-name") == alphabetical  # academic, government, organisation
    for bad, rule in (("themes", "sortable"), ("location", "sortable"), ("na me", "sortby")):
        response = client.get(ITEMS, query_string={"sortby": bad})
        assert response.status_code in (400, 422), bad
        assert "sortby" in response.get_json()["errors"], bad
        assert rule in response.get_data(as_text=True)


def test_properties_and_skip_geometry(client, actors):
    body = client.get(ITEMS, query_string={"properties": "name,kind"}).get_json()
    assert all(set(f["properties"]) == {"name", "kind"} for f in body["features"])
    assert all(f["geometry"]["type"] == "Point" for f in body["features"])
    none = client.get(ITEMS, query_string={"properties": ""}).get_json()
    assert all(f["properties"] == {} for f in none["features"])
    bare = client.get(ITEMS, query_string={"skipGeometry": "true", "properties": "name"})
    assert all(f["geometry"] is None for f in bare.get_json()["features"])
    assert all(f["id"] for f in bare.get_json()["features"])
    response = client.get(ITEMS, query_string={"properties": "name,location"})
    assert response.status_code == 400
    assert "location" in response.get_json()["errors"]["properties"][0]


def test_a_filter_names_only_queryables(client, actors):
    for hidden in ("status", "location", "contact", "created_by", "id", "public_location"):
        body = refused(client, f"{hidden} IS NOT NULL")
        assert hidden in body["detail"] and "filter" in body["errors"], hidden
    queryables = client.get("/api/v1/ogc/collections/actors/queryables").get_json()
    body = refused(client, "status = 'draft'")
    assert all(name in body["detail"] for name in queryables["properties"])


@pytest.mark.parametrize(
    ("query", "lang", "says"),
    [
        ("kind = ", "cql2-text", "not CQL2 text"),
        ("kind = 'a' AND", "cql2-text", "not CQL2 text"),
        ('{"op": "=", "args": [', "cql2-json", "not valid JSON"),
        ('{"op": "nope", "args": []}', "cql2-json", "'nope' is not supported"),
        ('{"op": "=", "args": [{"property": "kind"}]}', "cql2-json", "2 argument(s), not 1"),
        ("verified = 'yes'", "cql2-text", "boolean"),
        ("updated_at > '2025-01-01'", "cql2-text", "TIMESTAMP("),
        ("name = 3", "cql2-text", "number"),
        ("themes = 'gender'", "cql2-text", "A_EQUALS"),
        ("name LIKE 3", "cql2-text", "LIKE"),
        ("verified LIKE 'x%'", "cql2-text", "LIKE matches a text"),
        ("S_INTERSECTS(name, POINT(0 0))", "cql2-text", "geometries"),
        ("S_INTERSECTS(geometry, POINT(200 0))", "cql2-text", "longitude"),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 0 1, 1 0, 0 0)))", "cql2-text", "not valid"),
        ("T_AFTER(name, TIMESTAMP('2025-01-01T00:00:00Z'))", "cql2-text", "instants"),
        ("updated_at > TIMESTAMP('2025-13-01T00:00:00Z')", "cql2-text", "RFC 3339"),
        (
            '{"op": ">", "args": [{"property": "updated_at"}, {"timestamp": "2025-01-01T00:00:00+18:00"}]}',
            "cql2-json",
            "offset",
        ),
        ("A_CONTAINS(name, ('a'))", "cql2-text", "arrays"),
        ("kind + 1 = 2", "cql2-text", "arithmetic"),
        ("upper(name) = 'X'", "cql2-text", "function"),
        ("name", "cql2-text", "not true or false"),
        ("'just a text'", "cql2-text", "condition"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_rule(client, actors, query, lang, says):
    body = refused(client, query, **{"filter-lang": lang})
    assert body["detail"].startswith("filter: ")
    assert says in body["detail"], body["detail"]
    assert "Traceback" not in body["detail"]


def test_a_hostile_filter_costs_a_400_not_the_server(client, actors):
    # The parser recurses natively as deep as the text nests: at the longest a query value
    # may be, each of these would crash the worker on a thread's usual stack.
    brackets = "(" * 3990 + "kind = 'x'" + ")" * 3990  # brackets add no depth: an answer
    assert client.get(ITEMS, query_string={"filter": brackets}).status_code == 200
    assert "deep" in refused(client, "NOT " * 1995 + "kind = 'x'")["detail"]
    assert "number" in refused(client, "name = " + "-" * 7990 + "1")["detail"]
    nested = {"op": "not", "args": [{"op": "=", "args": [{"property": "kind"}, "x"]}]}
    for _ in range(60):
        nested = {"op": "not", "args": [nested]}
    refused(client, json.dumps(nested), **{"filter-lang": "cql2-json"})
    many = "kind IN (" + ",".join(f"'k{i}'" for i in range(500)) + ")"
    assert "at most" in refused(client, many)["detail"]


def test_public_cannot_locate_an_actor_or_find_a_hidden_one_by_filter(client, actors):
    """A prober narrows a spatial filter around where they think someone is, or names a
    hidden actor: the filter sees the public point only, and visible actors only."""
    lon, lat = EXACT
    kenema = actors["kenema"]

    def found(query, lang="cql2-text"):
        response = client.get(ITEMS, query_string={"filter": query, "filter-lang": lang})
        assert response.status_code == 200, response.get_json()
        return {f["id"] for f in response.get_json()["features"]}

    for half in (0.03, 0.01, 0.001, 0.0001):
        box = f"BBOX({lon - half}, {lat - half}, {lon + half}, {lat + half})"
        assert kenema not in found(f"S_INTERSECTS(geometry, {box})"), half
        assert kenema in found(f"S_DISJOINT(geometry, {box})"), half
        polygon = {
            "type": "Polygon",
            "coordinates": [
                [
                    [lon - half, lat - half],
                    [lon + half, lat - half],
                    [lon + half, lat + half],
                    [lon - half, lat + half],
                    [lon - half, lat - half],
                ]
            ],
        }
        within = {"op": "s_within", "args": [{"property": "geometry"}, polygon]}
        assert kenema not in found(json.dumps(within), "cql2-json"), half
    assert kenema not in found(f"S_EQUALS(geometry, POINT({lon} {lat}))")
    # What a filter does find is only ever the public point, never finer.
    assert kenema in found(f"S_EQUALS(geometry, POINT({PUBLIC[0]} {PUBLIC[1]}))")
    feature = client.get(f"{ITEMS}/{kenema}").get_json()
    assert shape(feature["geometry"]).equals_exact(Point(*PUBLIC), 1e-9)
    # A draft is found by no filter, even one that names it exactly.
    draft = actors["draft"]
    for query in (
        "name = 'Unpublished Group'",
        "name LIKE 'Unpublished%' OR NOT (name LIKE 'Unpublished%')",
        "S_INTERSECTS(geometry, POINT(-13.2 8.45)) OR true",
    ):
        assert draft not in found(query), query
    response = client.get(ITEMS, query_string={"filter": "name = 'Unpublished Group'"})
    assert response.get_json()["numberMatched"] == 0
    # Nor can its status, its exact location or its contact be named.
    for secret in ("status = 'draft'", "S_INTERSECTS(location, POINT(-13.2 8.45))"):
        assert refused(client, secret)["errors"]["filter"]
