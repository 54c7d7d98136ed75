"""Collections (one per layer of the catalogue) and their queryables (Features Part 1 and Part 3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.crs import CrsBridge
from api.deps import AtlasDep, ViewerDep
from api.geojson import dumps
from api.html import render, wants_html
from api.links import GEOJSON, HTML, JSON, link, root, self_links, url
from api.openapi import document
from api.params import COMMON_PARAMS, CRS84, check_known
from commonsmap.atlas.atlas import Atlas
from commonsmap.catalogue import LayerSpec
from commonsmap.features import visible_extent
from commonsmap.privacy import Viewer
from commonsmap.query import queryables_of

SCHEMA_JSON = "application/schema+json"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
)

document("GET", "/collections", params=('f',), types=("application/json", "text/html"))
document("GET", "/collections/{collection_id}", params=('f',), types=("application/json", "text/html"))
document("GET", "/collections/{collection_id}/queryables", params=("f",), types=(SCHEMA_JSON, HTML))

router = APIRouter(tags=["Data"])

_JSON_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"}, "ref": {"type": "string"}, "integer": {"type": "integer"},
    "real": {"type": "number"}, "boolean": {"type": "boolean"}, "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"}, "list": {"type": "array"},
    "enum_list": {"type": "array"}, "json": {"type": "object"}, "enum": {"type": "string"},
}


def _extent(request: Request, atlas: Atlas, layer: str, viewer: Viewer) -> list[float] | None:
    """The visible extent in CRS84, kept until the atlas changes."""
    stamp = atlas.store.change_stamp()
    cache: dict[Any, Any] = request.app.state.extent_cache
    key = (layer, viewer.role, viewer.parties)
    hit = cache.get(key)
    if stamp is None or hit is None or hit[0] != stamp:
        bounds = visible_extent(atlas, layer, viewer)
        hit = (stamp, None if bounds is None else CrsBridge(atlas.crs).bounds_crs84(bounds))
        cache[key] = hit
    extent: list[float] | None = hit[1]
    return extent


def collection_body(request: Request, atlas: Atlas, spec: LayerSpec, viewer: Viewer) -> dict[str, Any]:
    """The description of one collection."""
    path = f"/collections/{spec.name}"
    body: dict[str, Any] = {
        "id": spec.name, "title": spec.title(), "description": spec.description.get("en", spec.title()),
        "itemType": "feature", "crs": [CRS84], "storageCrs": CRS84 if CrsBridge(atlas.crs).identity else
        f"http://www.opengis.net/def/crs/EPSG/0/{atlas.crs.to_epsg()}",
        "links": [
            link(url(request, path, {"f": "json"}), "self", JSON, spec.title()),
            link(url(request, path, {"f": "html"}), "alternate", HTML, spec.title()),
            link(url(request, f"{path}/items", {"f": "geojson"}), "items", GEOJSON, "the features as GeoJSON"),
            link(url(request, f"{path}/items", {"f": "html"}), "items", HTML, "the features as HTML"),
            link(url(request, f"{path}/queryables"), "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                 SCHEMA_JSON, "what the features can be filtered by"),
        ],
    }
    extent = _extent(request, atlas, spec.name, viewer)
    if extent is not None:
        body["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    if spec.name in request.app.state.tiled_layers:
        body["links"].append(link(url(request, f"{path}/tiles"), "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                                  JSON, "vector tiles"))
    return body


@router.get("/collections", summary="The collections (layers) of the atlas", response_model=None)
def collections(request: Request, atlas: AtlasDep, viewer: ViewerDep) -> Response:
    """Every layer of the atlas."""
    check_known(request.query_params, COMMON_PARAMS)
    html = wants_html(request)
    body = {"links": self_links(request, "/collections", html=html),
            "collections": [collection_body(request, atlas, atlas.spec(name), viewer) for name in atlas.layers()]}
    if html:
        return render(request, "collections.html", body=body, title="Collections", root=root(request),
                      links=body["links"])
    return Response(dumps(body), media_type=JSON)


@router.get("/collections/{collection_id}", summary="One collection", response_model=None)
def collection(request: Request, collection_id: str, atlas: AtlasDep, viewer: ViewerDep) -> Response:
    """A layer's description, extent and links."""
    check_known(request.query_params, COMMON_PARAMS)
    body = collection_body(request, atlas, atlas.spec(collection_id), viewer)
    if wants_html(request):
        return render(request, "collection.html", body=body, title=body["title"], root=root(request),
                      links=body["links"])
    return Response(dumps(body), media_type=JSON)


def queryables_schema(request: Request, spec: LayerSpec) -> dict[str, Any]:
    """The queryables of a layer as a JSON Schema."""
    properties: dict[str, Any] = {}
    for name, queryable in queryables_of(spec).items():
        if queryable.type == "geometry":
            kind = (spec.geometry or "Geometry").lower()
            properties[name] = {"title": "Geometry", "format": f"geometry-{'any' if kind == 'geometry' else kind}"}
            continue
        field = spec.field(name)
        schema = {"title": field.title(), **_JSON_TYPES[field.type]}
        if field.vocab is not None and field.type == "enum":
            schema["enum"] = [member.value for member in field.vocab]
        if field.description:
            schema["description"] = field.description
        properties[name] = schema
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": url(request, f"/collections/{spec.name}/queryables"),
            "type": "object", "title": spec.title(), "properties": properties, "additionalProperties": False}


@router.get("/collections/{collection_id}/queryables", summary="What a collection can be filtered by",
            response_model=None)
def queryables(request: Request, collection_id: str, atlas: AtlasDep) -> Response:
    """The properties usable in ``filter`` and as ``property=value`` parameters."""
    check_known(request.query_params, COMMON_PARAMS)
    body = queryables_schema(request, atlas.spec(collection_id))
    if wants_html(request):
        return render(request, "queryables.html", body=body, title=f"Queryables of {body['title']}",
                      root=root(request))
    return Response(dumps(body), media_type=SCHEMA_JSON)
