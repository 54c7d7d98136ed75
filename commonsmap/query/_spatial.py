"""Spatial predicates: geometry literals, their SQL (R-tree prefilter plus exact test), the SQL functions."""

from __future__ import annotations

import functools
import math
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

import shapely
import shapely.geometry
from pygeofilter import values
from shapely.errors import GEOSException

from commonsmap.atlas.gpkg_blob import wkb_offset
from commonsmap.atlas.gpkg_schema import quote
from commonsmap.errors import QueryError

FID_COLUMN = "fid"
"""The integer primary key of a GeoPackage feature table, which its R-tree's ``id`` refers to."""

RELATIONS = ("intersects", "disjoint", "within", "contains")
"""Spatial relations filters may test: the feature's geometry first, the literal second."""

_FUNCTIONS = {"intersects": "cm_intersects", "within": "cm_within", "contains": "cm_contains"}
_LONLAT_CRS = re.compile(r"(EPSG:*4326|CRS84)$", re.IGNORECASE)


def bbox_geometry(numbers: Sequence[Any], crs: str | None = None) -> shapely.Geometry:
    """Return the polygon of a bounding box ``[minx, miny, maxx, maxy]`` (or the 6 numbers of a 3D box).

    A box whose west edge lies east of its east edge crosses the antimeridian and becomes two boxes.
    """
    if crs is not None and not _LONLAT_CRS.search(str(crs)):
        raise QueryError(f"bounding boxes in CRS {crs!r} are not supported; give lon/lat (CRS84) coordinates")
    if len(numbers) not in (4, 6) or not all(isinstance(n, int | float) and not isinstance(n, bool)
                                             for n in numbers):
        raise QueryError(f"a bounding box is 4 numbers (minx, miny, maxx, maxy) or 6 for 3D; got {list(numbers)!r}")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = (float(n) for n in numbers)
    if not all(map(math.isfinite, (minx, miny, maxx, maxy))) or miny > maxy:
        raise QueryError(f"the bounding box {list(numbers)!r} is not valid: its south edge must not be north of "
                         "its north edge")
    if minx <= maxx:
        return shapely.box(minx, miny, maxx, maxy)
    if -180 <= maxx < minx <= 180:
        return shapely.MultiPolygon([shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)])
    raise QueryError(f"the bounding box {list(numbers)!r} has its west edge east of its east edge")


def geometry_literal(value: Any) -> shapely.Geometry | None:
    """Return a pygeofilter geometry or envelope value as a checked shapely geometry; None if it is neither."""
    if isinstance(value, values.Envelope):
        return bbox_geometry([value.x1, value.y1, value.x2, value.y2])
    if isinstance(value, shapely.Geometry):
        return value
    if not isinstance(value, values.Geometry):
        return None
    mapping = dict(value.geometry)
    if mapping.pop("crs", None) is not None:
        raise QueryError("geometry literals with their own CRS (SRID=...) are not supported; give coordinates "
                         "in the layer's CRS")
    try:
        geometry = shapely.force_2d(shapely.geometry.shape(mapping))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, GEOSException) as exc:
        raise QueryError(f"the geometry literal is not valid: {exc}") from None
    return check_geometry(geometry)


def check_geometry(geometry: shapely.Geometry) -> shapely.Geometry:
    """Refuse empty geometries and non-finite coordinates; repair invalid ones."""
    if geometry.is_empty:
        raise QueryError("the geometry literal is empty")
    if not all(map(math.isfinite, shapely.bounds(geometry))):
        raise QueryError("the geometry literal has coordinates that are not finite numbers")
    return geometry if geometry.is_valid else shapely.make_valid(geometry)


def spatial_sql(relation: str, column: str, geometry: shapely.Geometry, rtree: str | None,
                params: list[Any]) -> str:
    """Return SQL testing a feature geometry column against a literal, appending its parameters.

    The R-tree ``rtree`` (when given) keeps only features whose bounding box meets the literal's;
    the exact test is one of the functions :func:`register_sql_functions` adds.
    """
    function = _FUNCTIONS["intersects" if relation == "disjoint" else relation]
    minx, miny, maxx, maxy = (float(b) for b in shapely.bounds(geometry))
    parts = []
    if rtree is not None:
        parts.append(f"{quote(FID_COLUMN)} IN (SELECT id FROM {quote(rtree)} "
                     "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)")
        params.extend((minx, maxx, miny, maxy))
    parts.append(f"{function}({quote(column)}, ?)")
    params.append(shapely.to_wkb(geometry, byte_order=1, output_dimension=2))
    test = "(" + " AND ".join(parts) + ")"
    return f"({quote(column)} IS NOT NULL AND NOT {test})" if relation == "disjoint" else test


@functools.lru_cache(maxsize=64)
def _prepared(wkb: bytes, thread: int) -> shapely.Geometry:
    """Parse and prepare a literal once per query (and per thread: prepared geometries are not shared)."""
    geometry = shapely.from_wkb(wkb)
    shapely.prepare(geometry)
    return geometry


def _predicate(test: Callable[[shapely.Geometry, shapely.Geometry], Any]) -> Callable[[Any, Any], int | None]:
    def function(blob: Any, wkb: Any) -> int | None:
        if blob is None or wkb is None:
            return 0
        try:
            data = bytes(blob)
            feature = shapely.from_wkb(data[wkb_offset(data):])
            literal = _prepared(bytes(wkb), threading.get_ident())
            return int(bool(test(literal, feature)))
        except (ValueError, KeyError, IndexError, GEOSException):
            return None  # an unreadable blob matches nothing, even under NOT
    return function


def register_sql_functions(connection: sqlite3.Connection) -> None:
    """Register the SQL functions compiled filters call.

    ``cm_intersects(blob, wkb)``, ``cm_within(blob, wkb)`` and ``cm_contains(blob, wkb)`` test a
    GeoPackage geometry blob (the feature, NULL gives 0) against a WKB literal; ``cm_casefold(text)``
    folds case for ``CASEI``.

    Parameters
    ----------
    connection : sqlite3.Connection
        The connection that will run the filters.
    """
    connection.create_function("cm_intersects", 2, _predicate(lambda lit, f: shapely.intersects(lit, f)),
                               deterministic=True)
    connection.create_function("cm_within", 2, _predicate(lambda lit, f: shapely.contains(lit, f)),
                               deterministic=True)
    connection.create_function("cm_contains", 2, _predicate(lambda lit, f: shapely.within(lit, f)),
                               deterministic=True)
    connection.create_function("cm_casefold", 1, lambda t: t.casefold() if isinstance(t, str) else t,
                               deterministic=True)
