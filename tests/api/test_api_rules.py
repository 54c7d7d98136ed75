"""The API's rules: who sees what in every answer, who may write, concurrency, limits, bad input.

Everything runs through the real app (``TestClient`` drives its ASGI interface) on a real
atlas file; after each refused write the file is byte-identical.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import commonsmap as cm
from api.app import create_app
from api.settings import Settings
from tests.api.conftest import MARK, ApiAtlas

ROLES = ("anonymous", "signed_in", "member", "custodian", "other", "admin")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _client(api_atlas: ApiAtlas, **settings: object) -> TestClient:
    return TestClient(create_app(api_atlas.path, Settings(**settings)))  # type: ignore[arg-type]


def _headers(api_atlas: ApiAtlas, who: str) -> dict[str, str]:
    return {} if who == "anonymous" else api_atlas.headers(who)


def _feature(bbox_centre: tuple[float, float], **properties: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(bbox_centre)},
            "properties": properties}


@pytest.mark.parametrize("who", ROLES)
def test_no_answer_shows_what_the_viewer_may_not_see(api_atlas: ApiAtlas, who: str) -> None:
    client = _client(api_atlas)
    headers = _headers(api_atlas, who)
    ids = api_atlas.ids
    sees = {"anonymous": 0, "signed_in": 0, "member": 2, "custodian": 3, "other": 0, "admin": 3}[who]
    answers = [client.get(path, headers=headers) for path in (
        "/collections/commons/items?limit=1000", "/collections/commons/items?limit=1000&f=html",
        "/collections/commons/items?bbox=102,10,108,15&limit=1000", "/collections/commons",
        f"/collections/commons/items?filter=name LIKE '%{MARK}%'",
        "/collections/commons/items?filter=" + json.dumps({"op": "like", "args": [{"property": "name"},
                                                                                  f"%{MARK}%"]})
        + "&filter-lang=cql2-json", "/collections", "/collections/commons/items?limit=1&offset=39")]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    body = answers[0].json()
    assert answers[0].text.count(MARK) == sees
    table, _, embedded = answers[1].text.partition('<iframe class="map"')
    embedded, _, rest = embedded.partition("</iframe>")
    assert (table + rest).count(MARK) == sees  # the HTML page too
    assert (MARK in embedded) == (sees > 0)  # and the map it embeds
    generalised = 1 if who in ("anonymous", "signed_in", "other") else 0
    assert body["numberMatched"] == 37 + sees + generalised == len(body["features"])
    assert answers[4].json()["numberMatched"] == sees
    assert answers[5].json()["numberMatched"] == sees
    for hidden in ("hidden_community", "hidden_secret", "generalised_site"):
        visible = (who == "admin" or (who == "custodian") or (who == "member" and hidden != "hidden_secret"))
        item = client.get(f"/collections/commons/items/{ids[hidden]}", headers=headers)
        assert item.status_code == (200 if visible else 404)
        if not visible:  # "not found", exactly as for a feature that does not exist
            missing = client.get("/collections/commons/items/no-such-id", headers=headers)
            assert item.json()["description"].replace(ids[hidden], "X") == \
                missing.json()["description"].replace("no-such-id", "X")
            assert MARK not in item.text


def test_keys_are_stored_hashed_and_a_bad_key_is_refused(api_atlas: ApiAtlas) -> None:
    raw = api_atlas.path.read_bytes()
    for key in api_atlas.keys.values():
        assert key.split("_", 2)[2].encode() not in raw
    client = _client(api_atlas)
    wrong = api_atlas.keys["admin"][:-2] + "xx"
    for headers in ({"Authorization": f"Bearer {wrong}"}, {"X-API-Key": "cm_nope_nope"}, {"Authorization": "Basic x"}):
        answer = client.get("/collections", headers=headers)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["code"] == "Unauthorized"
    assert client.get("/collections", headers={"X-API-Key": api_atlas.keys["admin"]}).status_code == 200


def test_revoked_keys_stop_working(api_atlas: ApiAtlas) -> None:
    from commonsmap.keys import list_keys, revoke_key

    atlas = cm.open_atlas(api_atlas.path)
    member = next(k for k in list_keys(atlas) if k.role == "member")
    client = _client(api_atlas)
    assert client.get("/collections", headers=api_atlas.headers("member")).status_code == 200
    revoke_key(atlas, member.key_id)
    assert client.get("/collections", headers=api_atlas.headers("member")).status_code == 401


def test_writes_follow_the_roles_and_refusals_change_nothing(api_atlas: ApiAtlas) -> None:
    client = _client(api_atlas)
    community = api_atlas.ids["community"]
    observation = _feature((104.9, 12.6), kind="other", observed_at="2026-05-01T08:00:00Z", notes="new fence")
    before = _digest(api_atlas.path)
    assert client.post("/collections/observations/items", json=observation).status_code == 401
    answer = client.post("/collections/observations/items", json=observation, headers=api_atlas.headers("signed_in"))
    assert answer.status_code == 403
    answer = client.post("/collections/observations/items", json={**observation, "properties": {
        **observation["properties"], "custodian": api_atlas.ids["association"]}},  # type: ignore[dict-item]
        headers=api_atlas.headers("member"))
    assert answer.status_code == 403 and "your parties" in answer.json()["description"]
    assert client.post("/collections/parcels/items", json=observation,
                       headers=api_atlas.headers("admin")).status_code == 405
    assert _digest(api_atlas.path) == before
    created = client.post("/collections/observations/items", json=observation, headers=api_atlas.headers("member"))
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    feature_id = created.json()["id"]
    assert location.endswith(f"/collections/observations/items/{feature_id}")
    assert created.json()["properties"]["custodian"] == community
    atlas = cm.open_atlas(api_atlas.path)
    assert atlas.history("observations", feature_id)["who"].tolist() == ["community member"]
    # a member adds, but does not change or delete
    assert client.patch(f"/collections/observations/items/{feature_id}", json={"properties": {"notes": "x"}},
                        headers=api_atlas.headers("member")).status_code == 403
    # the custodian of another party does not even see it
    assert client.delete(f"/collections/observations/items/{feature_id}",
                         headers=api_atlas.headers("other")).status_code in (403, 404)
    assert client.delete(f"/collections/observations/items/{feature_id}",
                         headers=api_atlas.headers("custodian")).status_code == 204
    assert client.get(location).status_code == 404


def test_a_stale_write_gets_412_and_loses_nothing(api_atlas: ApiAtlas) -> None:
    client = _client(api_atlas)
    path = f"/collections/observations/items/{api_atlas.ids['observation']}"
    first = client.get(path, headers=api_atlas.headers("custodian"))
    etag = first.headers["etag"]
    changed = client.patch(path, json={"properties": {"notes": "first edit"}},
                           headers={**api_atlas.headers("custodian"), "If-Match": etag,
                                    "Content-Type": "application/merge-patch+json"})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    before = _digest(api_atlas.path)
    stale = client.put(path, json={"type": "Feature", "geometry": first.json()["geometry"],
                                   "properties": {**first.json()["properties"], "notes": "second edit"}},
                       headers={**api_atlas.headers("custodian"), "If-Match": etag})
    assert stale.status_code == 412 and stale.json()["code"] == "PreconditionFailed"
    assert _digest(api_atlas.path) == before
    assert client.get(path, headers=api_atlas.headers("custodian")).json()["properties"]["notes"] == "first edit"
    fresh = client.put(path, json={"type": "Feature", "geometry": first.json()["geometry"],
                                   "properties": {**first.json()["properties"], "notes": "second edit"}},
                       headers={**api_atlas.headers("custodian"), "If-Match": changed.headers["etag"]})
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["properties"]["notes"] == "second edit"
    assert client.delete(path, headers={**api_atlas.headers("custodian"), "If-Match": etag}).status_code == 412


@pytest.mark.parametrize(("body", "content_type", "status", "message"), [
    (b"{not json", "application/json", 400, "not JSON"),
    (b'{"type": "FeatureCollection", "features": []}', "application/json", 400, "one GeoJSON Feature"),
    (b'{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]}, '
     b'"properties": {"name": "bow tie", "status": "asserted"}}', "application/geo+json", 400, ""),
    (b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, '
     b'"properties": {"kind": "other", "observed_at": "2026-01-01T00:00:00Z", "colour": "red"}}',
     "application/geo+json", 400, "colour"),
    (b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1]}, "properties": {}}',
     "application/geo+json", 400, "geometry"),
    (b'{"type": "Feature", "geometry": null, "properties": {}}', "text/plain", 415, "send the feature"),
])
def test_bad_bodies_are_refused_clearly_and_change_nothing(api_atlas: ApiAtlas, body: bytes, content_type: str,
                                                           status: int, message: str) -> None:
    client = _client(api_atlas)
    before = _digest(api_atlas.path)
    layer = "claims" if b"bow tie" in body else "observations"
    answer = client.post(f"/collections/{layer}/items", content=body,
                         headers={**api_atlas.headers("admin"), "Content-Type": content_type})
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"code", "description"} and message in answer.json()["description"]
    assert _digest(api_atlas.path) == before


def test_limits_answer_4xx(api_atlas: ApiAtlas) -> None:
    client = _client(api_atlas, max_body_bytes=2000, max_limit=50)
    big = _feature((104.9, 12.6), kind="other", observed_at="2026-05-01T08:00:00Z", notes="x" * 5000)
    answer = client.post("/collections/observations/items", json=big, headers=api_atlas.headers("admin"))
    assert answer.status_code == 413 and answer.json()["code"] == "PayloadTooLarge"
    answer = client.get("/collections/parcels/items?limit=51")
    assert answer.status_code == 400 and "between 1 and 50" in answer.json()["description"]
    for query in ("limit=abc", "offset=-1", "bbox=1,2,3", "bbox=1,2,a,4", "bbox=0,10,10,0", "datetime=yesterday",
                  "filter=name ===", "filter-lang=sql&filter=1=1", "bbox-crs=EPSG:3857&bbox=0,0,1,1", "unknown=1",
                  "f=xml", "filter=nosuchfield = 1"):
        answer = client.get(f"/collections/commons/items?{query}")
        assert answer.status_code == 400, (query, answer.text)
        assert answer.json()["code"] == "InvalidParameterValue" and answer.json()["description"]


def test_injection_attempts_are_harmless(api_atlas: ApiAtlas) -> None:
    client = _client(api_atlas)
    before = _digest(api_atlas.path)
    for query in ("name=x' OR '1'='1", "filter=name = 'x'' OR 1=1 --'", 'filter="name; DROP TABLE commons" = 1',
                  "kind=forest'; DELETE FROM commons; --", "filter=S_INTERSECTS(geometry, POINT(1 2)) OR 1=1"):
        answer = client.get(f"/collections/commons/items?{query}&limit=1000")
        assert answer.status_code in (200, 400), answer.text
        if answer.status_code == 200:
            assert answer.json()["numberMatched"] == 0
    assert _digest(api_atlas.path) == before
    assert client.get("/collections/commons/items?limit=1000").json()["numberMatched"] == 38


def test_conformance_lists_the_mounted_routers_classes(api_atlas: ApiAtlas) -> None:
    classes = _client(api_atlas).get("/conformance").json()["conformsTo"]
    for expected in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                     "ogcapi-features-3/1.0/conf/filter", "ogcapi-features-4/1.0/conf/create-replace-delete",
                     "cql2/1.0/conf/cql2-text"):
        assert any(c.endswith(expected) for c in classes), expected
    assert len(classes) == len(set(classes))


def test_the_api_description_is_openapi_30_with_form_limit(api_atlas: ApiAtlas) -> None:
    answer = _client(api_atlas).get("/api")
    assert answer.headers["content-type"].startswith("application/vnd.oai.openapi+json;version=3.0")
    spec = answer.json()
    assert spec["openapi"].startswith("3.0.")
    items = spec["paths"]["/collections/{collection_id}/items"]["get"]
    limit = next(p for p in items["parameters"] if p["name"] == "limit")
    assert limit["style"] == "form" and limit["explode"] is False and limit["schema"]["maximum"] == 10_000
    assert "422" not in json.dumps(spec["paths"])
    assert "anyOf" not in json.dumps(spec) or '"type": "null"' not in json.dumps(spec)
