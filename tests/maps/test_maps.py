"""cm.map: what the catalogue says, what each viewer may see, and nothing that could run or leak."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from rasterio.io import MemoryFile
from typer.testing import CliRunner

import commonsmap as cm
from commonsmap.cli import app
from commonsmap.maps import commons_map, features_map, map_html, save_map
from commonsmap.maps.build import detail_zoom
from commonsmap.maps.overview import picture
from tests.api.conftest import MARK
from tests.maps.conftest import HOSTILE_NAME, MapsAtlas

VIEWERS = {
    "anonymous": lambda ids: cm.Viewer.anonymous(),
    "signed_in": lambda ids: cm.Viewer.signed_in("a citizen"),
    "member": lambda ids: cm.Viewer.member(ids["community"]),
    "custodian": lambda ids: cm.Viewer.custodian(ids["community"]),
    "other_custodian": lambda ids: cm.Viewer.custodian(ids["association"]),
    "admin": lambda ids: cm.Viewer.admin(),
}


class _Fetches(HTMLParser):
    """Every URL a page's markup fetches by itself: script src, stylesheet href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "img", "iframe") and found.get("src"):
            self.urls.append(str(found["src"]))
        if tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))


def fetched_urls(page: str) -> list[str]:
    """The URLs ``page`` asks a server for while loading (``data:`` URLs are in the page)."""
    parser = _Fetches()
    parser.feed(page)
    return [url for url in parser.urls if not url.startswith("data:")]


def visible_names(atlas: cm.Atlas, viewer: cm.Viewer) -> set[str]:
    """Names and titles of everything ``viewer`` may see whole, in every layer the map reads."""
    names: set[str] = set()
    for layer in ("commons", "claims", "pacts", "parties", "parcels", "observations"):
        frame = atlas.layer(layer, viewer=viewer)
        title = atlas.spec(layer).title_field
        if title and not frame.empty:
            names |= {str(v) for v in frame.loc[~frame["generalised"].astype(bool), title].dropna()}
    return names


@pytest.mark.parametrize("who", list(VIEWERS))
def test_a_map_shows_exactly_what_its_viewer_may_see(maps_atlas: MapsAtlas, who: str) -> None:
    atlas = cm.open_atlas(maps_atlas.path)
    viewer = VIEWERS[who](maps_atlas.ids)
    page = map_html(commons_map(atlas, viewer=viewer))
    seen = visible_names(atlas, viewer)
    marked = {name for name in visible_names(atlas, cm.Viewer.admin()) if MARK in name}
    for name in marked:
        assert (name.replace("&", "&amp;") in page) == (name in seen), f"{who}: {name}"
    if not any(MARK in name for name in seen):
        assert MARK not in page
    hidden_ids = [maps_atlas.ids[k] for k in ("hidden_community", "hidden_secret", "secret_claim", "secret_party",
                                               "generalised_site")]
    for feature_id in hidden_ids:
        assert feature_id not in page  # the page names features by position, never by id


def test_anonymous_counts_are_the_visible_counts(maps_atlas: MapsAtlas) -> None:
    atlas = cm.open_atlas(maps_atlas.path)
    m = commons_map(atlas)
    for name, drawn in m.commonsmap_layers.items():
        assert drawn.expected == atlas.count(name, viewer=cm.Viewer.anonymous()), name
    assert m.commonsmap_layers["commons"].generalised == 1  # the grid-cell site, shown where it may be
    page = map_html(m)
    assert "(1 generalised)" not in page and "1 generalised" in page


def test_popups_tell_rights_pacts_parties_and_evidence(maps_atlas: MapsAtlas) -> None:
    atlas = cm.open_atlas(maps_atlas.path)
    page = map_html(commons_map(atlas, ["commons", "claims", "pacts"], lang="en"))
    assert "Associazione Orti (Proponent)" in page  # the pact's party and role
    assert "Patto per il bosco (Active)" in page  # the pact, in the commons' popup
    assert "Right (Comunidad del bosque)" in page  # the right the public may see
    assert "2 sources" in page  # the claim's evidence
    assert "2025-04-01" in page and "2027-03-31" in page  # the pact's dates
    assert MARK not in page  # the secret holder's right shows nothing of the holder


@pytest.mark.parametrize(("lang", "words"), [("es", ["Leyenda", "Bienes comunes", "Buscar por nombre"]),
                                             ("it", ["Legenda", "Beni comuni", "Cerca per nome"]),
                                             ("pt", ["Legenda", "Bens comuns", "Pesquisar por nome"])])
def test_labels_in_each_language(maps_atlas: MapsAtlas, lang: str, words: list[str]) -> None:
    page = map_html(commons_map(cm.open_atlas(maps_atlas.path), lang=lang))
    for text in words:
        assert text in page, text


def test_unknown_language_and_layer_are_refused(maps_atlas: MapsAtlas) -> None:
    atlas = cm.open_atlas(maps_atlas.path)
    with pytest.raises(cm.QueryError, match="en, es, it, pt"):
        commons_map(atlas, lang="fr")
    with pytest.raises(cm.QueryError, match="not a layer with a geometry"):
        commons_map(atlas, ["parties"])


def test_names_cannot_break_out_of_the_page(maps_atlas: MapsAtlas) -> None:
    page = map_html(commons_map(cm.open_atlas(maps_atlas.path)))
    assert HOSTILE_NAME not in page
    assert "<img src=x" not in page and "onerror=\"window.__pwned" not in page
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert not any("</script" in script for script in scripts)


def test_the_page_fetches_nothing_from_the_internet(maps_atlas: MapsAtlas, tmp_path: Path) -> None:
    atlas = cm.open_atlas(maps_atlas.path)
    path = save_map(commons_map(atlas, max_inline=50), tmp_path / "map.html")
    page = path.read_text(encoding="utf-8")
    assert fetched_urls(page) == []  # everything inlined
    served = map_html(commons_map(atlas), base_url="/static/maps")
    assert fetched_urls(served) and all(url.startswith("/static/maps/") for url in fetched_urls(served))
    assert "leaflet.js" in " ".join(fetched_urls(served))


def test_large_layers_become_a_picture_then_tiles(maps_atlas: MapsAtlas) -> None:
    atlas = cm.open_atlas(maps_atlas.path)
    parcels = atlas.count("parcels")
    m = commons_map(atlas, ["parcels"], max_inline=100)
    assert m.commonsmap_layers["parcels"].mode == "picture"
    assert m.commonsmap_layers["parcels"].expected == parcels
    tiles = {"parcels": "http://127.0.0.1:9/collections/parcels/tiles/WebMercatorQuad/{z}/{y}/{x}"}
    m = commons_map(atlas, ["parcels"], max_inline=100, tiles=tiles)
    drawn = m.commonsmap_layers["parcels"]
    bounds = atlas.layer("parcels").to_crs("EPSG:4326").total_bounds
    assert drawn.mode == "tiles" and drawn.detail_zoom == detail_zoom(parcels, bounds)
    page = map_html(m)
    assert "data:image/png;base64," in page and "WebMercatorQuad/{z}/{y}/{x}" in page
    assert m.commonsmap_layers["parcels"].expected == parcels
    small = commons_map(atlas, ["parcels"], max_inline=100_000)
    assert small.commonsmap_layers["parcels"].mode == "inline"


def _opaque_pixels(png: bytes) -> int:
    with MemoryFile(png) as memory, memory.open() as image:
        codes = image.read(1)
        alpha = np.array([image.colormap(1).get(int(c), (0, 0, 0, 0))[3] for c in range(256)])
    return int((alpha[codes] > 0).sum())


def test_a_picture_holds_only_what_its_viewer_may_see(maps_atlas: MapsAtlas) -> None:
    atlas = cm.open_atlas(maps_atlas.path)
    spec = atlas.spec("claims")
    public = picture(atlas.layer("claims", viewer=cm.Viewer.anonymous()), spec, max_pixels=400)
    everything = picture(atlas.layer("claims", viewer=cm.Viewer.admin()), spec, max_pixels=400)
    assert public is not None and everything is not None
    assert _opaque_pixels(public.png) > 0
    # The secret claim lies inside the public one: the same box, the same pixels, but other colours.
    with MemoryFile(public.png) as a, a.open() as first, MemoryFile(everything.png) as b, b.open() as second:
        assert first.read(1).tobytes() != second.read(1).tobytes()
    assert public.bounds[0][0] < public.bounds[1][0] and public.bounds[0][1] < public.bounds[1][1]


def test_picture_of_a_synthetic_layer_is_where_it_should_be() -> None:
    import geopandas as gpd
    import shapely

    spec = cm.load_catalogue()["parcels"]
    frame = gpd.GeoDataFrame({"designation": ["none", "none"]},
                             geometry=[shapely.box(10.0, 45.0, 10.01, 45.01), shapely.box(10.09, 45.09, 10.1, 45.1)],
                             crs="EPSG:4326")
    drawn = picture(frame, spec, max_pixels=100)
    assert drawn is not None
    (south, west), (north, east) = drawn.bounds
    assert (west, east) == pytest.approx((10.0, 10.1), abs=1e-9)
    assert (south, north) == pytest.approx((45.0, 45.1), abs=1e-9)
    with MemoryFile(drawn.png) as memory, memory.open() as image:
        codes = image.read(1)
    assert codes[-1, 0] != 0 and codes[0, -1] != 0  # lower left and upper right corners drawn
    assert codes[codes.shape[0] // 2, codes.shape[1] // 2] == 0  # nothing in between


def test_detail_zoom_grows_with_density() -> None:
    box = (14.0, 50.0, 14.5, 50.3)
    assert detail_zoom(1_000, box) < detail_zoom(1_000_000, box) <= 18
    assert detail_zoom(10, box) == 0


def test_a_page_of_features_on_a_small_map(maps_atlas: MapsAtlas) -> None:
    atlas = cm.open_atlas(maps_atlas.path)
    spec = atlas.spec("commons")
    features = [{"type": "Feature", "id": "x", "geometry": {"type": "Point", "coordinates": [104.9, 11.5]},
                 "properties": {"name": "A garden", "kind": "garden"}}]
    m = features_map(spec, features, lang="es")
    assert m is not None and m.commonsmap_layers["commons"].expected == 1
    page = map_html(m)
    assert "A garden" in page and "Huerta" in page and "Leyenda" in page
    assert features_map(spec, [{"type": "Feature", "geometry": None, "properties": {}}]) is None


def test_cli_writes_a_standalone_map(maps_atlas: MapsAtlas, tmp_path: Path) -> None:
    out = tmp_path / "territory.html"
    result = CliRunner().invoke(app, ["map", str(maps_atlas.path), str(out), "--lang", "es", "--layer", "commons",
                                      "--layer", "claims"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "works offline" in result.output and "Leyenda" in page and MARK not in page
    assert fetched_urls(page) == []
    admin = CliRunner().invoke(app, ["map", str(maps_atlas.path), str(out), "--viewer", "admin"])
    assert admin.exit_code == 0 and MARK in out.read_text(encoding="utf-8")
    for bad in (["--lang", "fr"], ["--layer", "parties"], ["--viewer", "king"]):
        failed = CliRunner().invoke(app, ["map", str(maps_atlas.path), str(tmp_path / "no.html"), *bad])
        assert failed.exit_code != 0 and "error" in failed.output
        assert not (tmp_path / "no.html").exists()


def test_a_page_too_long_for_a_map_embeds_none() -> None:
    from starlette.requests import Request

    from api.map_pages import embedded_map
    from commonsmap.maps import MAX_INLINE

    spec = cm.load_catalogue()["parcels"]
    request = Request({"type": "http", "root_path": "", "headers": []})
    point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [14.4, 50.1]}, "properties": {}}
    assert embedded_map(request, spec, [point]) is not None
    assert embedded_map(request, spec, [point] * (MAX_INLINE + 1)) is None
