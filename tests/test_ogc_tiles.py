"""OGC API - Tiles for the actor collection: found from the landing page and the collection,
described on WebMercatorQuad, and serving the very tiles of /api/v1/tiles (same visibility,
same generalisation)."""

import mapbox_vector_tile
import pytest

from tests.test_maps import tile_of, tile_to_lonlat

OGC = "/api/v1/ogc"
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
EXACT = (-11.1873, 7.8764)  # Kenema; published at locality precision, as (-11.15, 7.85)
PUBLIC = (-11.15, 7.85)


@pytest.fixture
def actors(make_actor):
    return {
        "kenema": str(
            make_actor(
                name="Kenema Women's Safe Space",
                location={"type": "Point", "coordinates": list(EXACT)},
                location_precision="locality",
            ).id
        ),
        "draft": str(
            make_actor(
                name="Unpublished Group",
                status="draft",
                location={"type": "Point", "coordinates": [-11.16, 7.86]},
            ).id
        ),
    }


def link(document, rel):
    (found,) = [link for link in document["links"] if link["rel"] == rel]
    return found["href"].removeprefix("http://localhost")


def test_tiles_are_found_from_the_landing_page_and_the_collection(client):
    landing = client.get(OGC).get_json()
    schemes = client.get(link(landing, "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"))
    (tms,) = schemes.get_json()["tileMatrixSets"]
    assert tms["id"] == "WebMercatorQuad"
    collection = client.get(f"{OGC}/collections/actors").get_json()
    tilesets = client.get(link(collection, TILESETS_VECTOR)).get_json()["tilesets"]
    assert [t["tileMatrixSetURI"] for t in tilesets] == [
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    ]
    assert tilesets[0]["dataType"] == "vector"
    resources = client.get(f"{OGC}/collections/resources").get_json()
    assert not [link for link in resources["links"] if link["rel"] == TILESETS_VECTOR]
    assert client.get(f"{OGC}/collections/resources/tiles").status_code == 404


def test_tileset_metadata_names_the_matrix_set_zooms_layer_and_template(client):
    tilesets = client.get(f"{OGC}/collections/actors/tiles").get_json()["tilesets"]
    tileset = client.get(link(tilesets[0], "self")).get_json()
    assert tileset["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    limits = tileset["tileMatrixSetLimits"]
    assert [int(level["tileMatrix"]) for level in limits] == list(range(23))
    assert limits[3] == {
        "tileMatrix": "3",
        "minTileRow": 0,
        "maxTileRow": 7,
        "minTileCol": 0,
        "maxTileCol": 7,
    }
    (layer,) = tileset["layers"]
    assert (layer["id"], layer["minTileMatrix"], layer["maxTileMatrix"]) == ("actors", "0", "22")
    assert {"count", "id", "name", "kind"} <= set(layer["propertiesSchema"]["properties"])
    (item,) = [link for link in tileset["links"] if link["rel"] == "item"]
    assert item["templated"] is True and item["type"] == "application/vnd.mapbox-vector-tile"
    assert item["href"].endswith(
        "/collections/actors/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"
    )
    definition = client.get(link(tileset, TILING_SCHEME)).get_json()
    matrices = definition["tileMatrices"]
    assert [m["id"] for m in matrices] == [str(z) for z in range(23)]
    assert matrices[0]["scaleDenominator"] == pytest.approx(559082264.0287178)
    assert matrices[10]["matrixWidth"] == matrices[10]["matrixHeight"] == 1024
    assert matrices[0]["pointOfOrigin"] == pytest.approx([-20037508.3427892, 20037508.3427892])


@pytest.mark.parametrize("z", [3, 12])
def test_an_ogc_tile_is_the_map_tile_with_its_public_points_only(client, actors, z):
    x, y = tile_of(*PUBLIC, z)
    ogc = client.get(f"{OGC}/collections/actors/tiles/WebMercatorQuad/{z}/{y}/{x}")
    plain = client.get(f"/api/v1/tiles/{z}/{x}/{y}.mvt")
    assert ogc.status_code == plain.status_code == 200
    assert ogc.content_type == "application/vnd.mapbox-vector-tile"
    assert ogc.data == plain.data
    features = mapbox_vector_tile.decode(ogc.data)["actors"]["features"]
    assert len(features) == 1  # the draft is not on it
    lon, lat = tile_to_lonlat(z, x, y, *features[0]["geometry"]["coordinates"])
    assert abs(lon - PUBLIC[0]) < 0.01 and abs(lat - PUBLIC[1]) < 0.01
    if z == 12:
        assert features[0]["properties"]["id"] == actors["kenema"]
        # The tile of the exact point, 5 km away, shows nothing.
        x, y = tile_of(*EXACT, z)
        assert (
            client.get(f"{OGC}/collections/actors/tiles/WebMercatorQuad/{z}/{y}/{x}").status_code
            == 204
        )


def test_an_empty_or_missing_tile(client, actors):
    base = f"{OGC}/collections/actors/tiles/WebMercatorQuad"
    assert client.get(f"{base}/5/0/0").status_code == 204  # the Arctic ocean: empty
    for missing in ("3/8/0", "3/0/8", "23/0/0"):
        response = client.get(f"{base}/{missing}")
        assert response.status_code == 404, missing
        assert response.content_type == "application/problem+json"
    assert client.get(f"{OGC}/collections/actors/tiles/WorldCRS84Quad/0/0/0").status_code == 404
    assert client.get(f"{OGC}/tileMatrixSets/WorldCRS84Quad").status_code == 404
    assert client.get(f"{base}/3/0/0?kind=government").status_code == 400  # not applied: said
