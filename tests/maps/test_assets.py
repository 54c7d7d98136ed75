"""Bundled Leaflet assets: a rendered folium page rewritten to make no request to the internet."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import folium
import folium.plugins as plugins
import pytest

from commonsmap.errors import CommonsmapError, InvalidInputError, NotFoundError
from commonsmap.maps.assets import (
    ASSET_DIR,
    KNOWN_ASSETS,
    _script,
    asset_file,
    asset_for_url,
    offline_html,
    strip_unused_defaults,
)

EVIL = "</script><script>alert(1)</script>"


def _square(west: float, south: float, name: str) -> dict[str, object]:
    ring = [[west, south], [west + 0.1, south], [west + 0.1, south + 0.1], [west, south + 0.1], [west, south]]
    return {"type": "Feature", "properties": {"name": name}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _page() -> str:
    commons = {"type": "FeatureCollection",
               "features": [_square(11.0, 46.0, f"North common {EVIL}"), _square(11.0, 45.8, "South pasture")]}
    m = folium.Map(location=[46.0, 11.05], zoom_start=10, tiles=None)
    layer = folium.GeoJson(commons, name="commons", tooltip=folium.GeoJsonTooltip(["name"])).add_to(m)
    folium.Marker([46.05, 11.05], popup="a <b>popup</b>", tooltip="tip").add_to(m)
    plugins.Fullscreen().add_to(m)
    plugins.MeasureControl().add_to(m)
    plugins.LocateControl().add_to(m)
    plugins.Search(layer=layer, search_label="name").add_to(m)
    plugins.VectorGridProtobuf("http://127.0.0.1:1/{z}/{x}/{y}.pbf", "tiles").add_to(m)
    folium.LayerControl().add_to(m)
    strip_unused_defaults(m)
    return m.get_root().render()


class _Resources(HTMLParser):
    """Every script src and stylesheet href of a page, and the text of its style and script elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(values["src"] or "")
        if tag == "link" and "stylesheet" in (values.get("rel") or "") and values.get("href"):
            self.urls.append(values["href"] or "")
        self._in = tag if tag in ("script", "style") else None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.styles.append(data)
        elif self._in == "script":
            self.scripts.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def _resources(html: str) -> _Resources:
    parser = _Resources()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def page() -> str:
    return _page()


def test_the_page_keeps_only_leaflet_and_the_plugins(page: str) -> None:
    urls = _resources(page).urls
    assert any("leaflet@1.9.3/dist/leaflet.js" in u for u in urls)
    assert len(urls) == 11  # leaflet js+css, four plugins with js+css, vectorgrid js
    for dropped in ("jquery", "bootstrap", "awesome", "fontawesome", "glyphicons"):
        assert not any(dropped in u.lower() for u in urls), dropped
    assert all(asset_for_url(u) is not None for u in urls)


def test_every_cdn_url_of_folium_is_bundled() -> None:
    classes = [folium.Map, plugins.Fullscreen, plugins.MeasureControl, plugins.LocateControl, plugins.Search,
               plugins.VectorGridProtobuf]
    for cls in classes:
        for name, url in [*cls.default_js, *cls.default_css]:
            if cls is folium.Map and name not in ("leaflet", "leaflet_css"):
                assert asset_for_url(url) is None, url
                continue
            relative = asset_for_url(url)
            assert relative is not None, url
            assert asset_file(relative).stat().st_size > 0
    assert all((ASSET_DIR / relative).is_file() for relative in KNOWN_ASSETS.values())


def test_inlined_page_needs_no_internet(page: str) -> None:
    html = offline_html(page)
    found = _resources(html)
    remote = [u for u in found.urls if re.match(r"^(https?:)?//", u, re.IGNORECASE)]
    assert remote == []
    assert found.urls == []  # everything inlined
    leaflet = asset_file("leaflet/leaflet.js").read_text(encoding="utf-8")
    assert leaflet.strip()[-200:] in html
    assert "L.Control.Search" in html and "L.Control.Locate" in html and "VectorGrid" in html
    css = "\n".join(found.styles)
    assert ".leaflet-control-layers-toggle" in css and ".leaflet-control-measure" in css
    references = re.findall(r"""url\(\s*['"]?([^'")]+)""", css)
    images = [r for r in references if not r.startswith("#")]
    assert len(images) >= 10
    assert all(r.startswith("data:image/") for r in images), [r[:40] for r in images if not r.startswith("data:")]
    layers_png = asset_file("leaflet/images/layers.png").read_bytes()
    assert f"data:image/png;base64,{base64.b64encode(layers_png).decode()}" in css
    assert "data:image/svg+xml;base64," in css and "data:image/gif;base64," in css  # fullscreen, search loader
    assert 'L.Icon.Default.imagePath = ""' in html or "L.Icon.Default.imagePath = ''" in html
    assert "window.$ = window.$" in html  # folium's Popup calls $(...)


def test_inlined_script_cannot_close_its_element() -> None:
    html = '<html><head><script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script></head></html>'
    scripts = _resources(offline_html(html)).scripts
    assert len(scripts) == 2  # Leaflet whole in one element, then the default-marker images as data: URIs
    assert scripts[0].strip() == asset_file("leaflet/leaflet.js").read_text(encoding="utf-8").strip()
    assert "L.Icon.Default.mergeOptions" in scripts[1] and "data:image/png;base64," in scripts[1]
    code = 'var a = "</script><script>alert(1)</script>"; var b = "</SCRIPT >";'
    element = _script(code)
    assert _resources(element).scripts == [element.removeprefix("<script>").removesuffix("</script>")]
    assert element.lower().count("</script") == 1


def test_served_page_points_at_the_base_url(page: str) -> None:
    html = offline_html(page, base_url="/static/maps/")
    urls = _resources(html).urls
    assert len(urls) == 11
    for url in urls:
        assert url.startswith("/static/maps/"), url
        assert asset_file(url.removeprefix("/static/maps/")).is_file()
    assert "/static/maps/leaflet/leaflet.js" in urls and "/static/maps/leaflet/leaflet.css" in urls
    assert "//" not in "".join(urls)


def test_folium_inline_scripts_are_kept(page: str) -> None:
    before = [s for s in _resources(page).scripts if "L.map(" in s]
    assert len(before) == 1
    assert before[0] in offline_html(page)
    assert before[0] in offline_html(page, base_url="/static/maps")


def test_an_unknown_cdn_script_is_refused_by_name(page: str) -> None:
    for url in ("https://code.jquery.com/jquery-3.7.1.min.js", "//cdn.example.org/lib/thing.js",
                "http://cdn.example.org/leaflet-extra/extra.js"):
        spoiled = page.replace("</head>", f'<script src="{url}"></script></head>', 1)
        with pytest.raises(InvalidInputError) as raised:
            offline_html(spoiled)
        assert url in str(raised.value)
        assert isinstance(raised.value, CommonsmapError)
        with pytest.raises(InvalidInputError):
            offline_html(spoiled, base_url="/static/maps")
    sheet = page.replace("</head>", '<link rel="stylesheet" href="https://fonts.example.org/a.css"/></head>', 1)
    with pytest.raises(InvalidInputError, match=re.escape("https://fonts.example.org/a.css")):
        offline_html(sheet)


def test_links_and_local_urls_are_left_alone() -> None:
    html = ('<html><head><script src="js/local.js"></script><link rel="stylesheet" href="/css/site.css"/></head>'
            '<body><a href="https://leafletjs.com">Leaflet</a></body></html>')
    assert offline_html(html) == html


def test_geojson_properties_cannot_break_out_of_the_script(page: str) -> None:
    for html in (page, offline_html(page), offline_html(page, base_url="/static/maps")):
        assert EVIL not in html
        assert "alert(1)" in html  # the property is there, escaped
        assert "<script>alert(1)" not in html


def test_asset_file_refuses_paths_outside_the_bundle() -> None:
    assert asset_file("leaflet/leaflet.css") == (ASSET_DIR / "leaflet" / "leaflet.css").resolve()
    for bad in ("../x", "leaflet/../../assets.py", "../../errors.py", "/etc/passwd", str(ASSET_DIR / "leaflet"),
                "C:\\x", "leaflet\\..\\..\\x", ""):
        with pytest.raises(InvalidInputError):
            asset_file(bad)
    with pytest.raises(NotFoundError):
        asset_file("leaflet/missing.js")
    with pytest.raises(NotFoundError):
        asset_file("leaflet")  # a directory is not an asset


def test_the_bundle_is_small_and_licensed() -> None:
    files = [p for p in ASSET_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 600_000
    assert not [p for p in files if p.suffix == ".map"]
    for package in ("leaflet", "leaflet.fullscreen", "leaflet-measure", "leaflet.locatecontrol", "leaflet-search",
                    "leaflet.vectorgrid"):
        assert any(p.name.lower() in ("license", "license.txt") for p in (ASSET_DIR / package).iterdir()), package
    readme = (ASSET_DIR / "README.md").read_text(encoding="utf-8")
    for version in ("1.9.3", "3.0.0", "2.1.7", "0.66.2", "2.9.7", "1.3.0"):
        assert version in readme


@pytest.mark.slow
def test_the_wheel_carries_every_bundled_file(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", str(tmp_path)],
                           cwd=root, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(next(tmp_path.glob("commonsmap-*.whl"))) as archive:
        names = set(archive.namelist())
    bundled = {"commonsmap/maps/static/" + p.relative_to(ASSET_DIR).as_posix() for p in ASSET_DIR.rglob("*")
               if p.is_file()}
    assert {f"commonsmap/maps/static/{relative}" for relative in KNOWN_ASSETS.values()} <= bundled
    assert bundled - names == set()
