"""Read CSV files whose rows carry longitude/latitude or WKT geometry (ODK, KoboToolbox, spreadsheets).

Longitude/latitude columns (``lon``/``lng``/``longitude``/``x`` with ``lat``/``latitude``/``y``,
also Kobo's ``_geolocation_longitude`` style) give points; a ``wkt``/``geometry`` column gives
any geometry. Columns named longitude/latitude are taken as WGS84 degrees (EPSG:4326); ``x``/``y``
and WKT need the CRS from a ``.prj`` file beside the CSV or from the caller.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from commonsmap.errors import InvalidInputError, Problem

_LON = ("longitude", "lon", "lng", "long", "longitud", "longitudine")
_LAT = ("latitude", "lat", "latitud", "latitudine")
_WKT = ("wkt", "geometry", "geom", "the_geom", "shape", "wkt_geom")


def _normal(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.strip().lower()).strip("_")


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {_normal(c): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    for column in columns:
        if any(_normal(column).endswith("_" + name) for name in names if len(name) > 3):
            return column
    return None


def _sidecar_crs(path: Path) -> CRS | None:
    prj = path.with_suffix(".prj")
    if prj.is_file():
        return CRS.from_wkt(prj.read_text(encoding="utf-8"))
    return None


def _read_table(path: Path) -> pd.DataFrame:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(65536)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|") if sample else csv.excel
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], sep=dialect.delimiter,
                           encoding="utf-8-sig")
    except csv.Error:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"the CSV is not UTF-8 text ({exc.reason}); save it as UTF-8",
                                source=path.name) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInputError(f"cannot read the CSV ({exc})", source=path.name) from exc


def read_csv(path: Path) -> tuple[gpd.GeoDataFrame | pd.DataFrame, list[str]]:
    """Read a CSV file; return its rows (with geometry when it has coordinate columns) and notes.

    Raises
    ------
    InvalidInputError
        For unreadable files, numbers that are not numbers and unparsable WKT, with rows.
    """
    table = _read_table(path)
    columns = [str(c) for c in table.columns]
    lon, lat = _find(columns, (*_LON, "x")), _find(columns, (*_LAT, "y"))
    wkt = _find(columns, _WKT)
    crs = _sidecar_crs(path)
    notes = [f"CRS read from {path.with_suffix('.prj').name}"] if crs is not None else []
    problems: list[Problem] = []
    if wkt is not None:
        text = table[wkt]
        geoms = np.empty(len(table), dtype=object)
        for row, value in enumerate(text):
            if isinstance(value, str) and value.strip():
                try:
                    geoms[row] = shapely.from_wkt(value)
                except shapely.errors.GEOSException as exc:
                    problems.append(Problem(f"not WKT geometry: {exc}", row=row, field=wkt))
        if problems:
            raise InvalidInputError(problems, source=path.name)
        notes.append(f"geometry from WKT column {wkt!r}")
        return gpd.GeoDataFrame(table.drop(columns=wkt), geometry=list(geoms), crs=crs), notes
    if lon is None or lat is None:
        notes.append("no coordinate columns: rows read without geometry")
        return table, notes
    xs = pd.to_numeric(table[lon], errors="coerce")
    ys = pd.to_numeric(table[lat], errors="coerce")
    for name, raw, parsed in ((lon, table[lon], xs), (lat, table[lat], ys)):
        for index in np.flatnonzero((parsed.isna() & raw.notna()).to_numpy()):
            problems.append(Problem(f"{raw.iloc[index]!r} is not a number", row=int(index), field=name))
    half = xs.isna() ^ ys.isna()
    for index in np.flatnonzero(half.to_numpy()):
        problems.append(Problem("only one of the two coordinates is given", row=int(index)))
    if problems:
        raise InvalidInputError(problems, source=path.name)
    degrees = _normal(lon) not in ("x",) and _normal(lat) not in ("y",)
    if crs is None and degrees:
        crs = CRS.from_epsg(4326)
        notes.append(f"columns {lon!r}/{lat!r} read as WGS84 longitude/latitude (EPSG:4326)")
    points = shapely.points(xs.to_numpy(), ys.to_numpy())
    points[xs.isna().to_numpy()] = None
    notes.append(f"points from columns {lon!r} and {lat!r}")
    return gpd.GeoDataFrame(table.drop(columns=[lon, lat]), geometry=list(points), crs=crs), notes
