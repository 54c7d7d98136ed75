"""A layer too large to inline, drawn as one picture: a palette PNG in Web Mercator.

The picture is what a page shows of a layer of a million parcels at the scales where single
features are too small to tell apart. It is drawn from the features the viewer may see,
so it shows nothing the viewer may not.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from rasterio.features import rasterize
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds

from commonsmap.catalogue import LayerSpec
from commonsmap.maps.styles import feature_style, rgba_tuple

MERCATOR_LATITUDE = 85.05112878
"""Web Mercator stops at this latitude."""

MAX_PIXELS = 1600
"""Longest side of a layer's picture, in pixels."""

SMALL_PIXELS = 3
"""A feature whose bounding box spans fewer pixels than this each way is drawn as those pixels."""

STROKE = 128
"""Palette index of the first stroke colour (fills start at 1; 0 is transparent)."""


@dataclass(frozen=True)
class Picture:
    """A PNG and where it lies: ``bounds`` as ``[[south, west], [north, east]]`` in degrees."""

    png: bytes
    bounds: list[list[float]]
    width: int
    height: int


def _palette(spec: LayerSpec, categories: list[str | None]) -> dict[int, tuple[int, int, int, int]]:
    palette = {0: (0, 0, 0, 0)}
    for index, category in enumerate(categories, start=1):
        options = feature_style(spec, category)
        opacity = float(options["fillOpacity"])
        palette[index] = rgba_tuple(options["fillColor"], max(opacity, 0.35) if opacity > 0 else 0.0)
        palette[STROKE + index] = rgba_tuple(options["color"], 1.0)
    return palette


def _size(box: tuple[float, float, float, float], max_pixels: int) -> tuple[int, int]:
    width, height = box[2] - box[0], box[3] - box[1]
    longest = max(width, height, 1e-9)
    return max(1, round(max_pixels * width / longest)), max(1, round(max_pixels * height / longest))


def picture(frame: gpd.GeoDataFrame, spec: LayerSpec, *, max_pixels: int = MAX_PIXELS) -> Picture | None:
    """Draw a layer's features as one picture in their catalogue colours.

    Parameters
    ----------
    frame : GeoDataFrame
        The features, as the viewer may see them, in any CRS.
    spec : LayerSpec
        The layer, for its style (and the category colours of its ``category_field``).
    max_pixels : int
        Longest side of the picture.

    Returns
    -------
    Picture or None
        None when there is nothing to draw.
    """
    frame = frame[~(frame.geometry.is_empty | frame.geometry.isna())]
    if frame.empty:
        return None
    lonlat = frame.geometry.to_crs("EPSG:4326")
    south, north = lonlat.total_bounds[[1, 3]]
    shapes_ll = lonlat.to_numpy()
    if south < -MERCATOR_LATITUDE or north > MERCATOR_LATITUDE:
        shapes_ll = shapely.clip_by_rect(shapes_ll, -180.0, -MERCATOR_LATITUDE, 180.0, MERCATOR_LATITUDE)
    geometries = gpd.GeoSeries(shapes_ll, crs="EPSG:4326").to_crs("EPSG:3857")
    drawable = ~geometries.is_empty.to_numpy()
    geometries = geometries[drawable]
    if geometries.empty:
        return None
    field = spec.style.category_field
    raw = frame[field].to_numpy()[drawable] if field and field in frame else np.full(len(geometries), None)
    values = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in raw]
    categories = [*sorted({v for v in values if v is not None})[:STROKE - 2], None]
    index = {c: i for i, c in enumerate(categories, start=1)}
    codes = np.array([index.get(v, len(categories)) for v in values], dtype=np.uint8)

    box = tuple(float(v) for v in geometries.total_bounds)
    width, height = _size(box, max_pixels)  # type: ignore[arg-type]
    shapes = geometries.to_numpy()
    rows, cols = _pixel_spans(shapely.bounds(shapes), box, width, height)
    small = (rows[:, 1] - rows[:, 0] < SMALL_PIXELS) & (cols[:, 1] - cols[:, 0] < SMALL_PIXELS)
    image = _large_features(shapes[~small], codes[~small], box, width, height)
    _dot(image, rows[small], cols[small], codes[small] + STROKE)
    with MemoryFile() as memory:
        with memory.open(driver="PNG", width=width, height=height, count=1, dtype="uint8",
                         transform=from_bounds(*box, width, height), crs="EPSG:3857") as png:
            png.write(image, 1)
            png.write_colormap(1, _palette(spec, categories))
        data = memory.read()
    west, south = _lonlat(box[0], box[1])
    east, north = _lonlat(box[2], box[3])
    return Picture(data, [[south, west], [north, east]], width, height)


def _pixel_spans(bounds: np.ndarray, box: tuple[float, ...], width: int, height: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """First and last pixel row and column each feature's bounding box touches."""
    size_x, size_y = (box[2] - box[0]) / width, (box[3] - box[1]) / height
    cols = np.floor((bounds[:, [0, 2]] - box[0]) / size_x).astype(np.int64).clip(0, width - 1)
    rows = np.floor((box[3] - bounds[:, [3, 1]]) / size_y).astype(np.int64).clip(0, height - 1)
    return rows, cols


def _dot(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, codes: np.ndarray) -> None:
    """Paint the few pixels of each small feature's bounding box (vectorised: no shape per feature)."""
    for down in range(SMALL_PIXELS):
        for right in range(SMALL_PIXELS):
            inside = (rows[:, 0] + down <= rows[:, 1]) & (cols[:, 0] + right <= cols[:, 1])
            image[rows[inside, 0] + down, cols[inside, 0] + right] = codes[inside]


def _large_features(shapes: np.ndarray, codes: np.ndarray, box: tuple[float, ...], width: int, height: int
                    ) -> np.ndarray:
    """Draw features spanning several pixels: areas filled and outlined, lines and points drawn."""
    image = np.zeros((height, width), dtype=np.uint8)
    if len(shapes) == 0:
        return image
    transform = from_bounds(*box, width, height)
    areas = shapely.get_dimensions(shapes) == 2
    if areas.any():
        image = rasterize(zip(shapes[areas], codes[areas], strict=True), out_shape=(height, width),
                          transform=transform, fill=0, dtype="uint8")
    edges = np.where(areas, shapely.boundary(shapes), shapes)
    edge_image = rasterize(zip(edges, codes + STROKE, strict=True), out_shape=(height, width),
                           transform=transform, fill=0, all_touched=True, dtype="uint8")
    if areas.all():  # outlines stay within the fills, so that small areas keep their fill colour
        edge_image[image == 0] = 0
    return np.where(edge_image > 0, edge_image, image).astype(np.uint8)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    radius = 6378137.0
    return float(np.degrees(x / radius)), float(np.degrees(2 * np.arctan(np.exp(y / radius)) - np.pi / 2))
