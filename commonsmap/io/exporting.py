"""Export a layer to GeoPackage, GeoJSON (RFC 7946), CSV, Shapefile (plain or zipped) or KML.

Exports leave out features above the chosen sensitivity (``community`` at most by default;
``secret`` features never leave the atlas through an export). Lists and JSON attributes are
written as JSON text where the format has no nested values; GeoJSON keeps them nested.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Literal, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from commonsmap.atlas.codec import JSON_TYPES, format_datetime
from commonsmap.catalogue import LayerSpec
from commonsmap.errors import InvalidInputError, Problem
from commonsmap.io.mapping import shapefile_names

ExportFormat = Literal["gpkg", "geojson", "csv", "shp", "kml"]
FORMATS: dict[str, ExportFormat] = {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".csv": "csv",
                                    ".shp": "shp", ".zip": "shp", ".kml": "kml"}
EXPORTABLE_SENSITIVITY = ("public", "internal", "community")
_WGS84 = CRS.from_epsg(4326)


def format_for(path: Path, fmt: str | None) -> ExportFormat:
    """Return the export format named by ``fmt`` or by the file's extension."""
    if fmt is not None:
        if fmt not in FORMATS.values():
            raise InvalidInputError(f"unknown export format {fmt!r}; use one of {sorted(set(FORMATS.values()))}")
        return fmt  # type: ignore[return-value]
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise InvalidInputError(f"cannot tell the export format from {path.name!r}; use one of "
                                f"{', '.join(sorted(FORMATS))} or give the format") from None


Frame = TypeVar("Frame", bound=pd.DataFrame)


def _flat(frame: Frame, spec: LayerSpec) -> Frame:
    """Return a copy whose list and JSON attributes are JSON text."""
    out = frame.copy()
    for field in spec.all_fields:
        if field.type in JSON_TYPES and field.name in out.columns:
            out[field.name] = out[field.name].map(
                lambda v: None if v is None else json.dumps(v, ensure_ascii=False, default=str))
    return out


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return format_datetime(value) if value.tzinfo else value.strftime("%Y-%m-%d")
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_geojson(frame: gpd.GeoDataFrame | pd.DataFrame, spec: LayerSpec, path: Path) -> None:
    """Write RFC 7946 GeoJSON: WGS84 longitude/latitude, counter-clockwise outer rings."""
    features = []
    if isinstance(frame, gpd.GeoDataFrame):
        lonlat = frame.to_crs(_WGS84) if not frame.crs.equals(_WGS84) else frame
        oriented = shapely.orient_polygons(np.asarray(lonlat.geometry.values, dtype=object), exterior_cw=False)
        geometries = [None if g is None else shapely.geometry.mapping(g) for g in oriented]
        attributes = pd.DataFrame(lonlat.drop(columns=lonlat.geometry.name))
    else:
        geometries = [None] * len(frame)
        attributes = frame
    date_fields = {f.name for f in spec.all_fields if f.type == "date"}
    for geometry, record in zip(geometries, attributes.to_dict("records"), strict=True):
        properties = {}
        for key, value in record.items():
            value = _json_value(value)
            if key in date_fields and isinstance(value, str):
                value = value[:10]
            properties[key] = value
        features.append({"type": "Feature", "id": properties.get("id"), "properties": properties,
                         "geometry": geometry})
    document = {"type": "FeatureCollection", "name": spec.name, "features": features}
    path.write_text(json.dumps(document, ensure_ascii=False, allow_nan=False), encoding="utf-8")


def write_csv(frame: gpd.GeoDataFrame | pd.DataFrame, spec: LayerSpec, path: Path) -> None:
    """Write CSV with WKT geometry (EPSG:4326, described in a ``.prj`` beside it) and, for points, lon/lat."""
    flat = _flat(frame, spec)
    if isinstance(frame, gpd.GeoDataFrame):
        lonlat = _flat(frame.to_crs(_WGS84), spec)
        geoms = np.asarray(lonlat.geometry.values, dtype=object)
        table = pd.DataFrame(lonlat.drop(columns=lonlat.geometry.name))
        table["wkt"] = shapely.to_wkt(geoms, rounding_precision=-1)
        path.with_suffix(".prj").write_text(_WGS84.to_wkt("WKT1_ESRI"), encoding="utf-8")
    else:
        table = pd.DataFrame(flat)
    for field in spec.all_fields:
        if field.type == "date" and field.name in table.columns:
            table[field.name] = pd.to_datetime(table[field.name]).dt.strftime("%Y-%m-%d")
        elif field.type == "datetime" and field.name in table.columns:
            table[field.name] = table[field.name].map(lambda v: None if pd.isna(v) else format_datetime(v))
    table.to_csv(path, index=False, encoding="utf-8")


_FAMILY = {"Point": "points", "MultiPoint": "points", "LineString": "lines", "MultiLineString": "lines"}
_FAMILY_TYPE = {"points": "Point", "lines": "LineString", "polygons": "Polygon"}


def _split_by_family(frame: gpd.GeoDataFrame, spec: LayerSpec) -> dict[str, gpd.GeoDataFrame]:
    """One frame per Shapefile geometry family; an empty layer still gets one (of its declared family)."""
    families = frame.geometry.geom_type.map(lambda t: _FAMILY.get(t, "polygons") if t else "polygons")
    parts = {name: frame[families == name] for name in ("points", "lines", "polygons") if (families == name).any()}
    return parts or {_FAMILY.get(spec.geometry or "", "polygons"): frame}


_DBF_TEXT_BYTES = 254


def _dated_as_text(frame: Frame, spec: LayerSpec) -> Frame:
    """Dates as ``YYYY-MM-DD`` and datetimes as ISO 8601 UTC text, which every reader parses back."""
    out = frame.copy()
    for field in spec.all_fields:
        if field.name not in out.columns:
            continue
        if field.type == "date":
            out[field.name] = pd.to_datetime(out[field.name]).dt.strftime("%Y-%m-%d").astype(object)
        elif field.type == "datetime":
            out[field.name] = pd.Series([None if pd.isna(v) else format_datetime(v) for v in out[field.name]],
                                        index=out.index, dtype=object)
    return out


def _check_dbf_limits(frame: pd.DataFrame) -> None:
    problems = []
    for column in frame.columns:
        if frame[column].dtype != object and not pd.api.types.is_string_dtype(frame[column]):
            continue
        lengths = frame[column].map(lambda v: len(v.encode("utf-8")) if isinstance(v, str) else 0)
        too_long = np.flatnonzero(lengths.to_numpy() > _DBF_TEXT_BYTES)
        problems += [Problem(f"{lengths.iloc[r]} bytes of text; a Shapefile holds {_DBF_TEXT_BYTES} at most",
                             row=int(r), field=str(column)) for r in too_long]
    if problems:
        problems.append(Problem("export to GeoPackage or GeoJSON instead, or leave these fields out "
                                "(columns=[...])"))
        raise InvalidInputError(problems)


def write_shapefile(frame: gpd.GeoDataFrame | pd.DataFrame, spec: LayerSpec, path: Path) -> list[Path]:
    """Write a Shapefile (one per geometry family when a layer mixes them); ``.zip`` zips them.

    Raises
    ------
    InvalidInputError
        If a text value is longer than a Shapefile can hold (nothing is cut silently).
    """
    flat = _dated_as_text(_flat(frame, spec), spec).rename(columns=shapefile_names(spec))
    geometry_name = flat.geometry.name if isinstance(flat, gpd.GeoDataFrame) else None
    flat = flat.rename(columns={c: c[:10] for c in flat.columns if c != geometry_name})  # computed columns too
    _check_dbf_limits(pd.DataFrame(flat.drop(columns=flat.geometry.name) if isinstance(flat, gpd.GeoDataFrame)
                                   else flat))
    zipped = path.suffix.lower() == ".zip"
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) if zipped else path.parent
        base = path.stem
        parts = _split_by_family(flat, spec) if isinstance(flat, gpd.GeoDataFrame) else {"": flat}
        written: list[Path] = []
        for family, part in parts.items():
            name = base if len(parts) == 1 else f"{base}_{family}"
            target = folder / f"{name}.shp"
            pyogrio.write_dataframe(part, target, driver="ESRI Shapefile", encoding="UTF-8",
                                    geometry_type=_FAMILY_TYPE.get(family) if part.empty else None)
            written += sorted(folder.glob(f"{name}.*"))
        if not zipped:
            return [p for p in written if p.suffix == ".shp"]
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in written:
                archive.write(file, file.name)
        return [path]


def write_kml(frame: gpd.GeoDataFrame, spec: LayerSpec, path: Path) -> None:
    """Write KML for Google Earth: placemark id = feature id, placemark name = the layer's title field."""
    flat = _dated_as_text(_flat(frame, spec), spec).to_crs(_WGS84)
    if spec.title_field is not None:
        flat.insert(0, "Name", flat[spec.title_field])
    pyogrio.write_dataframe(flat, path, driver="LIBKML", layer=spec.name)


def export_frame(frame: gpd.GeoDataFrame | pd.DataFrame, spec: LayerSpec, path: str | Path,
                 fmt: str | None = None, columns: list[str] | None = None) -> list[Path]:
    """Write an already-filtered layer frame to a file; return the files written.

    ``columns`` keeps only those fields (the ``id`` and the geometry are always written).
    """
    target = Path(path)
    chosen = format_for(target, fmt)
    if columns is not None:
        unknown = [c for c in columns if c not in spec.field_names]
        if unknown:
            raise InvalidInputError(f"layer {spec.name!r} has no fields {unknown}")
        keep = ["id", *[c for c in columns if c != "id"]]
        if isinstance(frame, gpd.GeoDataFrame):
            keep.append(frame.geometry.name)
        frame = frame[keep]
        spec = spec.model_copy(update={"fields": tuple(f for f in spec.fields if f.name in keep)})
    target.parent.mkdir(parents=True, exist_ok=True)
    if chosen == "geojson":
        write_geojson(frame, spec, target)
    elif chosen == "csv":
        write_csv(frame, spec, target)
    elif chosen == "shp":
        return write_shapefile(frame, spec, target)
    elif chosen == "kml":
        if not isinstance(frame, gpd.GeoDataFrame):
            raise InvalidInputError(f"layer {spec.name!r} has no geometry to write as KML")
        write_kml(frame, spec, target)
    else:
        pyogrio.write_dataframe(_flat(frame, spec), target, layer=spec.name, driver="GPKG",
                                append=target.exists())
    return [target]
