"""Vector tiles (Mapbox Vector Tiles) of the WebMercatorQuad tile matrix set, as one viewer may see them.

A tile is built from :func:`commonsmap.features.feature_page`, the function that applies
sensitivity to every other output too, so a tile holds exactly what the viewer may see:
whole features and, where a feature may only be shown generalised, its generalised form
(opaque id, no name). Geometries are clipped to the tile (with a small buffer, so that
edges join across tiles), simplified to a tile unit and quantized to the tile's 4096 × 4096
grid, with y pointing down as MVT expects.

A tile of a layer holding more than ``max_features`` features is refused with a
:class:`~commonsmap.errors.QueryError` asking the client to zoom in; nothing is dropped
silently. A tile with no feature at all is the empty MVT: zero bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import mapbox_vector_tile
import morecantile
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from commonsmap.errors import NotFoundError, QueryError
from commonsmap.features import FeatureQuery, feature_page

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas
    from commonsmap.privacy import Viewer

TILE_MATRIX_SET = "WebMercatorQuad"
"""The one tile matrix set tiles are served in."""

MVT_TYPE = "application/vnd.mapbox-vector-tile"

EXTENT = 4096
"""Tile coordinates run from 0 to this, along each axis."""

BUFFER = 64
"""Tile units kept beyond each edge, so that strokes and fills join across neighbouring tiles."""

MERCATOR = CRS.from_epsg(3857)
_WORLD = 20037508.342789244
Bounds = tuple[float, float, float, float]


@cache
def _tms() -> morecantile.TileMatrixSet:
    return morecantile.tms.get(TILE_MATRIX_SET)


def tile_matrix_set() -> dict[str, Any]:
    """Return the WebMercatorQuad tile matrix set as its OGC TMS 2.0 JSON document.

    Returns
    -------
    dict
        ``id``, ``uri``, ``crs``, ``tileMatrices`` and the rest, JSON-ready.
    """
    document: dict[str, Any] = json.loads(_tms().model_dump_json(exclude_none=True))
    return document


def tile_matrix_set_summary() -> dict[str, str]:
    """Return the id, title, URI and CRS of the tile matrix set (for lists and tileset metadata)."""
    tms = _tms()
    return {"id": TILE_MATRIX_SET, "title": tms.title or TILE_MATRIX_SET, "uri": str(tms.uri),
            "crs": str(tms.crs.srs if hasattr(tms.crs, "srs") else tms.crs)}


def tile_bounds(z: int, x: int, y: int) -> Bounds:
    """Return the bounds of tile ``z/x/y`` in EPSG:3857 (x is the column, y the row from the top).

    Raises
    ------
    NotFoundError
        If the tile matrix does not exist or the tile lies outside it.
    """
    deepest = int(_tms().maxzoom)
    if not 0 <= z <= deepest:
        raise NotFoundError(f"{TILE_MATRIX_SET} has tile matrices 0 to {deepest}; there is no tile matrix {z}")
    size = 2**z
    if not (0 <= x < size and 0 <= y < size):
        raise NotFoundError(f"tile matrix {z} of {TILE_MATRIX_SET} has rows and columns 0 to {size - 1}; "
                            f"there is no tile at row {y}, column {x}")
    box = _tms().xy_bounds(morecantile.Tile(x, y, z))
    return float(box.left), float(box.bottom), float(box.right), float(box.top)


@cache
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(source), CRS.from_user_input(target), always_xy=True)


def _reproject(geometries: np.ndarray, transformer: Transformer) -> np.ndarray:
    return shapely.transform(geometries, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _flat_parts(geometry: Any) -> list[Any]:
    parts, singles = [geometry], []
    while parts:
        part = parts.pop()
        if part.is_empty:
            continue
        if shapely.get_type_id(part) >= 4:  # multi-part or collection
            parts.extend(shapely.get_parts(part))
        else:
            singles.append(part)
    return singles


_MULTI = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}


def _encodable(original: Any, clipped: Any) -> list[Any]:
    """The clipped geometry as MVT can take it: one geometry per dimension the original had."""
    if clipped.is_empty:
        return []
    if clipped.geom_type != "GeometryCollection":
        return [clipped]
    wanted = {int(shapely.get_dimensions(p)) for p in _flat_parts(original)}
    parts = _flat_parts(clipped)
    return [_MULTI[dim]([p for p in parts if shapely.get_dimensions(p) == dim]) for dim in sorted(wanted)
            if any(shapely.get_dimensions(p) == dim for p in parts)]


def mvt_value(value: Any) -> str | int | float | bool | None:
    """Return a property value as MVT can hold it (lists and objects as JSON text); None to leave it out."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _properties(record: dict[str, Any], popup: Sequence[str], generalised: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {"id": str(record["id"])}
    for name in popup:
        value = mvt_value(record.get(name))
        if value is not None and name != "id":
            properties[name] = value
    if generalised:
        properties["generalised"] = True
    return properties


def _on_tile_grid(geometries: np.ndarray, bounds: Bounds) -> np.ndarray:
    """EPSG:3857 geometries on the tile's grid, ready for the encoder.

    In tile units with y up (the encoder turns y down), clipped to the buffered tile,
    simplified to a unit, snapped to whole units (kept valid) and oriented as MVT asks.
    """
    left, bottom, right, top = bounds
    origin, scale = np.array([left, bottom]), np.array([EXTENT / (right - left), EXTENT / (top - bottom)])
    shapes = shapely.transform(geometries, lambda xy: (xy - origin) * scale)
    shapes = shapely.clip_by_rect(shapes, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    shapes = shapely.set_precision(shapely.simplify(shapes, 1.0, preserve_topology=True), 1.0)
    # exteriors clockwise with y up: clockwise still once the encoder turns y down, as MVT wants
    oriented: np.ndarray = shapely.orient_polygons(shapes, exterior_cw=True)
    return oriented


def _storage_box(buffered: Bounds, crs: CRS) -> Bounds | None:
    """The box of the atlas CRS holding the (buffered) tile; None where the tile leaves the CRS's area of use.

    Outside its area of use a projection can fold, and the box of a tile's edges is no longer
    the box of the tile.
    """
    west, south, east, north = _transformer(MERCATOR.to_wkt(), "EPSG:4326").transform_bounds(*buffered)
    area = crs.area_of_use
    if not crs.is_geographic and (area is None or west < area.west or east > area.east or south < area.south
                                  or north > area.north):
        return None
    try:
        box = _transformer(MERCATOR.to_wkt(), crs.to_wkt()).transform_bounds(*buffered, densify_pts=21)
    except ProjError:
        return None
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3])) if all(map(math.isfinite, box)) else None


def _layer_features(atlas: Atlas, layer: str, bounds: Bounds, viewer: Viewer, tile: str, max_features: int,
                    timeout: float | None) -> list[dict[str, Any]]:
    spec = atlas.spec(layer)
    if not spec.is_spatial:
        raise QueryError(f"layer {layer!r} has no geometries to tile")
    margin = (bounds[2] - bounds[0]) * BUFFER / EXTENT
    buffered = (max(bounds[0] - margin, -_WORLD), max(bounds[1] - margin, -_WORLD),
                min(bounds[2] + margin, _WORLD), min(bounds[3] + margin, _WORLD))
    box = _storage_box(buffered, atlas.crs)
    limit = None if box is None else max_features + 1  # without a box, features are counted once clipped
    page = feature_page(atlas, layer, FeatureQuery(bbox=box, limit=limit, timeout=timeout), viewer)
    too_many = QueryError(f"tile {tile} holds more than {max_features} features of {layer!r}: zoom in "
                          f"(ask for a tile of a deeper tile matrix)")
    if len(page) > max_features and box is not None:
        raise too_many
    present = [i for i, g in enumerate(page.geometries) if g is not None and not g.is_empty]
    if not present:
        return []
    originals = np.asarray([page.geometries[i] for i in present], dtype=object)
    # clipped in the atlas CRS first, so that no pole reaches the projection
    shapes = originals if box is None else shapely.clip_by_rect(originals, *box)
    shapes = _reproject(shapes, _transformer(atlas.crs.to_wkt(), MERCATOR.to_wkt()))
    shapes[~np.isfinite(shapely.bounds(shapes)).all(axis=1)] = shapely.Point()
    shapes = _on_tile_grid(shapes, bounds)
    if np.count_nonzero(~shapely.is_empty(shapes)) > max_features:
        raise too_many
    features = []
    for index, original, shape in zip(present, originals, shapes, strict=True):
        properties = _properties(page.records[index], spec.popup, page.generalised[index])
        features += [{"geometry": part, "properties": properties} for part in _encodable(original, shape)]
    return features


def vector_tile(atlas: Atlas, layers: Sequence[str], z: int, x: int, y: int, viewer: Viewer, *,
                max_features: int = 20000, timeout: float | None = None) -> bytes:
    """Build one Mapbox Vector Tile of the WebMercatorQuad tile matrix set, as ``viewer`` may see it.

    Parameters
    ----------
    atlas : Atlas
        The atlas to read.
    layers : sequence of str
        Spatial layers to put in the tile; each becomes an MVT layer of the same name.
    z, x, y : int
        Tile matrix (zoom), column and row (counted from the top, north).
    viewer : Viewer
        Who is looking; the tile holds only what it may see (generalised features in
        generalised form, with ``generalised: true``).
    max_features : int, default 20000
        The most features of one layer a tile may hold; more is refused, not thinned.
    timeout : float, optional
        Seconds each read may take.

    Returns
    -------
    bytes
        The encoded tile (extent 4096): each feature with its layer's ``popup`` properties
        and ``id`` (a geometry collection becomes one feature per dimension, sharing the
        id). Layers without features are left out; a tile without any feature is zero
        bytes (the empty MVT).

    Raises
    ------
    NotFoundError
        If the tile lies outside the tile matrix set.
    QueryError
        If a layer has more than ``max_features`` features in the tile (zoom in), or no geometry.
    """
    bounds = tile_bounds(z, x, y)
    encoded = []
    for layer in dict.fromkeys(layers):
        features = _layer_features(atlas, layer, bounds, viewer, f"{z}/{y}/{x}", max_features, timeout)
        if features:
            encoded.append({"name": layer, "features": features})
    if not encoded:
        return b""
    # already on the tile grid, valid and oriented (in numpy: much faster than the encoder's own passes)
    options = {"extents": EXTENT, "y_coord_down": False, "check_winding_order": False}
    tile: bytes = mapbox_vector_tile.encode(encoded, default_options=options)
    return tile
