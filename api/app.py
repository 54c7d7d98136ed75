"""The app factory: an atlas served as OGC API – Features (and Tiles), with keys and limits.

Routers are mounted from :data:`ROUTERS`; the conformance classes declared are exactly those
of the routers mounted. Errors are answered as OGC exceptions (400 rather than FastAPI's 422),
request bodies are limited, and the API description is OpenAPI 3.0.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from fastapi import FastAPI

from api.crs import CrsBridge
from api.errors import add_exception_handlers
from api.limits import BodyLimitMiddleware, HeadMiddleware
from api.openapi import openapi_30
from api.settings import Settings
from commonsmap.atlas.atlas import Atlas, open_atlas

ROUTERS = ("api.routers.core", "api.routers.collections", "api.routers.items", "api.routers.transactions",
           "api.routers.pacts", "api.routers.history", "api.routers.tiles", "api.routers.maps")
"""Router modules, each with ``router`` and ``CONFORMANCE`` (and, for tiles, ``TILED_LAYERS``)."""


def _available(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name == name:
            return None
        raise


def create_app(atlas: Atlas | str | Path, settings: Settings | None = None) -> FastAPI:
    """Build the web app serving ``atlas``.

    Parameters
    ----------
    atlas : Atlas, str or Path
        The atlas (or the path of its file).
    settings : Settings, optional
        Limits and defaults; see :class:`api.settings.Settings`.

    Returns
    -------
    fastapi.FastAPI
    """
    atlas = atlas if isinstance(atlas, Atlas) else open_atlas(atlas)
    settings = settings or Settings()
    title = settings.title or atlas.metadata.get("title") or "commonsmap atlas"
    app = FastAPI(title=title, version="1.0.0", docs_url=None, redoc_url=None, openapi_url=None,
                  description="Commons, territories, use-rights and collaboration pacts as OGC API – Features.")
    app.state.atlas = atlas
    app.state.settings = settings
    app.state.crs_bridge = CrsBridge(atlas.crs)
    app.state.extent_cache = {}
    app.state.map_cache = {}
    app.state.tiled_layers = ()
    app.state.tiles_mounted = False
    conformance: list[str] = []
    for name in ROUTERS:
        module = _available(name)
        if module is None:
            continue
        app.include_router(module.router)
        conformance += [c for c in getattr(module, "CONFORMANCE", ()) if c not in conformance]
        if hasattr(module, "TILED_LAYERS"):
            app.state.tiled_layers = tuple(layer for layer in module.TILED_LAYERS if layer in atlas.catalogue)
            app.state.tiles_mounted = True
    app.state.conformance = tuple(conformance)
    add_exception_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(HeadMiddleware)
    app.openapi = lambda: openapi_30(app, settings)  # type: ignore[method-assign]
    return app
