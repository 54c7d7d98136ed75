"""Vector tiles of the large layers (OGC API – Tiles 1.0, Mapbox Vector Tiles, WebMercatorQuad).

Tiles are built by :func:`commonsmap.tiles.vector_tile`, which reads through the same
sensitivity rule as every other answer: a tile holds only what the request's viewer may see.
Tiles therefore differ by API key: they are sent ``Cache-Control: private`` when a key is
presented and always with ``Vary: Authorization, X-API-Key``.

A tile with no feature the viewer may see is answered ``204 No Content``. A tile holding
more features of the layer than the server draws in one tile is refused with 400, asking the
client to zoom in.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import KEY_HEADER, AtlasDep, SettingsDep, ViewerDep, presented_key
from api.errors import ApiError
from api.geojson import dumps
from api.links import JSON, link, url
from api.openapi import document
from api.params import COMMON_PARAMS, check_known
from commonsmap.catalogue import LayerSpec
from commonsmap.tiles import MVT_TYPE, TILE_MATRIX_SET, tile_matrix_set, tile_matrix_set_summary, vector_tile

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
)
TILED_LAYERS = ("parcels", "commons")
"""Layers served as vector tiles (those of them the atlas has)."""

MAX_FEATURES = 20000
"""The most features of a layer one tile holds; a tile with more is refused (zoom in)."""

TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
TILESET_PATH = "/collections/{collection_id}/tiles/{tile_matrix_set_id}"

document("GET", "/tileMatrixSets", params=("f",), types=(JSON,))
document("GET", "/tileMatrixSets/{tile_matrix_set_id}", params=("f",), types=(JSON,))
document("GET", "/collections/{collection_id}/tiles", params=("f",), types=(JSON,))
document("GET", TILESET_PATH, params=("f",), types=(JSON,))
document("GET", TILESET_PATH + "/{tile_matrix}/{tile_row}/{tile_col}", params=(), types=(MVT_TYPE,))

router = APIRouter(tags=["Tiles"])


def _json_only(request: Request) -> None:
    check_known(request.query_params, COMMON_PARAMS)
    fmt = request.query_params.get("f")
    if fmt is not None and fmt != "json":
        raise ApiError(406, "NotAcceptable", "tile metadata is served as JSON only: use f=json or leave f out")


def _tms_link(request: Request) -> dict[str, Any]:
    return link(url(request, f"/tileMatrixSets/{TILE_MATRIX_SET}"), TILING_SCHEME, JSON,
                f"the {TILE_MATRIX_SET} tile matrix set")


def _check_tms(tile_matrix_set_id: str) -> None:
    if tile_matrix_set_id != TILE_MATRIX_SET:
        raise ApiError(404, "NotFound", f"no tile matrix set {tile_matrix_set_id!r}; tiles are served in "
                                        f"{TILE_MATRIX_SET} only")


def _check_tiled(request: Request, atlas: AtlasDep, collection_id: str) -> None:
    atlas.spec(collection_id)  # an unknown collection is answered 404 like everywhere else
    tiled = request.app.state.tiled_layers
    if collection_id not in tiled:
        raise ApiError(404, "NotFound", f"collection {collection_id!r} is not served as tiles; tiled collections: "
                                        f"{', '.join(tiled) or 'none'}")


def _answer(body: dict[str, Any]) -> Response:
    return Response(dumps(body), media_type=JSON)


@router.get("/tileMatrixSets", summary="The tile matrix sets tiles are served in", response_model=None)
def tile_matrix_sets(request: Request) -> Response:
    """The tiling schemes of this server (WebMercatorQuad)."""
    _json_only(request)
    summary = tile_matrix_set_summary()
    own = url(request, f"/tileMatrixSets/{TILE_MATRIX_SET}")
    return _answer({"links": [link(url(request, "/tileMatrixSets"), "self", JSON, "tile matrix sets")],
                    "tileMatrixSets": [{"id": summary["id"], "title": summary["title"], "uri": summary["uri"],
                                        "crs": summary["crs"], "links": [link(own, "self", JSON, summary["title"])]}]})


@router.get("/tileMatrixSets/{tile_matrix_set_id}", summary="One tile matrix set", response_model=None)
def one_tile_matrix_set(request: Request, tile_matrix_set_id: str) -> Response:
    """The definition of a tile matrix set (OGC Two Dimensional Tile Matrix Set 2.0, JSON)."""
    _json_only(request)
    _check_tms(tile_matrix_set_id)
    return _answer(tile_matrix_set())


def _properties_schema(spec: LayerSpec) -> dict[str, Any]:
    kinds = {"integer": "integer", "real": "number", "boolean": "boolean"}
    properties: dict[str, Any] = {"id": {"type": "string", "title": "Id"}}
    for name in spec.popup:
        if name != "id":
            field = spec.field(name)
            properties[name] = {"type": kinds.get(field.type, "string"), "title": field.title()}
    properties["generalised"] = {"type": "boolean", "title": "Shown generalised"}
    return properties


def _tileset_entry(request: Request, collection_id: str, title: str) -> dict[str, Any]:
    summary = tile_matrix_set_summary()
    path = f"/collections/{collection_id}/tiles/{TILE_MATRIX_SET}"
    return {"title": f"{title} ({TILE_MATRIX_SET})", "dataType": "vector", "crs": summary["crs"],
            "tileMatrixSetURI": summary["uri"],
            "links": [link(url(request, path), "self", JSON, f"{title}: tileset"), _tms_link(request)]}


@router.get("/collections/{collection_id}/tiles", summary="The tilesets of a collection", response_model=None)
def tilesets(request: Request, collection_id: str, atlas: AtlasDep) -> Response:
    """The vector tilesets a collection is served as."""
    _json_only(request)
    _check_tiled(request, atlas, collection_id)
    title = atlas.spec(collection_id).title()
    path = f"/collections/{collection_id}/tiles"
    return _answer({"links": [link(url(request, path), "self", JSON, f"{title}: tilesets"),
                              link(url(request, f"/collections/{collection_id}"), "collection", JSON, title)],
                    "tilesets": [_tileset_entry(request, collection_id, title)]})


@router.get(TILESET_PATH, summary="A tileset of a collection", response_model=None)
def tileset(request: Request, collection_id: str, tile_matrix_set_id: str, atlas: AtlasDep) -> Response:
    """A tileset's metadata, with the URL template of its tiles."""
    _json_only(request)
    _check_tiled(request, atlas, collection_id)
    _check_tms(tile_matrix_set_id)
    spec = atlas.spec(collection_id)
    body = _tileset_entry(request, collection_id, spec.title())
    body["description"] = (f"{spec.description.get('en', spec.title())} Features carry their id and "
                           f"{', '.join(p for p in spec.popup if p != 'id')}; generalised ones also "
                           f"'generalised: true'.")
    template = url(request, f"/collections/{collection_id}/tiles/{TILE_MATRIX_SET}") + \
        "/{tileMatrix}/{tileRow}/{tileCol}"
    body["links"] += [{**link(template, "item", MVT_TYPE, f"{spec.title()}: tiles as Mapbox Vector Tiles"),
                       "templated": True},
                      link(url(request, f"/collections/{collection_id}"), "collection", JSON, spec.title())]
    body["layers"] = [{"id": collection_id, "title": spec.title(), "dataType": "vector",
                       "geometryDimension": {"Point": 0, "MultiPoint": 0, "LineString": 1, "MultiLineString": 1,
                                             "MultiPolygon": 2}.get(spec.geometry or ""),
                       "propertiesSchema": {"type": "object", "properties": _properties_schema(spec)}}]
    if body["layers"][0]["geometryDimension"] is None:
        del body["layers"][0]["geometryDimension"]
    return _answer(body)


@router.get(TILESET_PATH + "/{tile_matrix}/{tile_row}/{tile_col}", summary="A vector tile",
            response_model=None, responses={200: {"description": "The tile (Mapbox Vector Tile)"},
                                            204: {"description": "No feature you may see in this tile"}})
def tile(request: Request, collection_id: str, tile_matrix_set_id: str, tile_matrix: int, tile_row: int,
         tile_col: int, atlas: AtlasDep, viewer: ViewerDep, settings: SettingsDep) -> Response:
    """One tile as the request's viewer may see it; 204 when it holds nothing to show."""
    check_known(request.query_params, frozenset())
    _check_tiled(request, atlas, collection_id)
    _check_tms(tile_matrix_set_id)
    body = vector_tile(atlas, [collection_id], tile_matrix, tile_col, tile_row, viewer, max_features=MAX_FEATURES,
                       timeout=settings.query_timeout)
    headers = {"Vary": f"Authorization, {KEY_HEADER}",
               "Cache-Control": "private, max-age=60" if presented_key(request) else "public, max-age=60"}
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=MVT_TYPE, headers=headers)
