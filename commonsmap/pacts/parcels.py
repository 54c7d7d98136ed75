"""Pacts linked to the cadastral parcels they cover, parcels' designation, exclusive pacts that collide.

A pact is linked to parcels (layer ``pact_parcels``, one row per pact and parcel) in one of three
ways, its ``method``:

* ``geometry``: a pact drawn as an area covers every parcel its polygon overlaps with a positive
  area; ``share`` is the fraction of the parcel inside the pact (1 for a parcel wholly inside)
  and ``area_ha`` that area, geodesic;
* ``reference``: the pact's ``parcels`` list of cadastral references, matched against the parcels'
  ``cadastral_ref`` (both through :func:`~commonsmap.pacts.cadastre.normalise_ref`); an Italian
  reference to a whole sheet (``H833_001300``) covers every parcel of the sheet;
* ``location``: a pact placed as a point covers the parcel it falls in (both parcels, if it falls
  on their common boundary).

:func:`parcel_links` computes the links of frames, with no atlas (benchmarks, batch jobs);
:func:`link_pacts` writes them into an atlas and brings the parcels' designation in step:
parcels covered by a pact in force are ``under_pact``. :func:`designate` changes the
designation of parcels by hand, and :func:`exclusive_pact_conflicts` (from
:mod:`commonsmap.pacts.exclusive`) finds pacts that both grant exclusive use of the same ground
at the same time. Cadastres come into the atlas with :mod:`commonsmap.pacts.cadastre`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from commonsmap.analysis.overlaps import overlap_pairs
from commonsmap.errors import InvalidInputError, NotFoundError, Problem
from commonsmap.pacts.cadastre import _italian, normalise_ref
from commonsmap.pacts.effects import in_force, set_parcel_designation
from commonsmap.pacts.exclusive import CONFLICT_COLUMNS, EXCLUSIVE_STATUSES, exclusive_pact_conflicts
from commonsmap.vocabularies import Designation, ParcelLink

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

__all__ = [
    "CONFLICT_COLUMNS", "EXCLUSIVE_STATUSES", "LINK_COLUMNS", "METHODS", "MIN_SHARE", "LinkResult", "designate",
    "exclusive_pact_conflicts", "link_methods", "link_pacts", "parcel_links",
]

LINK_COLUMNS = ["pact", "parcel", "cadastral_ref", "method", "share", "area_ha"]
"""Columns of a frame of links: as the ``pact_parcels`` layer has them."""

METHODS = ("auto", "geometry", "reference", "location")
"""How to link: ``auto`` takes, for each pact, its references if it lists any, else its area if
it is a polygon, else its location if it is a point."""

MIN_SHARE = 1e-9
"""Overlaps covering at most this share of a parcel are slivers where two lines were drawn along
the same boundary, not links."""

_POLYGONS = ("Polygon", "MultiPolygon")
_POINTS = ("Point", "MultiPoint")


def _ref_list(value: Any) -> list[str]:
    """A pact's ``parcels`` value as a list of references (a text may list several, comma-separated)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return [str(v).strip() for v in value if v is not None and str(v).strip()]


def link_methods(pacts: gpd.GeoDataFrame, method: str = "auto", *, refs: str = "parcels") -> np.ndarray:
    """The method each pact is linked by (None when it cannot be linked that way).

    Raises
    ------
    InvalidInputError
        For a method not in :data:`METHODS`.
    """
    if method not in METHODS:
        raise InvalidInputError(f"unknown link method {method!r}; use one of {', '.join(METHODS)}")
    listed = (pacts[refs].map(lambda v: len(_ref_list(v)) > 0).to_numpy(dtype=bool) if refs in pacts.columns
              else np.zeros(len(pacts), dtype=bool))
    kinds = pacts.geometry.geom_type.to_numpy() if isinstance(pacts, gpd.GeoDataFrame) else np.full(len(pacts), None)
    polygon, point = np.isin(kinds, _POLYGONS), np.isin(kinds, _POINTS)
    chosen = np.full(len(pacts), None, dtype=object)
    if method == "auto":
        chosen[point] = ParcelLink.LOCATION.value
        chosen[polygon] = ParcelLink.GEOMETRY.value
        chosen[listed] = ParcelLink.REFERENCE.value
    else:
        able = {"geometry": polygon, "location": point, "reference": listed}[method]
        chosen[able] = method
    return chosen


def _geometry_links(pacts: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, pact_id: str, parcel_id: str,
                    min_share: float) -> pd.DataFrame:
    if len(pacts) == 0 or len(parcels) == 0:
        return pd.DataFrame(columns=["pact", "parcel", "share", "area_ha"])
    pacts, parcels = pacts[[pact_id, pacts.geometry.name]], parcels[[parcel_id, parcels.geometry.name]]
    if parcels.crs is None or pacts.crs is None or pacts.crs.equals(parcels.crs):
        pairs = overlap_pairs(pacts, parcels, left_id=pact_id, right_id=parcel_id, with_geometry=False)
        pact, parcel, share = pairs["left_id"], pairs["right_id"], pairs["right_share"]
    else:  # the pacts are brought to the parcels' CRS, not the (many) parcels to theirs
        pairs = overlap_pairs(parcels, pacts, left_id=parcel_id, right_id=pact_id, with_geometry=False)
        pact, parcel, share = pairs["right_id"], pairs["left_id"], pairs["left_share"]
    frame = pd.DataFrame({"pact": pact.to_numpy(), "parcel": parcel.to_numpy(), "share": share.to_numpy(),
                          "area_ha": pairs["area_ha"].to_numpy()})
    frame = frame[frame["share"] > min_share]
    return frame.sort_values(["pact", "parcel"], kind="stable", ignore_index=True)


def _location_links(pacts: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, pact_id: str,
                    parcel_id: str) -> pd.DataFrame:
    if len(pacts) == 0 or len(parcels) == 0:
        return pd.DataFrame(columns=["pact", "parcel"])
    points = pacts.geometry
    if points.crs is not None and not points.crs.equals(parcels.crs):
        points = points.to_crs(parcels.crs)
    parts, owner = shapely.get_parts(np.asarray(points.values, dtype=object), return_index=True)
    found = shapely.STRtree(np.asarray(parcels.geometry.values, dtype=object)).query(parts, predicate="intersects")
    frame = pd.DataFrame({"pact": pacts[pact_id].to_numpy()[owner[found[0]]],
                          "parcel": parcels[parcel_id].to_numpy()[found[1]]})
    return frame.drop_duplicates().sort_values(["pact", "parcel"], kind="stable", ignore_index=True)


def _reference_links(pacts: pd.DataFrame, parcels: pd.DataFrame, pact_id: str, parcel_id: str, refs: str,
                     ref: str) -> tuple[pd.DataFrame, dict[Any, list[str]]]:
    by_key: dict[str, list[Any]] = defaultdict(list)
    by_sheet: dict[str, list[Any]] = defaultdict(list)
    for parcel, value in zip(parcels[parcel_id], parcels[ref], strict=True):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        by_key[normalise_ref(value)].append(parcel)
        italian = _italian(value)
        if italian is not None:
            by_sheet[italian.sheet].append(parcel)
    rows: list[tuple[Any, Any]] = []
    unmatched: dict[Any, list[str]] = {}
    for pact, value in zip(pacts[pact_id], pacts[refs], strict=True):
        for text in _ref_list(value):
            italian = _italian(text)
            found = by_sheet.get(italian.sheet, []) if italian is not None and italian.is_sheet \
                else by_key.get(normalise_ref(text), [])
            if not found:
                unmatched.setdefault(pact, []).append(text)
            rows.extend((pact, parcel) for parcel in found)
    frame = pd.DataFrame(rows, columns=["pact", "parcel"]).drop_duplicates()
    frame = frame.sort_values(["pact", "parcel"], kind="stable", ignore_index=True)
    return frame, unmatched


def _links(pacts: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, method: str, pact_id: str, parcel_id: str,
           refs: str, ref: str, min_share: float) -> tuple[pd.DataFrame, dict[Any, list[str]]]:
    """Links of the pacts (LINK_COLUMNS) and, per pact, the references that matched no parcel."""
    chosen = link_methods(pacts, method, refs=refs)
    parts = []
    unmatched: dict[Any, list[str]] = {}
    for name in (ParcelLink.GEOMETRY.value, ParcelLink.LOCATION.value, ParcelLink.REFERENCE.value):
        some = pacts[chosen == name]
        if len(some) == 0:
            continue
        if name == ParcelLink.GEOMETRY.value:
            found = _geometry_links(some, parcels, pact_id, parcel_id, min_share)
        elif name == ParcelLink.LOCATION.value:
            found = _location_links(some, parcels, pact_id, parcel_id)
        else:
            found, unmatched = _reference_links(some, parcels, pact_id, parcel_id, refs, ref)
        found["method"] = name
        parts.append(found)
    links = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["pact", "parcel", "method"])
    if len(parts) > 1:  # each part is sorted already
        links = links.sort_values(["pact", "parcel"], kind="stable", ignore_index=True)
    for column in ("share", "area_ha"):
        links[column] = links[column].astype(float) if column in links.columns else np.nan
    refs_of = dict(zip(parcels[parcel_id], parcels[ref], strict=True)) if ref in parcels.columns else {}
    links["cadastral_ref"] = links["parcel"].map(refs_of) if refs_of else None
    return links[LINK_COLUMNS], unmatched


def parcel_links(pacts: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, *, method: str = "auto",
                 pact_id: str = "id", parcel_id: str = "id", refs: str = "parcels", ref: str = "cadastral_ref",
                 min_share: float = MIN_SHARE) -> pd.DataFrame:
    """Link pacts to the parcels they cover, from frames (no atlas).

    Parameters
    ----------
    pacts : GeoDataFrame
        Pacts: polygons (areas), points (locations) or no geometry, with their id and, for
        ``reference``, a column of lists of cadastral references.
    parcels : GeoDataFrame
        Parcels (polygons) with their id and ``cadastral_ref``; any CRS (the pacts are brought to it).
    method : {"auto", "geometry", "reference", "location"}, default "auto"
        See :data:`METHODS`; a pact the method does not fit is left unlinked.
    pact_id, parcel_id : str
        The id columns.
    refs : str, default "parcels"
        The pacts' column of cadastral references.
    ref : str, default "cadastral_ref"
        The parcels' column of cadastral references.
    min_share : float, default :data:`MIN_SHARE`
        Overlaps covering at most this share of a parcel are not links.

    Returns
    -------
    DataFrame
        :data:`LINK_COLUMNS`, one row per pact and parcel, sorted: ``share`` (0 to 1, exactly 1 for
        a parcel wholly inside) and ``area_ha`` (geodesic) for geometry links, empty for others.
    """
    links, _ = _links(pacts, parcels, method, pact_id, parcel_id, refs, ref, min_share)
    return links


@dataclass
class LinkResult:
    """What :func:`link_pacts` did."""

    pacts: list[str]
    """The pacts linked (all those asked for, linked to parcels or not)."""
    links: pd.DataFrame
    """The links written, :data:`LINK_COLUMNS` and their ``id``."""
    removed: int = 0
    """Previous links of these pacts deleted (``replace=True``)."""
    unlinked: list[str] = field(default_factory=list)
    """Pacts no parcel was found for (no geometry nor reference, outside the cadastre...)."""
    unmatched_refs: dict[str, list[str]] = field(default_factory=dict)
    """Per pact, the references that matched no parcel."""
    designation_changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """Per parcel whose designation changed: (before, after)."""

    @property
    def count(self) -> int:
        """Number of links written."""
        return len(self.links)


def _pact_frame(atlas: Atlas, pacts: list[str] | None) -> gpd.GeoDataFrame:
    frame = atlas.layer("pacts")
    if pacts is None:
        return frame
    wanted = list(dict.fromkeys(pacts))
    unknown = sorted(set(wanted) - set(frame["id"]))
    if unknown:
        raise NotFoundError(f"no pact {', '.join(map(repr, unknown))} in layer 'pacts'")
    return frame[frame["id"].isin(wanted)].reset_index(drop=True)


def _parcel_frame(atlas: Atlas, pacts: gpd.GeoDataFrame, chosen: np.ndarray) -> gpd.GeoDataFrame:
    """The parcels the pacts may cover: all of them for references, those near the pacts otherwise."""
    if (chosen == ParcelLink.REFERENCE.value).any():
        return atlas.layer("parcels")
    placed = pacts.geometry[pd.notna(chosen)]
    if placed.isna().all():
        return atlas.layer("parcels").iloc[:0]
    return atlas.layer("parcels", bbox=tuple(placed.total_bounds))


def link_pacts(atlas: Atlas, pacts: list[str] | None = None, *, method: str = "auto", who: str,
               replace: bool = True, note: str | None = None) -> LinkResult:
    """Link pacts to the parcels they cover, in one transaction, and update the parcels' designation.

    Parameters
    ----------
    atlas : Atlas
        The atlas holding the pacts and the cadastre (layer ``parcels``).
    pacts : list of str, optional
        The pacts' ids; every pact by default.
    method : {"auto", "geometry", "reference", "location"}, default "auto"
        See :data:`METHODS` and :mod:`commonsmap.pacts.parcels`.
    who : str
        Who links: recorded in the history.
    replace : bool, default True
        Delete these pacts' previous links first (the links follow the pact as it is now);
        otherwise add only the links they lack.
    note : str, optional
        Recorded in the history.

    Returns
    -------
    LinkResult

    Raises
    ------
    NotFoundError
        If a pact id is unknown; nothing is written.

    Notes
    -----
    After linking, every parcel that gained or lost a link gets the designation the pacts in
    force covering it give (:func:`commonsmap.pacts.effects.set_parcel_designation`):
    ``under_pact`` if one covers it, back to ``designated`` if none does any more.
    """
    if not who or not str(who).strip():
        raise InvalidInputError("linking pacts must say who does it: who=...")
    frame = _pact_frame(atlas, pacts)
    chosen = link_methods(frame, method)
    parcels = _parcel_frame(atlas, frame, chosen)
    links, unmatched = _links(frame, parcels, method, "id", "id", "parcels", "cadastral_ref", MIN_SHARE)
    ids = frame["id"].tolist()
    with atlas.transaction(who=who, note=note or f"{len(ids)} pacts linked to parcels ({method})") as tx:
        previous = tx.find("pact_parcels", "pact", ids)
        affected = {row["parcel"] for row in previous}
        if replace:
            for row in previous:
                tx.delete("pact_parcels", row["id"])
        else:
            have = {(row["pact"], row["parcel"]) for row in previous}
            links = links[[pair not in have for pair in zip(links["pact"], links["parcel"], strict=True)]]
            links = links.reset_index(drop=True)
        written = tx.add("pact_parcels", links[LINK_COLUMNS]).ids if len(links) else []
        affected |= set(links["parcel"])
        before = {row["id"]: row.get("designation") for row in tx.find("parcels", "id", sorted(affected))}
        set_parcel_designation(tx, sorted(affected))
        after = {row["id"]: row.get("designation") for row in tx.find("parcels", "id", sorted(affected))}
    links = links.assign(id=written)
    linked = set(links["pact"])
    return LinkResult(pacts=ids, links=links, removed=len(previous) if replace else 0,
                      unlinked=[p for p in ids if p not in linked], unmatched_refs=unmatched,
                      designation_changes={p: (before[p], after[p]) for p in after if before.get(p) != after[p]})


def designate(atlas: Atlas, parcel_ids: list[str], designation: str, *, who: str,
              note: str | None = None) -> list[str]:
    """Set the designation of parcels (all of them, or none); return the ids of those that changed.

    ``under_pact`` follows the pacts in force: a parcel one covers keeps it (it cannot be set to
    ``not_designated``, nor to anything else, until the pact ends), and no parcel gets it by hand.

    Raises
    ------
    InvalidInputError
        Naming each parcel that cannot take the designation and the pacts in force that cover
        it; nothing is written.
    NotFoundError
        If a parcel id is unknown.
    """
    if not who or not str(who).strip():
        raise InvalidInputError("a designation must say who makes it: who=...")
    wanted = Designation.parse(designation).value
    ids = list(dict.fromkeys(parcel_ids))
    with atlas.transaction(who=who, note=note or f"parcels designated {wanted}") as tx:
        rows = {row["id"]: row for row in tx.find("parcels", "id", ids)}
        unknown = [i for i in ids if i not in rows]
        if unknown:
            raise NotFoundError(f"no parcel {', '.join(map(repr, unknown))} in layer 'parcels'")
        links = tx.find("pact_parcels", "parcel", ids)
        status = {p["id"]: p["status"] for p in tx.find("pacts", "id", sorted({link["pact"] for link in links}))}
        covering: dict[str, list[str]] = defaultdict(list)
        for link in links:
            if in_force(status[link["pact"]]) and link["pact"] not in covering[link["parcel"]]:
                covering[link["parcel"]].append(link["pact"])
        problems = []
        for number, parcel in enumerate(ids):
            name = rows[parcel].get("cadastral_ref") or parcel
            pacts = ", ".join(covering.get(parcel, []))
            if pacts and wanted != Designation.UNDER_PACT.value:
                problems.append(Problem(f"parcel {name} is covered by pact {pacts} in force: it stays under_pact, "
                                        f"and cannot be set to {wanted}, until the pact ends", row=number))
            elif not pacts and wanted == Designation.UNDER_PACT.value:
                problems.append(Problem(f"parcel {name} is covered by no pact in force: only such a pact puts a "
                                        "parcel under pact (link one with link_pacts)", row=number))
        if problems:
            raise InvalidInputError(problems)
        changed = [p for p in ids if rows[p].get("designation") != wanted]
        for parcel in changed:
            tx.update("parcels", parcel, {"designation": wanted})
    return changed
