"""Map pages: the atlas as a folium map, and the Leaflet files the map pages use, served locally.

``/map`` draws every layer the request's viewer may see, with :func:`commonsmap.maps.commons_map`.
Large layers are drawn as a picture, then from this server's vector tiles when zoomed in.
The browser asks for those tiles without the page's key, so they show what anyone may see:
a viewer with a key sees at most that, never more. Pages are kept until the atlas changes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.deps import AtlasDep, SettingsDep, ViewerDep, presented_key
from api.errors import ApiError
from api.links import HTML, root
from api.map_pages import STATIC, static_base, tile_urls
from api.openapi import document
from api.params import check_known
from commonsmap.errors import InvalidInputError
from commonsmap.maps import commons_map, map_html
from commonsmap.maps.assets import asset_file

document("GET", "/map", params=("lang",), types=(HTML,))

router = APIRouter(tags=["Maps"])


@router.get(STATIC + "/{path:path}", include_in_schema=False)
def static_file(path: str) -> Response:
    """A bundled Leaflet file (script, style sheet or image)."""
    try:
        found = asset_file(path)
    except InvalidInputError as error:
        raise ApiError(404, "NotFound", "no such map file") from error
    if not found.is_file():
        raise ApiError(404, "NotFound", "no such map file")
    return FileResponse(found, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/map", summary="The atlas as a map", response_class=HTMLResponse,
            responses={200: {"description": "A map of every layer you may see", "content": {HTML: {}}}})
def atlas_map(request: Request, atlas: AtlasDep, viewer: ViewerDep, settings: SettingsDep,
              lang: str = "en") -> Response:
    """The atlas as a map (Leaflet), as the request's viewer may see it, with its words in ``lang``."""
    check_known(request.query_params, {"lang", "f"})
    if request.query_params.get("f", "html") != "html":
        raise ApiError(400, "InvalidParameterValue", "the map is only HTML: f=html")
    cache: dict[Any, str] = request.app.state.map_cache
    key = (viewer.role, viewer.parties, lang, root(request), atlas.store.change_stamp())
    page = cache.get(key)
    if page is None or key[-1] is None:
        m = commons_map(atlas, viewer=viewer, lang=lang, tiles=tile_urls(request),
                        max_inline=settings.map_inline_limit)
        page = map_html(m, base_url=static_base(request))
        if len(cache) > 32:
            cache.clear()
        cache[key] = page
    private = presented_key(request) is not None
    return HTMLResponse(page, headers={"Cache-Control": "private, max-age=60" if private else "public, max-age=60",
                                       "Vary": "Authorization, X-API-Key"})
