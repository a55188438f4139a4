"""Map clients: OGC API - Features (with GDAL as a real client), vector tiles, clusters,
delta sync and exports; and that none of them ever gives away an exact location."""

import csv
import gzip
import io
import json
import math
import re
import shutil
import subprocess
import threading
from datetime import UTC, datetime, timedelta

import mapbox_vector_tile
import pytest
from shapely.geometry import Point, shape
from werkzeug.serving import make_server

EXACT = (-11.1873, 7.8764)  # Kenema; published at locality precision
PUBLIC = (-11.15, 7.85)


@pytest.fixture
def mapped(make_actor, session):
    from api.actors.models import Actor

    sensitive = make_actor(
        name="Kenema Women's Safe Space",
        kind="organisation",
        themes=["gender"],
        location={"type": "Point", "coordinates": list(EXACT)},
        location_precision="locality",
    )
    exact = make_actor(
        name="Freetown Peace Office",
        kind="government",
        themes=["governance"],
        location={"type": "Point", "coordinates": [-13.234, 8.484]},
        location_precision="exact",
    )
    draft = make_actor(
        name="Unpublished Group",
        status="draft",
        location={"type": "Point", "coordinates": [-13.2, 8.45]},
    )
    session.query(Actor).update({Actor.updated_at: datetime.now(UTC) - timedelta(minutes=5)})
    session.commit()
    return {"sensitive": str(sensitive.id), "exact": str(exact.id), "draft": str(draft.id)}


# -- OGC API - Features ---------------------------------------------------------------------


def test_landing_conformance_and_collections(client, mapped):
    landing = client.get("/api/v1/ogc").get_json()
    assert {link["rel"] for link in landing["links"]} >= {
        "self",
        "service-desc",
        "conformance",
        "data",
    }
    conformance = client.get("/api/v1/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance
    collections = client.get("/api/v1/ogc/collections").get_json()["collections"]
    assert [c["id"] for c in collections] == ["actors", "resources", "observations"]
    actors = client.get("/api/v1/ogc/collections/actors").get_json()
    assert actors["itemType"] == "feature" and len(actors["extent"]["spatial"]["bbox"][0]) == 4
    assert client.get("/api/v1/ogc/collections/unicorns").status_code == 404


def test_items_paging_filters_and_single_feature(client, mapped):
    response = client.get("/api/v1/ogc/collections/actors/items?limit=1")
    assert response.content_type == "application/geo+json"
    page = response.get_json()
    assert page["numberReturned"] == 1 and page["numberMatched"] == 2
    next_link = next(link["href"] for link in page["links"] if link["rel"] == "next")
    second = client.get(next_link).get_json()
    assert (
        second["numberReturned"] == 1 and second["features"][0]["id"] != page["features"][0]["id"]
    )
    assert not any(link["rel"] == "next" for link in second["links"])
    governments = client.get("/api/v1/ogc/collections/actors/items?kind=government").get_json()
    assert [f["properties"]["name"] for f in governments["features"]] == ["Freetown Peace Office"]
    assert (
        client.get("/api/v1/ogc/collections/actors/items?theme=gender,youth").get_json()[
            "numberMatched"
        ]
        == 1
    )
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        client.get(f"/api/v1/ogc/collections/actors/items?datetime={later}/..").get_json()[
            "numberMatched"
        ]
        == 0
    )
    assert (
        client.get("/api/v1/ogc/collections/actors/items?datetime=../" + later).get_json()[
            "numberMatched"
        ]
        == 2
    )
    assert client.get("/api/v1/ogc/collections/actors/items?datetime=yesterday").status_code == 422
    small = client.get("/api/v1/ogc/collections/actors/items?fields=name,kind").get_json()
    assert all(set(f["properties"]) == {"name", "kind"} for f in small["features"])
    assert client.get("/api/v1/ogc/collections/actors/items?fields=contact").status_code == 422
    item = client.get(f"/api/v1/ogc/collections/actors/items/{mapped['exact']}").get_json()
    assert item["type"] == "Feature" and item["properties"]["kind"] == "government"
    assert shape(item["geometry"]).equals_exact(Point(-13.234, 8.484), 1e-6)
    assert client.get(f"/api/v1/ogc/collections/actors/items/{mapped['draft']}").status_code == 404


@pytest.mark.skipif(
    shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is installed by `make test`"
)
def test_gdal_reads_the_map_through_ogc_api(app, mapped):
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"OAPIF:http://127.0.0.1:{server.server_port}/api/v1/ogc"
        result = subprocess.run(
            ["ogrinfo", "-ro", "-al", "-so", url, "actors"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert "Feature Count: 2" in result.stdout
    for field in ("name: String", "kind: String", "country: String", "location_precision: String"):
        assert field in result.stdout


# -- vector tiles ----------------------------------------------------------------------------------


def tile_of(lon, lat, z):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_to_lonlat(z, x, y, px, py, extent=4096):
    n = 2**z
    lon = (x + px / extent) / n * 360 - 180
    # mapbox-vector-tile flips y to grow upwards from the tile's bottom edge.
    merc_y = (y + 1 - py / extent) / n
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * merc_y))))
    return lon, lat


def test_tiles_decode_with_features_and_properties(client, mapped):
    z = 12
    x, y = tile_of(*PUBLIC, z)
    response = client.get(f"/api/v1/tiles/{z}/{x}/{y}.mvt")
    assert (
        response.status_code == 200
        and response.content_type == "application/vnd.mapbox-vector-tile"
    )
    assert "public" in response.headers["Cache-Control"] and response.headers["ETag"]
    layer = mapbox_vector_tile.decode(response.data)["actors"]
    (feature,) = layer["features"]
    assert feature["properties"]["name"] == "Kenema Women's Safe Space"
    assert feature["properties"]["count"] == 1 and feature["properties"]["precision"] == "locality"
    lon, lat = tile_to_lonlat(z, x, y, *feature["geometry"]["coordinates"])
    assert (lon, lat) == pytest.approx(PUBLIC, abs=0.001)
    assert (
        client.get(f"/api/v1/tiles/{z}/{x}/{y}.mvt?kind=government").status_code == 204
    )  # empty, fast


def test_statements_built_once_answer_each_requests_own_filters(client, mapped):
    """Tiles and OGC pages run statements built once per filter form (api.ogc.service):
    a second request of the same form with other values gets its own answer, never the
    first one's."""
    from api.maps.service import _tile_statement
    from api.ogc.service import _count_statement, _page_statement

    z = 4
    x, y = tile_of(*PUBLIC, z)

    def names_in_tile(theme):
        response = client.get(f"/api/v1/tiles/{z}/{x}/{y}.mvt?theme={theme}")
        features = mapbox_vector_tile.decode(response.data)["actors"]["features"]
        return {f["properties"].get("name") for f in features}

    before = _tile_statement.cache_info().hits
    assert names_in_tile("gender") == {"Kenema Women's Safe Space"}
    assert names_in_tile("governance") == {"Freetown Peace Office"}
    assert _tile_statement.cache_info().hits > before

    def names_in_bbox(bbox):
        page = client.get(f"/api/v1/ogc/collections/actors/items?bbox={bbox}").get_json()
        assert page["numberMatched"] == page["numberReturned"]
        return {f["properties"]["name"] for f in page["features"]}

    pages, counts = _page_statement.cache_info().hits, _count_statement.cache_info().hits
    assert names_in_bbox("-12,7,-11,8.2") == {"Kenema Women's Safe Space"}
    assert names_in_bbox("-14,8,-13,9") == {"Freetown Peace Office"}
    assert names_in_bbox("170,-90,-12,90") == {"Freetown Peace Office"}  # crosses 180°
    assert names_in_bbox("170,-90,-11,90") == {"Freetown Peace Office", "Kenema Women's Safe Space"}
    assert _page_statement.cache_info().hits > pages
    assert _count_statement.cache_info().hits > counts


def test_low_zoom_tiles_cluster_instead_of_truncating(client, make_actor):
    for i in range(30):
        make_actor(
            name=f"Nairobi group {i}",
            location={"type": "Point", "coordinates": [36.8 + i * 0.001, -1.29]},
            location_precision="exact",
        )
    x, y = tile_of(36.8, -1.29, 3)
    features = mapbox_vector_tile.decode(client.get(f"/api/v1/tiles/3/{x}/{y}.mvt").data)["actors"][
        "features"
    ]
    assert sum(f["properties"]["count"] for f in features) == 30
    assert len(features) < 30 and all(
        "name" not in f["properties"] for f in features if f["properties"]["count"] > 1
    )
    tilejson = client.get("/api/v1/tiles/tilejson.json?kind=organisation").get_json()
    assert tilejson["tiles"][0].endswith("/api/v1/tiles/{z}/{x}/{y}.mvt?kind=organisation")


def test_tiles_are_gzipped_cacheable_and_empty_ones_have_no_body(client, mapped, make_actor):
    z = 12
    x, y = tile_of(*PUBLIC, z)
    url = f"/api/v1/tiles/{z}/{x}/{y}.mvt"
    small = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers  # under 500 bytes gzip only adds bytes
    for i in range(20):
        make_actor(
            name=f"Kenema neighbourhood group {i}",
            location={"type": "Point", "coordinates": [-11.16 + i * 0.001, 7.86]},
            location_precision="exact",
        )
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    features = mapbox_vector_tile.decode(gzip.decompress(response.data))["actors"]["features"]
    assert mapped["sensitive"] in {f["properties"].get("id") for f in features}
    # The same for every caller: a CDN keys it on coding and language only.
    assert set(response.headers["Vary"].split(", ")) == {"Accept-Encoding", "Accept-Language"}
    assert response.headers["Cache-Control"] == "public, max-age=30"
    etag = response.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304
    signed_in = client.get(url, headers={"Authorization": "Bearer pm_whoever"})
    assert "Authorization" not in signed_in.headers.get("Vary", "")
    empty = client.get(f"/api/v1/tiles/{z}/{x}/{y}.mvt?kind=government")
    assert empty.status_code == 204 and empty.data == b""
    assert "Content-Type" not in empty.headers and "Content-Length" not in empty.headers
    assert empty.headers["Cache-Control"] == "public, max-age=30"


def test_a_lone_actor_at_low_zoom_carries_its_id_name_and_kind(client, mapped, make_actor):
    """Clients style by kind at every zoom; the point is still the public one."""
    z = 6
    x, y = tile_of(*PUBLIC, z)
    features = mapbox_vector_tile.decode(client.get(f"/api/v1/tiles/{z}/{x}/{y}.mvt").data)[
        "actors"
    ]["features"]
    lone = next(f for f in features if f["properties"].get("id") == mapped["sensitive"])
    assert lone["properties"]["count"] == 1
    assert lone["properties"]["name"] == "Kenema Women's Safe Space"
    assert lone["properties"]["kind"] == "organisation"
    assert tile_to_lonlat(z, x, y, *lone["geometry"]["coordinates"]) == pytest.approx(
        PUBLIC, abs=0.02
    )
    for i in range(2):  # two in one cell: a cluster, which names nobody
        make_actor(
            name=f"Makeni group {i}",
            location={"type": "Point", "coordinates": [-12.04 + i * 0.001, 8.88]},
            location_precision="exact",
        )
    mx, my = tile_of(-12.04, 8.88, z)
    pair = mapbox_vector_tile.decode(client.get(f"/api/v1/tiles/{z}/{mx}/{my}.mvt").data)["actors"][
        "features"
    ]
    (cluster,) = [f for f in pair if f["properties"]["count"] == 2]
    assert set(cluster["properties"]) == {"count"}


def test_a_map_session_from_a_shared_address_is_not_throttled(limited_app, mapped):
    """Hundreds of tiles from one carrier address count in the tiles' own bucket; the
    API's bucket still protects the rest, and the tiles' has a limit of its own."""
    client = limited_app(RATELIMIT_ANONYMOUS="5/minute", RATELIMIT_TILES="400/minute").test_client()
    x, y = tile_of(*PUBLIC, 12)
    statuses = {
        client.get(f"/api/v1/tiles/12/{x + dx}/{y + dy}.mvt").status_code
        for dx in range(-10, 10)
        for dy in range(-10, 10)
    }
    assert statuses == {200, 204}  # 400 tiles, none refused
    api = [client.get("/api/v1/themes").status_code for _ in range(6)]
    assert api == [200] * 5 + [429]
    refused = client.get(f"/api/v1/tiles/12/{x}/{y}.mvt")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.content_type == "application/problem+json"


# -- clusters, changes, exports --------------------------------------------------------------------


def test_clusters_for_clients_without_tiles(client, mapped, make_actor):
    for i in range(3):
        make_actor(
            name=f"Bo group {i}",
            location={"type": "Point", "coordinates": [-11.74 + i * 0.01, 7.96]},
            location_precision="exact",
        )
    collection = client.get("/api/v1/actors/clusters?zoom=4&bbox=-14,6,-10,10").get_json()
    counts = sorted(f["properties"]["count"] for f in collection["features"])
    assert sum(counts) == 5 and max(counts) > 1
    fine = client.get("/api/v1/actors/clusters?zoom=14&bbox=-13.3,8.4,-13.1,8.6").get_json()
    (single,) = fine["features"]
    assert single["properties"] == {
        "count": 1,
        "id": mapped["exact"],
        "name": "Freetown Peace Office",
        "kind": "government",
    }
    assert client.get("/api/v1/actors/clusters?bbox=0,0,1,1").status_code == 422


def test_delta_sync_sends_changes_and_tombstones(client, mapped, people_headers):
    first = client.get("/api/v1/actors/changes").get_json()
    assert {c["id"] for c in first["changes"]} == {mapped["sensitive"], mapped["exact"]}
    assert all("feature" in c for c in first["changes"])
    cursor = first["next"]
    assert client.get(f"/api/v1/actors/changes?since={cursor}").get_json()["changes"] == []
    mod = people_headers("moderator")
    client.post(
        f"/api/v1/moderation/items/actor/{mapped['sensitive']}/hide",
        json={"reason": "endangers"},
        headers=mod,
    )
    from api.actors.models import Actor
    from api.db import db

    db.session.query(Actor).filter(Actor.hidden.is_(True)).update(
        {Actor.updated_at: datetime.now(UTC) - timedelta(minutes=1)}
    )
    db.session.commit()
    later = client.get(f"/api/v1/actors/changes?since={cursor}").get_json()["changes"]
    assert later == [
        {"id": mapped["sensitive"], "updated_at": later[0]["updated_at"], "deleted": True}
    ]
    assert client.get("/api/v1/actors/changes?since=garbage!").status_code == 422


def test_exports_stream_geojson_lines_and_hxl_csv(client, mapped):
    collection = json.loads(client.get("/api/v1/actors/export").get_data(as_text=True))
    assert {f["id"] for f in collection["features"]} == {mapped["sensitive"], mapped["exact"]}
    lines = client.get("/api/v1/actors/export?format=geojsonl&kind=government")
    assert lines.content_type == "application/x-ndjson"
    assert [json.loads(line)["properties"]["name"] for line in lines.text.splitlines()] == [
        "Freetown Peace Office"
    ]
    assert client.get("/api/v1/actors/export?fields=secret").status_code == 422
    response = client.get("/api/v1/actors/export?format=csv")
    assert response.is_streamed and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["id", "name", "kind"] and rows[1][:3] == [
        "#org+id",
        "#org+name",
        "#org+type",
    ]
    assert len(rows) == 4
    iso_8601_utc = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert all(iso_8601_utc.fullmatch(row[rows[0].index("updated_at")]) for row in rows[2:])


def test_exports_are_gzipped_as_they_stream(client, mapped):
    response = client.get(
        "/api/v1/actors/export?format=geojsonseq", headers={"Accept-Encoding": "gzip"}
    )
    assert response.is_streamed and response.headers["Content-Encoding"] == "gzip"
    assert response.content_type == "application/geo+json-seq"
    assert "peacemap-actors.geojsons" in response.headers["Content-Disposition"]
    text = gzip.decompress(response.get_data()).decode()
    # RFC 8142: each text starts with RS and ends with a line feed.
    records = text.split("\x1e")
    assert records[0] == "" and all(r.endswith("\n") for r in records[1:])
    assert {json.loads(r)["id"] for r in records[1:]} == {mapped["sensitive"], mapped["exact"]}
    for fmt in ("geojson", "geojsonl", "csv"):
        zipped = client.get(
            f"/api/v1/actors/export?format={fmt}", headers={"Accept-Encoding": "gzip"}
        )
        assert zipped.headers["Content-Encoding"] == "gzip", fmt
        assert mapped["exact"] in gzip.decompress(zipped.get_data()).decode(), fmt
    assert "Content-Encoding" not in client.get("/api/v1/actors/export").headers


# -- privacy, endpoint by endpoint -------------------------------------------------------------------


def test_no_map_endpoint_gives_away_an_exact_location(client, mapped):
    lon, lat = EXACT
    tiny = f"{lon - 0.005},{lat - 0.005},{lon + 0.005},{lat + 0.005}"
    needles = ("11.1873", "7.8764", "11.187", "7.876")
    urls = {
        "ogc items": "/api/v1/ogc/collections/actors/items",
        "ogc item": f"/api/v1/ogc/collections/actors/items/{mapped['sensitive']}",
        "clusters": "/api/v1/actors/clusters?zoom=18&bbox=-12,7,-11,8",
        "changes": "/api/v1/actors/changes",
        "export geojson": "/api/v1/actors/export",
        "export csv": "/api/v1/actors/export?format=csv",
    }
    for name, url in urls.items():
        text = client.get(url).get_data(as_text=True)  # read at once: exports are streamed
        assert mapped["sensitive"] in text, name
        assert not any(n in text for n in needles), name
    # Spatial filters work on the public point: a bbox around the exact one finds nothing.
    assert (
        client.get(f"/api/v1/ogc/collections/actors/items?bbox={tiny}").get_json()["numberReturned"]
        == 0
    )
    assert client.get(f"/api/v1/actors/clusters?zoom=18&bbox={tiny}").get_json()["features"] == []
    assert client.get(f"/api/v1/actors/export?format=geojsonl&bbox={tiny}").get_data() == b""
    # The tile holding the exact point (at a zoom where it differs from the public one's)
    # is empty, and every tile shows the public point only.
    z = 16
    x, y = tile_of(lon, lat, z)
    assert tile_of(*PUBLIC, z) != (x, y)
    assert client.get(f"/api/v1/tiles/{z}/{x}/{y}.mvt").status_code == 204
    px, py = tile_of(*PUBLIC, z)
    (feature,) = mapbox_vector_tile.decode(client.get(f"/api/v1/tiles/{z}/{px}/{py}.mvt").data)[
        "actors"
    ]["features"]
    assert tile_to_lonlat(z, px, py, *feature["geometry"]["coordinates"]) == pytest.approx(
        PUBLIC, abs=0.0001
    )


def test_low_zoom_cells_follow_every_change_at_once(client, make_actor, people_headers, session):
    """Zooms 0-8 read a cell table kept by triggers: hiding, archiving or moving an actor
    shows in the very next tile, with the same counts as the live query."""
    ids = [
        make_actor(
            name=f"Kisumu group {i}",
            location={"type": "Point", "coordinates": [34.76 + i * 0.01, -0.09]},
            location_precision="exact",
        ).id
        for i in range(4)
    ]
    x, y = tile_of(34.76, -0.09, 5)

    def count(query=""):
        features = mapbox_vector_tile.decode(
            client.get(f"/api/v1/tiles/5/{x}/{y}.mvt{query}").data
        )["actors"]["features"]
        return sum(f["properties"]["count"] for f in features)

    assert count() == 4
    assert count("?kind=organisation") == 4  # a filter takes the live path: same answer
    mod = people_headers("moderator")
    client.post(
        f"/api/v1/moderation/items/actor/{ids[0]}/hide", json={"reason": "endangers"}, headers=mod
    )
    assert count() == 3
    client.delete(f"/api/v1/actors/{ids[1]}", headers={**mod, "If-Match": '"v1"'})
    assert count() == 2
    moved = client.patch(
        f"/api/v1/actors/{ids[2]}",
        json={"location": {"type": "Point", "coordinates": [-74.07, 4.71]}},
        headers={**mod, "If-Match": '"v1"'},
    )
    assert moved.status_code == 200
    assert count() == 1
