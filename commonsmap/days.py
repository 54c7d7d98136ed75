"""Days as the library reads them: from dates, timestamps or text, with clear errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from commonsmap.errors import InvalidInputError


def as_day(value: Any, what: str = "date") -> dt.date:
    """Return ``value`` as a date, or raise :class:`InvalidInputError` naming ``what``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what}: {value!r} is not a date") from exc
    if pd.isna(stamp):
        raise InvalidInputError(f"{what}: {value!r} is not a date")
    return stamp.date()


def optional_day(value: Any) -> dt.date | None:
    """Return a stored date value as a date, or ``None`` when it is empty."""
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    return as_day(value)


def add_months(day: dt.date, months: int) -> dt.date:
    """Return the same day ``months`` later (the last day of the month when it does not exist)."""
    return (pd.Timestamp(day) + pd.DateOffset(months=int(months))).date()
