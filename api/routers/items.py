"""Features of a collection, a page at a time, and one feature (Features Part 1, Part 3 filters)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.crs import CrsBridge
from api.deps import AtlasDep, SettingsDep, ViewerDep
from api.geojson import GEOJSON, dumps, feature_collection, feature_object
from api.html import render, wants_html
from api.links import HTML, JSON, link, root, self_links, url
from api.map_pages import embedded_map
from api.openapi import document
from api.params import ITEM_PARAMS, ItemsRequest, check_crs, check_known, parse_items
from commonsmap.atlas.atlas import Atlas
from commonsmap.features import feature, feature_page
from commonsmap.privacy import Viewer

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
)

document("GET", "/collections/{collection_id}/items", types=(GEOJSON, HTML),
         params=("limit", "offset", "bbox", "bbox-crs", "datetime", "filter", "filter-lang", "filter-crs", "f", "crs",
                 "properties"))
document("GET", "/collections/{collection_id}/items/{feature_id}", params=("f", "crs"), types=(GEOJSON, HTML))

router = APIRouter(tags=["Data"])


def etag(version: Any) -> str:
    """The entity tag of a feature at a version."""
    return f'"{int(version or 0)}"'


def _time_stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@router.get("/collections/{collection_id}/items", summary="Features of a collection", response_model=None)
async def items(request: Request, collection_id: str, atlas: AtlasDep, viewer: ViewerDep,
                settings: SettingsDep) -> Response:
    """A page of features: ``limit``, ``offset``, ``bbox``, ``datetime``, ``property=value``, ``filter``."""
    spec = atlas.spec(collection_id)
    parsed = parse_items(dict(request.query_params), spec, settings)
    if parsed.query.bbox is not None and not parsed.query.filters:
        # a bbox page is a few milliseconds on the R-tree: answered on the event loop, without a thread hop
        return _items(request, collection_id, atlas, viewer, parsed)
    return await run_in_threadpool(_items, request, collection_id, atlas, viewer, parsed)


def _items(request: Request, collection_id: str, atlas: Atlas, viewer: Viewer, parsed: ItemsRequest) -> Response:
    spec = atlas.spec(collection_id)
    bridge: CrsBridge = request.app.state.crs_bridge
    query = parsed.query
    if query.bbox is not None and not bridge.identity:
        query = replace(query, bbox=bridge.bbox_to_storage(query.bbox))
    page = feature_page(atlas, collection_id, query, viewer)
    html = wants_html(request)
    path = f"/collections/{collection_id}/items"
    paging = {**parsed.kept, "limit": query.limit}
    links = self_links(request, path, GEOJSON, html, {**paging, "offset": query.offset or None})
    assert query.limit is not None
    fmt = "html" if html else "geojson"
    if query.offset + len(page) < page.number_matched:
        links.append(link(url(request, path, {**paging, "offset": query.offset + query.limit, "f": fmt}),
                          "next", HTML if html else GEOJSON, "next page"))
    if query.offset > 0:
        links.append(link(url(request, path, {**paging, "offset": max(0, query.offset - query.limit) or None,
                                               "f": fmt}), "prev", HTML if html else GEOJSON, "previous page"))
    links.append(link(url(request, f"/collections/{collection_id}"), "collection", JSON, spec.title()))
    geometries = bridge.to_crs84(page.geometries)
    body = feature_collection(page, geometries, links, _time_stamp())
    if html:
        columns = [n for n in spec.popup if n != "id"] or [f.name for f in spec.fields][:6]
        shown = orjson.loads(body)
        return render(request, "items.html", body=shown, title=spec.title(), root=root(request),
                      links=links, collection=collection_id, columns=columns,
                      map_page=embedded_map(request, spec, shown["features"]))
    return Response(body, media_type=GEOJSON)


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature", response_model=None)
def item(request: Request, collection_id: str, feature_id: str, atlas: AtlasDep, viewer: ViewerDep) -> Response:
    """One feature, with its version as ETag (send it back in If-Match when you change the feature)."""
    check_known(request.query_params, ITEM_PARAMS)
    check_crs(request.query_params)
    spec = atlas.spec(collection_id)
    record, geometry, generalised = feature(atlas, collection_id, feature_id, viewer)
    bridge: CrsBridge = request.app.state.crs_bridge
    geometry = bridge.to_crs84([geometry])[0] if geometry is not None else None
    html = wants_html(request)
    path = f"/collections/{collection_id}/items/{feature_id}"
    links = [*self_links(request, path, GEOJSON, html),
             link(url(request, f"/collections/{collection_id}"), "collection", JSON, spec.title())]
    body = feature_object(record, geometry, generalised, links)
    headers = {} if generalised else {"ETag": etag(record.get("version"))}
    if html:
        shown = orjson.loads(dumps(body))
        return render(request, "item.html", headers=headers, body=shown, title=f"{spec.title()}: {record['id']}",
                      root=root(request), links=links, map_page=embedded_map(request, spec, [shown]))
    return Response(dumps(body), media_type=GEOJSON, headers=headers)
