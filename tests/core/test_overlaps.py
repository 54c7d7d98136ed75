"""Overlaps between layers: real conflicts checked against geopandas.overlay and pyproj.Geod, hand-built cases."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

import commonsmap as cm
from commonsmap.analysis import areas, overlaps
from commonsmap.analysis.areas import fast_geodesic_area_ha
from commonsmap.analysis.overlaps import COLUMNS, overlap_pairs

GEOD = Geod(ellps="WGS84")
TINY_HA = 1e-6


def geod_ha(geoms: gpd.GeoSeries) -> np.ndarray:
    """Reference areas: pyproj's geodesic polygons, one call per geometry."""
    return np.array([abs(GEOD.geometry_area_perimeter(g)[0]) / 1e4 for g in geoms.to_crs(4326)])


def layer(data: Path, file: str, name: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(data / file, layer=name)
    frame["id"] = np.arange(len(frame))
    return frame


def repaired(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The reference's own repair: make_valid, then only the polygons, put back together per feature."""
    frame = frame[["id", "geometry"]].copy()
    frame["geometry"] = frame.geometry.make_valid()
    parts = frame.explode(index_parts=False)
    parts = parts[parts.geom_type == "Polygon"]
    whole = parts.groupby("id", sort=False).geometry.agg(
        lambda polygons: polygons.iloc[0] if len(polygons) == 1 else shapely.MultiPolygon(list(polygons)))
    return gpd.GeoDataFrame({"id": whole.index}, geometry=whole.to_numpy(), crs=frame.crs)


def reference(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame | None) -> dict[tuple[int, int], float]:
    """Pairs (a id, b id) -> geodesic area in ha, from geopandas.overlay and pyproj.Geod."""
    same = b is None
    a = repaired(a)
    b = a if b is None else repaired(b).to_crs(a.crs)
    pieces = gpd.overlay(a.rename(columns={"id": "a"}), b.rename(columns={"id": "b"}), how="intersection",
                         keep_geom_type=True)
    if same:
        pieces = pieces[pieces["a"] < pieces["b"]]
    areas = geod_ha(pieces.geometry)
    return {(int(x), int(y)): float(s) for x, y, s in zip(pieces["a"], pieces["b"], areas, strict=True)
            if s >= TINY_HA}


REAL = [
    ("overlap_cambodia.gpkg", "community_forests", "economic_land_concessions"),
    ("overlap_cambodia.gpkg", "community_forests", "mining_concessions"),
    ("overlap_cambodia.gpkg", "community_forests", "protected_areas"),
    ("overlap_cambodia.gpkg", "community_forests", None),
    ("overlap_cambodia.gpkg", "economic_land_concessions", "community_forests"),
    ("overlap_brazil.gpkg", "indigenous_lands", "protected_areas_integral"),
    ("overlap_brazil.gpkg", "sigmine_amapa", "indigenous_lands"),
]


@pytest.mark.parametrize(("file", "left_name", "right_name"), REAL)
def test_real_overlaps_match_geopandas_overlay_and_geod(data: Path, file: str, left_name: str,
                                                        right_name: str | None) -> None:
    left = layer(data, file, left_name)
    right = None if right_name is None else layer(data, file, right_name)
    expected = reference(left, right)
    assert len(expected) >= 5  # a real case, not an empty one

    ours = overlap_pairs(left, right)
    assert ours.crs.equals(left.crs)
    assert list(ours.columns) == [*COLUMNS, "geometry"]
    big = ours[ours["area_ha"] >= TINY_HA]
    assert set(zip(big["left_id"], big["right_id"], strict=True)) == set(expected)
    assert ours["area_ha"].sum() == pytest.approx(sum(expected.values()), rel=1e-4)
    for lid, rid, area in zip(big["left_id"], big["right_id"], big["area_ha"], strict=True):
        assert area == pytest.approx(expected[(lid, rid)], rel=1e-3, abs=1e-8), (lid, rid)  # 0.1%, or 1 cm²
    # The pieces are the right geometries, and the shares use the (repaired) features' areas.
    assert geod_ha(ours.geometry) == pytest.approx(ours["area_ha"].to_numpy(), rel=1e-4, abs=1e-8)
    left_area = dict(zip(repaired(left)["id"], geod_ha(repaired(left).geometry), strict=True))
    right_area = left_area if right is None else dict(zip(repaired(right)["id"], geod_ha(repaired(right).geometry),
                                                          strict=True))
    assert ours["left_share"].to_numpy() == pytest.approx(
        [a / left_area[i] for i, a in zip(ours["left_id"], ours["area_ha"], strict=True)], rel=1e-3)
    assert ours["right_share"].to_numpy() == pytest.approx(
        [a / right_area[i] for i, a in zip(ours["right_id"], ours["area_ha"], strict=True)], rel=1e-3)
    assert ours["left_share"].between(0, 1).all() and ours["right_share"].between(0, 1).all()
    keys = list(zip(ours["left_id"], ours["right_id"], strict=True))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    if right is None:
        assert (ours["left_id"] < ours["right_id"]).all()


def test_real_conflict_figures(data: Path) -> None:
    forests = layer(data, "overlap_cambodia.gpkg", "community_forests")
    concessions = layer(data, "overlap_cambodia.gpkg", "economic_land_concessions")
    assert concessions.crs.to_epsg() == 32648 and (~forests.is_valid).sum() == 4
    pairs = overlap_pairs(forests, concessions, with_geometry=False)
    assert type(pairs) is pd.DataFrame
    assert len(pairs) == 50 and pairs["left_id"].nunique() == 39  # as measured in SOURCES.md
    lands = layer(data, "overlap_brazil.gpkg", "indigenous_lands")
    strict = layer(data, "overlap_brazil.gpkg", "protected_areas_integral")
    named = overlap_pairs(lands, strict, left_id="TERRA_IND", right_id="NOME")
    assert len(named) == 10
    assert ("Waiapi", "PARNA Montanhas do Tumucumaque") in set(
        zip(named["left_id"], named["right_id"], strict=True))
    big = overlap_pairs(lands, strict, min_area_ha=1000)
    assert 0 < len(big) < 10 and (big["area_ha"] > 1000).all()


def test_fast_area_matches_geod_on_real_data_and_tiny_parcels(data: Path) -> None:
    for file, name in (("overlap_cambodia.gpkg", "community_forests"),
                       ("overlap_cambodia.gpkg", "economic_land_concessions"),
                       ("overlap_cambodia.gpkg", "mining_concessions"),
                       ("overlap_cambodia.gpkg", "protected_areas"),
                       ("overlap_brazil.gpkg", "indigenous_lands"),
                       ("overlap_brazil.gpkg", "protected_areas_integral"),
                       ("overlap_brazil.gpkg", "sigmine_amapa"),
                       ("bubenec_plots.gpkg", "plots")):
        frame = repaired(layer(data, file, name))
        expected = geod_ha(frame.geometry)
        assert fast_geodesic_area_ha(frame.geometry) == pytest.approx(expected, rel=1e-4), (file, name)
    lands = layer(data, "overlap_brazil.gpkg", "indigenous_lands")
    assert geod_ha(lands.geometry).max() > 4e6  # territories of over 40,000 km²
    rng = np.random.default_rng(7)
    n = 3000
    lon, lat = rng.uniform(-179.9, 179.9, n), rng.uniform(-80, 80, n)
    side = rng.uniform(1e-5, 2e-4, n)  # 1 m to 20 m
    squares = gpd.GeoSeries(shapely.box(lon, lat, lon + side, lat + side * rng.uniform(0.3, 1.0, n)), crs=4326)
    expected = geod_ha(squares)
    assert expected.min() < 1e-4  # under 1 m²
    assert fast_geodesic_area_ha(squares) == pytest.approx(expected, rel=1e-6)
    country = gpd.GeoSeries([shapely.segmentize(shapely.box(-74, -33, -35, 5), 0.5)], crs=4326)  # Brazil's span
    assert fast_geodesic_area_ha(country) == pytest.approx(geod_ha(country), rel=1e-6)
    odd = gpd.GeoSeries([shapely.Point(0, 0), shapely.LineString([(0, 0), (1, 1)]), None, shapely.Polygon(),
                         shapely.GeometryCollection([shapely.box(0, 0, 0.01, 0.01), shapely.Point(5, 5)])], crs=4326)
    assert fast_geodesic_area_ha(odd)[:4].tolist() == [0, 0, 0, 0]
    assert fast_geodesic_area_ha(odd)[4] == pytest.approx(geod_ha(gpd.GeoSeries([shapely.box(0, 0, 0.01, 0.01)],
                                                                                   crs=4326))[0], rel=1e-6)
    with pytest.raises(cm.QueryError, match="no CRS"):
        fast_geodesic_area_ha(gpd.GeoSeries([shapely.box(0, 0, 1, 1)]))


def frame(geoms: list[shapely.Geometry | None], ids: list[object] | None = None,
          crs: object = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ids if ids is not None else [f"f{i}" for i in range(len(geoms))]},
                            geometry=geoms, crs=crs)


def box_ha(*bounds: float) -> float:
    return float(geod_ha(gpd.GeoSeries([shapely.box(*bounds)], crs=4326))[0])


def test_two_squares_half_overlapping() -> None:
    a = frame([shapely.box(10.0, 45.0, 10.01, 45.01)], ["a"])
    b = frame([shapely.box(10.005, 45.0, 10.015, 45.01)], ["b"])
    result = overlap_pairs(a, b)
    assert len(result) == 1
    row = result.iloc[0]
    half = box_ha(10.005, 45.0, 10.01, 45.01)
    assert (row["left_id"], row["right_id"]) == ("a", "b")
    assert row["area_ha"] == pytest.approx(half, rel=1e-6)
    assert row["left_share"] == pytest.approx(half / box_ha(10.0, 45.0, 10.01, 45.01), rel=1e-6)
    assert row["right_share"] == pytest.approx(half / box_ha(10.005, 45.0, 10.015, 45.01), rel=1e-6)
    assert shapely.equals(row["geometry"], shapely.box(10.005, 45.0, 10.01, 45.01))


def test_one_inside_another_either_way_round() -> None:
    outer, inner = shapely.box(0, 0, 0.1, 0.1), shapely.box(0.02, 0.02, 0.03, 0.05)
    result = overlap_pairs(frame([outer], ["outer"]), frame([inner], ["inner"]))
    assert result["right_share"].tolist() == [1.0]
    assert result["left_share"].iloc[0] == pytest.approx(box_ha(0.02, 0.02, 0.03, 0.05) / box_ha(0, 0, 0.1, 0.1),
                                                         rel=1e-6)
    assert shapely.equals(result.geometry.iloc[0], inner)
    reverse = overlap_pairs(frame([inner], ["inner"]), frame([outer], ["outer"]))
    assert reverse["left_share"].tolist() == [1.0]
    assert reverse["area_ha"].iloc[0] == pytest.approx(box_ha(0.02, 0.02, 0.03, 0.05), rel=1e-6)
    # An inner square that shares part of the outer boundary is still wholly inside.
    flush = shapely.box(0, 0.02, 0.01, 0.03)
    result = overlap_pairs(frame([outer], ["outer"]), frame([flush], ["flush"]))
    assert result["right_share"].tolist() == [1.0]


def test_touching_features_are_not_overlapping() -> None:
    a = frame([shapely.box(0, 0, 1, 1)], ["a"])
    b = frame([shapely.box(1, 0, 2, 1), shapely.box(1, 1, 2, 2), shapely.box(-1, -1, 0, 0)], ["edge", "corner", "c2"])
    result = overlap_pairs(a, b)
    assert len(result) == 0
    assert list(result.columns) == [*COLUMNS, "geometry"]


def test_self_overlap_gives_each_pair_once() -> None:
    geoms = [shapely.box(0, 0, 0.02, 0.02), shapely.box(0.01, 0, 0.03, 0.02), shapely.box(0.03, 0, 0.05, 0.02),
             shapely.box(0.002, 0.002, 0.004, 0.004), shapely.box(0.0, 0.0, 0.05, 0.03)]
    # the last one (a) contains all the others; the fourth (b) lies inside the first (c); d and e touch
    result = overlap_pairs(frame(geoms, ["c", "d", "e", "b", "a"]))
    pairs = list(zip(result["left_id"], result["right_id"], strict=True))
    # each pair once, the earlier row on the left; sorted by left id, then right id
    assert pairs == [("b", "a"), ("c", "a"), ("c", "b"), ("c", "d"), ("d", "a"), ("e", "a")]
    by_pair = result.set_index(["left_id", "right_id"])
    assert by_pair.loc[("c", "b"), "right_share"] == 1.0
    assert by_pair.loc[("b", "a"), "left_share"] == 1.0 and by_pair.loc[("e", "a"), "left_share"] == 1.0
    assert by_pair.loc[("c", "d"), "area_ha"] == pytest.approx(box_ha(0.01, 0, 0.02, 0.02), rel=1e-6)


def test_layers_in_different_crs() -> None:
    left = frame([shapely.box(12.0, 41.0, 12.01, 41.01), shapely.box(12.02, 41.0, 12.03, 41.01)], ["a", "b"])
    right_wgs84 = frame([shapely.box(12.005, 41.005, 12.025, 41.008)], ["r"])
    right_mercator = right_wgs84.to_crs(3857)
    in_wgs84 = overlap_pairs(left, right_wgs84)
    mixed = overlap_pairs(left, right_mercator)
    assert mixed.crs.equals(left.crs)
    assert mixed["left_id"].tolist() == ["a", "b"]
    assert mixed["area_ha"].to_numpy() == pytest.approx(in_wgs84["area_ha"].to_numpy(), rel=1e-6)
    assert mixed.total_bounds == pytest.approx(in_wgs84.total_bounds, abs=1e-9)
    projected = overlap_pairs(right_mercator, left)  # output in the left layer's CRS: Web Mercator
    assert projected.crs.to_epsg() == 3857 and projected.total_bounds[0] > 1e6
    assert projected["area_ha"].to_numpy() == pytest.approx(in_wgs84["area_ha"].to_numpy(), rel=1e-6)


def test_refused_inputs() -> None:
    good = frame([shapely.box(0, 0, 1, 1)])
    no_crs = gpd.GeoDataFrame({"id": ["x"]}, geometry=[shapely.box(0, 0, 1, 1)])
    with pytest.raises(cm.QueryError, match="left layer declares no coordinate reference system"):
        overlap_pairs(no_crs, good)
    with pytest.raises(cm.QueryError, match="right layer declares no coordinate reference system"):
        overlap_pairs(good, no_crs)
    with pytest.raises(cm.QueryError, match="no id column 'code'"):
        overlap_pairs(good, good, right_id="code")
    with pytest.raises(cm.QueryError, match="no id column 'name'"):
        overlap_pairs(good, left_id="name")
    with pytest.raises(cm.QueryError, match="must be a GeoDataFrame"):
        overlap_pairs(good, pd.DataFrame({"id": [1]}))  # type: ignore[arg-type]


def test_an_invalid_bowtie_is_repaired() -> None:
    bowtie = shapely.Polygon([(0, 0), (0.02, 0.02), (0.02, 0), (0, 0.02), (0, 0)])
    assert not bowtie.is_valid
    square = shapely.box(0, 0, 0.02, 0.005)
    result = overlap_pairs(frame([bowtie], ["bowtie"]), frame([square], ["square"]))
    expected_piece = shapely.intersection(shapely.make_valid(bowtie), square)
    assert result["area_ha"].iloc[0] == pytest.approx(geod_ha(gpd.GeoSeries([expected_piece], crs=4326))[0],
                                                      rel=1e-6)
    assert result["left_share"].iloc[0] == pytest.approx(
        result["area_ha"].iloc[0] / geod_ha(gpd.GeoSeries([shapely.make_valid(bowtie)], crs=4326))[0], rel=1e-6)
    assert result.geometry.iloc[0].is_valid


def test_points_lines_empty_and_missing_geometries_are_ignored() -> None:
    polygon = shapely.box(0, 0, 1, 1)
    right = frame([shapely.Point(0.5, 0.5), shapely.LineString([(0, 0), (1, 1)]), None, shapely.Polygon(),
                   shapely.box(0.5, 0.5, 0.6, 0.6),
                   shapely.GeometryCollection([shapely.box(0.1, 0.1, 0.2, 0.2), shapely.Point(3, 3)])],
                  ["point", "line", "none", "empty", "square", "collection"])
    result = overlap_pairs(frame([polygon, shapely.Point(0.5, 0.5)], ["polygon", "point"]), right)
    assert list(zip(result["left_id"], result["right_id"], strict=True)) == [("polygon", "collection"),
                                                                             ("polygon", "square")]


def test_empty_inputs_give_an_empty_frame_with_the_columns() -> None:
    some = frame([shapely.box(0, 0, 1, 1)])
    none = frame([])
    for left, right in ((none, some), (some, none), (none, None)):
        result = overlap_pairs(left, right)
        assert isinstance(result, gpd.GeoDataFrame) and len(result) == 0
        assert list(result.columns) == [*COLUMNS, "geometry"]
        bare = overlap_pairs(left, right, with_geometry=False)
        assert type(bare) is pd.DataFrame and list(bare.columns) == COLUMNS
    only_points = frame([shapely.Point(0, 0)])
    assert len(overlap_pairs(only_points, some)) == 0


def test_multipart_features_and_big_features_in_the_tree() -> None:
    # Many small parcels put the parcels in the R-tree; a claim queries it.
    cells = [shapely.box(x / 100, y / 100, (x + 1) / 100, (y + 1) / 100) for x in range(20) for y in range(20)]
    island = shapely.MultiPolygon([shapely.box(0.095, 0.095, 0.105, 0.105), shapely.box(0.5, 0.5, 0.51, 0.51)])
    twins = shapely.MultiPolygon([shapely.box(0.1, 0.1, 0.105, 0.105), shapely.box(0.12, 0.12, 0.125, 0.125)])
    # one part in the enclave, one inside the claim: its box meets the enclave's boundary
    straddler = shapely.MultiPolygon([shapely.box(0.068, 0.068, 0.072, 0.072), shapely.box(0.1, 0.05, 0.105, 0.055)])
    huge = shapely.box(-1, -1, 1, 1)  # a parcel that covers the claim
    parcels = frame([*cells, island, twins, straddler, huge],
                    [f"p{i:03d}" for i in range(len(cells))] + ["island", "twins", "straddler", "huge"])
    claim = shapely.Polygon([(0.021, 0.021), (0.171, 0.03), (0.15, 0.163), (0.03, 0.149)],
                            [[(0.06, 0.06), (0.08, 0.06), (0.08, 0.08), (0.06, 0.08)]])
    result = overlap_pairs(frame([claim], ["claim"]), parcels).set_index("right_id")
    expected = reference(frame([claim], [0]), frame(list(parcels.geometry), list(range(len(parcels)))))
    assert len(result) == len(expected)
    ids = list(parcels["id"])
    for (_, j), area in expected.items():
        assert result.loc[ids[j], "area_ha"] == pytest.approx(area, rel=1e-6), ids[j]
    assert result.loc["island", "area_ha"] == pytest.approx(box_ha(0.095, 0.095, 0.105, 0.105), rel=1e-6)
    assert result.loc["twins", "right_share"] == 1.0 and shapely.equals(result.loc["twins", "geometry"], twins)
    assert result.loc["straddler", "area_ha"] == pytest.approx(box_ha(0.1, 0.05, 0.105, 0.055), rel=1e-6)
    assert result.loc["huge", "left_share"] == 1.0
    assert shapely.equals(result.loc["huge", "geometry"], claim)
    assert "p126" not in result.index  # the cell inside the enclave
    assert result.loc["p105", "right_share"] == 1.0 and shapely.equals(result.loc["p105", "geometry"], cells[105])


def random_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """25 round claims (one with an enclave, one with an island) over 3,000 jittered quadrilateral parcels."""
    rng = np.random.default_rng(11)
    xs, ys = np.meshgrid(np.arange(60) * 0.001, np.arange(50) * 0.001)
    jitter = rng.uniform(-0.0002, 0.0002, (2, xs.size))
    parcels = [shapely.Polygon([(x + 0.0001 + dx, y), (x + 0.001, y + 0.0001), (x + 0.0009, y + 0.001 + dy),
                                (x, y + 0.0008)])
               for x, y, dx, dy in zip(xs.ravel(), ys.ravel(), *jitter, strict=True)]
    centres = rng.uniform(0, 0.06, (25, 2))
    claims = [shapely.Point(x, y).buffer(r, quad_segs=int(q))
              for (x, y), r, q in zip(centres, rng.uniform(0.001, 0.015, 25), rng.integers(2, 30, 25), strict=True)]
    claims[3] = claims[3].difference(shapely.Point(*centres[3]).buffer(0.002))  # an enclave
    claims[4] = shapely.MultiPolygon([claims[4], shapely.box(0.061, 0.0, 0.062, 0.002)])
    left = frame(claims, list(range(len(claims))), crs="EPSG:4326")
    right = frame(parcels, list(range(len(parcels))), crs="EPSG:4326")
    return left, right


def test_random_layers_match_overlay() -> None:
    left, right = random_layers()
    expected = reference(left, right)
    ours = overlap_pairs(left, right)
    big = ours[ours["area_ha"] >= TINY_HA]
    assert set(zip(big["left_id"], big["right_id"], strict=True)) == set(expected)
    got = dict(zip(zip(big["left_id"], big["right_id"], strict=True), big["area_ha"], strict=True))
    assert [got[k] for k in expected] == pytest.approx(list(expected.values()), rel=1e-6, abs=1e-8)
    selfish = overlap_pairs(left)
    assert set(zip(selfish["left_id"], selfish["right_id"], strict=True)) == set(reference(left, None))


def test_the_same_result_on_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    left, right = random_layers()
    alone = overlap_pairs(left, right)
    monkeypatch.setattr(overlaps, "_MIN_CHUNK", 50)
    monkeypatch.setattr(areas, "_CHUNK", 300)
    monkeypatch.setattr(overlaps, "_threads", lambda: 3)
    threaded = overlap_pairs(left, right)
    pd.testing.assert_frame_equal(pd.DataFrame(threaded.drop(columns="geometry")),
                                  pd.DataFrame(alone.drop(columns="geometry")))
    assert threaded.geom_equals(alone).all()
    assert not shapely.is_prepared(np.asarray(left.geometry.values, dtype=object)).any()


def test_ids_keep_their_type_and_sort_order() -> None:
    geoms = [shapely.box(i * 0.01, 0, i * 0.01 + 0.015, 0.01) for i in range(5)]
    shuffled = frame(geoms, [40, 3, 25, 1, 7])
    result = overlap_pairs(shuffled, frame([shapely.box(0, 0, 0.1, 0.005)], ["all"]))
    assert result["left_id"].tolist() == [1, 3, 7, 25, 40]
    assert result["left_id"].dtype == shuffled["id"].dtype
