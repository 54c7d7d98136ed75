"""Pacts that both grant exclusive use of the same ground at the same time.

A pact with ``exclusive_use`` gives its signatories the use of its area to the exclusion of
others. Two such pacts collide when

* both are *approved* or *in force* (active, monitoring, extended): an approved pact is about to
  be signed, and a collision is best caught before it is; proposals, suspended and ended pacts
  take no part;
* their validity periods overlap: from ``starts_on`` (or ``signed_on``) to ``expires_on``, both
  days included, open-ended where a date is missing;
* they share ground inside a parcel they are both linked to (layer ``pact_parcels``, see
  :func:`commonsmap.pacts.parcels.link_pacts`): in such a parcel, a pact linked by its area
  covers the part of the parcel inside its polygon, a pact linked by reference or by location
  (a point) covers the whole parcel; the two pieces must overlap with a positive area.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from commonsmap.analysis.areas import lonlat_area_ha
from commonsmap.pacts.lifecycle import IN_FORCE, as_day, optional_day
from commonsmap.privacy import Viewer, whole_rows
from commonsmap.vocabularies import PactStatus, ParcelLink

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

EXCLUSIVE_STATUSES = frozenset({PactStatus.APPROVED.value, *(s.value for s in IN_FORCE)})
"""Statuses in which a pact's exclusive use counts: approved, active, monitoring, extended."""

CONFLICT_COLUMNS = ["left_pact", "right_pact", "left_title", "right_title", "left_status", "right_status",
                    "overlap_from", "overlap_until", "parcels", "cadastral_refs", "area_ha", "basis"]
"""Columns of :func:`exclusive_pact_conflicts`.

``left_pact``, ``right_pact``: the two pacts (ids, the smaller first); their ``*_title`` and
``*_status``; ``overlap_from``, ``overlap_until``: the days both are valid (None where open-ended);
``parcels``, ``cadastral_refs``: the parcels where they share ground (lists, sorted by id);
``area_ha``: the ground they share there, geodesic hectares; ``basis``: ``area`` when both pacts
are linked to those parcels by their areas (the overlap of their polygons), ``parcel`` when one
of them covers a whole parcel (linked by reference or location).
"""

_NOISE = 1e-9


def _period(pact: pd.Series) -> tuple[dt.date | None, dt.date | None]:
    start = optional_day(pact.get("starts_on")) or optional_day(pact.get("signed_on"))
    return start, optional_day(pact.get("expires_on"))


def _shared_period(a: tuple[dt.date | None, dt.date | None],
                   b: tuple[dt.date | None, dt.date | None]) -> tuple[dt.date | None, dt.date | None] | None:
    """The days two periods share (None for an open end), or None when they share none."""
    starts = [d for d in (a[0], b[0]) if d is not None]
    ends = [d for d in (a[1], b[1]) if d is not None]
    start, end = (max(starts) if starts else None), (min(ends) if ends else None)
    if start is not None and end is not None and start > end:
        return None
    return start, end


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c == "area_ha" else object) for c in CONFLICT_COLUMNS})


def exclusive_pact_conflicts(atlas: Atlas, *, viewer: Viewer | None = None, on: Any = None) -> pd.DataFrame:
    """Find pairs of exclusive-use pacts, approved or in force, valid at the same time, that share ground.

    Parameters
    ----------
    atlas : Atlas
        The atlas, with its pacts linked to parcels (:func:`commonsmap.pacts.parcels.link_pacts`).
    viewer : Viewer, optional
        Who asks: only pacts, links and parcels it may see whole take part.
    on : date, optional
        Only pacts valid on that day (and so colliding on it). By default any overlap of their
        validity periods counts.

    Returns
    -------
    DataFrame
        One row per colliding pair, :data:`CONFLICT_COLUMNS`, sorted by the two pacts.

    Notes
    -----
    See :mod:`commonsmap.pacts.exclusive` for what counts, and :data:`EXCLUSIVE_STATUSES`.
    """
    day = None if on is None else as_day(on, "on")
    pacts = whole_rows(atlas.layer("pacts", viewer=viewer))
    exclusive = pacts["exclusive_use"].fillna(False).astype(bool) & pacts["status"].isin(EXCLUSIVE_STATUSES)
    pacts = pacts[exclusive.to_numpy()].set_index("id", drop=False)
    periods = {pact: _period(row) for pact, row in pacts.iterrows()}
    if day is not None:
        periods = {p: (s, e) for p, (s, e) in periods.items() if (s is None or s <= day) and (e is None or day <= e)}
    if len(periods) < 2:
        return _empty()
    links = whole_rows(atlas.layer("pact_parcels", viewer=viewer))
    links = links[links["pact"].isin(list(periods))]
    whole: dict[tuple[str, str], bool] = {}
    for pact, parcel, method in zip(links["pact"], links["parcel"], links["method"], strict=True):
        whole[(pact, parcel)] = whole.get((pact, parcel), False) or method != ParcelLink.GEOMETRY.value
    by_parcel: dict[str, list[str]] = defaultdict(list)
    for pact, parcel in sorted(whole):
        by_parcel[parcel].append(pact)
    candidates = [(a, b, parcel) for parcel, ids in by_parcel.items() for i, a in enumerate(ids) for b in ids[i + 1:]
                  if _shared_period(periods[a], periods[b]) is not None]
    if not candidates:
        return _empty()
    parcels = whole_rows(atlas.layer("parcels", viewer=viewer)).set_index("id", drop=False)
    candidates = [c for c in candidates if c[2] in parcels.index]
    crs = CRS.from_user_input(atlas.crs)

    def cover(pact: str, parcel: str) -> Any:
        ground = parcels.at[parcel, "geometry"]
        area = pacts.at[pact, "geometry"]
        polygonal = area is not None and shapely.get_type_id(area) in (3, 6)
        return ground if whole[(pact, parcel)] or not polygonal else shapely.intersection(area, ground)

    pieces = np.array([shapely.intersection(cover(a, p), cover(b, p)) for a, b, p in candidates], dtype=object)
    shared = lonlat_area_ha(pieces, crs)
    own = lonlat_area_ha(np.array([parcels.at[p, "geometry"] for _, _, p in candidates], dtype=object), crs)
    found: dict[tuple[str, str], list[tuple[str, float, bool]]] = defaultdict(list)
    for (a, b, parcel), area, size in zip(candidates, shared, own, strict=True):
        if area > _NOISE * size:
            found[(a, b)].append((parcel, float(area), whole[(a, parcel)] or whole[(b, parcel)]))
    rows = []
    for (a, b), places in sorted(found.items()):
        start, end = _shared_period(periods[a], periods[b])  # type: ignore[misc]
        places.sort()
        rows.append({
            "left_pact": a, "right_pact": b, "left_title": pacts.at[a, "title"], "right_title": pacts.at[b, "title"],
            "left_status": pacts.at[a, "status"], "right_status": pacts.at[b, "status"],
            "overlap_from": start, "overlap_until": end, "parcels": [p for p, _, _ in places],
            "cadastral_refs": [parcels.at[p, "cadastral_ref"] for p, _, _ in places],
            "area_ha": sum(area for _, area, _ in places),
            "basis": "parcel" if any(w for _, _, w in places) else "area",
        })
    return pd.DataFrame(rows, columns=CONFLICT_COLUMNS) if rows else _empty()
