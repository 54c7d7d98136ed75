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


if __name__ == "__main__":
    main(Path(sys.argv[1]))
