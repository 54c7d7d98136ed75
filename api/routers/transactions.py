"""Create, replace, update and delete features (Features Part 4), with keys and If-Match.

Every write goes through the library: the catalogue's validation, the permission rules of
:mod:`commonsmap.permissions`, the atlas's transactions and history (who wrote is the key's
holder). A write based on a stale version (``If-Match`` not the feature's ETag) is refused
with 412 and changes nothing.
"""

from __future__ import annotations

from typing import Any

import orjson
import shapely
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.crs import CrsBridge
from api.deps import AtlasDep, SettingsDep, WriterDep
from api.errors import ApiError
from api.geojson import GEOJSON, dumps, feature_object
from api.links import url
from api.openapi import document
from api.params import check_known
from api.routers.items import etag
from api.settings import Settings
from commonsmap.atlas.atlas import Atlas
from commonsmap.catalogue import SYSTEM_FIELDS, LayerSpec
from commonsmap.features import feature
from commonsmap.permissions import check_write
from commonsmap.privacy import Viewer

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
)
MANAGED = frozenset({"id", "created", "updated", "version"})
"""System fields the atlas sets itself; a body may repeat them but never change them."""
SETTABLE_SYSTEM = frozenset(f.name for f in SYSTEM_FIELDS) - MANAGED
BODY_TYPES = ("application/geo+json", "application/json", "application/merge-patch+json")

document("POST", "/collections/{collection_id}/items", params=(), types=("application/geo+json",))
document("PUT", "/collections/{collection_id}/items/{feature_id}", params=(), types=("application/geo+json",))
document("PATCH", "/collections/{collection_id}/items/{feature_id}", params=(), types=("application/geo+json",))
document("DELETE", "/collections/{collection_id}/items/{feature_id}", params=(), types=())

router = APIRouter(tags=["Transactions"])


def _layer(atlas: Atlas, settings: Settings, collection_id: str) -> LayerSpec:
    spec = atlas.spec(collection_id)
    if collection_id not in settings.writable_layers:
        raise ApiError(405, "MethodNotAllowed", f"{collection_id} cannot be edited over the API; editable "
                                                f"collections: {', '.join(settings.writable_layers)}")
    return spec


async def _body(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind not in BODY_TYPES:
        raise ApiError(415, "UnsupportedMediaType", f"send the feature as {' or '.join(BODY_TYPES)}")
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "InvalidValue", f"the body is not JSON: {error}") from None
    if not isinstance(body, dict) or body.get("type", "Feature") != "Feature":
        raise ApiError(400, "InvalidValue", "the body must be one GeoJSON Feature")
    if not isinstance(body.get("properties", {}) or {}, dict):
        raise ApiError(400, "InvalidValue", "the feature's properties must be an object")
    return body


def _geometry(body: dict[str, Any], spec: LayerSpec, bridge: CrsBridge) -> Any:
    raw = body.get("geometry")
    if raw is None:
        return None
    if not spec.is_spatial:
        raise ApiError(400, "InvalidValue", f"{spec.name} has no geometry; send \"geometry\": null")
    try:
        geometry = shapely.from_geojson(orjson.dumps(raw))
    except (shapely.errors.GEOSException, ValueError, TypeError) as error:
        raise ApiError(400, "InvalidValue", f"the geometry is not valid GeoJSON: {error}") from None
    return bridge.to_storage([geometry])[0]


def _properties(body: dict[str, Any]) -> dict[str, Any]:
    return dict(body.get("properties") or {})


def _expected_version(request: Request) -> int | None:
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ApiError(412, "PreconditionFailed", f"If-Match {raw!r} is not an ETag of this server")
    return int(text)


def _answer(request: Request, atlas: Atlas, collection_id: str, feature_id: str, viewer: Viewer,
            status: int) -> Response:
    record, geometry, _ = feature(atlas, collection_id, feature_id, viewer)
    bridge: CrsBridge = request.app.state.crs_bridge
    geometry = bridge.to_crs84([geometry])[0] if geometry is not None else None
    location = url(request, f"/collections/{collection_id}/items/{feature_id}")
    return Response(dumps(feature_object(record, geometry, False)), status_code=status, media_type=GEOJSON,
                    headers={"ETag": etag(record.get("version")), "Location": location})


def _current(atlas: Atlas, collection_id: str, feature_id: str, viewer: Viewer) -> dict[str, Any]:
    """The stored feature, if the viewer sees it whole (else 404, as if it did not exist)."""
    _, _, generalised = feature(atlas, collection_id, feature_id, viewer)
    if generalised:
        raise ApiError(404, "NotFound", f"no feature {feature_id!r} in layer {collection_id!r}")
    return atlas.get(collection_id, feature_id)


@router.post("/collections/{collection_id}/items", summary="Add a feature", status_code=201,
             response_model=None)
async def create(request: Request, collection_id: str, atlas: AtlasDep, viewer: WriterDep,
                 settings: SettingsDep) -> Response:
    """Add one GeoJSON Feature; answers 201 with its Location and ETag."""
    check_known(request.query_params, set())
    spec = _layer(atlas, settings, collection_id)
    body = await _body(request)
    record = _properties(body)
    if body.get("id") is not None:
        record["id"] = str(body["id"])
    if viewer.parties and not record.get("custodian"):
        record["custodian"] = sorted(viewer.parties)[0]
    check_write(viewer, spec, before=None, after=record)
    geometry = _geometry(body, spec, request.app.state.crs_bridge)
    if spec.is_spatial:
        record["geometry"] = geometry
    # an invalid geometry is refused, not repaired: the client must know what was stored
    result = atlas.add(collection_id, [record], who=viewer.name, note="added over the API", on_invalid="reject")
    return _answer(request, atlas, collection_id, result.ids[0], viewer, 201)


def _changes(body: dict[str, Any], spec: LayerSpec, request: Request, *, replace: bool) -> dict[str, Any]:
    properties = _properties(body)
    for name in MANAGED & set(properties):
        properties.pop(name)
    if replace:
        changes: dict[str, Any] = {f.name: properties.pop(f.name, None) for f in spec.fields
                                   if f.name not in spec.workflow_fields}
        changes.update({k: properties.pop(k) for k in list(properties) if k in SETTABLE_SYSTEM})
        changes.update(properties)  # unknown names: the library refuses them, naming them
        if spec.is_spatial:
            changes["geometry"] = _geometry(body, spec, request.app.state.crs_bridge)
        return changes
    if "geometry" in body and spec.is_spatial:
        properties["geometry"] = _geometry(body, spec, request.app.state.crs_bridge)
    return properties


async def _change(request: Request, collection_id: str, feature_id: str, atlas: Atlas, viewer: Viewer,
                  settings: Settings, *, replace: bool) -> Response:
    check_known(request.query_params, set())
    spec = _layer(atlas, settings, collection_id)
    body = await _body(request)
    expected = _expected_version(request)
    current = _current(atlas, collection_id, feature_id, viewer)
    changes = _changes(body, spec, request, replace=replace)
    if replace:  # a workflow field may be repeated as it is, never changed here
        for name in spec.workflow_fields:
            if name in (body.get("properties") or {}) and body["properties"][name] != current.get(name):
                changes[name] = body["properties"][name]
    check_write(viewer, spec, before=current, after={**current, **changes})
    # without If-Match, the version just read: a change made meanwhile is never overwritten unseen
    atlas.update(collection_id, feature_id, changes, who=viewer.name,
                 note="replaced over the API" if replace else "updated over the API",
                 expected_version=current["version"] if expected is None else expected, on_invalid="reject")
    return _answer(request, atlas, collection_id, feature_id, viewer, 200)


@router.put("/collections/{collection_id}/items/{feature_id}", summary="Replace a feature", response_model=None)
async def replace_feature(request: Request, collection_id: str, feature_id: str, atlas: AtlasDep,
                          viewer: WriterDep, settings: SettingsDep) -> Response:
    """Replace a feature's attributes and geometry (send If-Match with its ETag)."""
    return await _change(request, collection_id, feature_id, atlas, viewer, settings, replace=True)


@router.patch("/collections/{collection_id}/items/{feature_id}", summary="Update a feature", response_model=None)
async def update_feature(request: Request, collection_id: str, feature_id: str, atlas: AtlasDep,
                         viewer: WriterDep, settings: SettingsDep) -> Response:
    """Change some attributes (a JSON merge patch of a Feature; null clears); send If-Match with the ETag."""
    return await _change(request, collection_id, feature_id, atlas, viewer, settings, replace=False)


@router.delete("/collections/{collection_id}/items/{feature_id}", summary="Delete a feature", status_code=204,
               response_model=None)
def delete_feature(request: Request, collection_id: str, feature_id: str, atlas: AtlasDep, viewer: WriterDep,
                   settings: SettingsDep) -> Response:
    """Delete a feature (its history is kept); send If-Match with its ETag."""
    check_known(request.query_params, set())
    spec = _layer(atlas, settings, collection_id)
    expected = _expected_version(request)
    current = _current(atlas, collection_id, feature_id, viewer)
    check_write(viewer, spec, before=current, after=None)
    atlas.delete(collection_id, feature_id, who=viewer.name, note="deleted over the API",
                 expected_version=current["version"] if expected is None else expected)
    return Response(status_code=204)
