"""The map pages in a real Chromium with the network blocked: drawn, legible, quiet, and offline.

For the standalone file (``commonsmap map``) and the API's ``/map`` page, each test checks that
Leaflet started, that every layer drew all its features (or its picture, or its tiles), that
the legend shows, that nothing was logged as an error, and that no request left the machine.
Screenshots are kept as test artifacts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser

import commonsmap as cm
from api.settings import Settings
from commonsmap.keys import add_key
from commonsmap.maps import commons_map, save_map
from tests.api.conftest import MARK, LiveServer
from tests.browser.conftest import Watched, open_page
from tests.maps.conftest import HOSTILE_NAME, MapsAtlas

LAYER_STATE = """() => Object.fromEntries(Object.entries(window.commonsmap.layers).map(([name, entry]) => {
    const drawn = entry.drawn;
    const features = drawn && drawn.getLayers ? drawn.getLayers().length : null;
    const image = entry.group.getLayers().find(layer => layer instanceof L.ImageOverlay);
    const element = image ? image.getElement() : null;
    return [name, {mode: entry.mode, expected: entry.expected, features: features, detailZoom: entry.detailZoom,
                   picture: element ? element.complete && element.naturalWidth > 0 : null}];
}))"""

DRAWN_PATHS = "() => document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length"


def check_layers(watched: Watched, titles: dict[str, str], frame: object | None = None) -> dict[str, dict]:
    """Every layer drew itself; the legend names each; return what each layer shows."""
    target = frame or watched.page
    assert target.evaluate("typeof L === 'object' && typeof L.version === 'string'")  # type: ignore[attr-defined]
    assert target.evaluate("window.commonsmap.map instanceof L.Map")  # type: ignore[attr-defined]
    state: dict[str, dict] = target.evaluate(LAYER_STATE)  # type: ignore[attr-defined]
    inline = 0
    for name, layer in state.items():
        if layer["mode"] == "inline":
            assert layer["features"] == layer["expected"] > 0, (name, layer)
            inline += layer["expected"]
        elif layer["mode"] == "picture":
            assert layer["picture"] is True, (name, layer)
    assert target.evaluate(DRAWN_PATHS) >= inline  # type: ignore[attr-defined]
    legend = target.locator(".cm-legend")  # type: ignore[attr-defined]
    assert legend.is_visible()
    text = legend.inner_text()
    for name in state:
        assert titles[name] in text, name
    return state


def titles(lang: str = "en") -> dict[str, str]:
    """Every layer's title in ``lang``."""
    catalogue = cm.load_catalogue()
    return {name: spec.title(lang) for name, spec in catalogue.items()}


@dataclass(frozen=True)
class Served:
    """The served atlas and an administrator's key to it."""

    server: LiveServer
    admin_key: str
    path: Path


@pytest.fixture(scope="module")
def served(maps_atlas_template: MapsAtlas, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The maps' test atlas served with a low inline limit, so that parcels come as tiles."""
    path = tmp_path_factory.mktemp("served") / "maps.gpkg"
    path.write_bytes(maps_atlas_template.path.read_bytes())
    key = add_key(cm.open_atlas(path), "admin", name="map reviewer")
    with LiveServer(path, Settings(map_inline_limit=100)) as server:
        yield Served(server, key, path)


def test_standalone_map_draws_every_layer_offline(maps_atlas: MapsAtlas, watched_page: Watched,
                                                  tmp_path: Path) -> None:
    path = save_map(commons_map(cm.open_atlas(maps_atlas.path), lang="es", max_inline=100), tmp_path / "map.html")
    watched_page.page.goto(path.as_uri())
    assert watched_page.ready() > 0
    state = check_layers(watched_page, titles("es"))
    assert state["parcels"]["mode"] == "picture" and state["commons"]["mode"] == "inline"
    watched_page.screenshot("standalone-map")
    assert watched_page.page.evaluate("window.__pwned === undefined")
    watched_page.assert_clean()
    assert [url for url in watched_page.requests if not url.startswith(("file:", "data:"))] == []


def test_search_finds_a_feature_and_opens_its_popup(maps_atlas: MapsAtlas, watched_page: Watched,
                                                    tmp_path: Path) -> None:
    path = save_map(commons_map(cm.open_atlas(maps_atlas.path)), tmp_path / "map.html")
    page = watched_page.page
    page.goto(path.as_uri())
    watched_page.ready()
    page.locator(".leaflet-control-search .search-button").click()
    page.locator(".leaflet-control-search input.search-input").press_sequentially("Patto per")
    page.locator(".search-tooltip .search-tip", has_text="Patto per il bosco").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Patto per il bosco" in popup.inner_text() and "Associazione Orti" in popup.inner_text()
    watched_page.assert_clean()


def test_names_with_markup_are_shown_as_text(maps_atlas: MapsAtlas, watched_page: Watched, tmp_path: Path) -> None:
    path = save_map(commons_map(cm.open_atlas(maps_atlas.path), ["commons"]), tmp_path / "map.html")
    page = watched_page.page
    page.goto(path.as_uri())
    watched_page.ready()
    page.evaluate("""() => { const commons = window.commonsmap.layers.commons.drawn;
        commons.eachLayer(layer => {
            if (layer.feature.properties._title.includes('Orto')) window.commonsmap.show(layer);
        });
    }""")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert HOSTILE_NAME in popup.inner_text()  # the markup, as text
    assert page.evaluate("window.__pwned === undefined") and popup.locator("img").count() == 0
    watched_page.assert_clean()


def test_api_map_page_draws_a_picture_then_tiles(served: Served, watched_page: Watched) -> None:
    page = watched_page.page
    page.goto(f"{served.server.url}/map")
    watched_page.ready()
    state = check_layers(watched_page, titles())
    assert state["parcels"]["mode"] == "tiles"
    watched_page.screenshot("api-map")
    assert MARK not in page.content()
    zoom = max(int(state["parcels"]["detailZoom"]), 16)
    parcel = cm.open_atlas(served.path).layer("parcels").to_crs("EPSG:4326").geometry.iloc[0].representative_point()
    tiles_loaded = """async ([lat, lon, zoom]) => {
        const entry = window.commonsmap.layers.parcels;
        const loaded = new Promise(done => entry.drawn.once('load', done));
        window.commonsmap.map.setView([lat, lon], zoom, {animate: false});
        await loaded;
        return entry.group.hasLayer(entry.drawn);
    }"""
    assert page.evaluate(tiles_loaded, [parcel.y, parcel.x, zoom])
    tiles = {url: status for url, status in watched_page.responses.items() if "/tiles/WebMercatorQuad/" in url}
    assert tiles and all(status in (200, 204) for status in tiles.values()) and 200 in tiles.values()
    painted = "() => document.querySelectorAll('.leaflet-tile-pane svg path').length"
    assert page.evaluate(painted) > 0
    watched_page.screenshot("api-map-tiles")
    centre = page.evaluate("() => { const p = window.commonsmap.map.getSize(); return [p.x / 2, p.y / 2]; }")
    box = page.locator(".leaflet-container").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + centre[0], box["y"] + centre[1])
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Cadastral parcels" in popup.inner_text()
    watched_page.assert_clean()


def test_api_map_page_shows_secrets_only_to_who_may_see_them(served: Served, browser: Browser) -> None:
    admin = open_page(browser, {"X-API-Key": served.admin_key})
    try:
        admin.page.goto(f"{served.server.url}/map")
        admin.ready()
        assert MARK in admin.page.content()
        admin.assert_clean()
    finally:
        admin.page.context.close()


def test_items_page_embeds_a_map(served: Served, watched_page: Watched) -> None:
    page = watched_page.page
    page.goto(f"{served.server.url}/collections/commons/items?f=html&limit=50")
    frame = page.frame_locator("iframe.map")
    assert frame.locator(".leaflet-container").count() == 1
    inner = page.frames[1]
    inner.evaluate("window.commonsmap.ready")
    state = check_layers(watched_page, titles(), frame=inner)
    shown = page.locator("table tr").count() - 1
    assert state["commons"]["expected"] == shown
    watched_page.screenshot("items-map")
    watched_page.assert_clean()
