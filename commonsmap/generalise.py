"""Generalised geometries: what a viewer below a feature's level may see of where it is.

Two forms, both deterministic so that repeated queries reveal nothing more than one query
(random jitter would average out): the cells of a coarse grid covering the feature's extent,
and the smallest administrative unit that encloses the feature. Both always contain the true
geometry.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from commonsmap.catalogue import LayerSpec
from commonsmap.privacy import GENERALISED_COLUMN, opaque_id

DEFAULT_CELL_DEGREES = 0.1
"""Grid cell size for atlases in geographic coordinates (about 11 km at the equator)."""

DEFAULT_CELL_METRES = 10_000.0
"""Grid cell size for atlases in projected coordinates."""

KEPT_FIELDS = ("sensitivity", "publish_as", "dataset")
"""System fields a generalised feature keeps (with its layer's ``public_fields``)."""


def default_cell_size(crs: CRS) -> float:
    """The grid cell size for an atlas CRS: 0.1 degree, or 10 km in projected units."""
    if crs.is_geographic:
        return DEFAULT_CELL_DEGREES
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return DEFAULT_CELL_METRES / (factor or 1.0)


def grid_cells(geometries: gpd.GeoSeries, size: float) -> np.ndarray:
    """Return, for each geometry, the box of whole grid cells that covers its extent.

    The grid has its origin at 0, 0 in the geometries' CRS and square cells of ``size``. A
    point gets its own cell; a polygon the rectangle of every cell its bounds touch.
    """
    if size <= 0:
        raise ValueError("the grid cell size must be positive")
    bounds = shapely.bounds(np.asarray(geometries.values, dtype=object))
    low = np.floor(bounds[:, :2] / size)
    high = np.maximum(np.ceil(bounds[:, 2:] / size), low + 1)
    edges = np.round(np.hstack([low, high]) * size, 9)  # clean grid coordinates; containment checked below
    boxes = shapely.box(edges[:, 0], edges[:, 1], edges[:, 2], edges[:, 3])
    # rounding can leave a coordinate a hair outside: widen those boxes by one cell
    short = ~shapely.covers(boxes, np.asarray(geometries.values, dtype=object))
    if short.any():
        boxes[short] = shapely.box((low[short, 0] - 1) * size, (low[short, 1] - 1) * size,
                                   (high[short, 0] + 1) * size, (high[short, 1] + 1) * size)
    return boxes


def enclosing_units(geometries: gpd.GeoSeries, units: gpd.GeoDataFrame, size: float) -> np.ndarray:
    """Return, for each geometry, the smallest administrative unit that covers it.

    Where no single unit covers a geometry, the union of the units it touches is used if that
    covers it, and its grid cells (see :func:`grid_cells`) otherwise.
    """
    geoms = np.asarray(geometries.values, dtype=object)
    result = grid_cells(geometries, size)
    shapes = np.asarray(units.to_crs(geometries.crs).geometry.values, dtype=object) if len(units) else np.array([])
    if not len(shapes):
        return result
    tree = shapely.STRtree(shapes)
    pairs = tree.query(geoms, predicate="intersects")
    areas = shapely.area(shapes)
    for row in range(len(geoms)):
        candidates = pairs[1][pairs[0] == row]
        if not len(candidates):
            continue
        covering = [c for c in candidates if shapely.covers(shapes[c], geoms[row])]
        if covering:
            result[row] = shapes[min(covering, key=lambda c: (areas[c], c))]
            continue
        union = shapely.union_all(shapes[np.sort(candidates)])
        if shapely.covers(union, geoms[row]):
            result[row] = union
    return result


def _emptied(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column of missing values of the column's own type (so frames concatenate cleanly)."""
    return frame[name].iloc[0:0].reindex(range(len(frame)))


def generalise(frame: gpd.GeoDataFrame, spec: LayerSpec, *, cell_size: float, key: str,
               admin_units: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Return the generalised form of ``frame``'s rows, as viewers below their level see them.

    Each row keeps a stable opaque id, its sensitivity, ``publish_as``, dataset and the
    layer's ``public_fields``; every other attribute is emptied. The geometry becomes the grid
    cells or the enclosing administrative unit, as the row's ``publish_as`` asks.

    Parameters
    ----------
    frame : GeoDataFrame
        Rows of layer ``spec`` marked ``publish_as`` ``grid_cell`` or ``admin_unit``.
    spec : LayerSpec
        Their layer.
    cell_size : float
        Grid cell size, in the units of the frame's CRS.
    key : str
        The atlas's secret key for opaque ids (see :func:`commonsmap.privacy.opaque_id`).
    admin_units : GeoDataFrame, optional
        The administrative units a viewer may see; without them ``admin_unit`` falls back to grid cells.
    """
    kept = {*KEPT_FIELDS, *spec.public_fields}
    rows = frame.reset_index(drop=True)
    out = pd.DataFrame({name: rows[name] if name in kept else _emptied(rows, name)
                        for name in spec.field_names if name in rows.columns})
    out["id"] = [opaque_id(spec.name, i, key) for i in frame["id"]]
    out[GENERALISED_COLUMN] = True
    if not spec.is_spatial or not isinstance(frame, gpd.GeoDataFrame):
        return out
    geoms = frame.geometry.reset_index(drop=True)
    present = geoms.notna().to_numpy() & ~geoms.is_empty.to_numpy()
    shapes = np.full(len(frame), None, dtype=object)
    if present.any():
        by_unit = (frame["publish_as"].to_numpy(dtype=object) == "admin_unit") & present
        by_cell = present & ~by_unit
        if by_cell.any():
            shapes[by_cell] = grid_cells(geoms[by_cell], cell_size)
        if by_unit.any():
            units = admin_units if admin_units is not None else gpd.GeoDataFrame(geometry=[], crs=frame.crs)
            shapes[by_unit] = enclosing_units(geoms[by_unit], units, cell_size)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(shapes, crs=frame.crs), crs=frame.crs)
