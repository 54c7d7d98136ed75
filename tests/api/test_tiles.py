"""Vector tiles (OGC API – Tiles, MVT): what they hold for each viewer, where, and their metadata.

The atlas is built here, near Bologna: two public commons, one ``community`` commons held by
a party, one ``secret`` one, one ``community`` one published to others as a grid cell, and a
few parcels. Every hidden feature's name carries ``HIDDENMARK`` so that the raw tile bytes
can be searched for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

import commonsmap as cm
from api.app import create_app
from commonsmap.errors import NotFoundError, QueryError
from commonsmap.keys import add_key
from commonsmap.privacy import Viewer
from commonsmap.tiles import EXTENT, MVT_TYPE, vector_tile

MARK = "HIDDENMARK"
Z, X, Y = 14, 8708, 5926  # the tile holding (11.34, 44.49)
TILE = f"{Z}/{Y}/{X}"  # OGC order: tileMatrix/tileRow/tileCol
BASE = "/collections/{}/tiles/WebMercatorQuad"
CONF = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"


@dataclass(frozen=True)
class TileAtlas:
    path: Path
    ids: dict[str, str]
    keys: dict[str, str]
    client: TestClient

    def get(self, path: str, who: str | None = None, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return self.client.get(path, headers=headers, params=params)

    def tile(self, layer: str, who: str | None = None, tile: str = TILE) -> dict[str, Any]:
        answer = self.get(f"{BASE.format(layer)}/{tile}", who)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == MVT_TYPE
        decoded: dict[str, Any] = mapbox_vector_tile.decode(answer.content, default_options={"y_coord_down": True})
        return decoded


@pytest.fixture(scope="module")
def tiles(tmp_path_factory: pytest.TempPathFactory) -> TileAtlas:
    path = tmp_path_factory.mktemp("tiles") / "bologna.gpkg"
    atlas = cm.Atlas.create(path, custodian="Comune di Bologna", title="Tiles test atlas")
    party, other = atlas.add("parties", [{"name": "Orti in comune", "kind": "association"},
                                         {"name": "Altra associazione", "kind": "association"}], who="setup").ids
    popup = {"management_regime": "community_managed", "ownership": "municipal", "protection_status": "recognised"}
    commons = [
        {"name": "Giardino Lunetta", "kind": "garden", "geometry": shapely.box(11.342, 44.485, 11.344, 44.487),
         "description": "not in the popup", **popup},
        {"name": "Piazza Verdi", "kind": "square", "geometry": shapely.box(11.350, 44.490, 11.352, 44.492)},
        {"name": f"Orto {MARK} community", "kind": "garden", "sensitivity": "community", "holder": party,
         "geometry": shapely.box(11.346, 44.488, 11.348, 44.490)},
        {"name": f"Fonte {MARK} secret", "kind": "water", "sensitivity": "secret", "holder": party,
         "geometry": shapely.box(11.353, 44.484, 11.355, 44.486)},
        {"name": f"Bosco {MARK} grid", "kind": "forest", "sensitivity": "community", "holder": party,
         "publish_as": "grid_cell", "geometry": shapely.box(11.344, 44.492, 11.346, 44.494)},
    ]
    ids = dict(zip(("public", "square", "community", "secret", "generalised"),
                   atlas.add("commons", commons, who="setup").ids, strict=True))
    parcels = [{"cadastral_ref": f"BO/{n}", "owner_kind": "public", "designation": "designated",
                "geometry": shapely.MultiPolygon([shapely.box(11.340 + n * 0.003, 44.482, 11.342 + n * 0.003,
                                                              44.484)])} for n in range(3)]
    atlas.add("parcels", parcels, who="setup")
    keys = {"member": add_key(atlas, "member", parties=[party], name="m"),
            "other": add_key(atlas, "member", parties=[other], name="o"),
            "custodian": add_key(atlas, "custodian", parties=[party], name="c")}
    return TileAtlas(path, ids, keys, TestClient(create_app(path)))


def _by_id(decoded: dict[str, Any], layer: str = "commons") -> dict[str, dict[str, Any]]:
    return {f["properties"]["id"]: f for f in decoded.get(layer, {"features": []})["features"]}


def test_public_features_carry_their_popup_properties(tiles: TileAtlas) -> None:
    features = _by_id(tiles.tile("commons"))
    assert features[tiles.ids["public"]]["properties"] == {
        "id": tiles.ids["public"], "name": "Giardino Lunetta", "kind": "garden",
        "management_regime": "community_managed", "ownership": "municipal", "protection_status": "recognised"}
    assert features[tiles.ids["square"]]["properties"]["name"] == "Piazza Verdi"
    assert features[tiles.ids["public"]]["geometry"]["type"] == "Polygon"


def test_anonymous_tiles_hold_nothing_hidden(tiles: TileAtlas) -> None:
    answer = tiles.get(f"{BASE.format('commons')}/{TILE}")
    assert answer.status_code == 200
    for hidden in ("community", "secret", "generalised"):
        assert tiles.ids[hidden].encode() not in answer.content
    assert MARK.encode() not in answer.content and b"Orto" not in answer.content and b"Fonte" not in answer.content
    features = _by_id(tiles.tile("commons"))
    assert not {tiles.ids["community"], tiles.ids["secret"], tiles.ids["generalised"]} & set(features)
    assert all(MARK not in str(f["properties"]) for f in features.values())


def test_the_generalised_feature_appears_only_generalised(tiles: TileAtlas) -> None:
    coarse = [f for f in tiles.tile("commons")["commons"]["features"] if f["properties"].get("generalised")]
    assert len(coarse) == 1
    properties = coarse[0]["properties"]
    assert properties["id"].startswith("g-") and "name" not in properties
    assert properties == {"id": properties["id"], "kind": "forest", "generalised": True}
    xs = [x for x, _ in coarse[0]["geometry"]["coordinates"][0]]
    assert min(xs) <= 0 and max(xs) >= EXTENT  # the 0.1° grid cell covers the whole tile


def test_members_see_their_party_s_features(tiles: TileAtlas) -> None:
    member = _by_id(tiles.tile("commons", "member"))
    assert member[tiles.ids["community"]]["properties"]["name"] == f"Orto {MARK} community"
    assert member[tiles.ids["generalised"]]["properties"]["name"] == f"Bosco {MARK} grid"
    assert tiles.ids["secret"] not in member  # members do not see their party's secrets
    assert not any(p["properties"].get("generalised") for p in member.values())
    other = _by_id(tiles.tile("commons", "other"))
    assert tiles.ids["community"] not in other and tiles.ids["secret"] not in other
    assert tiles.ids["secret"] in _by_id(tiles.tile("commons", "custodian"))


def test_coordinates_put_a_feature_where_it_is(tiles: TileAtlas) -> None:
    feature = _by_id(tiles.tile("commons"))[tiles.ids["public"]]
    decoded = feature["geometry"]["coordinates"][0]
    left, bottom, right, top = morecantile.tms.get("WebMercatorQuad").xy_bounds(X, Y, Z)
    to_mercator = Transformer.from_crs(4326, 3857, always_xy=True)
    for lon, lat in [(11.342, 44.485), (11.344, 44.485), (11.344, 44.487), (11.342, 44.487)]:
        mx, my = to_mercator.transform(lon, lat)
        px, py = (mx - left) / (right - left) * EXTENT, (top - my) / (top - bottom) * EXTENT  # y down, from the north
        assert min(abs(px - x) + abs(py - y) for x, y in decoded) <= 2, (lon, lat, px, py, decoded)


def test_parcels_are_tiled_with_their_popup(tiles: TileAtlas) -> None:
    features = tiles.tile("parcels")["parcels"]["features"]
    assert sorted(f["properties"]["cadastral_ref"] for f in features) == ["BO/0", "BO/1", "BO/2"]
    assert all(f["properties"]["designation"] == "designated" for f in features)


def test_tiles_vary_by_key(tiles: TileAtlas) -> None:
    anonymous = tiles.get(f"{BASE.format('commons')}/{TILE}")
    keyed = tiles.get(f"{BASE.format('commons')}/{TILE}", "member")
    assert "Authorization" in anonymous.headers["vary"] and "X-API-Key" in anonymous.headers["vary"]
    assert keyed.headers["cache-control"].startswith("private")
    assert not anonymous.headers["cache-control"].startswith("private")


def test_an_empty_tile_is_204(tiles: TileAtlas) -> None:
    answer = tiles.get(f"{BASE.format('commons')}/{Z}/0/0")
    assert answer.status_code == 204 and answer.content == b""


@pytest.mark.parametrize("tile", ["25/0/0", f"{Z}/{2**Z}/0", f"{Z}/0/{2**Z}", "3/-1/0", "0/0/1"])
def test_tiles_outside_the_matrix_are_404(tiles: TileAtlas, tile: str) -> None:
    answer = tiles.get(f"{BASE.format('commons')}/{tile}")
    assert answer.status_code == 404
    assert answer.json()["code"] == "NotFound" and answer.json()["description"]


def test_bad_requests_are_ogc_exceptions(tiles: TileAtlas) -> None:
    for path, params, status in [(f"{BASE.format('commons')}/x/0/0", {}, 400),
                                 (f"{BASE.format('commons')}/{TILE}", {"f": "json"}, 400),
                                 (BASE.format("commons"), {"colour": "red"}, 400),
                                 (BASE.format("commons"), {"f": "html"}, 406),
                                 ("/collections/commons/tiles/WorldCRS84Quad", {}, 404),
                                 ("/tileMatrixSets/WorldCRS84Quad", {}, 404),
                                 (f"{BASE.format('parties')}/{TILE}", {}, 404),
                                 ("/collections/parties/tiles", {}, 404),
                                 ("/collections/nothing/tiles", {}, 404)]:
        answer = tiles.client.get(path, params=params)
        assert answer.status_code == status, (path, answer.text)
        assert set(answer.json()) == {"code", "description"}


def test_too_many_features_asks_to_zoom_in(tiles: TileAtlas, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.routers.tiles.MAX_FEATURES", 2)
    answer = tiles.get(f"{BASE.format('parcels')}/{TILE}")
    assert answer.status_code == 400 and "zoom in" in answer.json()["description"]
    atlas = cm.Atlas.open(tiles.path)
    with pytest.raises(QueryError, match="zoom in"):
        vector_tile(atlas, ["parcels"], Z, X, Y, Viewer.anonymous(), max_features=2)
    assert vector_tile(atlas, ["parcels"], Z, X, Y, Viewer.anonymous(), max_features=3)
    with pytest.raises(NotFoundError):
        vector_tile(atlas, ["parcels"], 2, 4, 0, Viewer.anonymous())


def test_tile_matrix_sets(tiles: TileAtlas) -> None:
    listed = tiles.get("/tileMatrixSets").json()
    assert [s["id"] for s in listed["tileMatrixSets"]] == ["WebMercatorQuad"]
    href = next(link["href"] for link in listed["tileMatrixSets"][0]["links"] if link["rel"] == "self")
    definition = tiles.client.get(href).json()
    assert definition["id"] == "WebMercatorQuad" and definition["crs"].endswith("EPSG/0/3857")
    assert [m["id"] for m in definition["tileMatrices"]][:3] == ["0", "1", "2"]
    assert definition["tileMatrices"][Z]["matrixWidth"] == 2**Z
    assert definition["tileMatrices"][0]["cornerOfOrigin"] == "topLeft"


def test_tilesets_and_tileset_metadata(tiles: TileAtlas) -> None:
    listed = tiles.get("/collections/commons/tiles").json()
    assert len(listed["tilesets"]) == 1
    entry = listed["tilesets"][0]
    assert entry["dataType"] == "vector" and entry["tileMatrixSetURI"].endswith("/WebMercatorQuad")
    href = next(link["href"] for link in entry["links"] if link["rel"] == "self")
    tileset = tiles.client.get(href).json()
    assert tileset["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    assert any(link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme" for link in tileset["links"])
    item = next(link for link in tileset["links"] if link["rel"] == "item")
    assert item["type"] == MVT_TYPE and item["templated"] is True
    assert item["href"].endswith("/collections/commons/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    filled = item["href"].format(tileMatrix=Z, tileRow=Y, tileCol=X)
    assert tiles.client.get(filled).status_code == 200
    assert tileset["layers"][0]["id"] == "commons"
    assert {"id", "name", "generalised"} <= set(tileset["layers"][0]["propertiesSchema"]["properties"])
    collection = tiles.get("/collections/commons").json()
    assert any(link["rel"].endswith("tilesets-vector") for link in collection["links"])
    assert not any(link["rel"].endswith("tilesets-vector") for link in tiles.get("/collections/parties").json()
                   ["links"])


def test_conformance_and_api_description(tiles: TileAtlas) -> None:
    conforms = tiles.get("/conformance").json()["conformsTo"]
    for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt"):
        assert CONF + name in conforms
    assert "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset" in conforms
    paths = tiles.get("/api", f="json").json()["paths"]
    operation = paths["/collections/{collection_id}/tiles/{tile_matrix_set_id}/{tile_matrix}/{tile_row}/{tile_col}"]
    assert MVT_TYPE in operation["get"]["responses"]["200"]["content"]
    assert "204" in operation["get"]["responses"]


def _pixel(lon: float, lat: float, z: int, x: int, y: int) -> tuple[float, float]:
    left, bottom, right, top = morecantile.tms.get("WebMercatorQuad").xy_bounds(x, y, z)
    mx, my = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    return (mx - left) / (right - left) * EXTENT, (top - my) / (top - bottom) * EXTENT


def test_a_projected_atlas_is_tiled_in_place(tmp_path: Path) -> None:
    atlas = cm.Atlas.create(tmp_path / "utm.gpkg", crs="EPSG:32632")
    corners = [(11.342, 44.485), (11.344, 44.485), (11.344, 44.487), (11.342, 44.487)]
    to_utm = Transformer.from_crs(4326, 32632, always_xy=True)
    square = shapely.Polygon([to_utm.transform(lon, lat) for lon, lat in corners])
    wide = shapely.box(*to_utm.transform(11.2, 44.4), *to_utm.transform(11.3, 44.45))  # about 8 × 5.5 km
    meadow = shapely.box(*to_utm.transform(11.4, 44.4), *to_utm.transform(11.5, 44.45))
    atlas.add("commons", gpd.GeoDataFrame({"name": ["Giardino", "Bosco", "Prato"],
                                           "kind": ["garden", "forest", "pasture"]},
                                          geometry=[square, wide, meadow], crs="EPSG:32632"))
    decoded = mapbox_vector_tile.decode(vector_tile(atlas, ["commons"], Z, X, Y, Viewer.anonymous()),
                                        default_options={"y_coord_down": True})
    assert [f["properties"]["name"] for f in decoded["commons"]["features"]] == ["Giardino"]
    ring = decoded["commons"]["features"][0]["geometry"]["coordinates"][0]
    for lon, lat in corners:
        px, py = _pixel(lon, lat, Z, X, Y)
        assert min(abs(px - x) + abs(py - y) for x, y in ring) <= 2
    # tile 5/11/17 reaches beyond UTM zone 32's area of use (east of 12°E): read without a box, still in place
    low = mapbox_vector_tile.decode(vector_tile(atlas, ["commons"], 5, 17, 11, Viewer.anonymous()),
                                    default_options={"y_coord_down": True})
    bosco = next(f for f in low["commons"]["features"] if f["properties"]["name"] == "Bosco")
    xs, ys = zip(*bosco["geometry"]["coordinates"][0], strict=True)
    (west, north), (east, south) = _pixel(11.2, 44.45, 5, 17, 11), _pixel(11.3, 44.4, 5, 17, 11)
    assert abs(min(xs) - west) <= 1.5 and abs(max(xs) - east) <= 1.5
    assert abs(min(ys) - north) <= 1.5 and abs(max(ys) - south) <= 1.5
    vector_tile(atlas, ["commons"], 0, 0, 0, Viewer.anonymous())  # the whole world, from a UTM atlas
    assert vector_tile(atlas, ["commons"], Z, X + 3, Y, Viewer.anonymous()) == b""
    assert sorted(f["properties"]["name"] for f in low["commons"]["features"]) == ["Bosco", "Prato"]  # no Giardino:
    with pytest.raises(QueryError, match="zoom in"):  # smaller than a tile unit there, it is not drawn nor counted
        vector_tile(atlas, ["commons"], 5, 17, 11, Viewer.anonymous(), max_features=1)
