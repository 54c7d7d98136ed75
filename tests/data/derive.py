"""How the test files in this folder were cut from the project's shared real data.

Run once by a developer (``python tests/data/derive.py /path/to/shared/data``); the tests only
read the files this writes, never the shared folder. See README.md here for sources and licences.
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

HERE = Path(__file__).parent


def main(shared: Path) -> None:
    forests = gpd.read_file(shared / "cambodia_odc/community_forests.geojson")
    invalid = [i for i, g in enumerate(forests.geometry) if not g.is_valid]
    keep = sorted(set(range(36)) | set(invalid))
    forests.iloc[keep].to_file(HERE / "kh_community_forests.geojson", driver="GeoJSON")

    zones = shared / "bologna/zone_del_comune"
    for file in zones.glob("zone-del-comune-di-bologna.*"):
        shutil.copy(file, HERE / f"bologna_zones{file.suffix}")
    with zipfile.ZipFile(HERE / "bologna_zones.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(HERE.glob("bologna_zones.*")):
            if file.suffix != ".zip":
                archive.write(file, f"zone/{file.name}")

    plots = gpd.read_file(shared / "cadastre_and_buildings/prague_bubenec/bubenec.gpkg", layer="plots")
    plots.to_file(HERE / "bubenec_plots.gpkg", layer="plots", driver="GPKG")

    shutil.copy(shared / "palermo_pacts/latest.csv", HERE / "palermo_pacts.csv")
    shutil.copy(shared / "pacts_and_urban_commons/paris_jardins_partages/jardins_partages_paris.geojson",
                HERE / "paris_gardens.geojson")

    applications = gpd.read_file(shared / "cambodia_odc/community_forests_map.geojson").iloc[:30]
    kml = applications[["name", "status", "province", "geometry"]].rename(columns={"status": "description"})
    pyogrio.write_dataframe(kml, HERE / "kh_forest_applications.kml", driver="KML")
    pyogrio.write_dataframe(kml, HERE / "kh_forest_applications.kmz", driver="LIBKML")

    waypoints = applications.iloc[:20][["name", "geometry"]].assign(desc=applications["status"].iloc[:20])
    pyogrio.write_dataframe(waypoints, HERE / "kh_forest_waypoints.gpx", driver="GPX", layer="waypoints")
    ring = forests.geometry.iloc[0]
    ring = ring.geoms[0] if ring.geom_type == "MultiPolygon" else ring
    track = gpd.GeoDataFrame({"name": [forests["name"].iloc[0]]},
                             geometry=[shapely.MultiLineString([ring.exterior.coords])], crs=4326)
    pyogrio.write_dataframe(track, HERE / "kh_forest_track.gpx", driver="GPX", layer="tracks")

    features = []
    for i, row in applications.iloc[:15].reset_index().iterrows():
        created = str(row["last_update"])
        features.append({
            "type": "Feature", "id": f"{i:016x}",
            "geometry": shapely.geometry.mapping(row.geometry),
            "properties": {"$created": created, "$modified": created, "$version": f"{i:064x}@1",
                           "$photos": [f"{i:016x}.jpg"] if i % 3 == 0 else [],
                           "categoryId": "community-forest", "name": row["name"],
                           "notes": f"{row['status']} ({row['province']})"},
        })
    (HERE / "mapeo_export.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features},
                                                          indent=1), encoding="utf-8")
    overlap_subsets(shared)


def _overlapping(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> tuple[set[int], set[int]]:
    """Rows of ``a`` and of ``b`` (positions) that share a positive area, after make_valid."""
    same = a is b
    a = a.set_geometry(shapely.make_valid(a.geometry.values)).reset_index(drop=True)
    b = b.set_geometry(shapely.make_valid(b.geometry.values)).to_crs(a.crs).reset_index(drop=True)
    joined = gpd.sjoin(a, b, predicate="intersects")
    joined = joined[joined.index != joined["index_right"]] if same else joined
    area = shapely.area(shapely.intersection(a.geometry.values[joined.index.to_numpy()],
                                             b.geometry.values[joined["index_right"].to_numpy()]))
    joined = joined[area > 0]
    return set(joined.index.tolist()), set(joined["index_right"].tolist())


def _invalid(frame: gpd.GeoDataFrame) -> set[int]:
    return {i for i, g in enumerate(frame.geometry) if not g.is_valid}


def _few_others(frame: gpd.GeoDataFrame, taken: set[int], count: int) -> set[int]:
    """``count`` rows not in ``taken``, the ones with the fewest vertices (to keep the files small)."""
    vertices = shapely.get_num_coordinates(frame.geometry.values)
    others = [int(i) for i in vertices.argsort(kind="stable") if int(i) not in taken]
    return set(others[:count])


def overlap_subsets(shared: Path) -> None:
    """The real overlap cases for tests/core/test_overlaps.py, as two GeoPackages.

    ``overlap_cambodia.gpkg``: the community forests that overlap an economic land concession, a
    mining concession, a protected area or another community forest, with the concessions and
    protected areas they overlap, and a few that overlap nothing; invalid polygons kept as they
    are; the concessions in their own CRS (EPSG:32648). ``overlap_brazil.gpkg``: the indigenous
    lands of Legal Amazonia that overlap a strict protected area or an Amapá SIGMINE mining
    process, those areas and processes (the latter in their Albers CRS with no EPSG code), and a
    few of each that overlap nothing.
    """
    kh = shared / "cambodia_odc"
    forests = gpd.read_file(kh / "community_forests.geojson")
    others = {"economic_land_concessions": gpd.read_file(kh / "economic_land_concessions.geojson"),
              "mining_concessions": gpd.read_file(kh / "mining_concessions.geojson"),
              "protected_areas": gpd.read_file(kh / "protected_areas_and_forests.geojson")}
    keep_forests, _ = _overlapping(forests, forests)
    keep_forests |= _invalid(forests)
    keep_others = {}
    for name, frame in others.items():
        in_forests, in_frame = _overlapping(forests, frame)
        keep_forests |= in_forests
        few = _few_others(frame, in_frame, 2 if name == "protected_areas" else 3)
        keep_others[name] = in_frame | _invalid(frame) | few
    keep_forests |= _few_others(forests, keep_forests, 5)
    target = HERE / "overlap_cambodia.gpkg"
    target.unlink(missing_ok=True)
    pyogrio.write_dataframe(forests.iloc[sorted(keep_forests)], target, layer="community_forests",
                            layer_options={"SPATIAL_INDEX": "NO"})
    for name, frame in others.items():
        pyogrio.write_dataframe(frame.iloc[sorted(keep_others[name])], target, layer=name,
                                layer_options={"SPATIAL_INDEX": "NO"})

    terrame = shared / "indigenous_territories/brazil_amazonia_terrame/terrame_amazonia_crs_fixed_wgs84.gpkg"
    lands = gpd.read_file(terrame, layer="indigenous_lands")
    strict = gpd.read_file(terrame, layer="protected_areas_integral")
    sigmine = gpd.read_file(shared / "concessions/brazil_amapa_sigmine/sigmine_amapa_2021.gpkg")
    lands_in_strict, keep_strict = _overlapping(lands, strict)
    keep_sigmine, lands_in_sigmine = _overlapping(sigmine, lands)
    keep_lands = lands_in_strict | lands_in_sigmine
    keep_lands |= _few_others(lands, keep_lands, 3)
    keep_strict |= _few_others(strict, keep_strict, 2)
    keep_sigmine |= _invalid(sigmine) | _few_others(sigmine, keep_sigmine, 5)
    target = HERE / "overlap_brazil.gpkg"
    target.unlink(missing_ok=True)
    for name, frame, rows in (("indigenous_lands", lands, keep_lands),
                              ("protected_areas_integral", strict, keep_strict),
                              ("sigmine_amapa", sigmine, keep_sigmine)):
        pyogrio.write_dataframe(frame.iloc[sorted(rows)], target, layer=name, layer_options={"SPATIAL_INDEX": "NO"})


if __name__ == "__main__":
    main(Path(sys.argv[1]))
