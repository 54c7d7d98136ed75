"""Conflict detection: overlapping claims, and exclusive rights that meet in space and season.

Claims are checked against each other, context layers, parcels and pacts. Every overlap is
computed, never entered: :func:`detect_conflicts` returns a report (one row per overlapping
pair, with the shared piece, its area in hectares and the share of each side),
:func:`write_conflict_report` writes it as CSV or GeoJSON, and :func:`open_dispute` turns one of
its rows into a Dispute record. Everything is computed over what the viewer may see whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from commonsmap.analysis.overlaps import overlap_pairs
from commonsmap.analysis.rights import ENDED_CLAIMS, ENDED_PACTS, rights_with_places
from commonsmap.errors import QueryError
from commonsmap.privacy import Viewer, whole_rows

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

CONFLICT_KINDS = ("claim_claim", "claim_context", "claim_parcel", "claim_pact", "exclusive_rights")
"""What a report row is about."""

REPORT_COLUMNS = [
    "kind", "left_layer", "left_id", "left_name", "left_party", "right_layer", "right_id", "right_name",
    "right_party", "area_ha", "left_share", "right_share", "months",
]
"""Attribute columns of a conflict report (it also has the overlap ``geometry``)."""

AGAINST = ("claims", "parcels", "pacts", "rights")
"""What claims are checked against by default (plus any context layers given)."""

_NAME_CANDIDATES = ("name", "NAME", "Name", "nome", "NOME", "nombre", "title", "TITLE", "PROCESSO")




def _polygons(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    kinds = frame.geometry.geom_type.to_numpy()
    return frame[np.isin(kinds, ("Polygon", "MultiPolygon"))].reset_index(drop=True)


def _rows(kind: str, pairs: pd.DataFrame, left: tuple[str, pd.DataFrame, str, str | None],
          right: tuple[str, pd.DataFrame, str, str | None]) -> gpd.GeoDataFrame:
    """Label overlap pairs with the layers, names and parties of both sides."""
    (left_layer, left_frame, left_name, left_party), (right_layer, right_frame, right_name, right_party) = left, right

    def lookup(frame: pd.DataFrame, column: str | None, ids: pd.Series) -> list[Any]:
        if column is None or column not in frame.columns:
            return [None] * len(ids)
        table = dict(zip(frame["id"], frame[column], strict=True))
        return [table.get(i) for i in ids]

    report = pd.DataFrame({
        "kind": kind, "left_layer": left_layer, "left_id": pairs["left_id"].to_numpy(),
        "left_name": lookup(left_frame, left_name, pairs["left_id"]),
        "left_party": lookup(left_frame, left_party, pairs["left_id"]),
        "right_layer": right_layer, "right_id": pairs["right_id"].to_numpy(),
        "right_name": lookup(right_frame, right_name, pairs["right_id"]),
        "right_party": lookup(right_frame, right_party, pairs["right_id"]),
        "area_ha": pairs["area_ha"].to_numpy(), "left_share": pairs["left_share"].to_numpy(),
        "right_share": pairs["right_share"].to_numpy(), "months": None,
    })
    return gpd.GeoDataFrame(report, geometry=pairs.geometry.to_numpy(), crs=pairs.crs)


def _context_frame(name: str, data: gpd.GeoDataFrame | str | Path, crs: Any) -> tuple[gpd.GeoDataFrame, str]:
    """A context layer with an ``id`` (``name:row``) and the column naming its features."""
    if isinstance(data, str | Path):
        from commonsmap.io.readers import read_file

        frame, _ = read_file(data)
        if not isinstance(frame, gpd.GeoDataFrame):
            raise QueryError(f"context layer {name!r}: {data} has no geometries")
    else:
        frame = data
    if frame.crs is None:
        raise QueryError(f"context layer {name!r} has no CRS; set one (e.g. frame.set_crs(4326))")
    label = next((c for c in _NAME_CANDIDATES if c in frame.columns), None)
    out = gpd.GeoDataFrame({"id": [f"{name}:{i}" for i in range(len(frame))],
                            "name": frame[label].astype(str).to_numpy() if label else None},
                           geometry=frame.geometry.to_numpy(), crs=frame.crs)
    return _polygons(out.to_crs(crs) if not out.crs.equals(crs) else out), "name"


def _months_overlap(first: Any, second: Any) -> list[int] | bool | None:
    """Months both seasons share: None when both are all year, False when they never meet."""
    one = {int(m) for m in first} if isinstance(first, list | tuple | np.ndarray) and len(first) else None
    two = {int(m) for m in second} if isinstance(second, list | tuple | np.ndarray) and len(second) else None
    if one is None and two is None:
        return None
    shared = (one or set(range(1, 13))) & (two or set(range(1, 13)))
    return sorted(shared) if shared else False


def _periods_overlap(a_from: Any, a_to: Any, b_from: Any, b_to: Any) -> bool:
    start = max((pd.Timestamp(v) for v in (a_from, b_from) if v is not None and not pd.isna(v)),
                default=pd.Timestamp.min)
    end = min((pd.Timestamp(v) for v in (a_to, b_to) if v is not None and not pd.isna(v)),
              default=pd.Timestamp.max)
    return bool(start <= end)


def exclusive_rights_conflicts(atlas: Atlas, *, viewer: Viewer | None = None,
                               min_area_ha: float = 0.0) -> gpd.GeoDataFrame:
    """Exclusive rights (exclusion or alienation) of different parties that meet in space, season and time.

    Returns
    -------
    GeoDataFrame
        Report rows of kind ``exclusive_rights``; ``months`` holds the shared months (None
        when both rights run all year).
    """
    rights = rights_with_places(atlas, viewer=viewer)
    exclusive = rights[rights["exclusion"].fillna(False).astype(bool)
                       | rights["alienation"].fillna(False).astype(bool)].reset_index(drop=True)
    exclusive = _polygons(exclusive)
    pairs = overlap_pairs(exclusive, min_area_ha=min_area_ha)
    if pairs.empty:
        return _empty_report(atlas.crs)
    table = exclusive.set_index("id")
    keep, months = [], []
    for a, b in zip(pairs["left_id"], pairs["right_id"], strict=True):
        first, second = table.loc[a], table.loc[b]
        shared = _months_overlap(first["months"], second["months"])
        meets = (first["holder"] != second["holder"] and shared is not False
                 and _periods_overlap(first["valid_from"], first["valid_to"], second["valid_from"], second["valid_to"]))
        keep.append(meets)
        months.append(shared if meets else None)
    pairs = pairs[np.array(keep, dtype=bool)].reset_index(drop=True)
    side = ("rights", exclusive, "description", "holder")
    report = _rows("exclusive_rights", pairs, side, side)
    report["months"] = [m for m, k in zip(months, keep, strict=True) if k]
    return report


def _empty_report(crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype=float if c.endswith(("_ha", "_share")) else object)
                             for c in REPORT_COLUMNS}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def detect_conflicts(atlas: Atlas, *, viewer: Viewer | None = None, against: Iterable[str] = AGAINST,
                     context: Mapping[str, gpd.GeoDataFrame | str | Path] | None = None,
                     min_area_ha: float = 0.0) -> gpd.GeoDataFrame:
    """Find where claims overlap other claims, context layers, parcels and pacts, and where exclusive rights meet.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    viewer : Viewer, optional
        Who asks: only features it may see whole take part, so the report reveals nothing above its level.
    against : iterable of str, default ("claims", "parcels", "pacts", "rights")
        What to check: ``claims`` (claims of different parties against each other), ``parcels``
        and ``pacts`` (claims against them), ``rights`` (exclusive rights against each other).
    context : mapping of str to GeoDataFrame or path, optional
        Layers the user brings, by name: mining or oil concessions, protected areas, any polygons.
    min_area_ha : float, default 0
        Leave out overlaps of this area or less (slivers from boundaries digitised twice).

    Returns
    -------
    GeoDataFrame
        One row per overlapping pair: ``kind`` (see :data:`CONFLICT_KINDS`), each side's layer,
        id, name and party, the overlap's ``area_ha`` (geodesic), the share of each side it
        covers, the shared ``months`` for rights, and the overlap geometry (atlas CRS).
        Rejected and withdrawn claims take no part.
    """
    wanted = set(against)
    unknown = wanted - set(AGAINST)
    if unknown:
        raise QueryError(f"cannot check claims against {sorted(unknown)}; use {list(AGAINST)} "
                                "or pass other layers as context")
    claims = whole_rows(atlas.layer("claims", viewer=viewer))
    claims = _polygons(claims[~claims["status"].isin(ENDED_CLAIMS)].reset_index(drop=True))
    claim_side = ("claims", claims, "name", "claimant")
    parts: list[gpd.GeoDataFrame] = []
    if "claims" in wanted:
        pairs = overlap_pairs(claims, min_area_ha=min_area_ha)
        report = _rows("claim_claim", pairs, claim_side, claim_side)
        same = report["left_party"].notna() & (report["left_party"] == report["right_party"])
        parts.append(report[~same.to_numpy()])
    for name, data in (context or {}).items():
        frame, label = _context_frame(name, data, atlas.crs)
        parts.append(_rows("claim_context", overlap_pairs(claims, frame, min_area_ha=min_area_ha),
                           claim_side, (name, frame, label, None)))
    if "parcels" in wanted:
        parcels = _polygons(whole_rows(atlas.layer("parcels", viewer=viewer)))
        parts.append(_rows("claim_parcel", overlap_pairs(claims, parcels, min_area_ha=min_area_ha),
                           claim_side, ("parcels", parcels, "cadastral_ref", None)))
    if "pacts" in wanted:
        pacts = whole_rows(atlas.layer("pacts", viewer=viewer))
        pacts = _polygons(pacts[~pacts["status"].isin(ENDED_PACTS) & pacts.geometry.notna()].reset_index(drop=True))
        parts.append(_rows("claim_pact", overlap_pairs(claims, pacts, min_area_ha=min_area_ha),
                           claim_side, ("pacts", pacts, "title", None)))
    if "rights" in wanted:
        parts.append(exclusive_rights_conflicts(atlas, viewer=viewer, min_area_ha=min_area_ha))
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_report(atlas.crs)
    report = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(report, geometry="geometry", crs=atlas.crs)


def write_conflict_report(report: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write a conflict report as GeoJSON (``.geojson``/``.json``, WGS84) or CSV (``.csv``, geometry as WKT).

    Returns
    -------
    Path
        The file written.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    flat = report.copy()
    flat["months"] = [None if m is None else ",".join(map(str, m)) for m in flat["months"]]
    if suffix in (".geojson", ".json"):
        target.unlink(missing_ok=True)
        flat.to_crs(4326).to_file(target, driver="GeoJSON", engine="pyogrio")
    elif suffix == ".csv":
        table = pd.DataFrame(flat.drop(columns=flat.geometry.name))
        table["wkt"] = shapely.to_wkt(np.asarray(flat.geometry.to_crs(4326).values, dtype=object),
                                      rounding_precision=8)
        table.to_csv(target, index=False)
    else:
        raise QueryError(f"cannot tell the report format from {target.name!r}; use .geojson or .csv")
    return target


def open_dispute(atlas: Atlas, conflict: Mapping[str, Any], *, forum: str, title: str | None = None,
                 opened_on: Any = None, status: str = "open", sensitivity: str | None = None,
                 who: str | None = None) -> str:
    """Open a Dispute record for one row of a conflict report, with its overlap geometry.

    Parameters
    ----------
    atlas : Atlas
        The atlas to record the dispute in.
    conflict : mapping
        A row of :func:`detect_conflicts`'s report (``report.iloc[i]``).
    forum : str
        conciliation_committee, jury, assembly, court or customary_authority (or a label).
    title : str, optional
        A title; made from the two sides' names by default.
    opened_on : date, optional
        Today by default.
    status : str, default "open"
        The dispute's status (see the ``dispute_status`` vocabulary).
    sensitivity : str, optional
        The dispute's sensitivity; the layer's default (``internal``) otherwise.
    who : str, optional
        Who opens it.

    Returns
    -------
    str
        The new dispute's id.
    """
    subjects = [f"{conflict['left_layer']}:{conflict['left_id']}", f"{conflict['right_layer']}:{conflict['right_id']}"]
    parties = [p for p in (conflict.get("left_party"), conflict.get("right_party")) if p and not pd.isna(p)]
    geometry = conflict.get("geometry")
    if geometry is not None and geometry.geom_type == "Polygon":
        geometry = shapely.MultiPolygon([geometry])
    record: dict[str, Any] = {
        "title": title or f"{conflict.get('left_name') or conflict['left_id']} / "
                          f"{conflict.get('right_name') or conflict['right_id']}",
        "subjects": subjects, "parties": list(dict.fromkeys(parties)) or None, "forum": forum, "status": status,
        "opened_on": pd.Timestamp(opened_on if opened_on is not None else dt.date.today()),
        "area_ha": float(conflict["area_ha"]), "geometry": geometry,
    }
    if sensitivity is not None:
        record["sensitivity"] = sensitivity
    return atlas.add("disputes", record, who=who, note=f"dispute over a {conflict['kind']} overlap").ids[0]
