"""The map's own Leaflet elements: legend, search, vector tiles, zoom switch and the page's registry.

Each is a folium ``MacroElement`` whose values reach the page through Jinja's ``tojson``,
which escapes ``<``, ``>``, ``&`` and quotes: nothing from the atlas is written into the
page as markup or code.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Search, VectorGridProtobuf
from jinja2 import Template

LOCATE_ICON = ("\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
               "%3Ccircle cx='8' cy='8' r='5' fill='none' stroke='%23333' stroke-width='2'/%3E"
               "%3Ccircle cx='8' cy='8' r='2' fill='%23333'/%3E"
               "%3Cpath d='M8 0v3M8 13v3M0 8h3M13 8h3' stroke='%23333' stroke-width='2'/%3E%3C/svg%3E\"")
"""The locate button's icon (the plug-in's own is a Font Awesome glyph, not bundled)."""


class Legend(MacroElement):
    """A legend in the map's lower right corner, from HTML built (and escaped) in Python."""

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
          .leaflet-container { background: #dce8f0; }
          .cm-legend { background: rgba(255,255,255,0.92); padding: 6px 10px; border-radius: 4px;
                       box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 12px/1.35 sans-serif; max-height: 45vh;
                       overflow-y: auto; max-width: 18rem; }
          .cm-legend h4 { margin: 0 0 4px; font-size: 13px; }
          .cm-legend .cm-layer-name { font-weight: bold; margin-top: 4px; }
          .cm-legend .cm-swatch { display: inline-block; width: 14px; height: 10px; margin-right: 5px;
                                  vertical-align: middle; border: 2px solid; box-sizing: border-box; }
          .cm-legend .cm-note { color: #555; font-style: italic; }
          .cm-legend .cm-count { color: #555; }
          .leaflet-popup-content h4 { margin: 0 0 2px; }
          .leaflet-popup-content .cm-layer { margin: 0 0 4px; color: #555; }
          .leaflet-popup-content .cm-generalised { margin: 0 0 4px; font-style: italic; color: #8a4b00; }
          .cm-locate-icon { display: inline-block; width: 16px; height: 16px; margin-top: 7px;
                            background: url({{ this.locate_icon }}) no-repeat center; }
          .leaflet-popup-content th { text-align: left; padding-right: 8px; vertical-align: top; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "bottomright"});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", "cm-legend leaflet-control");
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.html = html
        self.locate_icon = LOCATE_ICON


class SearchControl(JSCSSMixin, MacroElement):
    """Search by name over the features drawn in the page (leaflet-search)."""

    default_js = Search.default_js
    default_css = Search.default_css
    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new L.Control.Search({
            layer: L.layerGroup([{{ this.layer_names|join(", ") }}]),
            propertyName: "_title", initial: false, marker: false, collapsed: true, zoom: 16,
            textPlaceholder: {{ this.placeholder|tojson }}, textErr: {{ this.not_found|tojson }}
        });
        {{ this.get_name() }}.on("search:locationfound", function (e) {
            if (e.layer.getBounds) { {{ this._parent.get_name() }}.fitBounds(e.layer.getBounds(), {maxZoom: 17}); }
            window.commonsmap.show(e.layer);
        });
        {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, layers: list[folium.GeoJson], placeholder: str, not_found: str) -> None:
        super().__init__()
        self._name = "SearchControl"
        self.layer_names = [layer.get_name() for layer in layers]
        self.placeholder = placeholder
        self.not_found = not_found


class VectorTiles(JSCSSMixin, MacroElement):
    """A layer drawn from the API's vector tiles, styled by category, with popups on click."""

    default_js = VectorGridProtobuf.default_js
    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var styles = {{ this.styles|tojson }}, fallback = {{ this.fallback|tojson }};
            var category = {{ this.category|tojson }}, title = {{ this.title|tojson }};
            var fields = {{ this.fields|tojson }}, values = {{ this.values|tojson }};
            var layerTitle = {{ this.layer_title|tojson }};
            function text(value) {
                var span = document.createElement("span"); span.textContent = String(value); return span.innerHTML;
            }
            var options = {{ this.options|tojson }};
            options.rendererFactory = L.svg.tile;
            options.vectorTileLayerStyles = {};
            options.vectorTileLayerStyles[{{ this.layer|tojson }}] = function (properties) {
                var s = category ? styles[properties[category]] : null;
                var out = Object.assign({}, s || fallback); out.fill = true; return out;
            };
            var layer = L.vectorGrid.protobuf({{ this.url|tojson }}, options);
            layer.on("click", function (e) {
                var p = e.layer.properties || {}, rows = "";
                fields.forEach(function (f) {
                    var v = p[f[0]];
                    if (v === undefined || v === null || v === "") { return; }
                    var shown = (values[f[0]] && values[f[0]][v]) || v;
                    rows += "<tr><th>" + text(f[1]) + "</th><td>" + text(shown) + "</td></tr>";
                });
                var head = p[title] ? "<h4>" + text(p[title]) + "</h4><p class='cm-layer'>" + text(layerTitle) + "</p>"
                                    : "<h4>" + text(layerTitle) + "</h4>";
                L.popup().setLatLng(e.latlng).setContent(head + "<table>" + rows + "</table>")
                    .openOn({{ this._parent.get_name() }});
            });
            return layer;
        })();
        {% endmacro %}
    """)

    def __init__(self, url: str, layer: str, *, layer_title: str, styles: dict[str, dict[str, Any]],
                 fallback: dict[str, Any], category: str | None, title: str | None,
                 fields: list[tuple[str, str]], values: dict[str, dict[str, str]], min_zoom: int) -> None:
        super().__init__()
        self._name = "VectorTiles"
        self.url, self.layer, self.layer_title = url, layer, layer_title
        self.styles, self.fallback, self.category, self.title = styles, fallback, category, title
        self.fields, self.values = fields, values
        self.options = {"interactive": True, "minZoom": min_zoom, "maxNativeZoom": 22, "maxZoom": 22}


class ZoomSwitch(MacroElement):
    """Show a layer's picture below ``detail_zoom`` and its detail (tiles) from there on."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, group = {{ this.group.get_name() }};
            var overview = {{ this.overview.get_name() }};
            var detail = {{ this.detail.get_name() if this.detail else "null" }};
            function sync() {
                var deep = map.getZoom() >= {{ this.detail_zoom }};
                if (detail && deep) { group.removeLayer(overview); group.addLayer(detail); }
                else { if (detail) { group.removeLayer(detail); } group.addLayer(overview); }
            }
            map.on("zoomend", sync); sync();
        })();
        {% endmacro %}
    """)

    def __init__(self, group: folium.FeatureGroup, overview: MacroElement | folium.raster_layers.ImageOverlay,
                 detail: VectorTiles | None, detail_zoom: int) -> None:
        super().__init__()
        self._name = "ZoomSwitch"
        self.group, self.overview, self.detail, self.detail_zoom = group, overview, detail, detail_zoom


class FitView(MacroElement):
    """Show ``bounds`` when the page opens, at once (an animated start would race the page's own scripts)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }}, {animate: false, padding: [8, 8]});
        {% endmacro %}
    """)

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "FitView"
        self.bounds = bounds


class Registry(MacroElement):
    """``window.commonsmap``: the map and how each layer is drawn, for scripts and tests of the page.

    ``window.commonsmap.show(feature)`` opens a feature's popup. ``window.commonsmap.ready`` is
    a promise settled once every layer shown has drawn itself
    (pictures loaded, tiles in view loaded); ``renderedAt`` is then the time since the page
    started loading, in milliseconds.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.commonsmap = {map: {{ this._parent.get_name() }}, layers: {
        {%- for name, entry in this.entries.items() %}
            {{ name|tojson }}: {mode: {{ entry.mode|tojson }}, expected: {{ entry.expected|tojson }},
                               detailZoom: {{ entry.detail_zoom|tojson }}, group: {{ entry.group.get_name() }},
                               drawn: {{ entry.drawn.get_name() if entry.drawn else "null" }}}{{ "," if not loop.last }}
        {%- endfor %}
        }};
        window.commonsmap.show = function (feature) {
            // Open a feature's popup as a click on it would (the popup is bound to its layer).
            var at = feature.getLatLng ? feature.getLatLng() : feature.getBounds().getCenter();
            feature.fire("click", {latlng: at}, true);
        };
        window.commonsmap.ready = (function () {
            function settled(layer) {
                return new Promise(function (done) {
                    if (layer instanceof L.ImageOverlay) {
                        var image = layer.getElement();
                        if (!image || image.complete) { done(); } else { image.addEventListener("load", done); }
                    } else if (layer instanceof L.GridLayer && layer.isLoading()) {
                        layer.once("load", done);
                    } else { done(); }
                });
            }
            var waits = [];
            Object.values(window.commonsmap.layers).forEach(function (entry) {
                entry.group.eachLayer(function (layer) { waits.push(settled(layer)); });
            });
            function painted() {
                return new Promise(function (done) {
                    requestAnimationFrame(function () { requestAnimationFrame(done); });
                });
            }
            return Promise.all(waits).then(painted).then(function () {
                window.commonsmap.renderedAt = performance.now();
                return window.commonsmap.renderedAt;
            });
        })();
        {% endmacro %}
    """)

    def __init__(self, entries: dict[str, Any]) -> None:
        super().__init__()
        self._name = "Registry"
        self.entries = entries
