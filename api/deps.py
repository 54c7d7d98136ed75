"""Dependencies of the routes: the atlas, the settings, and who is asking (from an API key).

A request without a key is anonymous. A request with a key that is malformed, unknown or
revoked is refused with 401 rather than served as anonymous, so a mistyped key never passes
unnoticed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.errors import ApiError
from api.settings import Settings
from commonsmap.atlas.atlas import Atlas
from commonsmap.keys import verify_key
from commonsmap.privacy import Viewer
from commonsmap.vocabularies import ViewerRole

ANONYMOUS = Viewer.anonymous()
KEY_HEADER = "X-API-Key"


async def get_atlas(request: Request) -> Atlas:
    """The served atlas."""
    atlas: Atlas = request.app.state.atlas
    return atlas


async def get_settings(request: Request) -> Settings:
    """The server's limits."""
    settings: Settings = request.app.state.settings
    return settings


def _metadata(request: Request, atlas: Atlas) -> dict[str, str]:
    """The atlas metadata, read again only when the atlas has changed."""
    stamp = atlas.store.change_stamp()
    cached = getattr(request.app.state, "metadata_cache", None)
    if stamp is None or cached is None or cached[0] != stamp:
        cached = (stamp, atlas.metadata)
        request.app.state.metadata_cache = cached
    metadata: dict[str, str] = cached[1]
    return metadata


def presented_key(request: Request) -> str | None:
    """The API key a request carries: ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``."""
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(401, "Unauthorized", "use 'Authorization: Bearer <key>' or the X-API-Key header",
                           {"WWW-Authenticate": "Bearer"})
        return value.strip()
    return request.headers.get(KEY_HEADER)


async def get_viewer(request: Request, atlas: Annotated[Atlas, Depends(get_atlas)]) -> Viewer:
    """Who is asking: the viewer of the request's API key, or anonymous."""
    key = presented_key(request)
    if key is None:
        return ANONYMOUS
    found = verify_key(_metadata(request, atlas), key)
    if found is None:
        raise ApiError(401, "Unauthorized", "this API key is not valid (unknown, revoked or mistyped)",
                       {"WWW-Authenticate": "Bearer"})
    return found.viewer()


async def get_writer(viewer: Annotated[Viewer, Depends(get_viewer)]) -> Viewer:
    """Who is writing: anyone with a key (what each role may write is the library's to say)."""
    if viewer.role is ViewerRole.ANONYMOUS:
        raise ApiError(401, "Unauthorized", "writing needs an API key: 'Authorization: Bearer <key>'",
                       {"WWW-Authenticate": "Bearer"})
    return viewer


AtlasDep = Annotated[Atlas, Depends(get_atlas)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ViewerDep = Annotated[Viewer, Depends(get_viewer)]
WriterDep = Annotated[Viewer, Depends(get_writer)]
