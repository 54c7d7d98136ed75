"""Statistics a viewer may see: areas of territories, claims, commons and overlaps, by group.

Every figure is computed from the features the viewer may see whole (generalised features
stand for places it may not locate, so they count in no area), so counts and sums never
reveal anything above its level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from commonsmap.analysis.areas import fast_geodesic_area_ha
from commonsmap.analysis.overlaps import overlap_pairs
from commonsmap.errors import QueryError
from commonsmap.privacy import Viewer, whole_rows

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

STATISTIC_COLUMNS = ["count", "area_ha"]




def area_statistics(atlas: Atlas, layer: str, *, by: str | None = None,
                    viewer: Viewer | None = None) -> pd.DataFrame:
    """Number of features and their geodesic area in hectares, in total or by group.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    layer : str
        A polygon layer: ``claims``, ``commons``, ``rights``, ``pacts``, ``parcels``, ``disputes``…
    by : str, optional
        A field of the layer (``kind``, ``status``…), ``"party"`` for the layer's holder
        (e.g. a claim's claimant, named from the parties layer), or ``"admin_unit"`` (the area
        of each feature inside each administrative unit). One total row without it.
    viewer : Viewer, optional
        Whose view: only the features it may see whole are counted.

    Returns
    -------
    DataFrame
        Columns ``count`` and ``area_ha``, indexed by the group (and with a ``name`` column
        for parties and administrative units), largest area first.
    """
    spec = atlas.spec(layer)
    if not spec.is_spatial:
        raise QueryError(f"layer {layer!r} has no geometry; it has no area")
    frame = whole_rows(atlas.layer(layer, viewer=viewer))
    if by == "admin_unit":
        return _by_admin_unit(atlas, frame, viewer)
    frame = frame.assign(area_ha=fast_geodesic_area_ha(frame.geometry))
    if by is None:
        return pd.DataFrame({"count": [len(frame)], "area_ha": [float(frame["area_ha"].sum())]}, index=["total"])
    column = by
    if by == "party":
        if not spec.holder_fields or spec.holder_fields[0] == "id":
            raise QueryError(f"layer {layer!r} names no holding party")
        column = spec.holder_fields[0]
    if column not in frame.columns:
        raise QueryError(f"layer {layer!r} has no field {by!r} to group by")
    if frame[column].map(lambda v: isinstance(v, list)).any():
        frame = frame.explode(column)
    table = frame.groupby(column, dropna=False).agg(count=("id", "size"), area_ha=("area_ha", "sum"))
    if by == "party":
        parties = whole_rows(atlas.layer("parties", viewer=viewer))
        table.insert(0, "name", table.index.map(dict(zip(parties["id"], parties["name"], strict=True))))
    return table.sort_values("area_ha", ascending=False)


def _by_admin_unit(atlas: Atlas, frame: gpd.GeoDataFrame, viewer: Viewer | None) -> pd.DataFrame:
    units = whole_rows(atlas.layer("admin_units", viewer=viewer))
    pairs = overlap_pairs(frame, units, with_geometry=False)
    table = pairs.groupby("right_id").agg(count=("left_id", "nunique"), area_ha=("area_ha", "sum"))
    table.index.name = "admin_unit"
    table.insert(0, "name", table.index.map(dict(zip(units["id"], units["name"], strict=True))))
    return table.sort_values("area_ha", ascending=False)


def overlap_statistics(report: pd.DataFrame, by: str | list[str] = "kind") -> pd.DataFrame:
    """Sum a conflict report (see :func:`commonsmap.analysis.conflicts.detect_conflicts`) by group.

    Parameters
    ----------
    report : DataFrame
        A conflict report.
    by : str or list of str, default "kind"
        Report columns to group by, e.g. ``["left_party", "right_layer"]``.

    Returns
    -------
    DataFrame
        ``count`` of overlapping pairs and their total ``area_ha`` per group.
    """
    return (report.groupby(by, dropna=False).agg(count=("area_ha", "size"), area_ha=("area_ha", "sum"))
            .sort_values("area_ha", ascending=False))
