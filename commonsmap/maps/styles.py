"""Leaflet path styles and legend entries, from the catalogue's ``[style]`` of each layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commonsmap.catalogue import LayerSpec


def feature_style(spec: LayerSpec, category: str | None = None) -> dict[str, Any]:
    """Return the Leaflet path options of a feature of ``spec`` in ``category``.

    A layer with a ``category_field`` fills each feature with the colour of its category
    (the layer's colour for a category without one).
    """
    style = spec.style
    own = style.category_colors.get(category) if category is not None else None
    options: dict[str, Any] = {"color": own or style.color, "weight": style.weight,
                               "fillColor": own or style.fill_color or style.color,
                               "fillOpacity": style.fill_opacity, "opacity": 1.0}
    if style.dash_array:
        options["dashArray"] = style.dash_array
    return options


def rgba_tuple(colour: str, alpha: float) -> tuple[int, int, int, int]:
    """Return a ``#rrggbb`` (or ``#rgb``) colour with an opacity as 0–255 integers."""
    text = colour.lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16), round(255 * min(max(alpha, 0.0), 1.0))


def css_rgba(colour: str, alpha: float) -> str:
    """Return a colour with an opacity as CSS ``rgba(…)``."""
    red, green, blue, _ = rgba_tuple(colour, alpha)
    return f"rgba({red}, {green}, {blue}, {min(max(alpha, 0.0), 1.0):.2f})"


def point_radius(spec: LayerSpec) -> float:
    """Radius in pixels of the circles a point layer is drawn with."""
    return spec.style.radius


@dataclass(frozen=True)
class LegendEntry:
    """One swatch of the legend: a colour, a label and, optionally, how many features it stands for."""

    label: str
    color: str
    fill: str
    fill_opacity: float
    dash_array: str | None = None
    count: int | None = None


def legend_entries(spec: LayerSpec, counts: dict[str, int], lang: str) -> list[LegendEntry]:
    """Return the swatches of a layer: one per category present (``counts``), or one for the layer."""
    style = spec.style
    if not style.category_field:
        return []
    field = spec.field(style.category_field)
    vocab = field.vocab
    labels = vocab.labels(lang) if vocab is not None else {}
    entries = []
    for category, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        options = feature_style(spec, category)
        entries.append(LegendEntry(labels.get(category, category), options["color"], options["fillColor"],
                                   max(float(options["fillOpacity"]), 0.35), style.dash_array, count))
    return entries


def layer_swatch(spec: LayerSpec, label: str, count: int | None) -> LegendEntry:
    """The swatch of a whole layer, in its own colours."""
    options = feature_style(spec)
    return LegendEntry(label, options["color"], options["fillColor"], float(options["fillOpacity"]),
                       spec.style.dash_array, count)
