"""Read field and office files into GeoDataFrames, with clear errors for bad files.

Formats: GeoJSON (and TopoJSON), GeoPackage, Shapefile (also zipped), KML/KMZ, GPX, CSV with
longitude/latitude or WKT columns, FlatGeobuf, and the GeoJSON export of Mapeo/CoMapeo.
GDAL (through pyogrio) does the reading; this module picks layers, finds geometry columns in
CSV, refuses truncated or empty files and says why.
"""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from commonsmap.errors import InvalidInputError, Problem
from commonsmap.io import csv_points, mapeo

VECTOR_SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".topojson": "TopoJSON", ".gpkg": "GPKG",
                   ".shp": "ESRI Shapefile", ".kml": "KML", ".kmz": "KMZ", ".gpx": "GPX", ".fgb": "FlatGeobuf",
                   ".csv": "CSV", ".zip": "ZIP"}
_GPX_LAYERS = ("waypoints", "tracks", "routes")
_READ_ERRORS = (DataSourceError, DataLayerError, FieldError, GeometryError, RuntimeError, ValueError)


@dataclass
class SourceInfo:
    """Where rows came from: file, format, layer, and notes on how they were read."""

    path: str
    format: str
    layer: str | None = None
    notes: list[str] = field(default_factory=list)


def _fail(path: Path, reason: str) -> InvalidInputError:
    return InvalidInputError(reason, source=path.name)


def _gdal_read(target: str, path: Path, layer: str | None = None, **options: Any) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(target, layer=layer, use_arrow=True, **options)
    except _READ_ERRORS as exc:
        raise _fail(path, f"cannot read the file ({_gdal_message(exc)}); is it complete and of the "
                          f"format its name says?") from exc


def _gdal_message(exc: Exception) -> str:
    return str(exc).replace(str(Path.cwd()) + "/", "").strip() or type(exc).__name__


def list_source_layers(target: str, path: Path) -> list[tuple[str, str | None]]:
    """Return ``(name, geometry type)`` of every layer in a file GDAL can open."""
    try:
        return [(str(name), None if gtype is None else str(gtype)) for name, gtype in pyogrio.list_layers(target)]
    except _READ_ERRORS as exc:
        raise _fail(path, f"cannot open the file ({_gdal_message(exc)}); is it complete and of the "
                          f"format its name says?") from exc


def _pick_layer(target: str, path: Path, wanted: str | None) -> str | None:
    layers = list_source_layers(target, path)
    names = [name for name, _ in layers]
    if wanted is not None:
        if wanted not in names:
            raise _fail(path, f"no layer {wanted!r} in the file; its layers are: {', '.join(names) or 'none'}")
        return wanted
    if not layers:
        raise _fail(path, "the file holds no layer")
    if len(layers) > 1 and path.suffix.lower() == ".gpkg":
        raise _fail(path, f"the file holds several layers ({', '.join(names)}); say which one to import")
    return names[0]


def _declared_sizes(shp: bytes, dbf: bytes | None) -> list[tuple[str, int]]:
    """Sizes the .shp and .dbf headers announce: .shp file length (16-bit words), .dbf records."""
    sizes = [(".shp", struct.unpack(">i", shp[24:28])[0] * 2)] if len(shp) >= 100 else [(".shp", 100)]
    if dbf is not None and len(dbf) >= 12:
        records, header, record = struct.unpack("<IHH", dbf[4:12])
        sizes.append((".dbf", header + records * record))
    return sizes


def _check_shapefile_complete(path: Path, read: Callable[[str], bytes | None]) -> None:
    """A truncated Shapefile is shorter than its own headers say; GDAL would read it partly."""
    shp = read(".shp") or b""
    dbf = read(".dbf")
    actual = {".shp": len(shp), ".dbf": len(dbf or b"")}
    for suffix, expected in _declared_sizes(shp, dbf):
        if actual[suffix] < expected:
            raise _fail(path, f"the shapefile is incomplete: its {suffix} header announces {expected} bytes, "
                              f"the file has {actual[suffix]}")


def _sibling_reader(shp: Path) -> Callable[[str], bytes | None]:
    def read(suffix: str) -> bytes | None:
        for candidate in (shp.with_suffix(suffix), shp.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate.read_bytes()
        return None
    return read


def _member_reader(archive: Path, member: str) -> Callable[[str], bytes | None]:
    def read(suffix: str) -> bytes | None:
        stem = member[: -len(Path(member).suffix)]
        with zipfile.ZipFile(archive) as handle:
            for name in (stem + suffix, stem + suffix.upper()):
                if name in handle.namelist():
                    return handle.read(name)
        return None
    return read


def _read_zip(path: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, SourceInfo]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/") and "__MACOSX" not in m]
    except zipfile.BadZipFile as exc:
        raise _fail(path, f"not a readable ZIP archive ({exc})") from exc
    readable = [m for m in members if Path(m).suffix.lower() in VECTOR_SUFFIXES and Path(m).suffix.lower()
                not in (".zip", ".csv")]
    shapefiles = [m for m in readable if m.lower().endswith(".shp")]
    candidates = shapefiles or readable
    if not candidates:
        raise _fail(path, f"the ZIP archive holds no layer (found: {', '.join(members) or 'nothing'})")
    if len(candidates) > 1 and layer is None:
        raise _fail(path, f"the ZIP archive holds several layers ({', '.join(candidates)}); say which one")
    member = candidates[0] if layer is None else next(
        (m for m in candidates if Path(m).stem == layer or m == layer), None)
    if member is None:
        raise _fail(path, f"no layer {layer!r} in the ZIP archive; it holds {', '.join(candidates)}")
    if member.lower().endswith(".shp"):
        _check_shapefile_complete(path, _member_reader(path, member))
    frame = _gdal_read(f"/vsizip/{path.resolve()}/{member}", path)
    return frame, SourceInfo(str(path), f"ZIP ({VECTOR_SUFFIXES[Path(member).suffix.lower()]})", member)


def _read_layers(path: Path, target: str, names: list[str]) -> gpd.GeoDataFrame:
    """Read and stack several layers of one file, naming each row's layer in ``source_layer``."""
    frames = [_gdal_read(target, path, layer=name).assign(source_layer=name) for name in names]
    frames = [f for f in frames if len(f)]
    if not frames:
        raise _fail(path, "the file holds no features")
    crs = next((f.crs for f in frames if f.crs is not None), None)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)


def _read_kml(path: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, SourceInfo]:
    target = str(path)
    layers = [name for name, _ in list_source_layers(target, path)]
    if not layers:
        raise _fail(path, "the KML file holds no folder or placemark")
    names = [layer] if layer else layers
    if layer and layer not in layers:
        raise _fail(path, f"no folder {layer!r} in the KML; it has: {', '.join(layers)}")
    frame = _read_layers(path, target, names)
    if len(names) == 1:
        frame = frame.drop(columns="source_layer")
    return frame, SourceInfo(str(path), "KMZ" if path.suffix.lower() == ".kmz" else "KML",
                             ", ".join(names), [f"folders read: {', '.join(names)}"])


def _read_gpx(path: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, SourceInfo]:
    target = str(path)
    available = [name for name, _ in list_source_layers(target, path)]
    names = [layer] if layer else [n for n in _GPX_LAYERS if n in available]
    if layer and layer not in available:
        raise _fail(path, f"no GPX layer {layer!r}; GPX layers are: {', '.join(available)}")
    for name in names:
        frame = _gdal_read(target, path, layer=name)
        if len(frame):
            return frame, SourceInfo(str(path), "GPX", name)
    raise _fail(path, "the GPX file holds no waypoint, track or route")


def read_file(path: str | Path, *, layer: str | None = None) -> tuple[gpd.GeoDataFrame | pd.DataFrame, SourceInfo]:
    """Read a vector file into a frame.

    Parameters
    ----------
    path : str or Path
        The file: ``.geojson``/``.json`` (Mapeo exports detected), ``.topojson``, ``.gpkg``,
        ``.shp``, ``.zip`` (a zipped shapefile or other layer), ``.kml``, ``.kmz``, ``.gpx``,
        ``.csv`` (longitude/latitude or WKT columns), ``.fgb``.
    layer : str, optional
        The layer to read from a file that holds several (GeoPackage, KML folder, GPX
        ``waypoints``/``tracks``/``routes``, a member of a ZIP).

    Returns
    -------
    frame, SourceInfo
        The rows as read, with the file's CRS (None when the file declares none).

    Raises
    ------
    InvalidInputError
        If the file is missing, empty, truncated, of an unknown format or holds no layer.
    """
    source = Path(path)
    if not source.is_file():
        raise _fail(source, "no such file")
    if source.stat().st_size == 0:
        raise _fail(source, "the file is empty")
    suffix = source.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise _fail(source, f"unknown format {suffix or '(no extension)'!r}; commonsmap reads "
                            f"{', '.join(sorted(VECTOR_SUFFIXES))}")
    if suffix == ".zip":
        return _read_zip(source, layer)
    if suffix == ".csv":
        frame, notes = csv_points.read_csv(source)
        return frame, SourceInfo(str(source), "CSV", None, notes)
    if suffix in (".kml", ".kmz"):
        return _read_kml(source, layer)
    if suffix == ".gpx":
        return _read_gpx(source, layer)
    if suffix in (".geojson", ".json") and _may_be_mapeo(source):
        document = _load_json(source)
        if mapeo.is_mapeo_export(document):
            frame, notes = mapeo.from_mapeo(document)
            return frame, SourceInfo(str(source), "Mapeo GeoJSON", None, notes)
    if suffix == ".shp":
        _check_shapefile_complete(source, _sibling_reader(source))
    target = str(source)
    chosen = _pick_layer(target, source, layer)
    frame = _gdal_read(target, source, layer=chosen)
    return frame, SourceInfo(str(source), VECTOR_SUFFIXES[suffix], chosen)


def _may_be_mapeo(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(65536)
    return any(marker in head for marker in mapeo.MARKERS)


def _load_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return json.load(handle)
    except UnicodeDecodeError as exc:
        raise _fail(path, f"the file is not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInputError([Problem(f"the file is not valid JSON, it may be truncated: {exc.msg} "
                                         f"at line {exc.lineno}, column {exc.colno}")], source=path.name) from exc
