"""Pacts linked to cadastral parcels: real cadastres imported, shares checked against shapely, designation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

import commonsmap as cm
from commonsmap.analysis.clipping import MAX_FAN, clipped_areas_ha, convex_orientation
from commonsmap.analysis.overlaps import overlap_pairs
from commonsmap.errors import InvalidInputError, NotFoundError
from commonsmap.pacts import propose_pact, transition
from commonsmap.pacts.cadastre import ItalianRef, import_cadastre, normalise_ref, parse_italian_ref, sheet_of
from commonsmap.pacts.parcels import (
    CONFLICT_COLUMNS,
    LINK_COLUMNS,
    designate,
    exclusive_pact_conflicts,
    link_pacts,
    parcel_links,
)
from tests.conftest import digest

BUBENEC_REF = "{KATUZE_KOD}/{ID}"
LAEA = "+proj=laea +lat_0=50.1 +lon_0=14.39 +ellps=WGS84 +units=m"  # local equal-area, for checks
DAY = dt.date(2026, 1, 12)


@pytest.fixture
def bubenec(atlas: cm.Atlas, data: Path) -> cm.Atlas:
    import_cadastre(atlas, data / "bubenec_plots.gpkg", ref=BUBENEC_REF, unit="KATUZE_KOD", who="cadastre office")
    return atlas


@pytest.fixture
def friends(atlas: cm.Atlas) -> str:
    return atlas.add("parties", {"name": "Spolek přátel Bubenče", "kind": "association"}).ids[0]


def plots(data: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(data / "bubenec_plots.gpkg")


def in_atlas_crs(geom: shapely.Geometry, densify: bool = True) -> shapely.Geometry:
    """A geometry drawn in the cadastre's CRS (EPSG:3857), in the atlas's (EPSG:4326).

    Edges are first cut to 2 m (``densify``): a long edge, straight in one CRS, is not in another.
    """
    return gpd.GeoSeries([shapely.segmentize(geom, 2.0) if densify else geom], crs=3857).to_crs(4326).iloc[0]


def propose(atlas: cm.Atlas, party: str, title: str, geometry: shapely.Geometry | None = None,
            **fields: object) -> str:
    record = {"title": title, "pact_type": "ordinary", **fields}
    if geometry is not None:
        record["geometry"] = geometry
    return propose_pact(atlas, record, [{"party": party, "role": "proponent"}], who="desk", on=DAY)


def activate(atlas: cm.Atlas, pact: str, on: dt.date = DAY) -> None:
    for status in ("under_review", "approved", "active"):
        transition(atlas, pact, status, who="office", on=on)


def by_ref(atlas: cm.Atlas) -> dict[str, dict[str, object]]:
    return {row["cadastral_ref"]: row for row in atlas.layer("parcels").to_dict("records")}


# -- importing cadastres ---------------------------------------------------------------------------


def test_bubenec_cadastre_is_imported_with_its_references_and_other_columns(bubenec: cm.Atlas,
                                                                          data: Path) -> None:
    parcels = bubenec.layer("parcels")
    source = plots(data)
    assert len(parcels) == 407 and parcels["cadastral_ref"].is_unique
    assert set(parcels["cadastral_ref"]) == {f"730106/{i}" for i in source["ID"]}
    assert set(parcels["cadastral_unit"]) == {"730106"}
    assert set(parcels["designation"]) == {"not_designated"}
    assert parcels.crs.equals("EPSG:4326")
    row = parcels.set_index("cadastral_ref").loc["730106/760"]
    original = source.set_index("ID").loc["760"]
    assert row["extra"] == {"ID": "760", "ID_2": original["ID_2"], "TYPPPD_KOD": original["TYPPPD_KOD"],
                            "KATUZE_KOD": 730106, "OBEC_KOD": 554782}
    reprojected = gpd.GeoSeries([original.geometry], crs=3857).to_crs(4326).iloc[0]
    assert shapely.equals_exact(shapely.normalize(row.geometry.geoms[0]), shapely.normalize(reprojected),
                                tolerance=1e-9)
    assert set(bubenec.history("parcels")["who"]) == {"cadastre office"}


def test_italian_cadastral_sheets_are_imported_by_their_national_reference(atlas: cm.Atlas, data: Path) -> None:
    result = import_cadastre(atlas, data / "H833_fogli_catastali.geojson", who="catasto")
    assert result.count == 26
    assert "cadastral_ref from 'NATIONALCADASTRALZONINGREFERENCE'" in result.summary()
    parcels = atlas.layer("parcels").set_index("cadastral_ref")
    assert {"H833_001300", "H833_0013A0", "H833_0014B0", "H833_002400"} <= set(parcels.index)
    assert set(parcels["cadastral_unit"]) == {"H833"}
    assert parcels.loc["H833_0014B0", "extra"]["foglio"] == "14B"
    assert parcels.loc["H833_001300", "extra"]["LEVELNAME"] == "Mappa Catastale"
    assert all(parse_italian_ref(ref).is_sheet for ref in parcels.index)


def test_bad_cadastres_are_refused_and_the_atlas_is_unchanged(bubenec: cm.Atlas, data: Path,
                                                             tmp_path: Path) -> None:
    before = digest(bubenec.location)
    source = plots(data)
    nameless = tmp_path / "nameless.shp"
    source.iloc[:5].to_file(nameless)
    nameless.with_suffix(".prj").unlink()
    points = tmp_path / "points.gpkg"
    gpd.GeoDataFrame(source.iloc[:3].drop(columns="geometry"), geometry=source.iloc[:3].centroid,
                     crs=3857).to_file(points)
    cases = [
        (dict(path=data / "bubenec_plots.gpkg"), "no column holds the cadastral reference"),
        (dict(path=data / "bubenec_plots.gpkg", ref="PARCEL_NO"), "no column 'PARCEL_NO'"),
        (dict(path=data / "bubenec_plots.gpkg", ref="{KATUZE_KOD}-{PARCEL_NO}"), "names no column"),
        (dict(path=data / "bubenec_plots.gpkg", ref="KATUZE_KOD"), "'730106' appears 407 times"),
        (dict(path=data / "bubenec_plots.gpkg", ref=BUBENEC_REF), "'730106/760' is already in the atlas"),
        (dict(path=nameless, ref=BUBENEC_REF), "declares no coordinate reference system"),
        (dict(path=points, ref="{OBEC_KOD}:{ID}"), "a parcel must be a polygon, not a Point"),
        (dict(path=data / "bubenec_plots.gpkg", ref="ID_2", designation="under_pact"), "not by an import"),
        (dict(path=data / "bubenec_plots.gpkg", ref="ID_2", mapping={"TYPPPD_KOD": "owner"}), "'owner' is not"),
        (dict(path=data / "bubenec_plots.gpkg", ref="ID_2", values={"owner_kind": "feudal"}), "owner_kind"),
    ]
    for options, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            import_cadastre(bubenec, who="someone", **options)  # type: ignore[arg-type]
    assert digest(bubenec.location) == before
    assert bubenec.count("parcels") == 407
    given = import_cadastre(bubenec, nameless, ref="{KATUZE_KOD}-{ID}", crs="EPSG:3857", who="someone",
                            values={"owner_kind": "public"}, mapping={"TYPPPD_KOD": "land_use"})
    assert given.count == 5 and bubenec.count("parcels") == 412
    added = bubenec.layer("parcels", where="cadastral_ref LIKE '730106-%'")
    assert set(added["owner_kind"]) == {"public"} and set(added["land_use"]) == {"9100301"}


def test_italian_references_are_read_and_normalised() -> None:
    ref = parse_italian_ref("H833_001300.123")
    assert ref == ItalianRef("H833", None, 13, None, None, "123")
    assert (ref.sheet, ref.code, ref.is_sheet) == ("H833_001300", "H833_001300.123", False)
    annex = parse_italian_ref(" h833_0014b0 ")
    assert (annex.foglio, annex.allegato, annex.sviluppo, annex.is_sheet) == (14, "B", None, True)
    assert parse_italian_ref("A124A001200.0345").sezione == "A"
    assert parse_italian_ref("A124A_001200.345").code == "A124A001200.345"
    for bad in ("H833", "H833_13", "730106/760", "H833_001300.", "833_001300.1"):
        with pytest.raises(InvalidInputError, match="not an Italian cadastral reference"):
            parse_italian_ref(bad)
    assert normalise_ref("h833_001300.0123") == "H833_001300.123"
    assert normalise_ref("  730106/760 ") == "730106/760" and normalise_ref("abc  def") == "ABC DEF"
    assert sheet_of("H833_001300.5") == sheet_of("H833_001300") == "H833_001300" and sheet_of("730106/1") is None


# -- linking by geometry: shares against shapely ---------------------------------------------------


def wholly_inside(data: Path) -> list[str]:
    """Three adjacent parcels near the middle of the block (their ``ID``)."""
    source = plots(data).set_index("ID")
    centre = source.union_all().centroid
    middle = source.geometry.distance(centre).idxmin()
    neighbours = source.geometry[source.geometry.touches(source.geometry[middle])].index[:2]
    return [middle, *neighbours]


def drawn_pacts(data: Path) -> dict[str, shapely.Geometry]:
    """Pact areas drawn over real Bubeneč parcels (EPSG:3857), each a different case."""
    source = plots(data).set_index("ID")
    centre = source.union_all().centroid
    xmin, ymin, xmax, ymax = source.total_bounds
    one = source.geometry["760"]
    oxmin, oymin, oxmax, oymax = one.bounds
    return {
        # three adjacent parcels with a margin of 1.5 m: all three wholly inside, neighbours partly
        "wholly": source.geometry[wholly_inside(data)].union_all().buffer(1.5, join_style="mitre"),
        # the western half of one parcel: one parcel, partly; its neighbours only touch it
        "half": one.intersection(box(oxmin - 1, oymin - 1, (oxmin + oxmax) / 2, oymax + 1)),
        # a 12 m strip across the whole block, corner to corner: many parcels, each partly
        "strip": LineString([(xmin, ymin), (xmax, ymax)]).buffer(6, cap_style="flat"),
        # a square with a courtyard (a hole), and a pact in two parts
        "courtyard": Polygon(box(*centre.buffer(40).bounds).exterior.coords,
                             [box(*centre.buffer(12).bounds).exterior.coords[::-1]]),
        "two parts": MultiPolygon([box(*source.geometry.iloc[10].centroid.buffer(9).bounds),
                                   box(*source.geometry.iloc[300].centroid.buffer(14).bounds)]),
        # a convex pact: the engine clips the (concave) parcels by it
        "rectangle": box(centre.x - 70, centre.y + 20, centre.x - 20, centre.y + 55),
    }


def independent_shares(pacts: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> dict[tuple[str, str], float]:
    """Share of each parcel inside each pact, by plain shapely in a local equal-area projection."""
    pact_geoms = pacts.to_crs(LAEA)
    parcel_geoms = parcels.to_crs(LAEA)
    shares = {}
    for pact, area in zip(pact_geoms["id"], pact_geoms.geometry, strict=True):
        for parcel, ground in zip(parcel_geoms["id"], parcel_geoms.geometry, strict=True):
            if area.intersects(ground):
                shares[(pact, parcel)] = area.intersection(ground).area / ground.area
    return shares


def test_shares_of_pacts_drawn_over_real_parcels_match_shapely(bubenec: cm.Atlas, friends: str,
                                                               data: Path) -> None:
    drawn = drawn_pacts(data)
    # "half" shares its boundary with the parcel and its neighbours: drawn from the cadastre's own vertices
    ids = {name: propose(bubenec, friends, f"Pact: {name}", in_atlas_crs(geom, densify=name != "half"))
           for name, geom in drawn.items()}
    result = link_pacts(bubenec, method="geometry", who="cadastre office")
    assert sorted(result.pacts) == sorted(ids.values()) and result.unlinked == [] and result.removed == 0

    links = bubenec.layer("pact_parcels")
    assert len(links) == result.count and set(links["method"]) == {"geometry"}
    parcels = bubenec.layer("parcels")
    expected = independent_shares(bubenec.layer("pacts"), parcels)
    ours = {(p, q): s for p, q, s in zip(links["pact"], links["parcel"], links["share"], strict=True)}
    assert {pair for pair, share in expected.items() if share > 1e-6} <= set(ours) <= set(expected)
    worst = max(abs(share - expected[pair]) / expected[pair] for pair, share in ours.items() if share > 1e-6)
    print(f"largest relative difference of a share (above 1e-6): {worst:.1e}")
    for pair, share in ours.items():
        assert share == pytest.approx(expected[pair], rel=1e-3, abs=1e-6), pair  # within 0.1% (slivers: 1e-6)
    # the areas too, against the same projection
    laea = parcels.set_index("id").to_crs(LAEA).geometry
    pacts = bubenec.layer("pacts").set_index("id").to_crs(LAEA).geometry
    for pact, parcel, area in zip(links["pact"], links["parcel"], links["area_ha"], strict=True):
        assert area == pytest.approx(pacts[pact].intersection(laea[parcel]).area / 1e4, rel=1e-3, abs=1e-8)

    per_pact = links.groupby("pact")["share"]
    wholly = links[links["pact"] == ids["wholly"]].set_index("cadastral_ref")["share"]
    assert (wholly[[f"730106/{i}" for i in wholly_inside(data)]] == 1.0).all() and (wholly < 1).sum() >= 3
    assert per_pact.size()[ids["half"]] == 1
    assert links.loc[links["pact"] == ids["half"], "share"].iloc[0] == pytest.approx(
        expected[(ids["half"], links.loc[links["pact"] == ids["half"], "parcel"].iloc[0])], rel=1e-6)
    assert per_pact.size()[ids["strip"]] >= 20 and (links.loc[links["pact"] == ids["strip"], "share"] < 1).all()
    assert per_pact.size()[ids["courtyard"]] >= 5 and per_pact.size()[ids["two parts"]] >= 2
    refs = dict(zip(parcels["id"], parcels["cadastral_ref"], strict=True))
    assert (links["cadastral_ref"] == links["parcel"].map(refs)).all()


def test_linking_frames_without_an_atlas_gives_the_same_links(bubenec: cm.Atlas, friends: str,
                                                             data: Path) -> None:
    for name, geom in drawn_pacts(data).items():
        propose(bubenec, friends, name, in_atlas_crs(geom, densify=name != "half"))
    link_pacts(bubenec, who="office")
    stored = bubenec.layer("pact_parcels")[LINK_COLUMNS].sort_values(["pact", "parcel"], ignore_index=True)
    # the cadastre in its own CRS, the pacts in the atlas's
    cadastre = plots(data).assign(cadastral_ref=lambda f: "730106/" + f["ID"])
    ids = dict(zip(bubenec.layer("parcels")["cadastral_ref"], bubenec.layer("parcels")["id"], strict=True))
    cadastre["id"] = cadastre["cadastral_ref"].map(ids)
    frame = parcel_links(bubenec.layer("pacts"), cadastre)
    assert list(frame.columns) == LINK_COLUMNS
    pd.testing.assert_frame_equal(frame[["pact", "parcel", "method"]].astype(object),
                                  stored[["pact", "parcel", "method"]].astype(object))
    difference = np.abs(frame["share"] - stored["share"]).max()
    assert difference < 1e-5, difference  # computed in the cadastre's CRS: the pacts' edges are straight in another


def test_the_numpy_clip_agrees_with_geos_and_repairs_invalid_parcels(data: Path) -> None:
    parcels = plots(data).to_crs(4326)
    parcels["id"] = parcels["ID"]
    pacts = gpd.GeoDataFrame({"id": list(drawn_pacts(data))}, geometry=list(drawn_pacts(data).values()),
                             crs=3857).to_crs(4326)
    exact = overlap_pairs(pacts, parcels, with_geometry=True).set_index(["left_id", "right_id"])
    fast = overlap_pairs(pacts, parcels, with_geometry=False).set_index(["left_id", "right_id"])
    assert set(fast.index[fast["right_share"] > 1e-9]) == set(exact.index[exact["right_share"] > 1e-9])
    assert set(fast.index) <= set(exact.index)
    difference = (fast["area_ha"] - exact.loc[fast.index, "area_ha"]).abs()
    parcel_ha = exact.loc[fast.index, "area_ha"] / exact.loc[fast.index, "right_share"]
    assert (difference <= 1e-5 * parcel_ha).all()
    # clipping each pact by every parcel in numpy: convex parcels as they are, small concave ones
    # cut into triangles, the others left to GEOS
    geoms = np.asarray(parcels.geometry.values, dtype=object)
    convex = convex_orientation(geoms) != 0
    small = np.asarray(shapely.get_num_coordinates(geoms)) <= MAX_FAN
    assert convex.sum() > 20 and (~convex & small).sum() > 100 and (~convex & ~small).sum() > 10
    drawn = np.asarray(pacts.geometry.values, dtype=object)
    everyone = np.arange(len(geoms))
    for number, name in enumerate(pacts["id"]):
        areas, done = clipped_areas_ha(drawn, np.full(len(geoms), number), geoms, everyone, parcels.crs)
        assert (done == (convex | small)).all()
        keys = [(name, i) for i in parcels["id"]]
        reference = exact.reindex(keys)["area_ha"].fillna(0).to_numpy()
        own = gpd.GeoSeries(geoms, crs=4326).to_crs(LAEA).area.to_numpy() / 1e4
        assert (np.abs(areas - reference)[done] <= 1e-5 * own[done]).all(), name
    # an invalid (bow-tie) parcel among many is repaired before it is measured
    x0, y0, x1, y1 = parcels.total_bounds
    bowtie = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    with_bowtie = pd.concat([parcels[["id", "geometry"]], gpd.GeoDataFrame({"id": ["bowtie"]}, geometry=[bowtie],
                                                                          crs=4326)], ignore_index=True)
    pairs = overlap_pairs(pacts.iloc[[0]], with_bowtie, with_geometry=False).set_index("right_id")
    repaired = gpd.GeoSeries([shapely.make_valid(bowtie)], crs=4326).to_crs(LAEA).iloc[0]
    area = pacts.iloc[[0]].to_crs(LAEA).geometry.iloc[0].intersection(repaired).area / 1e4
    assert pairs.loc["bowtie", "area_ha"] == pytest.approx(area, rel=1e-3)


# -- linking by reference and by location ------------------------------------------------------------


def test_pacts_linked_by_italian_sheet_and_parcel_references(atlas: cm.Atlas, friends: str, data: Path,
                                                            tmp_path: Path) -> None:
    import_cadastre(atlas, data / "H833_fogli_catastali.geojson", who="catasto")
    # the particelle of sheet 13: its polygon cut in four, numbered 1 to 4
    sheets = gpd.read_file(data / "H833_fogli_catastali.geojson").set_index("NATIONALCADASTRALZONINGREFERENCE")
    sheet = sheets.geometry["H833_001300"]
    xmin, ymin, xmax, ymax = sheet.bounds
    xm, ym = (xmin + xmax) / 2, (ymin + ymax) / 2
    quarters = [sheet.intersection(box(*b)) for b in ((xmin, ymin, xm, ym), (xm, ymin, xmax, ym),
                                                      (xmin, ym, xm, ymax), (xm, ym, xmax, ymax))]
    particelle = tmp_path / "particelle_13.geojson"
    gpd.GeoDataFrame({"NATIONALCADASTRALREFERENCE": [f"H833_001300.{n}" for n in range(1, 5)]},
                     geometry=quarters, crs=4326).to_file(particelle)
    import_cadastre(atlas, particelle, who="catasto")
    whole_sheet = propose(atlas, friends, "Sentiero del foglio 13", parcels=["H833_001300"])
    some = propose(atlas, friends, "Orti", parcels=["h833_0014b0", "H833_001300.0002", "H833_009900.1"])
    nothing = propose(atlas, friends, "Nowhere", parcels=["H833_009900"])
    result = link_pacts(atlas, who="catasto")

    refs = by_ref(atlas)
    links = atlas.layer("pact_parcels")
    linked = links.groupby("pact")["cadastral_ref"].apply(set).to_dict()
    assert linked[whole_sheet] == {"H833_001300", *(f"H833_001300.{n}" for n in range(1, 5))}
    assert linked[some] == {"H833_0014B0", "H833_001300.2"}
    assert result.unmatched_refs == {some: ["H833_009900.1"], nothing: ["H833_009900"]}
    assert result.unlinked == [nothing]
    assert set(links["method"]) == {"reference"} and links["share"].isna().all() and links["area_ha"].isna().all()
    assert set(links["parcel"]) <= {row["id"] for row in refs.values()}


def test_pacts_linked_by_bubenec_references_and_by_location(bubenec: cm.Atlas, friends: str, data: Path) -> None:
    refs = by_ref(bubenec)
    listed = propose(bubenec, friends, "Two plots", parcels=[" 730106/760", "730106/1017 "])
    inside = [refs[r]["geometry"].representative_point() for r in ("730106/2519", "730106/2498")]
    placed = propose(bubenec, friends, "A bench", inside[0])
    two = propose(bubenec, friends, "Two benches", shapely.MultiPoint(inside))
    x0, y0, _, _ = bubenec.layer("parcels").total_bounds
    astray = propose(bubenec, friends, "Out of town", Point(x0 - 0.01, y0 - 0.01))
    result = link_pacts(bubenec, who="office")
    links = bubenec.layer("pact_parcels")
    linked = links.groupby("pact")["cadastral_ref"].apply(set).to_dict()
    assert linked[listed] == {"730106/760", "730106/1017"}
    assert linked[placed] == {"730106/2519"} and linked[two] == {"730106/2519", "730106/2498"}
    methods = links.groupby("pact")["method"].first().to_dict()
    assert methods[listed] == "reference" and methods[placed] == methods[two] == "location"
    assert result.unlinked == [astray]
    with pytest.raises(NotFoundError, match="no pact 'nope'"):
        link_pacts(bubenec, ["nope"], who="office")
    with pytest.raises(InvalidInputError, match="unknown link method"):
        link_pacts(bubenec, method="telepathy", who="office")


# -- designation follows the lifecycle ----------------------------------------------------------------


def test_parcels_are_under_pact_while_a_pact_is_in_force(bubenec: cm.Atlas, friends: str, data: Path) -> None:
    area = in_atlas_crs(drawn_pacts(data)["wholly"])
    pact = propose(bubenec, friends, "Zahrada", area, duration_months=24)
    result = link_pacts(bubenec, [pact], who="office")
    covered = set(result.links["parcel"])
    assert len(covered) >= 5 and result.designation_changes == {}
    parcels = bubenec.layer("parcels").set_index("id")
    assert set(parcels.loc[sorted(covered), "designation"]) == {"not_designated"}

    activate(bubenec, pact)
    parcels = bubenec.layer("parcels").set_index("id")
    assert set(parcels.loc[sorted(covered), "designation"]) == {"under_pact"}
    assert (parcels.drop(index=sorted(covered))["designation"] == "not_designated").all()
    one = sorted(covered)[0]
    before = digest(bubenec.location)
    with pytest.raises(InvalidInputError, match=f"covered by pact {pact} in force.*not_designated"):
        designate(bubenec, [one], "not_designated", who="office")
    with pytest.raises(InvalidInputError, match="covered by no pact in force"):
        designate(bubenec, [parcels.drop(index=sorted(covered)).index[0]], "under_pact", who="office")
    assert digest(bubenec.location) == before

    transition(bubenec, pact, "terminated_early", who="office", on=DAY + dt.timedelta(days=100))
    parcels = bubenec.layer("parcels").set_index("id")
    assert set(parcels.loc[sorted(covered), "designation"]) == {"designated"}
    assert designate(bubenec, [one, one], "not_designated", who="office") == [one]
    assert bubenec.get("parcels", one)["designation"] == "not_designated"
    free = parcels.drop(index=sorted(covered)).index[:3].tolist()
    assert designate(bubenec, free, "reserved", who="office") == free
    assert designate(bubenec, free, "reserved", who="office") == []


def test_relinking_follows_the_pacts_new_area(bubenec: cm.Atlas, friends: str, data: Path) -> None:
    drawn = drawn_pacts(data)
    pact = propose(bubenec, friends, "Moving garden", in_atlas_crs(drawn["wholly"]))
    first = link_pacts(bubenec, who="office")
    activate(bubenec, pact)
    bubenec.update("pacts", pact, {"geometry": in_atlas_crs(drawn["rectangle"])}, who="office")
    again = link_pacts(bubenec, [pact], who="office")
    assert again.removed == first.count
    old, new = set(first.links["parcel"]), set(again.links["parcel"])
    assert set(bubenec.layer("pact_parcels")["parcel"]) == new and old - new
    designations = bubenec.layer("parcels").set_index("id")["designation"]
    assert set(designations[sorted(new)]) == {"under_pact"}
    assert set(designations[sorted(old - new)]) == {"designated"}
    assert {p: after for p, (_, after) in again.designation_changes.items()} == {
        **{p: "designated" for p in old - new}, **{p: "under_pact" for p in new - old}}
    kept = link_pacts(bubenec, [pact], who="office", replace=False)
    assert kept.count == 0 and kept.removed == 0


# -- exclusive pacts that collide ----------------------------------------------------------------------


def test_exclusive_pacts_on_the_same_ground_at_the_same_time(bubenec: cm.Atlas, friends: str) -> None:
    refs = by_ref(bubenec)
    ground = refs["730106/760"]["geometry"]
    other = refs["730106/1017"]["geometry"]
    xmin, ymin, xmax, ymax = ground.bounds
    width = xmax - xmin
    west = box(xmin - 0.0002, ymin, xmin + 0.6 * width, ymax)
    east = box(xmin + 0.4 * width, ymin, xmax + 0.0002, ymax)
    o0, p0, o1, p1 = other.bounds
    exclusive = {"exclusive_use": True}
    year = {"starts_on": dt.date(2026, 1, 1), "expires_on": dt.date(2026, 12, 31)}
    a = propose(bubenec, friends, "West garden", west, **exclusive, **year)
    b = propose(bubenec, friends, "East garden", east, **exclusive, starts_on=dt.date(2026, 6, 1),
                expires_on=dt.date(2027, 5, 31))
    later = propose(bubenec, friends, "Next year's garden", west, **exclusive, starts_on=dt.date(2027, 6, 1))
    shared_use = propose(bubenec, friends, "Open garden", west, exclusive_use=False, **year)
    kiosk = propose(bubenec, friends, "Kiosk", ground.representative_point(), **exclusive, **year)
    left = propose(bubenec, friends, "Left of 1017", box(o0 - 0.0002, p0, (o0 + o1) / 2, p1), **exclusive, **year)
    right = propose(bubenec, friends, "Right of 1017", box((o0 + o1) / 2, p0, o1 + 0.0002, p1), **exclusive, **year)
    link_pacts(bubenec, who="office")
    for pact in (a, b, later, shared_use, kiosk, left):
        activate(bubenec, pact)
    for status in ("under_review", "approved"):  # approved, not yet signed: counts too
        transition(bubenec, right, status, who="office", on=DAY)

    conflicts = exclusive_pact_conflicts(bubenec)
    assert list(conflicts.columns) == CONFLICT_COLUMNS
    pairs = {tuple(sorted((row.left_pact, row.right_pact))): row for row in conflicts.itertuples()}
    parcel_760 = refs["730106/760"]["id"]
    assert set(pairs) == {tuple(sorted(p)) for p in ((a, b), (a, kiosk), (b, kiosk))}
    west_east = pairs[tuple(sorted((a, b)))]
    assert parcel_760 in west_east.parcels and "730106/760" in west_east.cadastral_refs
    assert west_east.basis == "area"
    assert (west_east.overlap_from, west_east.overlap_until) == (dt.date(2026, 6, 1), dt.date(2026, 12, 31))
    laea = gpd.GeoSeries([west.intersection(east), *[row["geometry"] for row in refs.values()]],
                         crs=4326).to_crs(LAEA)
    expected = sum(laea.iloc[0].intersection(parcel).area for parcel in laea.iloc[1:]) / 1e4
    assert west_east.area_ha == pytest.approx(expected, rel=1e-3) and west_east.area_ha > 0
    assert pairs[tuple(sorted((a, kiosk)))].basis == "parcel"
    assert pairs[tuple(sorted((a, kiosk)))].parcels == [parcel_760]

    assert exclusive_pact_conflicts(bubenec, on=dt.date(2026, 3, 1))[["left_pact", "right_pact"]].apply(
        lambda r: tuple(sorted(r)), axis=1).tolist() == [tuple(sorted((a, kiosk)))]
    assert exclusive_pact_conflicts(bubenec, on=dt.date(2027, 7, 1)).empty
    anonymous = exclusive_pact_conflicts(bubenec, viewer=cm.Viewer.anonymous())
    assert len(anonymous) == len(conflicts)
