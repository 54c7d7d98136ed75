"""How the demo files in this folder were cut from the project's shared real data.

Run once by a developer: ``python layers/demo/derive.py /path/to/shared/data``. The package never
imports this script and never reads the shared folder; :mod:`commonsmap.demo` reads only the
files this writes. Sources, licences and attribution are in ATTRIBUTION.md next to it.

Every output is GeoJSON in EPSG:4326 with coordinates snapped to a 1e-6 degree grid
(``shapely.set_precision``, which keeps polygons valid), so the files stay small and read back
exactly as written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

HERE = Path(__file__).parent
GRID = 1e-6
"""Coordinate grid of the outputs, in degrees (about 0.1 m)."""
SIMPLIFY = 0.001
"""Douglas-Peucker tolerance for the Amazon territories, in degrees (about 100 m)."""
TERRITORIES = 50
"""How many territories to keep: those with the largest mining-affected area."""
MAX_SCARS = 300
"""How many 2023 mining scars to keep: the largest whose representative point is in a kept territory."""

QUARTIERI = {11: "Borgo Panigale-Reno", 12: "Navile", 13: "Porto-Saragozza", 14: "San Donato-San Vitale",
             15: "Santo Stefano", 16: "Savena"}
"""Bologna's six quartieri (since 2016) by the ``numquart`` code of the statistical zones."""


def _write(frame: gpd.GeoDataFrame, name: str) -> None:
    frame = frame.to_crs(4326)
    frame = frame.set_geometry(shapely.set_precision(frame.geometry.values, GRID))
    assert frame.geometry.is_valid.all() and not frame.geometry.is_empty.any(), name
    target = HERE / name
    target.unlink(missing_ok=True)
    pyogrio.write_dataframe(frame, target, driver="GeoJSON", layer=Path(name).stem,
                            layer_options={"COORDINATE_PRECISION": 6, "RFC7946": "YES"})


def bologna_zones(shared: Path) -> None:
    """Write the 18 statistical zones, with the name of the quartiere each belongs to."""
    zones = gpd.read_file(shared / "bologna/zone_del_comune/zone-del-comune-di-bologna.shp")
    zones = zones.sort_values("codzona").reset_index(drop=True)
    zones["quartiere"] = ["Quartiere " + QUARTIERI[int(n)] for n in zones["numquart"]]
    _write(zones[["codzona", "nomezona", "numquart", "quartiere", "area", "perimeter", "geometry"]],
           "bologna_zones.geojson")


def bologna_green(shared: Path) -> None:
    """Write the OSM allotments (all 52) and named parks/gardens mapped as landuse polygons."""
    landuse = gpd.read_file(shared / "bologna/osm_landuse/landuse_bologna.gpkg")
    tags = landuse["tags"].map(lambda t: json.loads(t) if isinstance(t, str) else {})
    name = tags.map(lambda t: t.get("name"))
    leisure = tags.map(lambda t: t.get("leisure"))
    allotments = landuse["landuse"] == "allotments"
    green = landuse["landuse"].isin(["grass", "meadow", "recreation_ground", "village_green", "forest"])
    parks = green & name.notna() & ((leisure == "park") | name.str.match(r"(Parco|Giardino) ", na=False))
    keep = landuse[allotments | parks].copy()
    kept_tags = tags[keep.index]
    keep["name"] = name[keep.index]
    for key in ("operator", "plots", "access", "leisure"):
        keep[key] = kept_tags.map(lambda t, k=key: t.get(k))
    keep["osm_id"] = keep["id"].astype("int64")
    keep["osm_version"] = keep["version"].astype("int64")
    stamps = pd.to_datetime(keep["timestamp"], unit="s", utc=True)
    keep["osm_timestamp"] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    keep["osm_tags"] = kept_tags.map(lambda t: json.dumps({k: v for k, v in t.items() if k != "visible"},
                                                         ensure_ascii=False))
    keep = keep[keep.geom_type.isin(["Polygon", "MultiPolygon"])]
    keep = keep.sort_values(["landuse", "osm_type", "osm_id"]).reset_index(drop=True)
    columns = ["landuse", "name", "operator", "plots", "access", "leisure", "osm_type", "osm_id",
               "osm_version", "osm_timestamp", "osm_tags", "geometry"]
    _write(keep[columns], "bologna_osm_green.geojson")


def paris_gardens(shared: Path) -> None:
    """Write the Paris shared-garden register: every row and column as published (e-mails already removed)."""
    folder = shared / "pacts_and_urban_commons/paris_jardins_partages"
    gardens = gpd.read_file(folder / "jardins_partages_paris.geojson")
    gardens["date_fermeture"] = gardens["date_fermeture"].dt.strftime("%Y-%m-%d")
    _write(gardens, "paris_jardins_partages.geojson")


def amazon(shared: Path) -> None:
    """Write the territories with the largest mining-affected area, and the 2023 scars inside them."""
    folder = shared / "indigenous_territories/amazon_earth_genome"
    territories = gpd.read_file(folder / "indigenous_territories_impacts.geojson")
    territories = territories.sort_values(["mining_affected_area_ha", "id"], ascending=[False, True])
    territories = territories.head(TERRITORIES).reset_index(drop=True)
    simple = territories.geometry.simplify(SIMPLIFY, preserve_topology=True)
    territories = territories.set_geometry(shapely.set_precision(simple.values, GRID))
    territories = territories.rename(columns={"id": "territory_id"})
    territories = territories.drop(columns=["locations", "illegality_areas"])
    _write(territories, "amazon_territories.geojson")

    scars = gpd.read_file(folder / "mining_new_2023.geojson")
    scars = scars.rename(columns={"Polygon area (ha)": "polygon_area_ha", "Mined area (ha)": "mined_area_ha"})
    points = scars.set_geometry(scars.geometry.representative_point())
    inside = gpd.sjoin(points, territories[["territory_id", "geometry"]], predicate="within", how="inner")
    inside = inside.sort_values(["territory_id"]).groupby(level=0).first()
    inside = gpd.GeoDataFrame(inside, geometry="geometry", crs=points.crs)
    inside = inside.sort_values(["mined_area_ha", "polygon_area_ha"], ascending=False).head(MAX_SCARS)
    inside = inside.sort_index().reset_index(names="scar_index")
    _write(inside[["scar_index", "mined_area_ha", "polygon_area_ha", "territory_id", "geometry"]],
           "amazon_mining_2023.geojson")


def san_felice_sheets(shared: Path) -> None:
    """Write the 26 cadastral sheets (fogli) of San Felice del Molise, as published."""
    folder = shared / "cadastre_and_buildings/italy_san_felice_del_molise"
    sheets = gpd.read_file(folder / "H833_fogli_catastali.geojson")
    _write(sheets.drop(columns=["kind", "zoning_ref"]), "san_felice_fogli.geojson")


def main(shared: Path) -> None:
    """Write every demo file from the shared data folder."""
    bologna_zones(shared)
    bologna_green(shared)
    paris_gardens(shared)
    amazon(shared)
    san_felice_sheets(shared)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data"))
