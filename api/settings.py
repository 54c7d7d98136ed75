"""Settings of a served atlas: limits and defaults, with safe values for a public server."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Limits of the API.

    Attributes
    ----------
    default_limit : int
        Features per page when a request gives no ``limit``.
    max_limit : int
        The largest ``limit`` accepted; more is refused with 400.
    max_body_bytes : int
        The largest request body accepted; more is refused with 413.
    query_timeout : float
        Seconds a read may run before it is stopped and answered with 400.
    title : str, optional
        The landing page's title (the atlas's own title by default).
    writable_layers : tuple of str
        Layers whose features may be created, replaced, updated and deleted over HTTP (by
        viewers whose role allows it).
    map_inline_limit : int
        Most features of a layer written into the ``/map`` page; a larger layer is drawn as a
        picture, then from vector tiles when zoomed in.
    """

    default_limit: int = 10
    max_limit: int = 10_000
    max_body_bytes: int = 5 * 1024 * 1024
    query_timeout: float = 10.0
    title: str | None = None
    writable_layers: tuple[str, ...] = ("pacts", "claims", "rights", "observations", "sources")
    map_inline_limit: int = 3000
