"""Commons maps: folium maps from the layer catalogue, offline.

Examples
--------
>>> import commonsmap as cm
>>> m = cm.map(cm.open_atlas("commonsmap-demo.gpkg"), lang="es")  # doctest: +SKIP
>>> cm.maps.save_map(m, "territorio.html")  # works with no internet  # doctest: +SKIP
"""

from commonsmap.maps.build import MAX_INLINE, CommonsMap, commons_map, default_layers, features_map
from commonsmap.maps.output import map_html, save_map

__all__ = ["MAX_INLINE", "CommonsMap", "commons_map", "default_layers", "features_map", "map_html", "save_map"]
