"""``commons_map``: a folium map of an atlas as one viewer may see it, from the layer catalogue.

Every layer is read through :meth:`Atlas.layer` with the viewer, so the page holds only what
that viewer may see (generalised features in their generalised form). A layer of up to
``max_inline`` features is written into the page as GeoJSON, with popups and search. A larger
one is drawn as a picture, and, when the atlas is served, from the API's vector tiles once
the map is zoomed in far enough for single features to count.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure
from folium.plugins import Fullscreen, LocateControl, MeasureControl

from commonsmap.atlas import Atlas
from commonsmap.catalogue import LayerSpec
from commonsmap.errors import QueryError
from commonsmap.maps.assets import offline_html, strip_unused_defaults
from commonsmap.maps.elements import FitView, Legend, Registry, SearchControl, VectorTiles, ZoomSwitch
from commonsmap.maps.labels import check_language, word
from commonsmap.maps.overview import MERCATOR_LATITUDE, picture
from commonsmap.maps.popups import Relations, display_value, popup_html, relations
from commonsmap.maps.styles import LegendEntry, css_rgba, feature_style, layer_swatch, legend_entries
from commonsmap.privacy import GENERALISED_COLUMN, Viewer

MAX_INLINE = 3000
"""Most features of a layer written into the page; a larger layer is drawn as a picture or tiles."""

TILE_BUDGET = 1500
"""Features per vector tile aimed at when choosing the zoom from which a large layer is tiled."""

COORDINATE_DECIMALS = 6
"""Decimals of degrees kept in the page (about 0.1 m)."""

SIMPLIFY_DEGREES = 1e-5
"""Tolerance of the simplification of inlined geometries (about a metre: below a pixel up to zoom 17)."""

DRAW_ORDER = ("admin_units", "claims", "disputes", "objections", "commons", "parcels", "rights", "pacts",
              "observations")
"""Layers drawn first lie underneath: large areas first, points last."""

_WORLD = 20037508.342789244

COUNTRIES = "countries"
"""The offline basemap: Natural Earth's countries (public domain), shipped in ``maps/basemap``."""


@cache
def _countries_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(__file__).parent / "basemap" / "countries.geojson").read_text("utf-8"))
    return data


BASEMAP_PANE = "cm-basemap"
"""The basemap's own pane, under the vector tiles' (``tilePane``, 200) and the overlays' (400)."""


def _add_countries(m: folium.Map) -> None:
    folium.map.CustomPane(BASEMAP_PANE, z_index=150, pointer_events=False).add_to(m)
    style = {"color": "#9e9e9e", "weight": 0.8, "fillColor": "#f5f3ee", "fillOpacity": 1.0}
    folium.GeoJson(_countries_data(), name="countries", control=False, interactive=False, pane=BASEMAP_PANE,
                   style_function=lambda _: style, smooth_factor=1.5).add_to(m)


@dataclass
class LayerOnMap:
    """How one layer is drawn: ``inline``, ``picture`` or ``tiles`` (a picture, then tiles)."""

    mode: str
    expected: int
    group: folium.FeatureGroup
    drawn: Any
    detail_zoom: int | None = None
    generalised: int = 0
    categories: dict[str, int] | None = None


class CommonsMap(folium.Map):
    """A folium map that also tells how each layer was drawn (``commonsmap_layers``)."""

    def __init__(self, title: str) -> None:
        super().__init__(tiles=None, control_scale=True, zoom_snap=0.5)
        self.commonsmap_layers: dict[str, LayerOnMap] = {}
        strip_unused_defaults(self)
        page = self.get_root()
        assert isinstance(page, Figure)
        page.title = escape(title)
        # No favicon to ask a server for (a page opened from a file or a server alike).
        page.header.add_child(Element('<link rel="icon" href="data:,">'), name="favicon")

    def _repr_html_(self, **kwargs: Any) -> str:
        """The map in a notebook: the offline page in an ``<iframe srcdoc>`` (no CDN, unlike folium's)."""
        page = self.get_root()
        assert isinstance(page, Figure)
        document = offline_html(page.render())
        return (f'<iframe srcdoc="{escape(document, quote=True)}" style="width: 100%; height: 32rem; border: none" '
                'sandbox="allow-scripts allow-popups" title="map"></iframe>')


def default_layers(atlas: Atlas) -> list[str]:
    """The atlas's layers with a geometry, in drawing order."""
    spatial = [name for name in atlas.layers() if atlas.spec(name).is_spatial]
    return sorted(spatial, key=lambda n: (DRAW_ORDER.index(n) if n in DRAW_ORDER else len(DRAW_ORDER), n))


def _check_layers(atlas: Atlas, layers: Sequence[str]) -> list[str]:
    known = default_layers(atlas)
    for name in layers:
        if name not in known:
            raise QueryError(f"{name!r} is not a layer with a geometry in this atlas; "
                             f"maps draw {', '.join(known)}")
    return list(dict.fromkeys(layers))


def _lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    return frame


def _rounded(geometries: np.ndarray) -> np.ndarray:
    simpler = shapely.simplify(geometries, SIMPLIFY_DEGREES, preserve_topology=True)
    return shapely.transform(simpler, lambda xy: np.round(xy, COORDINATE_DECIMALS))


def detail_zoom(count: int, bounds: Sequence[float]) -> int:
    """The zoom from which tiles of a layer hold about :data:`TILE_BUDGET` features or fewer."""
    west, south, east, north = bounds
    lat = np.clip([south, north], -MERCATOR_LATITUDE, MERCATOR_LATITUDE)
    height = abs(np.diff(np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)))[0]) * 6378137.0
    area = max((east - west) / 360.0 * 2 * _WORLD * height, 1.0)
    for zoom in range(0, 19):
        tile = (2 * _WORLD / 2**zoom) ** 2
        if count * min(tile / area, 1.0) <= TILE_BUDGET:
            return zoom
    return 18


def _categories(frame: gpd.GeoDataFrame, spec: LayerSpec) -> dict[str, int]:
    field = spec.style.category_field
    if not field or field not in frame:
        return {}
    return {str(k): int(v) for k, v in frame[field].dropna().astype(str).value_counts().items()}


def _inline(frame: gpd.GeoDataFrame, spec: LayerSpec, lang: str, found: Relations | None,
            group: folium.FeatureGroup) -> folium.GeoJson:
    field = spec.style.category_field
    geometries = _rounded(frame.geometry.to_numpy())
    features = []
    for index, (row, geometry) in enumerate(zip(frame.drop(columns=frame.geometry.name).to_dict("records"),
                                                shapely.to_geojson(geometries), strict=True)):
        title = row.get(spec.title_field) if spec.title_field and not row.get(GENERALISED_COLUMN) else None
        category = row.get(field) if field else None
        features.append({"type": "Feature", "id": f"{spec.name}-{index}", "geometry": json.loads(geometry),
                         "properties": {
                             "_title": escape(display_value(spec.field(spec.title_field), title, lang,
                                                            found.names if found else {})
                                              or "") if spec.title_field else "",
                             "_popup": popup_html(spec, row, lang, found),
                             "_category": category if isinstance(category, str) else None}})
    style = spec.style
    points = spec.geometry in ("Point", "MultiPoint", "Geometry", "GeometryCollection")
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=lambda f: feature_style(spec, f["properties"]["_category"]),
        highlight_function=lambda f: {"weight": style.weight + 2, "fillOpacity": min(1.0, style.fill_opacity + 0.2)},
        popup=folium.GeoJsonPopup(fields=["_popup"], labels=False, max_width=360),
        tooltip=folium.GeoJsonTooltip(fields=["_title"], labels=False) if spec.title_field else None,
        marker=folium.CircleMarker(radius=style.radius) if points else None,
        zoom_on_click=False, embed=True)
    layer.add_to(group)
    return layer


def _picture_overlay(frame: gpd.GeoDataFrame, spec: LayerSpec, group: folium.FeatureGroup) -> Any:
    drawn = picture(frame, spec)
    if drawn is None:
        return None
    url = "data:image/png;base64," + base64.b64encode(drawn.png).decode("ascii")
    overlay = folium.raster_layers.ImageOverlay(url, bounds=drawn.bounds, opacity=1.0, interactive=False,
                                                cross_origin=False)
    overlay.add_to(group)
    return overlay


def _tiles(m: folium.Map, url: str, spec: LayerSpec, lang: str, zoom: int) -> VectorTiles:
    field = spec.style.category_field
    shown = [name for name in (spec.title_field, *spec.popup) if name]
    values = {name: vocab.labels(lang) for name in shown
              if (vocab := spec.field(name).vocab) is not None}
    styles = {category: feature_style(spec, category) for category in spec.style.category_colors}
    tiles = VectorTiles(url, spec.name, layer_title=spec.title(lang), styles=styles, fallback=feature_style(spec),
                        category=field, title=spec.title_field,
                        fields=[(name, spec.field(name).title(lang)) for name in spec.popup
                                if name != spec.title_field and spec.field(name).type != "ref"],
                        values=values, min_zoom=zoom)
    tiles.add_to(m)
    return tiles


def _swatch_html(entry: LegendEntry) -> str:
    dash = "dashed" if entry.dash_array else "solid"
    style = (f"border-color: {entry.color}; border-style: {dash}; "
             f"background: {css_rgba(entry.fill, entry.fill_opacity)}")
    count = f" <span class='cm-count'>({entry.count:,})</span>" if entry.count is not None else ""
    return f"<div><span class='cm-swatch' style='{escape(style)}'></span>{escape(entry.label)}{count}</div>"


def _legend_html(specs: Atlas | LayerSpec, drawn: Mapping[str, LayerOnMap], lang: str) -> str:
    parts = [f"<h4>{escape(word('legend', lang))}</h4>"]
    for name, layer in drawn.items():
        spec = specs if isinstance(specs, LayerSpec) else specs.spec(name)
        head = _swatch_html(layer_swatch(spec, spec.title(lang), layer.expected))
        parts.append(head.replace("<div>", "<div class='cm-layer-name'>", 1))
        parts.extend(_swatch_html(entry) for entry in legend_entries(spec, layer.categories or {}, lang))
        if layer.generalised:
            parts.append(f"<div class='cm-note'>{layer.generalised:,} {escape(word('generalised_count', lang))}</div>")
        if layer.mode != "inline":
            note = word("picture_only", lang)
            if layer.mode == "tiles":
                note = word("as_picture", lang).format(zoom=layer.detail_zoom) if layer.detail_zoom \
                    else word("from_tiles", lang)
            parts.append(f"<div class='cm-note'>{escape(note)}</div>")
    return "".join(parts)


def _fit(m: folium.Map, boxes: list[np.ndarray]) -> None:
    if not boxes:
        m.location, m.options["zoom"] = [0.0, 0.0], 2
        return
    stacked = np.vstack(boxes)
    south, west = float(stacked[:, 1].min()), float(stacked[:, 0].min())
    north, east = float(stacked[:, 3].max()), float(stacked[:, 2].max())
    m.location = [(south + north) / 2, (west + east) / 2]
    FitView([[south, west], [north, east]]).add_to(m)


def commons_map(atlas: Atlas, layers: Sequence[str] | None = None, *, viewer: Viewer | None = None,
                lang: str = "en", tiles: Mapping[str, str] | None = None, max_inline: int = MAX_INLINE,
                basemap: str | None = COUNTRIES) -> CommonsMap:
    """Draw an atlas as a folium map, as ``viewer`` may see it.

    Styles, legend, popups and the layer control come from the layer catalogue. The map has
    search by name, full screen, measure and locate controls, and its words in ``lang``.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    layers : sequence of str, optional
        Layers to draw, bottom first; every layer with a geometry by default.
    viewer : Viewer, optional
        Who the map is for. Defaults to the public (``Viewer.anonymous()``): a map is made to
        be shown. Pass ``Viewer.admin()`` for a map of everything in the atlas.
    lang : {"en", "es", "it", "pt"}
        Language of the labels.
    tiles : mapping, optional
        ``{layer: URL template}`` of vector tiles (``{z}/{y}/{x}``) for layers above
        ``max_inline`` features, such as the API's ``/collections/parcels/tiles/WebMercatorQuad/{z}/{y}/{x}``.
        Without one, a large layer is drawn as a picture only.
    max_inline : int
        Most features of a layer written into the page.
    basemap : str, optional
        ``"countries"`` (the default): Natural Earth's countries, shipped with commonsmap, so
        that the map works offline. None for no basemap. Any other value is a folium tile
        layer name or URL, which needs the internet.

    Returns
    -------
    CommonsMap
        A ``folium.Map``. Save it with :func:`commonsmap.maps.save_map` for a page that works offline. Its
        ``commonsmap_layers`` tell how each layer was drawn (:class:`LayerOnMap`).

    Examples
    --------
    >>> import commonsmap as cm
    >>> m = cm.map(cm.open_atlas("commonsmap-demo.gpkg"), ["commons", "pacts"], lang="it")  # doctest: +SKIP
    """
    lang = check_language(lang)
    viewer = viewer or Viewer.anonymous()
    names = _check_layers(atlas, layers) if layers is not None else default_layers(atlas)
    m = CommonsMap(f"commonsmap · {Path(atlas.location).stem}")
    if basemap == COUNTRIES:
        _add_countries(m)
    elif basemap:
        folium.TileLayer(basemap, control=True).add_to(m)
    found = relations(atlas, names, viewer, lang)
    drawn: dict[str, LayerOnMap] = {}
    boxes: list[np.ndarray] = []
    searchable: list[folium.GeoJson] = []
    for name in names:
        spec = atlas.spec(name)
        frame = _lonlat(atlas.layer(name, viewer=viewer))
        if frame.empty:
            continue
        group = folium.FeatureGroup(name=escape(spec.title(lang)), show=True)
        group.add_to(m)
        generalised = int(frame[GENERALISED_COLUMN].sum()) if GENERALISED_COLUMN in frame else 0
        layer = LayerOnMap("inline", len(frame), group, None, generalised=generalised,
                           categories=_categories(frame, spec))
        boxes.append(frame.total_bounds)
        if len(frame) <= max_inline:
            layer.drawn = _inline(frame, spec, lang, found, group)
            if spec.title_field:
                searchable.append(layer.drawn)
        else:
            layer.mode = "picture"
            layer.drawn = _picture_overlay(frame, spec, group)
            if tiles and name in tiles and layer.drawn is not None:
                layer.mode, layer.detail_zoom = "tiles", detail_zoom(len(frame), frame.total_bounds)
                detail = _tiles(m, tiles[name], spec, lang, layer.detail_zoom)
                ZoomSwitch(group, layer.drawn, detail, layer.detail_zoom).add_to(m)
                layer.drawn = detail
        drawn[name] = layer
    _fit(m, boxes)
    Legend(_legend_html(atlas, drawn, lang)).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    if searchable:
        SearchControl(searchable, word("search", lang), word("not_found", lang)).add_to(m)
    Fullscreen(title=word("fullscreen", lang), title_cancel=word("exit_fullscreen", lang)).add_to(m)
    MeasureControl(primary_length_unit="meters", secondary_length_unit="kilometers",
                   primary_area_unit="hectares", secondary_area_unit="sqmeters").add_to(m)
    LocateControl(strings={"title": word("locate", lang)}, icon="cm-locate-icon").add_to(m)
    Registry(drawn).add_to(m)
    m.commonsmap_layers = drawn
    return m


def features_map(spec: LayerSpec, features: Sequence[Mapping[str, Any]], lang: str = "en") -> CommonsMap | None:
    """Draw a page of GeoJSON features of one layer (as the API answers them) on a small map.

    The features are drawn as they are given: they are already what the viewer may see.
    Popups show the catalogue's popup fields, without relations. None if nothing has a geometry.
    """
    lang = check_language(lang)
    located = [f for f in features if f.get("geometry")]
    if not located:
        return None
    frame = gpd.GeoDataFrame.from_features(located, crs="EPSG:4326")
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if frame.empty:
        return None
    m = CommonsMap(f"commonsmap · {spec.title(lang)}")
    _add_countries(m)
    group = folium.FeatureGroup(name=escape(spec.title(lang)))
    group.add_to(m)
    drawn = LayerOnMap("inline", len(frame), group, _inline(frame, spec, lang, None, group),
                       categories=_categories(frame, spec))
    _fit(m, [frame.total_bounds])
    Legend(_legend_html(spec, {spec.name: drawn}, lang)).add_to(m)
    Fullscreen(title=word("fullscreen", lang), title_cancel=word("exit_fullscreen", lang)).add_to(m)
    Registry({spec.name: drawn}).add_to(m)
    m.commonsmap_layers = {spec.name: drawn}
    return m
