"""Landing page, conformance declaration and API description (OGC API – Features Part 1 core)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import AtlasDep, SettingsDep
from api.geojson import dumps
from api.html import render, wants_html
from api.links import HTML, JSON, link, root, self_links, url
from api.openapi import document
from api.params import COMMON_PARAMS, check_known

OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)

document("GET", "/", params=('f',), types=("application/json", "text/html"))
document("GET", "/conformance", params=('f',), types=("application/json", "text/html"))
document("GET", "/api", params=("f",), types=(OPENAPI_TYPE, "text/html"))
document("GET", "/api.html", params=(), types=("text/html",))

router = APIRouter(tags=["Capabilities"])


def _answer(request: Request, body: dict[str, Any], template: str, title: str) -> Response:
    if wants_html(request):
        return render(request, template, body=body, title=title, root=root(request), links=body.get("links", []))
    return Response(dumps(body), media_type=JSON)


@router.get("/", summary="Landing page", response_model=None)
def landing(request: Request, atlas: AtlasDep, settings: SettingsDep) -> Response:
    """What this server offers and where to find it."""
    check_known(request.query_params, COMMON_PARAMS)
    meta = atlas.metadata
    title = settings.title or meta.get("title") or "commonsmap atlas"
    html = wants_html(request)
    links = [
        *self_links(request, "/", html=html),
        link(url(request, "/api"), "service-desc", OPENAPI_TYPE, "the API description (OpenAPI 3.0)"),
        link(url(request, "/api.html"), "service-doc", HTML, "the API documentation"),
        link(url(request, "/conformance"), "conformance", JSON, "conformance classes implemented"),
        link(url(request, "/conformance"), "http://www.opengis.net/def/rel/ogc/1.0/conformance", JSON,
             "conformance classes implemented"),
        link(url(request, "/collections"), "data", JSON, "the atlas's collections"),
        link(url(request, "/collections"), "http://www.opengis.net/def/rel/ogc/1.0/data", JSON,
             "the atlas's collections"),
    ]
    if request.app.state.tiles_mounted:
        links.append(link(url(request, "/tileMatrixSets"), "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                          JSON, "tile matrix sets"))
    description = (f"Commons, territories, use-rights and collaboration pacts, kept by "
                   f"{meta.get('custodian') or 'their custodian'}" + (f"; licence {meta['licence']}" if
                                                                       meta.get("licence") else "") + ".")
    body = {"title": title, "description": description, "links": links}
    return _answer(request, body, "landing.html", title)


@router.get("/conformance", summary="Conformance classes", response_model=None)
def conformance(request: Request) -> Response:
    """The conformance classes this server implements (those of the routers mounted)."""
    check_known(request.query_params, COMMON_PARAMS)
    body = {"conformsTo": list(request.app.state.conformance),
            "links": self_links(request, "/conformance", html=wants_html(request))}
    return _answer(request, body, "conformance.html", "Conformance")


@router.get("/api", summary="API description (OpenAPI 3.0)", response_model=None)
def api_description(request: Request) -> Response:
    """The description of the API in OpenAPI 3.0."""
    check_known(request.query_params, COMMON_PARAMS)
    if wants_html(request):
        return api_page(request)
    return Response(dumps(request.app.openapi()), media_type=OPENAPI_TYPE)


@router.get("/api.html", summary="API documentation", response_model=None)
def api_page(request: Request) -> Response:
    """The API description as a page."""
    check_known(request.query_params, COMMON_PARAMS | {"f"})
    return render(request, "api.html", body=request.app.openapi(), title="API", root=root(request))
