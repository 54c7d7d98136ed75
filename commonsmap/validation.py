"""Check rows against a layer of the catalogue and bring them to the atlas's in-memory types.

:func:`validate_frame` collects every problem (row, field, reason) before raising, so a user
fixes a file in one pass; nothing is written when anything is wrong.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from commonsmap.atlas.codec import utc_now
from commonsmap.catalogue import FieldSpec, LayerSpec
from commonsmap.derived import derived_names
from commonsmap.errors import InvalidInputError, Problem
from commonsmap.geometry import GeometryReport, OnInvalid, conform

UnknownFields = Literal["error", "keep", "drop"]

_TRUE = {"true", "t", "yes", "y", "1", "si", "sí", "sim", "vero", "v", "x"}
_FALSE = {"false", "f", "no", "n", "0", "não", "nao", "falso", ""}


@dataclass
class ValidationReport:
    """What validation changed or noticed, to show the user."""

    rows: int = 0
    repairs: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def extend(self, geometry: GeometryReport) -> None:
        self.repairs += geometry.repairs
        self.notes += geometry.notes


def _per_value(series: pd.Series, spec: FieldSpec, convert: Callable[[Any], Any],
               problems: list[Problem]) -> pd.Series:
    """Convert each distinct non-missing value once; record the rows whose value fails."""
    missing = series.isna().to_numpy(dtype=bool)
    present = series[~missing]
    nested = pd.api.types.infer_dtype(present, skipna=True) not in ("string", "integer", "floating", "boolean",
                                                                    "mixed-integer-float", "empty")
    if nested:
        keys = present.map(lambda v: json.dumps(v, sort_keys=True, default=str)
                           if isinstance(v, list | dict | tuple | np.ndarray) else v)
        originals = dict(zip(keys, present, strict=True))
    else:
        keys = present
        originals = {value: value for value in pd.unique(present)}
    converted: dict[Any, Any] = {}
    failed: dict[Any, str] = {}
    for key, original in originals.items():
        try:
            converted[key] = convert(original)
        except (ValueError, TypeError) as exc:
            failed[key] = str(exc)
    if failed:
        bad = keys.isin(list(failed))
        for row, key in zip(np.flatnonzero(~missing)[bad.to_numpy()], keys[bad], strict=True):
            problems.append(Problem(failed[key], row=int(row), field=spec.name))
    out = np.full(len(series), None, dtype=object)
    out[~missing] = keys.map(converted).to_numpy(dtype=object)
    return pd.Series(out, index=series.index, dtype=object)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a yes/no value")


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | np.ndarray):
        return list(value)
    text = str(value).strip()
    if text.startswith("["):
        parsed = json.loads(text)
        if isinstance(parsed, list):
            return parsed
    return [part.strip() for part in text.split(",") if part.strip()]


def _as_json(value: Any) -> Any:
    if isinstance(value, list | dict):
        return value
    try:
        return json.loads(str(value))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg}") from None


def _numeric(series: pd.Series, spec: FieldSpec, problems: list[Problem], integer: bool) -> pd.Series:
    missing = series.isna()
    numbers = pd.to_numeric(series.where(~missing, None), errors="coerce")
    failed = numbers.isna() & ~missing
    as_float = numbers.astype("float64")
    failed |= numbers.notna() & ~np.isfinite(as_float.fillna(0))  # infinity has no place in a record (nor in JSON)
    if integer:
        fractional = numbers.notna() & (as_float != np.floor(as_float.fillna(0)))
        too_large = numbers.notna() & (as_float.abs() >= 2.0**63)
        failed |= fractional | too_large
    for row in np.flatnonzero(failed.to_numpy()):
        kind = "an integer (of at most 18 digits)" if integer else "a finite number"
        problems.append(Problem(f"{series.iloc[row]!r} is not {kind}", row=int(row), field=spec.name))
    if integer:
        return numbers.where(~failed).astype("float64").astype("Int64") if numbers.dtype == object \
            else numbers.where(~failed).astype("Int64")
    return numbers.where(~failed).astype("float64")


def _temporal(series: pd.Series, spec: FieldSpec, problems: list[Problem]) -> pd.Series:
    missing = series.isna()
    stamps = pd.to_datetime(series.where(~missing, None), errors="coerce", utc=True, format="mixed")
    failed = stamps.isna() & ~missing
    for row in np.flatnonzero(failed.to_numpy()):
        problems.append(Problem(f"{series.iloc[row]!r} is not a {spec.type}", row=int(row), field=spec.name))
    if spec.type == "date":
        return stamps.dt.tz_localize(None).dt.normalize().astype("datetime64[ms]")
    return stamps.astype("datetime64[ms, UTC]")


def coerce_column(series: pd.Series, spec: FieldSpec, problems: list[Problem]) -> pd.Series:
    """Return ``series`` converted to the in-memory type of ``spec``, recording failures.

    Text loses surrounding white space (which Shapefile and KML drop anyway); blank text is missing.
    """
    series = series.reset_index(drop=True)
    if spec.type in ("integer", "real"):
        return _numeric(series, spec, problems, integer=spec.type == "integer")
    if spec.type in ("date", "datetime"):
        return _temporal(series, spec, problems)
    if spec.type == "boolean":
        return _per_value(series, spec, _boolean, problems).astype("boolean")
    if spec.type in ("enum", "enum_list"):
        vocab = spec.vocab
        assert vocab is not None
        parse = vocab.parse
        if spec.type == "enum":
            return _per_value(series, spec, lambda v: parse(v).value, problems)
        return _per_value(series, spec, lambda v: [parse(x).value for x in _as_list(v)], problems)
    if spec.type == "list":
        return _per_value(series, spec, _as_list, problems)
    if spec.type == "json":
        return _per_value(series, spec, _as_json, problems)
    if pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        missing = series.isna().to_numpy(dtype=bool)
        series = series.astype(object).where(~missing, None)
        series[~missing] = series[~missing].map(_text)
    stripped = series.astype("string").str.strip()
    stripped = stripped.mask(stripped == "")
    return stripped.astype(object).where(stripped.notna(), None)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _new_ids(count: int) -> list[str]:
    """Return ``count`` new UUIDs (version 7, RFC 9562) as text, generated in bulk.

    The first 48 bits are the time in milliseconds and the next 42 a counter from a random start
    (RFC 9562, method 1), so ids sort in the order they were made: appended to the end of the id
    indexes rather than scattered through them, which keeps large imports fast.
    """
    stamp = time.time_ns() // 1_000_000
    start = int.from_bytes(os.urandom(6), "big") >> 7  # 41 random bits: room to count up
    counter = start + np.arange(count, dtype=np.uint64)
    tail = np.frombuffer(os.urandom(4 * count), dtype=">u4").astype(np.uint64)
    raw = np.zeros((count, 16), dtype=np.uint8)
    for i in range(6):
        raw[:, i] = (stamp >> (40 - 8 * i)) & 0xFF
    raw[:, 6] = 0x70 | ((counter >> np.uint64(38)) & np.uint64(0x0F)).astype(np.uint8)
    raw[:, 7] = ((counter >> np.uint64(30)) & np.uint64(0xFF)).astype(np.uint8)
    raw[:, 8] = 0x80 | ((counter >> np.uint64(24)) & np.uint64(0x3F)).astype(np.uint8)
    for i, shift in enumerate((16, 8, 0)):
        raw[:, 9 + i] = ((counter >> np.uint64(shift)) & np.uint64(0xFF)).astype(np.uint8)
    for i, shift in enumerate((24, 16, 8, 0)):
        raw[:, 12 + i] = ((tail >> np.uint64(shift)) & np.uint64(0xFF)).astype(np.uint8)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    hexed = np.empty((count, 32), dtype=np.uint8)
    hexed[:, 0::2], hexed[:, 1::2] = digits[raw >> 4], digits[raw & 0x0F]
    dashed = np.full((count, 36), ord("-"), dtype=np.uint8)
    for begin, end, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        dashed[:, at:at + end - begin] = hexed[:, begin:end]
    return dashed.view("S36").ravel().astype(str).tolist()


def validate_frame(frame: pd.DataFrame, layer: LayerSpec, *, atlas_crs: CRS, custodian: str | None,
                   unknown: UnknownFields = "error", on_invalid: OnInvalid = "repair",
                   crs: object | None = None) -> tuple[gpd.GeoDataFrame | pd.DataFrame, ValidationReport]:
    """Check rows for ``layer`` and return them in the atlas's in-memory types.

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        Rows whose columns already carry the catalogue's field names.
    layer : LayerSpec
        The target layer.
    atlas_crs : pyproj.CRS
        The CRS geometries are stored in.
    custodian : str or None
        Custodian for rows that name none.
    unknown : {"error", "keep", "drop"}
        What to do with columns the layer does not declare: refuse the input, keep their
        values in the ``extra`` attribute, or drop them.
    on_invalid : {"repair", "reject"}
        Invalid geometries are repaired (and reported) or refused.
    crs : optional
        CRS of the input when it declares none.

    Returns
    -------
    frame, ValidationReport
        Rows with every field of the layer, system fields filled in.

    Raises
    ------
    InvalidInputError
        With every problem found; nothing is returned or written.
    """
    report = ValidationReport(rows=len(frame))
    problems: list[Problem] = []
    frame = frame.reset_index(drop=True)
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    derived = [c for c in frame.columns if c in derived_names(layer.name)]
    if derived:
        frame = frame.drop(columns=derived)
        report.notes.append(f"derived attributes left out (they are computed, never stored): {', '.join(derived)}")
    known = set(layer.field_names)
    unknown_columns = [c for c in frame.columns if c not in known and c != geometry_name]
    if unknown_columns and unknown == "error":
        problems.append(Problem(
            f"columns not in layer {layer.name!r}: {', '.join(map(str, unknown_columns))}. Map them onto "
            f"fields ({', '.join(f.name for f in layer.fields)}), keep them as extra attributes, or drop them"))
    for spec in layer.fields:
        if spec.required and spec.name not in frame.columns:
            problems.append(Problem("required field is missing from the input", field=spec.name))
    if problems:
        raise InvalidInputError(problems)

    out: dict[str, pd.Series] = {}
    for spec in layer.all_fields:
        if spec.name in frame.columns:
            out[spec.name] = coerce_column(frame[spec.name], spec, problems)
        if spec.required and spec.name in out:
            for row in np.flatnonzero(out[spec.name].isna().to_numpy()):
                if not any(p.row == row and p.field == spec.name for p in problems):
                    problems.append(Problem("required value is missing", row=int(row), field=spec.name))
    _fill_system_fields(out, frame, layer, custodian, unknown_columns if unknown == "keep" else [], problems)
    if not layer.is_spatial and geometry_name is not None and frame.geometry.notna().any():
        problems.append(Problem(f"layer {layer.name!r} has no geometry but the input has geometries"))
    if problems:
        raise InvalidInputError(problems)
    attributes = pd.DataFrame({spec.name: out.get(spec.name, pd.Series([None] * len(frame), dtype=object))
                               for spec in layer.all_fields})
    if not layer.is_spatial:
        return attributes, report
    if geometry_name is None:
        if layer.geometry_required:
            raise InvalidInputError(f"layer {layer.name!r} requires geometries and the input has none")
        geoms = gpd.GeoDataFrame(geometry=gpd.GeoSeries([None] * len(frame), crs=atlas_crs))
    else:
        geoms = gpd.GeoDataFrame(geometry=frame.geometry.values, crs=frame.crs)
    assert layer.geometry is not None
    conformed, geometry_report = conform(geoms, atlas_crs, layer.geometry, required=layer.geometry_required,
                                         on_invalid=on_invalid, crs=crs)
    report.extend(geometry_report)
    return gpd.GeoDataFrame(attributes, geometry=conformed.geometry.values, crs=atlas_crs), report


def _fill_system_fields(out: dict[str, pd.Series], frame: pd.DataFrame, layer: LayerSpec,
                        custodian: str | None, extra_columns: list[str], problems: list[Problem]) -> None:
    count = len(frame)
    now = utc_now()
    ids = out.get("id")
    if ids is None:
        out["id"] = pd.Series(_new_ids(count), dtype=object)
    else:
        missing = ids.isna().to_numpy()
        if missing.any():
            ids = ids.copy()
            ids[missing] = _new_ids(int(missing.sum()))
            out["id"] = ids
        duplicated = ids[~missing].duplicated(keep="first")
        for row in duplicated[duplicated].index:
            problems.append(Problem(f"id {ids[row]!r} appears more than once", row=int(row), field="id"))
    created = out.get("created")
    stamps = pd.Series(pd.DatetimeIndex([now]).repeat(count)).astype("datetime64[ms, UTC]")
    out["created"] = (stamps if created is None
                      else created.fillna(now))
    out["updated"] = stamps.copy()
    out["version"] = pd.Series([1] * count, dtype="Int64")
    sensitivity = out.get("sensitivity")
    out["sensitivity"] = (pd.Series([layer.default_sensitivity] * count, dtype=object) if sensitivity is None
                          else sensitivity.fillna(layer.default_sensitivity))
    keeper = out.get("custodian")
    out["custodian"] = (pd.Series([custodian] * count, dtype=object) if keeper is None
                        else keeper.where(keeper.notna(), custodian))
    if extra_columns:
        out["extra"] = _extra(frame[extra_columns], out.get("extra"))


def _extra(columns: pd.DataFrame, previous: pd.Series | None) -> pd.Series:
    """Keep a file's unmatched columns as one JSON object per row (as JSON text, made in bulk)."""
    text = columns.to_json(orient="records", lines=True, date_format="iso", force_ascii=False,
                           default_handler=str)
    rows = text.split("\n")[: len(columns)]
    if previous is None or previous.isna().all():
        return pd.Series(rows, dtype=object)
    merged = [{**(p if isinstance(p, dict) else {}), **json.loads(r)} for p, r in zip(previous, rows, strict=True)]
    return pd.Series(merged, dtype=object)
