"""A map as a page: one HTML file that works offline, or a page of a server."""

from __future__ import annotations

from pathlib import Path

import folium

from commonsmap.maps.assets import offline_html


def map_html(m: folium.Map, *, base_url: str | None = None) -> str:
    """Return the map as a whole HTML page that makes no request beyond ``base_url``.

    Parameters
    ----------
    m : folium.Map
        A map, as :func:`commonsmap.maps.commons_map` draws it.
    base_url : str, optional
        Where a server serves the bundled Leaflet files (``/static/maps``). Without one, they
        are written into the page, which then works alone, offline.
    """
    page = m.get_root()
    return offline_html(page.render(), base_url=base_url)


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write the map to ``path`` as one HTML file that works offline; return the path."""
    target = Path(path)
    page = map_html(m)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        partial.replace(target)  # a reader never finds half a page
    finally:
        partial.unlink(missing_ok=True)
    return target
