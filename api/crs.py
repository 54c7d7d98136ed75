"""Coordinates in and out: the API speaks CRS84 (longitude, latitude), the atlas its own CRS."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

WGS84 = CRS.from_epsg(4326)


class CrsBridge:
    """Moves a bbox from CRS84 into the atlas CRS and geometries back (nothing to do for EPSG:4326)."""

    def __init__(self, atlas_crs: CRS) -> None:
        self.identity = bool(atlas_crs.equals(WGS84, ignore_axis_order=True))
        self._to_storage = None if self.identity else Transformer.from_crs(WGS84, atlas_crs, always_xy=True)
        self._to_crs84 = None if self.identity else Transformer.from_crs(atlas_crs, WGS84, always_xy=True)

    def bbox_to_storage(self, bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """A CRS84 bbox as the smallest box of the atlas CRS that holds it."""
        if self._to_storage is None:
            return bbox
        return tuple(self._to_storage.transform_bounds(*bbox, densify_pts=21))  # type: ignore[return-value]

    def to_crs84(self, geometries: list[Any]) -> list[Any]:
        """Geometries from the atlas CRS to CRS84."""
        return _moved(geometries, self._to_crs84)

    def to_storage(self, geometries: list[Any]) -> list[Any]:
        """Geometries from CRS84 to the atlas CRS."""
        return _moved(geometries, self._to_storage)

    def bounds_crs84(self, bounds: tuple[float, float, float, float]) -> list[float]:
        """A bbox of the atlas CRS in CRS84."""
        if self._to_crs84 is None:
            return [float(b) for b in bounds]
        return [float(b) for b in self._to_crs84.transform_bounds(*bounds, densify_pts=21)]


def _moved(geometries: list[Any], transformer: Transformer | None) -> list[Any]:
    """Geometries (None kept) through a transformer; as they are without one."""
    if transformer is None or not geometries:
        return geometries
    array = np.asarray(geometries, dtype=object)
    return list(shapely.transform(array, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))))
