"""Convert attribute values between the in-memory frame and SQL storage, per catalogue type.

In memory (what validation produces and reading returns): text as ``str``, integers as
pandas ``Int64``, reals as ``float64``, booleans as pandas ``boolean``, dates as
``datetime64`` at midnight, datetimes as UTC ``datetime64``, lists and JSON as Python
objects. In SQL: text, integers, reals, 0/1, ISO 8601 text and JSON text, as GeoPackage and
GDAL expect them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from commonsmap.catalogue import FieldSpec

JSON_TYPES = frozenset({"list", "enum_list", "json"})
TEXT_TYPES = frozenset({"string", "enum", "ref"})


def utc_now() -> pd.Timestamp:
    """Return the current time in UTC, to the millisecond (the precision stored)."""
    return pd.Timestamp.now(tz="UTC").floor("ms")


def format_datetime(value: pd.Timestamp | dt.datetime) -> str:
    """Format a datetime as GeoPackage DATETIME text (``YYYY-MM-DDTHH:MM:SS.sssZ``, UTC)."""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, list | dict | tuple):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def to_sql(series: pd.Series, spec: FieldSpec) -> list[Any]:
    """Return a column's values as SQL parameters (None for missing)."""
    if spec.type in JSON_TYPES:
        return [None if _missing(v) else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
                for v in series]
    if spec.type == "date":
        text = pd.to_datetime(series).dt.strftime("%Y-%m-%d")
        return [None if _missing(v) else v for v in text]
    if spec.type == "datetime":
        stamps = pd.to_datetime(series, utc=True)
        if stamps.nunique(dropna=True) <= 1:
            first = stamps.dropna()
            constant = format_datetime(first.iloc[0]) if len(first) else None
            return [None if _missing(v) else constant for v in stamps]
        return [None if _missing(v) else format_datetime(v) for v in stamps]
    if spec.type == "boolean":
        return [None if _missing(v) else int(bool(v)) for v in series]
    if spec.type == "integer":
        return [None if _missing(v) else int(v) for v in series]
    if spec.type == "real":
        return [None if _missing(v) else float(v) for v in series]
    return [None if _missing(v) else str(v) for v in series]


def value_to_sql(value: Any, spec: FieldSpec) -> Any:
    """Return one value as an SQL parameter."""
    return to_sql(pd.Series([value], dtype=object), spec)[0]


def from_sql(value: Any, spec: FieldSpec) -> Any:
    """Return one stored value as its in-memory Python value."""
    if value is None:
        return None
    if spec.type in JSON_TYPES:
        return json.loads(value) if isinstance(value, str) else value
    if spec.type == "date":
        return pd.Timestamp(value)
    if spec.type == "datetime":
        return pd.to_datetime(value, utc=True)
    if spec.type == "boolean":
        return bool(value)
    return value


def parse_json_column(series: pd.Series) -> pd.Series:
    """Parse a column of JSON text (as GDAL reads it) into Python objects."""
    return series.map(lambda v: json.loads(v) if isinstance(v, str) and v else None).astype(object)
