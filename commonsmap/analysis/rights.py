"""Who may do what here? Rights, restrictions, responsibilities, claims and pacts at a place and date.

A right (or restriction, or responsibility) applies where its own geometry is, or, when it has
none, over the whole of its commons. A viewer only learns of records it may see whole, located
by geometries it may see whole: a right on a commons hidden from the viewer is not placed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from commonsmap.errors import QueryError
from commonsmap.geometry import parse_crs
from commonsmap.pacts.lifecycle import IN_FORCE
from commonsmap.pacts.status_on import pact_statuses
from commonsmap.privacy import Viewer, whole_rows
from commonsmap.tenure import BUNDLE

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

ENDED_CLAIMS = frozenset({"rejected", "withdrawn"})
"""Claim statuses that no longer apply anywhere."""

ENDED_PACTS = frozenset({"rejected", "withdrawn", "archived"})
"""Pact statuses that never applied or no longer count."""

ANSWER_COLUMNS = [
    "layer", "record_id", "kind", "holder", "holder_name", "position", *BUNDLE, "basis", "status", "months",
    "quota", "valid_from", "valid_to", "commons", "commons_name", "pact", "title",
]
"""Columns of :func:`who_may`'s answer."""




def rights_with_places(atlas: Atlas, *, viewer: Viewer | None = None,
                       bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
    """Return the rights layer with each right's effective geometry.

    A right's own geometry when it has one; otherwise its commons' geometry, if the viewer may
    see that commons whole. Rights with neither are dropped (they cannot be placed). With a
    ``bbox``, commons outside it are not read (rights on them may then be dropped too).
    """
    rights = whole_rows(atlas.layer("rights", viewer=viewer))
    commons = whole_rows(atlas.layer("commons", viewer=viewer, bbox=bbox))
    by_id = dict(zip(commons["id"], commons.geometry, strict=True))
    own = rights.geometry
    places = [g if g is not None and not g.is_empty else by_id.get(c)
              for g, c in zip(own, rights["commons"], strict=True)]
    placed = gpd.GeoDataFrame(rights.drop(columns=rights.geometry.name), geometry=places, crs=atlas.crs)
    keep = placed.geometry.notna().to_numpy() & ~placed.geometry.is_empty.to_numpy()
    return placed[keep].reset_index(drop=True)


def _place(atlas: Atlas, place: Any, crs: Any) -> BaseGeometry:
    if isinstance(place, tuple | list) and len(place) == 2:
        place = shapely.Point(float(place[0]), float(place[1]))
        crs = crs if crs is not None else "EPSG:4326"
    if not isinstance(place, BaseGeometry) or place.is_empty:
        raise QueryError("give the place as a shapely Point or Polygon, or as (x, y)")
    if not place.is_valid:
        raise QueryError(f"the place is not a valid geometry: {shapely.is_valid_reason(place)}")
    if crs is not None and not parse_crs(crs).equals(atlas.crs):
        place = gpd.GeoSeries([place], crs=parse_crs(crs)).to_crs(atlas.crs).iloc[0]
    return place


def _here(geometries: gpd.GeoSeries, place: BaseGeometry) -> np.ndarray:
    """Which geometries apply at ``place``: contain the point, or share some area with the polygon."""
    values = np.asarray(geometries.values, dtype=object)
    hits = shapely.intersects(values, place)
    if place.geom_type in ("Polygon", "MultiPolygon"):
        hits &= ~shapely.touches(values, place)
    return np.asarray(hits, dtype=bool)


def _in_force(start: pd.Series, end: pd.Series, day: dt.date | None) -> np.ndarray:
    if day is None:
        return np.ones(len(start), dtype=bool)
    stamp = pd.Timestamp(day)
    begun = pd.to_datetime(start).isna() | (pd.to_datetime(start) <= stamp)
    not_over = pd.to_datetime(end).isna() | (pd.to_datetime(end) >= stamp)
    return np.asarray(begun & not_over, dtype=bool)


_IN_FORCE = frozenset(status.value for status in IN_FORCE)


def _pact_allows(pact: Any, statuses: dict[str, str]) -> bool:
    """Whether a right stands as far as its pact goes.

    A right a pact grants applies while the pact is in force; one without a pact (or whose pact
    the viewer may not see) is judged by its own dates alone.
    """
    if not isinstance(pact, str) or pact not in statuses:
        return True
    return statuses[pact] in _IN_FORCE


def in_season(months: Any, month: int) -> bool:
    """Whether a list of months (1–12; empty or missing = all year) includes ``month``."""
    if months is None or (isinstance(months, float) and np.isnan(months)):
        return True
    listed = {int(m) for m in months}
    return not listed or month in listed


def _party_names(atlas: Atlas, viewer: Viewer | None) -> dict[str, str]:
    parties = whole_rows(atlas.layer("parties", viewer=viewer))
    return dict(zip(parties["id"], parties["name"], strict=True))


def who_may(atlas: Atlas, place: Any, *, on: Any = None, viewer: Viewer | None = None,
            crs: Any = None) -> pd.DataFrame:
    """Answer "who may do what here?": every right, restriction, responsibility, claim and pact at a place.

    Parameters
    ----------
    atlas : Atlas
        The atlas to ask.
    place : shapely Point or Polygon, or (x, y)
        Where; in the atlas CRS unless ``crs`` is given (an ``(x, y)`` pair is longitude,
        latitude unless ``crs`` says otherwise). A polygon must share some area with a record.
    on : date, optional
        When: only records in force that day (validity dates, the season's months, a claim
        lodged by then, a pact in force that day as its events tell). Every record whatever its
        dates otherwise. A right granted by a pact applies only while the pact is in force
        (today, or on ``on``): not before it is signed, while suspended, or after it ends.
    viewer : Viewer, optional
        Who asks; records it may not see whole are left out.
    crs : optional
        The CRS of ``place``.

    Returns
    -------
    DataFrame
        One row per holder of each record, with the columns of :data:`ANSWER_COLUMNS`: the
        layer and id of the record, its kind (right, restriction, responsibility, claim,
        pact), the holder's id, name and position, the bundle of rights, basis, status,
        season, quota, validity, commons and title. Rejected or withdrawn claims, and
        rejected, withdrawn or archived pacts, are left out.
    """
    where = _place(atlas, place, crs)
    near = tuple(where.bounds)  # the spatial index narrows every read to the place's extent
    day = None if on is None else pd.Timestamp(on).date()
    names = _party_names(atlas, viewer)
    commons = whole_rows(atlas.layer("commons", viewer=viewer, bbox=near))
    commons_names = dict(zip(commons["id"], commons["name"], strict=True))
    rows: list[dict[str, Any]] = []

    rights = rights_with_places(atlas, viewer=viewer, bbox=near)
    pacts = whole_rows(atlas.layer("pacts", viewer=viewer, bbox=near))
    concerned = {p for p in rights["pact"] if isinstance(p, str)} | set(pacts["id"])
    statuses = pact_statuses(atlas, on=day, viewer=viewer, ids=concerned)
    chosen = _here(rights.geometry, where) & _in_force(rights["valid_from"], rights["valid_to"], day)
    chosen &= np.array([_pact_allows(p, statuses) for p in rights["pact"]], dtype=bool)
    if day is not None:
        chosen &= np.array([in_season(m, day.month) for m in rights["months"]], dtype=bool)
    for right in rights[chosen].to_dict("records"):
        rows.append({**{k: right.get(k) for k in ANSWER_COLUMNS if k in right}, "layer": "rights",
                     "record_id": right["id"], "holder_name": names.get(right["holder"]),
                     "commons_name": commons_names.get(right["commons"]), "title": right.get("description")})

    claims = whole_rows(atlas.layer("claims", viewer=viewer, bbox=near))
    chosen = _here(claims.geometry, where) & ~claims["status"].isin(ENDED_CLAIMS).to_numpy()
    chosen &= _in_force(claims["claimed_on"], pd.Series([None] * len(claims), dtype=object), day)
    for claim in claims[chosen].to_dict("records"):
        rows.append({"layer": "claims", "record_id": claim["id"], "kind": "claim", "holder": claim["claimant"],
                     "holder_name": names.get(claim["claimant"]), "position": "claimant",
                     "basis": claim["basis"], "status": claim["status"], "title": claim["name"]})

    chosen = _here(pacts.geometry, where) & ~pacts["status"].isin(ENDED_PACTS).to_numpy()
    if day is not None:
        chosen &= _in_force(pacts["signed_on"], pacts["expires_on"], day)
        chosen &= np.array([statuses.get(p) in _IN_FORCE for p in pacts["id"]], dtype=bool)
    for pact in pacts[chosen].to_dict("records"):
        signatories = list(pact["parties"] or []) or [None]
        for party in signatories:
            rows.append({"layer": "pacts", "record_id": pact["id"], "kind": "pact", "holder": party,
                         "holder_name": names.get(party) if party else pact.get("proponent"),
                         "basis": "pact", "status": statuses.get(pact["id"], pact["status"]),
                         "valid_from": pact["signed_on"], "pact": pact["id"],
                         "valid_to": pact["expires_on"], "title": pact["title"]})

    answer = pd.DataFrame(rows, columns=ANSWER_COLUMNS)
    order = {"rights": 0, "claims": 1, "pacts": 2}
    answer = answer.sort_values(["layer", "kind", "holder_name", "record_id"],
                                key=lambda s: s.map(order) if s.name == "layer" else s.astype(str))
    return answer.reset_index(drop=True)
