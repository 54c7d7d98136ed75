"""Geometry checks and repairs, CRS handling and geodesic areas.

Every geometry entering an atlas passes :func:`conform`: it must come with a CRS (or be given
one), is reprojected to the atlas CRS, made two-dimensional, checked for emptiness and for
the layer's geometry type, and, if invalid, repaired with shapely's ``make_valid`` (each
repair reported) or refused with its row and reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Geod
from pyproj.exceptions import CRSError

from commonsmap.errors import InvalidInputError, Problem

OnInvalid = Literal["repair", "reject"]

_WGS84 = Geod(ellps="WGS84")
_POLYGONAL = {"Polygon", "MultiPolygon"}
_LINEAR = {"LineString", "MultiLineString"}
_PUNTAL = {"Point", "MultiPoint"}
_FAMILY = {"MultiPolygon": _POLYGONAL, "MultiLineString": _LINEAR, "LineString": _LINEAR,
           "Point": _PUNTAL, "MultiPoint": _PUNTAL}


@dataclass
class GeometryReport:
    """What :func:`conform` changed: repairs and other notes, each with its row."""

    repairs: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_crs(value: object, what: str = "CRS") -> CRS:
    """Return a :class:`pyproj.CRS` for ``value``, or raise a clear error.

    Raises
    ------
    InvalidInputError
        If ``value`` names no CRS that PROJ knows.
    """
    try:
        return CRS.from_user_input(value)
    except CRSError as exc:
        raise InvalidInputError(f"unknown {what} {value!r}: {exc}") from exc


def _check_geographic_range(frame: gpd.GeoDataFrame, problems: list[Problem]) -> None:
    bounds = shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
    with np.errstate(invalid="ignore"):
        bad_lat = (bounds[:, 1] < -90) | (bounds[:, 3] > 90)
        bad_lon = (bounds[:, 0] < -180) | (bounds[:, 2] > 180)
    for row in np.flatnonzero(bad_lat | bad_lon):
        swapped = bad_lat[row] and not bad_lon[row] and bounds[row, 0] >= -90 and bounds[row, 2] <= 90
        hint = " (longitude and latitude look swapped)" if swapped else ""
        problems.append(Problem(f"coordinates outside the range of longitude/latitude{hint}: "
                                f"x {bounds[row, 0]:.6g}..{bounds[row, 2]:.6g}, "
                                f"y {bounds[row, 1]:.6g}..{bounds[row, 3]:.6g}", row=int(row)))


_TYPE_IDS = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5,
             "MultiPolygon": 6}
_MULTI = {"MultiPolygon": ("Polygon", shapely.multipolygons),
          "MultiLineString": ("LineString", shapely.multilinestrings),
          "MultiPoint": ("Point", shapely.multipoints)}


def _promote_singles(geoms: np.ndarray, target: str) -> np.ndarray:
    """Wrap single parts (a Polygon in a MultiPolygon layer...) in their multi type, vectorised."""
    if target not in _MULTI:
        return geoms
    single, build = _MULTI[target]
    mask = np.asarray(shapely.get_type_id(geoms)) == _TYPE_IDS[single]
    if mask.any():
        geoms = geoms.copy()
        geoms[mask] = build(geoms[mask], indices=np.arange(int(mask.sum())))
    return geoms


def _to_family(geom: shapely.Geometry, target: str) -> shapely.Geometry | None:
    """Keep the parts of ``geom`` of the target family and promote them to the target type."""
    family = _FAMILY.get(target)
    if family is None:
        return geom
    if geom.geom_type in family:
        parts = [geom]
    elif geom.geom_type == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in family and not g.is_empty]
    else:
        return None
    flat = [p for part in parts for p in shapely.get_parts(part)]
    if not flat:
        return None
    if target == "MultiPolygon":
        return shapely.MultiPolygon(flat)
    if target == "MultiLineString":
        return shapely.MultiLineString(flat)
    if target == "MultiPoint":
        return shapely.MultiPoint(flat)
    return flat[0] if len(flat) == 1 else None


def conform(frame: gpd.GeoDataFrame, target_crs: CRS, geometry_type: str, *, required: bool,
            on_invalid: OnInvalid = "repair", crs: object | None = None) -> tuple[gpd.GeoDataFrame, GeometryReport]:
    """Check and normalise the geometries of ``frame`` for a layer.

    Parameters
    ----------
    frame : GeoDataFrame
        The input rows; their position (0-based) is the row number in every message.
    target_crs : pyproj.CRS
        The atlas CRS the geometries are reprojected to.
    geometry_type : str
        The layer's geometry type (``MultiPolygon``, ``Point``, ``Geometry``...).
    required : bool
        Whether a missing geometry is a problem.
    on_invalid : {"repair", "reject"}
        Repair invalid geometries with ``make_valid`` (reporting each) or refuse them.
    crs : optional
        The CRS of the input when it declares none. A declared CRS is never overridden.

    Returns
    -------
    GeoDataFrame, GeometryReport

    Raises
    ------
    InvalidInputError
        Listing every row that cannot be accepted, with its reason.
    """
    report = GeometryReport()
    problems: list[Problem] = []
    if frame.crs is None:
        if crs is None:
            raise InvalidInputError("the input declares no coordinate reference system (CRS); "
                                    "give one explicitly, e.g. crs='EPSG:4326'")
        frame = frame.set_crs(parse_crs(crs))
        report.notes.append(f"input CRS taken as {frame.crs.to_string()} (given)")
    frame = frame.copy()
    geoms = np.asarray(frame.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    if frame.crs.is_geographic:
        _check_geographic_range(frame, problems)
    for row in np.flatnonzero(empty):
        problems.append(Problem("the geometry is empty", row=int(row)))
    if required:
        for row in np.flatnonzero(missing):
            problems.append(Problem("the geometry is missing and this layer requires one", row=int(row)))
    if problems:
        raise InvalidInputError(problems)
    if shapely.has_z(geoms[~missing]).any():
        geoms = shapely.force_2d(geoms)
        report.notes.append("elevation (Z) dropped: atlases store two-dimensional geometries")
    invalid = ~missing & ~shapely.is_valid(geoms)
    for row in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[row])
        if on_invalid == "reject":
            problems.append(Problem(f"invalid geometry: {reason}", row=int(row)))
            continue
        repaired = shapely.make_valid(geoms[row])
        geoms[row] = repaired
        report.repairs.append(Problem(f"invalid geometry repaired with make_valid ({reason})", row=int(row)))
    if problems:
        raise InvalidInputError(problems)
    if geometry_type != "Geometry":
        geoms = _promote_singles(geoms, geometry_type)
        types = np.asarray(shapely.get_type_id(geoms))
        for row in np.flatnonzero(~missing & (types != _TYPE_IDS[geometry_type])):
            conformed = _to_family(geoms[row], geometry_type)
            if conformed is None or conformed.is_empty:
                problems.append(Problem(f"a {geoms[row].geom_type} cannot go in a layer of "
                                        f"{geometry_type} geometries", row=int(row)))
            else:
                geoms[row] = conformed
    if problems:
        raise InvalidInputError(problems)
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    if not frame.crs.equals(target_crs):
        frame = frame.to_crs(target_crs)
        report.notes.append(f"reprojected to {target_crs.to_string()}")
        still_valid = shapely.is_valid(np.asarray(frame.geometry.values, dtype=object))
        for row in np.flatnonzero(~still_valid & ~missing):
            problems.append(Problem("the geometry became invalid when reprojected", row=int(row)))
        if problems:
            raise InvalidInputError(problems)
    return frame, report


def geodesic_area_ha(geometries: gpd.GeoSeries) -> np.ndarray:
    """Return the geodesic area of each geometry in hectares, on the WGS84 ellipsoid.

    Parameters
    ----------
    geometries : GeoSeries
        Geometries in any CRS (reprojected to EPSG:4326 for the computation).

    Returns
    -------
    numpy.ndarray
        Areas in hectares (0 for points, lines, empty or missing geometries).
    """
    if geometries.crs is None:
        raise InvalidInputError("cannot compute areas of geometries with no CRS")
    lonlat = geometries.to_crs(4326) if not geometries.crs.equals(CRS.from_epsg(4326)) else geometries
    areas = np.zeros(len(lonlat))
    for i, geom in enumerate(lonlat.values):
        if geom is None or geom.is_empty or geom.geom_type not in {"Polygon", "MultiPolygon",
                                                                    "GeometryCollection"}:
            continue
        area, _ = _WGS84.geometry_area_perimeter(shapely.force_2d(geom))
        areas[i] = abs(area) / 10_000.0
    return areas
