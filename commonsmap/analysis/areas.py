"""Fast, vectorised geodesic areas on the WGS84 ellipsoid.

:func:`commonsmap.geometry.geodesic_area_ha` asks :class:`pyproj.Geod` for each geometry in turn,
which is exact but takes a Python call per geometry. :func:`fast_geodesic_area_ha` computes the
same areas with numpy over every vertex at once:

* each latitude is mapped to its *authalic* latitude, which carries the ellipsoid onto a sphere
  of the same total area (radius ``R_q``) so that every region keeps its area;
* each ring's area on that sphere is the sum, over its edges taken as great-circle arcs, of the
  signed area between the edge and the equator, ``2 atan2(tan(Δλ/2) (t₁ + t₂), 1 + t₁ t₂)``
  with ``t = tan(β/2)``;
* a polygon's area is its exterior ring's minus its holes'.

The only difference from pyproj's geodesic polygons is that an edge follows the great circle of
the authalic sphere rather than the ellipsoid's geodesic, which matters only for very long edges.
Measured against :meth:`pyproj.Geod.geometry_area_perimeter`: Amazon indigenous territories of up
to 95,000 km², the 177 countries of Natural Earth (Antarctica included: a ring around a pole is
handled), Cambodian concessions in UTM, 35 m parcels and 1 m to 20 m squares anywhere on Earth
agree to better than 3e-5 relative (usually 1e-8); a box of 40° by 38° with edges of 1° (110 km)
to 1e-7, the same box with its four 4,000 km edges left straight to 2e-4.

Longitude differences are taken the short way round (so a polygon may cross the antimeridian),
without adding and removing π, which would round a parcel's tiny differences away.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from commonsmap.errors import QueryError

_A = 6_378_137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_E = float(np.sqrt(_E2))
_WGS84_LONLAT = CRS.from_epsg(4326)
_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7
_CHUNK = 100_000


def _authalic_q(sin_lat: np.ndarray | float) -> np.ndarray:
    """The function ``q(φ)`` of the authalic latitude (Snyder 1987, eq. 3-12), from ``sin φ``."""
    e_sin = _E * np.asarray(sin_lat, dtype=float)
    return (1 - _E2) * (sin_lat / (1 - e_sin * e_sin) - np.log((1 - e_sin) / (1 + e_sin)) / (2 * _E))


_QP = float(_authalic_q(1.0))
_R2_HA = _A * _A * _QP / 2 / 10_000.0  # the authalic radius squared, in hectares per steradian


def _lonlat_transformer(crs: CRS) -> Transformer | None:
    """A transformer from ``crs`` to WGS84 longitude/latitude, or None if ``crs`` is that already."""
    if crs.equals(_WGS84_LONLAT, ignore_axis_order=True):
        return None
    return Transformer.from_crs(crs, _WGS84_LONLAT, always_xy=True)


def _only_polygons(geoms: np.ndarray) -> np.ndarray:
    """Polygons and multipolygons as they are; the polygonal part of a collection; None for the rest."""
    kinds = np.asarray(shapely.get_type_id(geoms))
    out = geoms.copy()
    out[(kinds != _POLYGON) & (kinds != _MULTIPOLYGON)] = None
    for i in np.flatnonzero(kinds == _COLLECTION):
        parts = [p for p in shapely.get_parts(shapely.get_parts(geoms[i]))
                 if shapely.get_type_id(p) == _POLYGON and not p.is_empty]
        out[i] = shapely.multipolygons(parts) if parts else None
    return out


def _ring_areas(lon: np.ndarray, lat: np.ndarray, ring_of_coord: np.ndarray, nrings: int) -> np.ndarray:
    """Area of each ring on the authalic sphere, in steradians (unsigned)."""
    lam = np.radians(lon)
    beta = np.arcsin(np.clip(_authalic_q(np.sin(np.radians(lat))) / _QP, -1.0, 1.0))
    t = np.tan(beta / 2)
    same = ring_of_coord[1:] == ring_of_coord[:-1]
    d_lam = lam[1:] - lam[:-1]
    # Across the antimeridian, the short way round (without adding π to every difference, which
    # would round a parcel's tiny differences to 4e-16 rad).
    d_lam = np.where(np.abs(d_lam) > np.pi, d_lam - np.copysign(2 * np.pi, d_lam), d_lam)
    t1, t2 = t[:-1], t[1:]
    excess = 2 * np.arctan2(np.tan(d_lam / 2) * (t1 + t2), 1 + t1 * t2)
    owner = ring_of_coord[:-1][same]
    total = np.bincount(owner, weights=excess[same], minlength=nrings)
    winding = np.bincount(owner, weights=d_lam[same], minlength=nrings)
    area = np.abs(total)
    # A ring around a pole winds once in longitude; the sum above is then measured from the equator.
    around_pole = np.abs(winding) > np.pi
    area[around_pole] = 2 * np.pi - area[around_pole]
    return area


def _lonlat(coords: np.ndarray, transformer: Transformer | None) -> tuple[np.ndarray, np.ndarray]:
    if transformer is None:
        return coords[:, 0], coords[:, 1]
    x, y = transformer.transform(coords[:, 0], coords[:, 1])
    return np.asarray(x), np.asarray(y)


def _simple_polygon_areas(geoms: np.ndarray, transformer: Transformer | None) -> np.ndarray:
    """Areas in steradians of polygons without holes: one ring each, read without ring objects."""
    lon, lat = _lonlat(shapely.get_coordinates(geoms), transformer)
    counts = shapely.get_num_coordinates(geoms)
    return _ring_areas(lon, lat, np.repeat(np.arange(len(geoms)), counts), len(geoms))


def _polygon_areas(geoms: np.ndarray, transformer: Transformer | None) -> np.ndarray:
    """Areas in steradians of non-empty polygons and multipolygons, with their holes."""
    kind, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
    if kind == shapely.GeometryType.POLYGON:
        ring_offsets, part_offsets = offsets  # each polygon is one part
        geom_offsets = np.arange(len(part_offsets))
    else:
        ring_offsets, part_offsets, geom_offsets = offsets
    lon, lat = _lonlat(coords, transformer)
    nrings = len(ring_offsets) - 1
    ring_area = _ring_areas(lon, lat, np.repeat(np.arange(nrings), np.diff(ring_offsets)), nrings)
    exterior = np.zeros(nrings, dtype=bool)
    first = part_offsets[:-1]
    exterior[first[first < nrings]] = True
    signed = np.where(exterior, ring_area, -ring_area)
    part_of_ring = np.repeat(np.arange(len(part_offsets) - 1), np.diff(part_offsets))
    geom_of_part = np.repeat(np.arange(len(geom_offsets) - 1), np.diff(geom_offsets))
    return np.maximum(np.bincount(geom_of_part[part_of_ring], weights=signed, minlength=len(geoms)), 0.0)


def _areas_of_chunk(geoms: np.ndarray, transformer: Transformer | None) -> np.ndarray:
    """Areas in hectares of polygonal (or None) geometries; coordinates in the source CRS."""
    areas = np.zeros(len(geoms))
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    simple = present & (np.asarray(shapely.get_type_id(geoms)) == _POLYGON)
    simple[simple] = np.asarray(shapely.get_num_interior_rings(geoms[simple])) == 0
    other = present & ~simple
    if simple.any():
        areas[simple] = _simple_polygon_areas(geoms[simple], transformer)
    if other.any():
        areas[other] = _polygon_areas(geoms[other], transformer)
    return areas * _R2_HA


def lonlat_area_ha(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    """Geodesic areas in hectares of an array of geometries in ``crs`` (see :func:`fast_geodesic_area_ha`).

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Any geometries; only their polygonal parts have an area.
    crs : pyproj.CRS
        Their coordinate reference system.

    Returns
    -------
    numpy.ndarray
        One area per geometry, in hectares.
    """
    geoms = _only_polygons(np.asarray(geoms, dtype=object))
    transformer = _lonlat_transformer(crs)
    if len(geoms) <= _CHUNK:
        return _areas_of_chunk(geoms, transformer)
    starts = range(0, len(geoms), _CHUNK)
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:  # shapely and numpy release the GIL
        return np.concatenate(list(pool.map(lambda start: _areas_of_chunk(geoms[start:start + _CHUNK], transformer),
                                            starts)))


def fast_geodesic_area_ha(geoms: gpd.GeoSeries) -> np.ndarray:
    """Return the geodesic area of each geometry in hectares, on the WGS84 ellipsoid, vectorised.

    Agrees with :func:`commonsmap.geometry.geodesic_area_ha` (pyproj's geodesic polygons) to better
    than 1e-4 relative, from 1 m squares to countries whose edges are shorter than a few hundred
    km, at a small fraction of its cost: about half a second for a million parcels.

    Parameters
    ----------
    geoms : GeoSeries
        Geometries in any CRS (their vertices are transformed to WGS84 longitude/latitude).

    Returns
    -------
    numpy.ndarray
        Areas in hectares: 0 for points, lines, empty or missing geometries; the polygonal
        part of a geometry collection.

    Raises
    ------
    QueryError
        If the series has no CRS.
    """
    if geoms.crs is None:
        raise QueryError("cannot compute areas of geometries with no CRS")
    return lonlat_area_ha(np.asarray(geoms.values, dtype=object), CRS.from_user_input(geoms.crs))
