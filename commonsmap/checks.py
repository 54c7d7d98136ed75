"""Check an atlas as it stands: useful after edits made with other programs (QGIS, field apps).

:func:`check_atlas` reports, per layer, invalid or empty geometries, geometries of the wrong
type, missing required values, values outside a vocabulary and references to features that do
not exist, and pacts whose status was changed outside their lifecycle; :func:`check_geopackage`
runs GDAL's GeoPackage validator when it is installed (``pip install --no-deps gdal-utils``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from commonsmap.atlas.atlas import Atlas
from commonsmap.catalogue import LayerSpec
from commonsmap.errors import Problem
from commonsmap.pacts.status_on import lifecycle_drift

_FAMILIES = {"MultiPolygon": {"MultiPolygon"}, "Point": {"Point"}, "MultiPoint": {"MultiPoint"},
             "LineString": {"LineString"}, "MultiLineString": {"MultiLineString"}}


@dataclass(frozen=True)
class Finding:
    """A problem found in a stored layer (rows are positions in the layer as read)."""

    layer: str
    problem: Problem
    feature_id: str | None = None

    def __str__(self) -> str:
        who = f" (id {self.feature_id})" if self.feature_id else ""
        return f"{self.layer}{who}: {self.problem}"


def _check_layer(atlas: Atlas, spec: LayerSpec) -> list[Finding]:
    frame = atlas.layer(spec.name)
    findings: list[Finding] = []

    def add(row: int, reason: str, field: str | None = None) -> None:
        findings.append(Finding(spec.name, Problem(reason, row=row, field=field), str(frame["id"].iloc[row])))

    for field in spec.all_fields:
        if field.name not in frame.columns:
            continue
        column = frame[field.name]
        if field.required or field.name in ("id", "sensitivity"):
            for row in np.flatnonzero(column.isna().to_numpy()):
                add(int(row), "required value is missing", field.name)
        if field.type == "enum" and field.vocab is not None:
            allowed = set(field.vocab.codes())
            for row in np.flatnonzero((column.notna() & ~column.isin(allowed)).to_numpy()):
                add(int(row), f"{column.iloc[row]!r} is not a {field.vocab.__name__} code", field.name)
        if field.type == "ref" and field.ref is not None:
            targets = set(atlas.layer(field.ref, max_sensitivity="secret")["id"])
            for row in np.flatnonzero((column.notna() & ~column.isin(targets)).to_numpy()):
                add(int(row), f"refers to {column.iloc[row]!r}, not in layer {field.ref!r}", field.name)
    if spec.is_spatial and len(frame):
        geoms = np.asarray(frame.geometry.values, dtype=object)
        missing = shapely.is_missing(geoms)
        for row in np.flatnonzero(missing & spec.geometry_required):
            add(int(row), "the geometry is missing")
        present = ~missing
        for row in np.flatnonzero(present & ~shapely.is_valid(geoms)):
            add(int(row), f"invalid geometry: {shapely.is_valid_reason(geoms[row])}")
        for row in np.flatnonzero(present & shapely.is_empty(geoms)):
            add(int(row), "the geometry is empty")
        allowed_types = _FAMILIES.get(spec.geometry or "")
        if allowed_types:
            kinds = pd.Series(shapely.get_type_id(geoms)).map(
                {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
                 6: "MultiPolygon", 7: "GeometryCollection"})
            for row in np.flatnonzero(present & ~kinds.isin(allowed_types).to_numpy()):
                add(int(row), f"a {kinds.iloc[row]} in a layer of {spec.geometry} geometries")
    return findings


def check_atlas(atlas: Atlas) -> list[Finding]:
    """Check every layer of an atlas against the catalogue.

    Returns
    -------
    list of Finding
        Empty when the atlas is consistent.
    """
    findings = [finding for spec in atlas.catalogue.values() for finding in _check_layer(atlas, spec)]
    if "pacts" in atlas.catalogue and "pact_events" in atlas.catalogue:
        for pact, status, recorded in lifecycle_drift(atlas):
            reason = (f"status {status!r} was changed outside the lifecycle: its last recorded change made it "
                      f"{recorded!r}")
            findings.append(Finding("pacts", Problem(reason, field="status"), pact))
    return findings


def check_geopackage(path: str) -> str | None:
    """Run GDAL's GeoPackage validator on a file.

    Returns
    -------
    str or None
        The first violation found, ``None`` if the file conforms.

    Raises
    ------
    ModuleNotFoundError
        If gdal-utils is not installed (``pip install --no-deps gdal-utils``).
    """
    from osgeo_utils.samples import validate_gpkg

    try:
        validate_gpkg.check(path)
    except validate_gpkg.GPKGCheckException as exc:
        return str(exc)
    return None
