"""GeoPackage geometry blobs (OGC 12-128r18, section 2.1.3) to and from shapely.

A blob is a small header (magic ``GP``, version, flags, srs id, optional envelope) followed
by standard WKB. Encoding is vectorised with numpy; decoding reads the flags to skip the
envelope. Also the ``ST_*`` SQL functions the GeoPackage R-tree triggers call, so that a
plain :mod:`sqlite3` connection can write to a GeoPackage that GDAL created.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable, Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

_HEADER = np.dtype([("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs_id", "<i4"),
                    ("minx", "<f8"), ("maxx", "<f8"), ("miny", "<f8"), ("maxy", "<f8")])
_LITTLE_ENDIAN_XY_ENVELOPE = 0b0000_0011
_EMPTY_FLAG = 0b0001_0000
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode(geometries: Sequence[shapely.Geometry | None] | NDArray[np.object_], srs_id: int) -> list[
        bytes | None]:
    """Encode shapely geometries as GeoPackage blobs with an XY envelope.

    Parameters
    ----------
    geometries : array-like of shapely geometries or None
        Two-dimensional, non-empty geometries (None stays None).
    srs_id : int
        The ``gpkg_spatial_ref_sys`` id written in each header.

    Returns
    -------
    list of bytes or None
    """
    geoms = np.asarray(geometries, dtype=object)
    wkb = shapely.to_wkb(geoms, byte_order=1, output_dimension=2, flavor="iso")
    bounds = shapely.bounds(geoms)
    header = np.zeros(len(geoms), dtype=_HEADER)
    header["magic"] = b"GP"
    header["flags"] = _LITTLE_ENDIAN_XY_ENVELOPE
    header["srs_id"] = srs_id
    header["minx"], header["miny"] = bounds[:, 0], bounds[:, 1]
    header["maxx"], header["maxy"] = bounds[:, 2], bounds[:, 3]
    raw = header.tobytes()
    size = _HEADER.itemsize
    return [None if w is None else raw[i * size:(i + 1) * size] + w for i, w in enumerate(wkb)]


def wkb_offset(blob: bytes) -> int:
    """Where the WKB starts in a GeoPackage blob (after its header and envelope)."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    return 8 + _ENVELOPE_BYTES[(blob[3] >> 1) & 0b111]


def decode(blobs: Sequence[bytes | None]) -> NDArray[np.object_]:
    """Decode GeoPackage blobs into an array of shapely geometries (None for NULL)."""
    wkb = [None if b is None else bytes(b[wkb_offset(b):]) for b in blobs]
    return np.asarray(shapely.from_wkb(np.asarray(wkb, dtype=object)), dtype=object)


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """Return (minx, maxx, miny, maxy) from the header, or from the geometry itself."""
    if blob is None or blob[3] & _EMPTY_FLAG:
        return None
    if (blob[3] >> 1) & 0b111:
        order = "<" if blob[3] & 1 else ">"
        minx, maxx, miny, maxy = struct.unpack_from(order + "4d", blob, 8)
        return minx, maxx, miny, maxy
    geom = shapely.from_wkb(bytes(blob[wkb_offset(blob):]))
    if geom.is_empty:
        return None
    x0, y0, x1, y1 = geom.bounds
    return x0, x1, y0, y1


def _part(index: int) -> Callable[[bytes | None], float | None]:
    def value(blob: bytes | None) -> float | None:
        envelope = _envelope(blob)
        return None if envelope is None else envelope[index]
    return value


def _is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return 1 if _envelope(blob) is None else 0


def register_functions(connection: sqlite3.Connection) -> None:
    """Register the ``ST_*`` functions that GDAL's R-tree triggers call."""
    connection.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for index, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        connection.create_function(name, 1, _part(index), deterministic=True)
