"""Planner queries on collaboration pacts: how many, where, how much land, since when.

* :func:`pacts_by_status`: counts of pacts by status and district (or any other field);
* :func:`designated_without_pact`: parcels designated for commons use that no pact in force covers;
* :func:`area_under_pacts`: geodesic hectares under pacts, by district or administrative unit,
  with overlapping pacts counted once;
* :func:`pacts_signed_per_year`: how many pacts were signed each year.

Every query reads the layers as ``viewer`` sees them and counts only the records it may see
whole: a generalised pact stands for a place the viewer may not locate, so it counts nowhere,
and no figure reveals anything above the viewer's level. ``viewer=None`` is the atlas file's
owner, who sees everything.

A pact's *district* is its own ``district`` field; when that is empty, it is the name of the
administrative unit (as the viewer sees them) that contains the pact's representative point: a
unit of kind ``district`` if one does, else the smallest one. Pacts with neither have no
district (a missing value).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from commonsmap.errors import QueryError
from commonsmap.geometry import geodesic_area_ha
from commonsmap.io.exporting import EXPORTABLE_SENSITIVITY
from commonsmap.pacts.lifecycle import IN_FORCE
from commonsmap.privacy import Viewer, whole_rows
from commonsmap.vocabularies import Designation, PactStatus

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

_POLYGONAL = ("Polygon", "MultiPolygon")
_STATUS_ORDER = {code: number for number, code in enumerate(PactStatus.codes())}


def visible(atlas: Atlas, layer: str, viewer: Viewer | None, *, exportable: bool = False) -> pd.DataFrame:
    """Return the rows of ``layer`` that ``viewer`` sees whole (with ``exportable``, never a secret one)."""
    frame = whole_rows(atlas.layer(layer, viewer=viewer))
    if exportable:
        frame = frame[frame["sensitivity"].isin(EXPORTABLE_SENSITIVITY)].reset_index(drop=True)
    return frame


def status_codes(statuses: Iterable[Any]) -> set[str]:
    """Return the codes of ``statuses`` (members, codes or labels); raise QueryError for unknown ones."""
    if isinstance(statuses, str):
        statuses = [statuses]
    try:
        return {PactStatus.parse(status).value for status in statuses}
    except ValueError as exc:
        raise QueryError(str(exc)) from None


def polygonal(geometry: Any) -> shapely.Geometry | None:
    """The polygonal part of a geometry (polygons of a collection too), or None if it has none."""
    if geometry is None or not isinstance(geometry, shapely.Geometry) or geometry.is_empty:
        return None
    if geometry.geom_type in _POLYGONAL:
        return geometry
    if geometry.geom_type == "GeometryCollection":
        parts = [p for p in shapely.get_parts(geometry) if p.geom_type in _POLYGONAL and not p.is_empty]
        return shapely.union_all(parts) if parts else None
    return None


def representative_points(geometries: gpd.GeoSeries) -> np.ndarray:
    """A point inside each geometry (the point itself for points); None where there is no geometry."""
    geoms = np.asarray(geometries.values, dtype=object)
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    points = np.full(len(geoms), None, dtype=object)
    if present.any():
        points[present] = shapely.point_on_surface(geoms[present])
    return points


def containing_units(points: np.ndarray, units: gpd.GeoDataFrame) -> np.ndarray:
    """Index (row of ``units``) of the unit containing each point, -1 for none.

    A unit of kind ``district`` is preferred; among equals, the smallest.
    """
    result = np.full(len(points), -1, dtype=int)
    present = np.flatnonzero(np.asarray([p is not None for p in points], dtype=bool))
    if not len(present) or units.empty:
        return result
    shapes = np.asarray(units.geometry.values, dtype=object)
    tree = shapely.STRtree(shapes)
    point_index, unit_index = tree.query(points[present], predicate="intersects")
    is_district = (units["kind"] == "district").to_numpy() if "kind" in units.columns else np.zeros(len(units), bool)
    areas = shapely.area(shapes)
    best: dict[int, tuple[bool, float, int]] = {}
    for p, u in zip(point_index.tolist(), unit_index.tolist(), strict=True):
        key = (not bool(is_district[u]), float(areas[u]), u)
        if p not in best or key < best[p]:
            best[p] = key
    for p, (_, _, u) in best.items():
        result[present[p]] = u
    return result


def pact_districts(atlas: Atlas, pacts: gpd.GeoDataFrame | pd.DataFrame, viewer: Viewer | None) -> pd.Series:
    """The district of each pact: its ``district`` field, else the unit that contains it (see the module notes)."""
    districts = pd.Series([v if isinstance(v, str) and v.strip() else None for v in pacts["district"]],
                          index=pacts.index, dtype=object)
    if not isinstance(pacts, gpd.GeoDataFrame) or not districts.isna().any():
        return districts
    missing = districts.isna().to_numpy()
    points = representative_points(pacts.geometry[missing])
    if all(p is None for p in points):
        return districts
    units = visible(atlas, "admin_units", viewer)
    found = containing_units(points, units)
    names = units["name"].tolist() if len(units) else []
    districts.loc[missing] = [names[u] if u >= 0 else None for u in found]
    return districts


def _in_force_pacts(atlas: Atlas, viewer: Viewer | None, statuses: Iterable[Any]) -> gpd.GeoDataFrame:
    pacts = visible(atlas, "pacts", viewer)
    return pacts[pacts["status"].isin(status_codes(statuses))].reset_index(drop=True)


def pacts_by_status(atlas: Atlas, by: str | Sequence[str] = ("status", "district"), *,
                    viewer: Viewer | None = None) -> pd.DataFrame:
    """Count the pacts by status and district, or by any fields of the pacts layer.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    by : str or sequence of str, default ("status", "district")
        Fields of layer ``pacts`` to group by; ``district`` is the pact's district (see the
        module notes). A list field (``interventions``, ``domains``, ``support``) counts a pact
        once under each of its values.
    viewer : Viewer, optional
        Whose view: only the pacts it may see whole are counted.

    Returns
    -------
    DataFrame
        One row per group, the ``by`` columns then ``count``; statuses in lifecycle order.
    """
    columns = [by] if isinstance(by, str) else list(by)
    if not columns:
        raise QueryError("pacts_by_status needs at least one field to group by")
    pacts = visible(atlas, "pacts", viewer)
    fields = set(atlas.spec("pacts").field_names)
    unknown = [c for c in columns if c not in fields]
    if unknown:
        raise QueryError(f"layer 'pacts' has no field {unknown[0]!r} to group by")
    table = pd.DataFrame({"id": pacts["id"].astype(object)})
    for column in columns:
        values = pact_districts(atlas, pacts, viewer) if column == "district" else pacts[column]
        table[column] = values.astype(object).tolist()
    for column in columns:
        if table[column].map(lambda v: isinstance(v, list | tuple | np.ndarray)).any():
            table = table.explode(column)
    if table.empty:
        return pd.DataFrame({**{c: pd.Series([], dtype=object) for c in columns}, "count": pd.Series([], dtype=int)})
    counts = table.groupby(columns, dropna=False, sort=False).size().rename("count").reset_index()
    order = [counts[c].map(lambda v: _STATUS_ORDER.get(v, len(_STATUS_ORDER))) if c == "status"
             else counts[c].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
             for c in columns]
    ranks = np.lexsort([o.to_numpy() for o in reversed(order)])
    return counts.iloc[ranks].reset_index(drop=True)


def designated_without_pact(atlas: Atlas, *, viewer: Viewer | None = None) -> gpd.GeoDataFrame:
    """Parcels designated for commons use that no pact in force is linked to: where pacts could go.

    A parcel counts when its ``designation`` is ``designated`` and no ``pact_parcels`` link (of
    those ``viewer`` sees) ties it to a pact the viewer sees in force (active, monitoring,
    extended). A parcel linked only to a pact the viewer may not see is listed, as the viewer
    would list it by hand, so the list reveals no hidden pact.

    Returns
    -------
    GeoDataFrame
        ``id``, ``cadastral_ref``, ``cadastral_unit``, ``address``, ``land_use``, ``owner_kind``,
        ``area_ha`` (geodesic) and the parcel's geometry, by cadastral reference.
    """
    parcels = visible(atlas, "parcels", viewer)
    parcels = parcels[parcels["designation"] == Designation.DESIGNATED.value]
    pacts = _in_force_pacts(atlas, viewer, IN_FORCE)
    links = visible(atlas, "pact_parcels", viewer)
    covered = set(links.loc[links["pact"].isin(set(pacts["id"])), "parcel"])
    parcels = parcels[~parcels["id"].isin(covered)].reset_index(drop=True)
    columns = ["id", "cadastral_ref", "cadastral_unit", "address", "land_use", "owner_kind"]
    out = gpd.GeoDataFrame(parcels[columns], geometry=parcels.geometry, crs=atlas.crs)
    out.insert(len(columns), "area_ha", geodesic_area_ha(out.geometry) if len(out) else np.zeros(0))
    return out.sort_values(["cadastral_ref", "id"], kind="stable").reset_index(drop=True)


def _parcel_areas(atlas: Atlas, pacts: pd.DataFrame, groups: pd.Series, viewer: Viewer | None) -> pd.Series:
    """Hectares covered by the parcels linked to non-polygon pacts, each parcel once per group."""
    links = visible(atlas, "pact_parcels", viewer)
    links = links[links["pact"].isin(set(pacts["id"])) & links["area_ha"].notna()]
    if links.empty:
        return pd.Series(dtype=float)
    group_of = dict(zip(pacts["id"], groups, strict=True))
    frame = pd.DataFrame({"group": links["pact"].map(group_of).astype(object).tolist(),
                          "parcel": links["parcel"].tolist(), "area_ha": links["area_ha"].astype(float).tolist()})
    frame = frame[frame["group"].notna()]
    return frame.groupby(["group", "parcel"])["area_ha"].max().groupby(level="group").sum()


def area_under_pacts(atlas: Atlas, *, by: str = "district", statuses: Iterable[Any] = IN_FORCE,
                     viewer: Viewer | None = None) -> pd.DataFrame:
    """Hectares under pacts, by district or administrative unit, overlapping pacts counted once.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    by : {"district", "admin_unit"}, default "district"
        ``district``: the pacts' districts (see the module notes), each pact whole in its own;
        ``admin_unit``: the administrative units, each pact cut along their boundaries.
    statuses : iterable of str, default IN_FORCE
        The statuses of the pacts counted (active, monitoring, extended by default).
    viewer : Viewer, optional
        Whose view: only the pacts, links and units it may see whole count.

    Returns
    -------
    DataFrame
        One row per group with pacts: the group (``district``; or ``admin_unit``, the unit's id,
        and ``name``), ``pacts`` (how many), ``area_ha`` and ``parcels_ha``, largest area first.

    Notes
    -----
    The polygons of a group's pacts are merged (their union) before their geodesic area is
    measured, so land under two overlapping pacts counts once. A pact mapped as a point (or
    with no geometry) has no area of its own: it adds the ``area_ha`` of its ``pact_parcels``
    links, each parcel once per group (its largest linked area), or nothing where the links
    have no area. That part of ``area_ha`` is also given as ``parcels_ha``; it is not checked
    against the group's polygons. By administrative unit, a point pact belongs to the unit
    containing it, and one with no geometry to none.
    """
    if by not in ("district", "admin_unit"):
        raise QueryError(f"area_under_pacts groups by 'district' or 'admin_unit', not {by!r}")
    pacts = _in_force_pacts(atlas, viewer, statuses)
    shapes = np.asarray([polygonal(g) for g in pacts.geometry.values], dtype=object) if len(pacts) \
        else np.zeros(0, dtype=object)
    has_area = np.asarray([s is not None for s in shapes], dtype=bool)
    if by == "district":
        return _area_by_district(atlas, pacts, shapes, has_area, viewer)
    return _area_by_unit(atlas, pacts, shapes, has_area, viewer)


def _hectares(geometries: list[shapely.Geometry], crs: Any) -> np.ndarray:
    if not geometries:
        return np.zeros(0)
    return geodesic_area_ha(gpd.GeoSeries(geometries, crs=crs))


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    table["area_ha"] = table["polygons_ha"] + table["parcels_ha"]
    table = table.drop(columns="polygons_ha")
    columns = [c for c in table.columns if c not in ("pacts", "area_ha", "parcels_ha")]
    return table[[*columns, "pacts", "area_ha", "parcels_ha"]].sort_values(
        ["area_ha", *columns], ascending=[False, *[True] * len(columns)], kind="stable").reset_index(drop=True)


def _area_by_district(atlas: Atlas, pacts: gpd.GeoDataFrame, shapes: np.ndarray, has_area: np.ndarray,
                      viewer: Viewer | None) -> pd.DataFrame:
    districts = pact_districts(atlas, pacts, viewer)
    keys = districts.map(lambda v: v if v is not None else "").tolist()
    names = sorted(set(keys))
    unions = [shapely.union_all([s for s, k, a in zip(shapes, keys, has_area, strict=True) if k == name and a])
              for name in names]
    polygons = _hectares([u if u is not None else shapely.Polygon() for u in unions], atlas.crs)
    non_polygon = pacts[~has_area]
    parcels = _parcel_areas(atlas, non_polygon, pd.Series([keys[i] for i in np.flatnonzero(~has_area)],
                                                          dtype=object), viewer)
    table = pd.DataFrame({"district": [n if n else None for n in names],
                          "pacts": [keys.count(n) for n in names],
                          "polygons_ha": polygons,
                          "parcels_ha": [float(parcels.get(n, 0.0)) for n in names]})
    return _finish(table)


def _area_by_unit(atlas: Atlas, pacts: gpd.GeoDataFrame, shapes: np.ndarray, has_area: np.ndarray,
                  viewer: Viewer | None) -> pd.DataFrame:
    units = visible(atlas, "admin_units", viewer)
    empty = pd.DataFrame({"admin_unit": pd.Series([], dtype=object), "name": pd.Series([], dtype=object),
                          "pacts": pd.Series([], dtype=int), "area_ha": pd.Series([], dtype=float),
                          "parcels_ha": pd.Series([], dtype=float)})
    if units.empty or pacts.empty:
        return empty
    unit_shapes = np.asarray(units.geometry.values, dtype=object)
    members: dict[int, set[int]] = {}
    pieces: dict[int, shapely.Geometry] = {}
    polygon_rows = np.flatnonzero(has_area)
    if len(polygon_rows):
        tree = shapely.STRtree(shapes[polygon_rows])
        unit_index, pact_index = tree.query(unit_shapes, predicate="intersects")
        for u in np.unique(unit_index).tolist():
            rows = polygon_rows[pact_index[unit_index == u]]
            rows = rows[~shapely.touches(unit_shapes[u], shapes[rows])]  # sharing only a boundary is no area
            if len(rows):
                pieces[u] = shapely.intersection(unit_shapes[u], shapely.union_all(shapes[rows]))
                members[u] = set(rows.tolist())
    point_rows = np.flatnonzero(~has_area)
    found = containing_units(representative_points(pacts.geometry.iloc[point_rows]), units) \
        if len(point_rows) else np.zeros(0, dtype=int)
    for row, u in zip(point_rows.tolist(), found.tolist(), strict=True):
        if u >= 0:
            members.setdefault(u, set()).add(row)
    parcels = _parcel_areas(atlas, pacts.iloc[point_rows], pd.Series([u if u >= 0 else None for u in found.tolist()],
                                                                      dtype=object), viewer) \
        if len(point_rows) else pd.Series(dtype=float)
    chosen = sorted(members)
    if not chosen:
        return empty
    polygons = _hectares([pieces.get(u, shapely.Polygon()) for u in chosen], atlas.crs)
    table = pd.DataFrame({"admin_unit": units["id"].iloc[chosen].tolist(), "name": units["name"].iloc[chosen].tolist(),
                          "pacts": [len(members[u]) for u in chosen], "polygons_ha": polygons,
                          "parcels_ha": [float(parcels.get(u, 0.0)) for u in chosen]})
    return _finish(table)


def pacts_signed_per_year(atlas: Atlas, *, viewer: Viewer | None = None) -> pd.DataFrame:
    """How many pacts were signed each year, from the first year to the last (years with none give 0).

    Returns
    -------
    DataFrame
        ``year`` and ``signed``, by year; pacts never signed are not counted.
    """
    pacts = visible(atlas, "pacts", viewer)
    signed = pd.to_datetime(pacts["signed_on"]).dropna()
    if signed.empty:
        return pd.DataFrame({"year": pd.Series([], dtype=int), "signed": pd.Series([], dtype=int)})
    counts = signed.dt.year.value_counts()
    years = range(int(counts.index.min()), int(counts.index.max()) + 1)
    return pd.DataFrame({"year": list(years), "signed": [int(counts.get(y, 0)) for y in years]})
