"""Maps in the API's HTML pages: where the bundled Leaflet files live, and small maps of a page of features."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request

from api.links import root
from commonsmap.catalogue import LayerSpec
from commonsmap.maps import MAX_INLINE, features_map, map_html

STATIC = "/static/maps"
"""Where the bundled Leaflet files are served."""


def static_base(request: Request) -> str:
    """The URL path the bundled map files are served under (honours a mount point)."""
    return str(request.scope.get("root_path", "")).rstrip("/") + STATIC


def tile_urls(request: Request) -> dict[str, str]:
    """``{layer: tile URL template}`` of the layers this server tiles."""
    if not request.app.state.tiles_mounted:
        return {}
    return {name: f"{root(request)}/collections/{name}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
            for name in request.app.state.tiled_layers}


def embedded_map(request: Request, spec: LayerSpec, features: Sequence[Mapping[str, Any]]) -> str | None:
    """A whole map page of ``features`` (as answered), for an HTML page's ``<iframe srcdoc>``; None without geometry."""
    if not spec.is_spatial or len(features) > MAX_INLINE:  # a page that long is a table, not a map
        return None
    m = features_map(spec, features)
    return map_html(m, base_url=static_base(request)) if m is not None else None
