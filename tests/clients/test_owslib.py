"""OWSLib's OGC API – Features client against the live server: reading, filtering, and writing with a key.

OWSLib 0.35 keeps the headers of every client in one module-level dict
(``owslib.ogcapi.REQUEST_HEADERS``, updated in place by each constructor): a key given to one
client would travel with every client made after it. Each client here gets a fresh dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import owslib.ogcapi
import pytest
import shapely
from owslib.ogcapi.features import Features

import commonsmap as cm
from commonsmap.errors import NotFoundError
from commonsmap.privacy import Viewer
from tests.api.conftest import MARK, ApiAtlas, LiveServer, api_atlas, api_atlas_template, live_server  # noqa: F401

BASE_HEADERS = dict(owslib.ogcapi.REQUEST_HEADERS)
ADMIN_NAME = "municipal GIS office"
Client = Callable[..., Features]


@pytest.fixture
def client(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Client:  # noqa: F811
    """Make an OWSLib client of the live server, anonymous or with headers, with headers of its own."""

    def make(headers: dict[str, str] | None = None) -> Features:
        monkeypatch.setattr(owslib.ogcapi, "REQUEST_HEADERS", dict(BASE_HEADERS))
        return Features(live_server.url, headers=headers, timeout=60)

    return make


def observation(notes: str, x: float = 104.9, y: float = 12.5) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {"kind": "wildlife", "observed_at": "2025-04-02T08:30:00Z", "notes": notes,
                           "sensitivity": "public"}}


def test_conformance_and_collections(client: Client, api_atlas: ApiAtlas) -> None:  # noqa: F811
    features = client()
    conforms = features.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in conforms
    ids = [c["id"] for c in features.collections()["collections"]]
    assert sorted(ids) == sorted(cm.open_atlas(api_atlas.path).layers())
    assert {"commons", "parcels", "observations"} <= set(features.feature_collections())
    commons = features.collection("commons")
    assert commons["id"] == "commons" and commons["title"] == "Commons"
    minx, miny, maxx, maxy = commons["extent"]["spatial"]["bbox"][0]
    assert 102 < minx < maxx < 108 and 10 < miny < maxy < 15  # Cambodia
    assert features.api()["openapi"].startswith("3.0")


def test_collection_items_with_limit_and_bbox(client: Client, api_atlas: ApiAtlas) -> None:  # noqa: F811
    features = client()
    page = features.collection_items("commons", limit=5)
    assert page["type"] == "FeatureCollection"
    assert len(page["features"]) == page["numberReturned"] == 5
    atlas = cm.open_atlas(api_atlas.path)
    assert page["numberMatched"] == atlas.count("commons", viewer=Viewer.anonymous())
    parcels = atlas["parcels"]
    centre = parcels.geometry.iloc[200].representative_point()
    box = [centre.x - 0.002, centre.y - 0.0015, centre.x + 0.002, centre.y + 0.0015]
    found = features.collection_items("parcels", bbox=box, limit=1000)
    expected = set(parcels["id"][parcels.geometry.intersects(shapely.box(*box))])
    assert 1 < len(expected) < 407
    assert {f["id"] for f in found["features"]} == expected
    assert found["numberMatched"] == len(expected)
    everything = features.collection_items("commons", limit=1000)
    assert MARK not in str(everything)
    assert api_atlas.ids["hidden_secret"] not in str(everything)


def test_collection_item(client: Client, api_atlas: ApiAtlas) -> None:  # noqa: F811
    features = client()
    first = features.collection_items("parcels", limit=1)["features"][0]
    item = features.collection_item("parcels", first["id"])
    stored = cm.open_atlas(api_atlas.path).get("parcels", first["id"])
    assert item["id"] == first["id"]
    assert item["properties"]["cadastral_ref"] == stored["cadastral_ref"]
    assert shapely.geometry.shape(item["geometry"]).equals_exact(stored["geometry"], 1e-9)
    assert {link["rel"] for link in item["links"]} >= {"self", "alternate", "collection"}
    with pytest.raises(RuntimeError, match="NotFound"):
        features.collection_item("commons", api_atlas.ids["hidden_secret"])


def test_collection_queryables(client: Client) -> None:
    queryables = client().collection_queryables("commons")
    properties = queryables["properties"]
    assert {"name", "kind", "sensitivity", "geometry"} <= set(properties)
    assert "forest" in properties["kind"]["enum"]
    assert properties["geometry"]["format"].startswith("geometry-")


def test_cql2_filter_through_the_kwargs(client: Client, api_atlas: ApiAtlas) -> None:  # noqa: F811
    features = client()
    # OWSLib passes any other keyword as a query parameter: filter and filter-lang go as they are
    found = features.collection_items("parcels", limit=1000, filter="cadastral_ref LIKE '730106/1%'",
                                      **{"filter-lang": "cql2-text"})
    parcels = cm.open_atlas(api_atlas.path)["parcels"]
    expected = set(parcels["id"][parcels["cadastral_ref"].str.startswith("730106/1")])
    assert 0 < len(expected) < 407
    assert {f["id"] for f in found["features"]} == expected
    assert found["numberMatched"] == len(expected)
    spatial = features.collection_items("commons", limit=1000, filter="S_INTERSECTS(geometry, "
                                        "POLYGON((104 11, 106 11, 106 13, 104 13, 104 11)))",
                                        **{"filter-lang": "cql2-text"})
    assert spatial["features"] and MARK not in str(spatial)
    with pytest.raises(RuntimeError, match="InvalidParameterValue"):
        features.collection_items("parcels", filter="no_such_field = 1", **{"filter-lang": "cql2-text"})


def history_of(api_atlas: ApiAtlas, feature_id: str) -> list[tuple[str, str]]:  # noqa: F811
    entries = cm.open_atlas(api_atlas.path).history("observations", feature_id)
    return list(zip(entries["op"], entries["who"], strict=True))


def test_create_update_delete_with_the_admin_key(client: Client, api_atlas: ApiAtlas) -> None:  # noqa: F811
    admin = client(headers=api_atlas.headers("admin"))
    assert admin.collection_item_create("observations", observation("a hornbill on the ridge")) is True
    location = admin.response_headers["Location"]
    feature_id = urlsplit(location).path.rsplit("/", 1)[1]
    stored = cm.open_atlas(api_atlas.path).get("observations", feature_id)
    assert stored["notes"] == "a hornbill on the ridge" and stored["kind"] == "wildlife"
    assert stored["geometry"].equals(shapely.Point(104.9, 12.5))
    assert history_of(api_atlas, feature_id) == [("insert", ADMIN_NAME)]
    assert admin.collection_item("observations", feature_id)["properties"]["notes"] == "a hornbill on the ridge"

    admin = client(headers=api_atlas.headers("admin"))
    changed = observation("two hornbills on the ridge", 104.95, 12.45)
    assert admin.collection_item_update("observations", feature_id, changed) is True
    stored = cm.open_atlas(api_atlas.path).get("observations", feature_id)
    assert stored["notes"] == "two hornbills on the ridge" and stored["version"] == 2
    assert stored["geometry"].equals(shapely.Point(104.95, 12.45))
    assert history_of(api_atlas, feature_id)[-1] == ("update", ADMIN_NAME)

    admin = client(headers=api_atlas.headers("admin"))
    assert admin.collection_item_delete("observations", feature_id) is True
    with pytest.raises(NotFoundError):
        cm.open_atlas(api_atlas.path).get("observations", feature_id)
    assert history_of(api_atlas, feature_id)[-1] == ("delete", ADMIN_NAME)
    with pytest.raises(RuntimeError, match="NotFound"):
        admin.collection_item("observations", feature_id)


def test_writes_without_a_valid_key_fail(client: Client, api_atlas: ApiAtlas) -> None:  # noqa: F811
    before = cm.open_atlas(api_atlas.path).history()
    target = api_atlas.ids["observation"]
    for headers in (None, {"Authorization": "Bearer not-a-key"}, {"X-API-Key": "not-a-key"}):
        features = client(headers=headers)
        with pytest.raises(RuntimeError, match="Unauthorized"):
            features.collection_item_create("observations", observation("should not be written"))
        with pytest.raises(RuntimeError, match="Unauthorized"):
            features.collection_item_update("observations", target, observation("should not be written"))
        with pytest.raises(RuntimeError, match="Unauthorized"):
            features.collection_item_delete("observations", target)
    signed_in = client(headers=api_atlas.headers("signed_in"))
    with pytest.raises(RuntimeError, match="Forbidden"):
        signed_in.collection_item_create("observations", observation("should not be written"))
    after = cm.open_atlas(api_atlas.path)
    assert len(after.history()) == len(before)
    assert after.get("observations", target)["notes"] == "field visit"
