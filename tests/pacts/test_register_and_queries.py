"""The open register of pacts, the planner queries, the deadlines and the ``pacts`` commands.

Everything runs on real atlases built with the real API: the 18 statistical zones of Bologna
(CC BY 4.0) as administrative units, pacts drawn over them and taken through their lifecycle,
cadastral parcels linked to them; and the Paris register of shared gardens (ODbL) as point
pacts. Expected figures are computed independently, with geopandas, shapely and pyproj.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod
from typer.testing import CliRunner

import commonsmap as cm
from commonsmap.cli import app
from commonsmap.errors import InvalidInputError, QueryError
from commonsmap.pacts import propose_pact, report, transition
from commonsmap.pacts.deadlines import DEADLINE_KINDS, DUE_COLUMNS, due, parse_within
from commonsmap.pacts.queries import (
    area_under_pacts,
    designated_without_pact,
    pacts_by_status,
    pacts_signed_per_year,
)
from commonsmap.pacts.register import REGISTER_COLUMNS, export_register, register_table
from commonsmap.vocabularies import PactStatus

DATA = Path(__file__).resolve().parents[1] / "data"
DOC = Path(__file__).resolve().parents[2] / "docs" / "pact_register.md"
WHO = "Ufficio Cittadinanza Attiva"
TODAY = dt.date(2026, 5, 15)
GEOD = Geod(ellps="WGS84")
ANONYMOUS = cm.Viewer.anonymous()
ADMIN = cm.Viewer.admin()

QUARTIERI = {"11": "Borgo Panigale-Reno", "12": "Navile", "13": "Porto-Saragozza", "14": "San Donato-San Vitale",
             "15": "Santo Stefano", "16": "Savena"}
"""Bologna's six districts (quartieri), by the number the zones file gives them."""

runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def geodesic_ha(geometry: shapely.Geometry) -> float:
    area, _ = GEOD.geometry_area_perimeter(geometry)
    return abs(area) / 10_000


# -- the Bologna atlas ---------------------------------------------------------------------------

class Bologna:
    """An atlas of Bologna's zones with pacts in every situation a planner meets."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.atlas = cm.Atlas.create(path, custodian="Comune di Bologna", licence="CC-BY-4.0",
                                     title="Patti di collaborazione di Bologna")
        atlas = self.atlas
        zones_ds, pacts_ds = atlas.add("datasets", [
            {"title": "Zone del Comune di Bologna", "licence": "CC-BY-4.0", "attribution": "Comune di Bologna",
             "licence_url": "https://creativecommons.org/licenses/by/4.0/"},
            {"title": "Patti di collaborazione", "licence": "CC-BY-4.0", "attribution": "Comune di Bologna",
             "licence_url": "https://creativecommons.org/licenses/by/4.0/"}]).ids
        self.pacts_dataset = pacts_ds
        atlas.import_file(DATA / "bologna_zones.shp", "admin_units", unknown="drop",
                          mapping={"nomezona": "name", "codzona": "code", "numquart": "parent"},
                          values={"kind": "zone", "dataset": zones_ds})
        self.zones = atlas["admin_units"]
        names = ["Comune di Bologna", "Social Street Via Fondazza", "Orti Fondazza APS", "Piazza Marconi Viva",
                 "Portineria di Comunità Bolognina", "Comitato Mascarella", "Collettivo Saffi",
                 "Associazione Làbas", "Comitato inquilini Lame", "Rifugio Corticella", "Orti Mazzini",
                 "Festa di via Murri"]
        kinds = ["municipality", "association", "association", "association", "cooperative", "informal_group",
                 "informal_group", "association", "informal_group", "informal_group", "association",
                 "informal_group"]
        rows = [{"name": n, "kind": k} for n, k in zip(names, kinds, strict=True)]
        rows[8]["sensitivity"] = "community"   # the tenants' committee keeps itself to its members
        rows[9]["sensitivity"] = "secret"
        rows.append({"name": "Famiglia Rossi", "kind": "person", "sensitivity": "community"})
        ids = atlas.add("parties", rows).ids
        self.party = dict(zip([*names, "Famiglia Rossi"], ids, strict=True))
        self.pact: dict[str, str] = {}
        self.shape: dict[str, shapely.Geometry] = {}
        self._pacts()
        self._parcels()

    def zone(self, name: str) -> shapely.Geometry:
        return self.zones.loc[self.zones["name"] == name].geometry.iloc[0]

    def box_in(self, zone: str, dx: float = 0.0, half: float = 0.0012) -> shapely.Geometry:
        centre = self.zone(zone).representative_point()
        shape = shapely.box(centre.x + dx - half, centre.y - half, centre.x + dx + half, centre.y + half)
        assert self.zone(zone).contains(shape)
        return shape

    def propose(self, key: str, title: str, geometry: shapely.Geometry, proponent: str, on: str,
                **fields: Any) -> str:
        fields.setdefault("pact_type", "ordinary")
        fields.setdefault("dataset", self.pacts_dataset)
        parties = [{"party": self.party[proponent], "role": "proponent"},
                   {"party": self.party["Comune di Bologna"], "role": "administration"}]
        parties += [{"party": self.party[p], "role": "signatory"} for p in fields.pop("signatories", [])]
        pact_id = propose_pact(self.atlas, {"title": title, "geometry": geometry, **fields}, parties,
                               who=WHO, on=on)
        self.pact[key], self.shape[key] = pact_id, geometry
        return pact_id

    def path_to(self, key: str, *steps: tuple[str, ...]) -> None:
        """Take a pact through its lifecycle: (status, day) or (status, day, until) for each step."""
        for status, day, *until in steps:
            transition(self.atlas, self.pact[key], status, who=WHO, on=day, until=until[0] if until else None)

    def sign(self, key: str, reviewed: str, approved: str, signed: str) -> None:
        self.path_to(key, ("under_review", reviewed), ("approved", approved), ("active", signed))

    def _pacts(self) -> None:
        a = self.atlas
        self.propose("fondazza", "Cura del giardino di via Fondazza", self.box_in("Galvani"),
                     "Social Street Via Fondazza", "2023-01-10", district="Santo Stefano",
                     interventions=["continuous_care"], domains=["public_space"],
                     support=["materials", "cost_reimbursement"], reimbursement_amount=1500.0, currency="EUR",
                     duration_months=36, renewal="on_request", renewal_notice_days=60, report_every_months=6,
                     indicators=["volunteer_hours", "events"], reference="PG 123456/2023",
                     url="https://www.comune.bologna.it/partecipa/patti/fondazza",
                     signatories=["Famiglia Rossi"])
        self.sign("fondazza", "2023-01-15", "2023-03-01", "2023-06-01")
        report(a, self.pact["fondazza"], {"volunteer_hours": 320}, who=WHO, period_from="2023-06-01",
               period_to="2024-11-30", on="2024-12-05")
        report(a, self.pact["fondazza"], {"volunteer_hours": 410, "events": 6}, who=WHO, period_from="2024-12-01",
               period_to="2025-11-30", on="2025-12-10")
        self.propose("orto", "Orto condiviso nel giardino Fondazza", self.box_in("Galvani", dx=0.0012),
                     "Orti Fondazza APS", "2025-02-01", district="Santo Stefano", interventions=["shared_management"],
                     duration_months=24, report_every_months=12, indicators=["harvest_kg"])
        self.path_to("orto", ("under_review", "2025-02-03"), ("approved", "2025-04-10"), ("active", "2025-05-01"),
                     ("monitoring", "2025-11-01"))
        marconi, malpighi = self.zone("Marconi"), self.zone("Malpighi")
        border = marconi.boundary.intersection(malpighi.boundary)
        piazza = border.interpolate(0.5, normalized=True).buffer(0.0015)
        assert piazza.intersection(marconi).area > 0 and piazza.intersection(malpighi).area > 0
        self.propose("marconi", "Piazza ritrovata tra Marconi e Malpighi", piazza, "Piazza Marconi Viva",
                     "2022-01-20", district="Porto-Saragozza", interventions=["regeneration"], duration_months=24,
                     renewal="after_evaluation", renewal_notice_days=90, parcels=["Foglio 200 mappale 7"])
        self.path_to("marconi", ("under_review", "2022-01-25"), ("approved", "2022-03-01"),
                     ("active", "2022-04-01"), ("extended", "2024-03-01", "2027-12-31"))
        portineria = self.zone("Bolognina").representative_point()
        self.propose("portineria", "Portineria di quartiere in Bolognina", portineria,
                     "Portineria di Comunità Bolognina", "2024-06-01", district="Navile",
                     interventions=["shared_management"], domains=["social_innovation"], duration_months=36)
        self.sign("portineria", "2024-06-03", "2024-08-01", "2024-09-15")
        self.propose("mascarella", "Aiuole di via Mascarella", self.box_in("Irnerio"), "Comitato Mascarella",
                     "2026-04-18", district="Santo Stefano", dataset=None)
        self.path_to("mascarella", ("under_review", "2026-04-20"))
        self.propose("murale", "Murale partecipato in via Saffi", self.box_in("Saffi"), "Collettivo Saffi",
                     "2026-02-25", district="Porto-Saragozza", domains=["urban_creativity"])
        self.path_to("murale", ("under_review", "2026-03-01"), ("awaiting_integration", "2026-03-10", "2026-04-09"))
        self.propose("deposito", "Rigenerazione dell'ex deposito di San Donato", self.box_in("San Donato"),
                     "Associazione Làbas", "2026-03-20", pact_type="complex", district="San Donato-San Vitale",
                     interventions=["regeneration"], domains=["building"])
        self.path_to("deposito", ("under_review", "2026-04-01"), ("public_notice", "2026-05-10"))
        # only the committee's members see this one (it names them as its party)
        self.propose("lame", "Orto del comitato inquilini Lame", self.box_in("Lame"), "Comitato inquilini Lame",
                     "2024-04-01", district="Navile", sensitivity="community", expires_on="2026-06-10")
        self.sign("lame", "2024-04-02", "2024-05-20", "2024-06-10")
        self.propose("rifugio", "Rifugio notturno di Corticella", self.box_in("Corticella"), "Rifugio Corticella",
                     "2024-01-10", district="Navile", sensitivity="secret", expires_on="2026-05-30")
        self.sign("rifugio", "2024-01-11", "2024-01-20", "2024-02-01")
        # anonymous viewers see this one generalised to its grid cell, never whole
        self.propose("mazzini", "Orti di via Mazzini", self.box_in("Mazzini"), "Orti Mazzini", "2024-02-01",
                     district="Savena", sensitivity="community", publish_as="grid_cell")
        self.sign("mazzini", "2024-02-02", "2024-02-20", "2024-03-03")
        self.propose("murri", "Festa di strada in via Murri", self.box_in("Murri"), "Festa di via Murri",
                     "2021-03-01", district="Santo Stefano", interventions=["occasional_care"])
        self.path_to("murri", ("under_review", "2021-03-02"), ("approved", "2021-04-01"), ("active", "2021-05-01"),
                     ("concluded", "2021-09-30"))

    def parcel(self, ref: str, zone: str, designation: str, dx: float = 0.0) -> str:
        shape = shapely.MultiPolygon([self.box_in(zone, dx=dx, half=0.0004)])
        return self.atlas.add("parcels", {"cadastral_ref": ref, "cadastral_unit": "A944", "designation": designation,
                                          "owner_kind": "public", "geometry": shape}).ids[0]

    def _parcels(self) -> None:
        self.parcels = {
            "BO-A": self.parcel("Foglio 150 mappale 12", "Bolognina", "designated"),
            "BO-A2": self.parcel("Foglio 150 mappale 13", "Bolognina", "designated", dx=0.002),
            "BO-B": self.parcel("Foglio 88 mappale 301", "Barca", "designated"),
            "BO-C": self.parcel("Foglio 240 mappale 5", "Murri", "designated", dx=0.003),
            "BO-D": self.parcel("Foglio 190 mappale 44", "Saffi", "not_designated", dx=0.003),
            "BO-E": self.parcel("Foglio 205 mappale 9", "Irnerio", "designated", dx=0.003),
            "BO-F": self.parcel("Foglio 120 mappale 77", "Lame", "designated", dx=0.003),
        }
        links = [("portineria", "BO-A", 0.35), ("portineria", "BO-A2", None), ("murri", "BO-C", None),
                 ("mascarella", "BO-E", None), ("lame", "BO-F", None)]
        self.atlas.add("pact_parcels", [{"pact": self.pact[p], "parcel": self.parcels[q], "method": "location",
                                         "area_ha": area} for p, q, area in links], who=WHO)


@pytest.fixture(scope="module")
def bologna(tmp_path_factory: pytest.TempPathFactory) -> Bologna:
    return Bologna(tmp_path_factory.mktemp("bologna") / "bologna.gpkg")


# -- the Paris atlas: a real register of shared gardens, as point pacts -------------------------

class Paris:
    """The Ville de Paris register of shared gardens (ODbL) as pacts, and one pact of the atlas's own."""

    def __init__(self, path: Path) -> None:
        self.atlas = cm.Atlas.create(path, custodian="Mairie du 18e", licence="CC-BY-4.0")
        dataset = self.atlas.add("datasets", {"title": "Jardins partagés de Paris", "licence": "ODbL-1.0",
                                              "attribution": "Ville de Paris",
                                              "licence_url": "https://opendatacommons.org/licenses/odbl/1-0/"}).ids[0]
        gardens = gpd.read_file(DATA / "paris_gardens.geojson")
        self.gardens = gardens[gardens["nom_ev"].notna()].reset_index()
        closed = self.gardens["date_fermeture"].notna()
        frame = gpd.GeoDataFrame({
            "title": self.gardens["nom_ev"], "pact_type": "ordinary",
            "status": np.where(closed, "concluded", "active"),
            "proponent": self.gardens["nom_gerant"], "register_name": "paris-jardins-partages",
            "register_id": self.gardens["index"].astype(str), "dataset": dataset,
        }, geometry=self.gardens.geometry, crs=gardens.crs)
        self.atlas.add("pacts", frame, who="import")
        self.own = self.atlas.add("pacts", {"title": "Jardin de la rue Marcadet", "status": "proposed",
                                            "geometry": shapely.Point(2.3445, 48.8915)}).ids[0]


@pytest.fixture(scope="module")
def paris(tmp_path_factory: pytest.TempPathFactory) -> Paris:
    return Paris(tmp_path_factory.mktemp("paris") / "paris.gpkg")


# -- the register --------------------------------------------------------------------------------

def _doc_table(heading: str) -> list[list[str]]:
    """The cells of the first table under a heading of docs/pact_register.md (without its header)."""
    section = DOC.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1]
    lines = section.split("\n| ", 1)[1].split("\n\n", 1)[0].splitlines()
    return [[cell.strip().strip("`") for cell in line.strip().strip("|").split("|")] for line in lines[2:]]


def test_the_documentation_names_every_column_and_status() -> None:
    columns = _doc_table("Columns")
    assert [row[0] for row in columns] == list(REGISTER_COLUMNS)
    assert all(row[1] in ("text", "text (code)", "number", "date", "list of codes", "list of text") for row in columns)
    statuses = _doc_table("Status codes")
    assert [row[0] for row in statuses] == PactStatus.codes()
    for code, en, it, es, pt in statuses:
        term = PactStatus(code)
        assert [en, it, es, pt] == [term.label("en"), term.label("it"), term.label("es"), term.label("pt")]


def _by_title(frame: pd.DataFrame, title: str) -> pd.Series:
    return frame.loc[frame["title"] == title].iloc[0]


def test_register_in_three_formats_reads_back_with_its_licence(bologna: Bologna, tmp_path: Path) -> None:
    atlas = bologna.atlas
    csv = export_register(atlas, tmp_path / "patti.csv", lang="it")
    geojson = export_register(atlas, tmp_path / "patti.geojson")
    gpkg = export_register(atlas, tmp_path / "patti.gpkg")
    public = {"fondazza", "orto", "marconi", "portineria", "mascarella", "murale", "deposito", "murri"}
    ids = {bologna.pact[k] for k in public}

    table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert list(table.columns) == list(REGISTER_COLUMNS)
    assert set(table["id"]) == ids and len(table) == len(ids)
    document = json.loads(geojson.read_text(encoding="utf-8"))
    properties = pd.DataFrame([f["properties"] for f in document["features"]])
    assert list(properties.columns) == list(REGISTER_COLUMNS) and set(properties["id"]) == ids
    assert [f["id"] for f in document["features"]] == list(properties["id"])
    layer = pyogrio.read_dataframe(gpkg)
    assert [c for c in layer.columns if c != "geometry"] == list(REGISTER_COLUMNS) and set(layer["id"]) == ids
    assert list(table["id"]) == list(properties["id"]) == list(layer["id"])  # the same order everywhere

    # one pact, read back from each format
    row, feature, record = (_by_title(t, "Cura del giardino di via Fondazza") for t in (table, properties, layer))
    assert row["status"] == "active" and row["status_label"] == "Attivo" and feature["status_label"] == "Active"
    assert row["signed_on"] == "2023-06-01" and row["expires_on"] == "2026-06-01"
    assert row["last_change"] == "2025-12-10"  # the second report
    assert feature["signed_on"] == "2023-06-01" and record["signed_on"] == pd.Timestamp("2023-06-01")
    assert json.loads(row["support"]) == feature["support"] == ["materials", "cost_reimbursement"]
    assert json.loads(record["support"]) == ["materials", "cost_reimbursement"]
    assert float(row["reimbursement_amount"]) == feature["reimbursement_amount"] == 1500.0
    assert row["currency"] == "EUR" and row["reference"] == "PG 123456/2023"
    assert row["district"] == "Santo Stefano" and row["proponent"] == "Social Street Via Fondazza"
    assert feature["signatories"] == ["Social Street Via Fondazza"]  # Famiglia Rossi keeps to its community
    info = pyogrio.read_info(gpkg)
    dates = {n: t for n, t in zip(info["fields"], info["ogr_types"], strict=True) if n in
             ("signed_on", "starts_on", "expires_on", "last_change")}
    assert set(dates.values()) == {"OFTDate"}

    # areas (geodesic, against pyproj) and the point inside, for every pact
    for key in public:
        shape = bologna.shape[key]
        row = table.loc[table["id"] == bologna.pact[key]].iloc[0]
        lon, lat = float(row["lon"]), float(row["lat"])
        if key == "portineria":  # a point pact: its own point, no area
            assert row["area_ha"] == "" and (lon, lat) == pytest.approx((shape.x, shape.y), abs=1e-7)
        else:
            assert float(row["area_ha"]) == pytest.approx(geodesic_ha(shape), abs=1e-4)
            assert shape.contains(shapely.Point(lon, lat))
        geometry = shapely.geometry.shape(next(f["geometry"] for f in document["features"]
                                               if f["id"] == bologna.pact[key]))
        assert geometry.equals_exact(shape, 1e-9) or geometry.equals(shape)
        assert layer.loc[layer["id"] == bologna.pact[key]].geometry.iloc[0].equals(geometry)
    parcels = {k: json.loads(table.loc[table["id"] == bologna.pact[k], "parcels"].iloc[0]) for k in public}
    assert parcels["portineria"] == ["Foglio 150 mappale 12", "Foglio 150 mappale 13"]
    assert parcels["marconi"] == ["Foglio 200 mappale 7"]  # the pact's own list
    assert parcels["mascarella"] == ["Foglio 205 mappale 9"] and parcels["fondazza"] == []

    # the licence, in each format
    assert document["license"] == "CC-BY-4.0" and document["attribution"] == "Comune di Bologna"
    assert sum(s["pacts"] for s in document["sources"]) == len(ids)
    readme = csv.with_suffix(".txt").read_text(encoding="utf-8")
    assert "Licence: CC-BY-4.0" in readme and "Attribution: Comune di Bologna" in readme
    assert "- active: Attivo" in readme and all(f"- {c}:" in readme for c in REGISTER_COLUMNS)
    assert info["layer_metadata"]["LICENSE"] == "CC-BY-4.0"
    assert info["layer_metadata"]["ATTRIBUTION"] == "Comune di Bologna"
    with sqlite3.connect(gpkg) as connection:
        description = connection.execute("SELECT description FROM gpkg_contents WHERE table_name = ?",
                                          ("pact_register",)).fetchone()[0]
    assert "Licence: CC-BY-4.0" in description


def test_the_public_register_holds_no_trace_of_hidden_pacts(bologna: Bologna, tmp_path: Path) -> None:
    atlas = bologna.atlas
    hidden = ["lame", "rifugio", "mazzini"]  # community, secret, community shown generalised
    texts = [path.read_bytes().decode("utf-8", errors="replace") for path in (
        export_register(atlas, tmp_path / "a.geojson"), export_register(atlas, tmp_path / "a.csv"),
        tmp_path / "a.txt", export_register(atlas, tmp_path / "a.gpkg"))]
    secrets = [bologna.pact[k] for k in hidden] + [atlas.opaque_id("pacts", bologna.pact[k]) for k in hidden]
    secrets += ["Orto del comitato", "Rifugio", "Orti di via Mazzini", "Comitato inquilini Lame", "Famiglia Rossi"]
    for text in texts:
        assert not [s for s in secrets if s in text]
    # the generalised pact is really there for the public, only not whole
    seen = atlas.layer("pacts", viewer=ANONYMOUS)
    assert seen["generalised"].sum() == 1
    # every count drawn for the public counts the same 8 pacts as the register
    rows = len(register_table(atlas).frame)
    assert rows == 8
    assert pacts_by_status(atlas, viewer=ANONYMOUS)["count"].sum() == rows
    assert pacts_signed_per_year(atlas, viewer=ANONYMOUS)["signed"].tolist() == [1, 1, 1, 1, 1]
    assert area_under_pacts(atlas, viewer=ANONYMOUS)["pacts"].sum() == 4  # fondazza, orto, marconi, portineria

    # the administrator's register has the community pacts and the family's name, never the secret one
    full = register_table(atlas, viewer=ADMIN).frame
    assert set(full["id"]) == {*bologna.pact.values()} - {bologna.pact["rifugio"]}
    assert _by_title(full, "Cura del giardino di via Fondazza")["signatories"] == ["Social Street Via Fondazza",
                                                                                  "Famiglia Rossi"]
    # a member of the tenants' committee sees its own pact, not the other community one
    member = register_table(atlas, viewer=cm.Viewer.member(bologna.party["Comitato inquilini Lame"])).frame
    assert set(member["id"]) - set(register_table(atlas).frame["id"]) == {bologna.pact["lame"]}
    assert _by_title(member, "Orto del comitato inquilini Lame")["proponent"] == "Comitato inquilini Lame"


def test_licence_comes_from_datasets_then_the_argument_then_the_atlas(paris: Paris, tmp_path: Path) -> None:
    atlas = paris.atlas
    gardens = paris.gardens
    path = export_register(atlas, tmp_path / "jardins.csv")
    table = pd.read_csv(path, dtype={"register_id": str})
    assert len(table) == len(gardens) + 1
    readme = path.with_suffix(".txt").read_text(encoding="utf-8")
    assert "Licence: ODbL-1.0 AND CC-BY-4.0" in readme
    assert "Jardins partagés de Paris: ODbL-1.0 <https://opendatacommons.org/licenses/odbl/1-0/>" in readme
    assert f"({len(gardens)} pacts)" in readme and "(1 pact)" in readme
    # every garden where Paris put it, with the register's own ids and stewards
    merged = table.merge(gardens.assign(register_id=gardens["index"].astype(str)), on="register_id")
    assert len(merged) == len(gardens)
    points = np.asarray(merged["geometry"], dtype=object)
    assert np.allclose(merged["lon"], shapely.get_x(points), rtol=0, atol=6e-8)
    assert np.allclose(merged["lat"], shapely.get_y(points), rtol=0, atol=6e-8)
    assert (merged["register_name"] == "paris-jardins-partages").all() and merged["area_ha"].isna().all()
    stewards = merged["nom_gerant"].notna()
    assert (merged.loc[stewards, "proponent"] == merged.loc[stewards, "nom_gerant"]).all()
    closed = merged["date_fermeture"].notna()
    assert (merged.loc[closed, "status"] == "concluded").all() and (merged.loc[~closed, "status"] == "active").all()

    document = json.loads(export_register(atlas, tmp_path / "jardins.geojson", licence="CC0-1.0")
                          .read_text(encoding="utf-8"))
    assert document["license"] == "ODbL-1.0 AND CC0-1.0"
    assert document["attribution"] == "Ville de Paris; Mairie du 18e"
    assert sorted(s["pacts"] for s in document["sources"]) == [1, len(gardens)]

    bare = cm.Atlas.create(tmp_path / "bare.gpkg")
    bare.add("pacts", {"title": "Jardin sans licence", "status": "proposed", "geometry": shapely.Point(2.35, 48.85)})
    with pytest.raises(InvalidInputError, match="no licence"):
        export_register(bare, tmp_path / "bare.csv")
    assert not (tmp_path / "bare.csv").exists()
    assert json.loads(export_register(bare, tmp_path / "bare.geojson", licence="CC0-1.0")
                      .read_text(encoding="utf-8"))["license"] == "CC0-1.0"


def test_register_refuses_what_it_cannot_write(bologna: Bologna, tmp_path: Path) -> None:
    atlas = bologna.atlas
    with pytest.raises(InvalidInputError, match=r"use \.csv, \.geojson or \.gpkg"):
        export_register(atlas, tmp_path / "patti.xlsx")
    with pytest.raises(InvalidInputError, match="beside it"):
        export_register(atlas, tmp_path / "patti.txt", fmt="csv")
    with pytest.raises(InvalidInputError, match="into the atlas itself"):
        export_register(atlas, bologna.path)
    with pytest.raises(InvalidInputError, match="language"):
        export_register(atlas, tmp_path / "patti.csv", lang="fr")
    # into another GeoPackage: only its register layer is replaced
    other = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(0, 0)], crs=4326), other,
                            layer="notes")
    export_register(atlas, other)
    export_register(atlas, other)
    layers = {name for name, _ in pyogrio.list_layers(other)}
    assert layers == {"notes", "pact_register"} and len(pyogrio.read_dataframe(other, layer="pact_register")) == 8


def test_register_of_a_projected_atlas_is_in_wgs84(bologna: Bologna, tmp_path: Path) -> None:
    atlas = cm.Atlas.create(tmp_path / "utm.gpkg", crs="EPSG:32632", licence="CC-BY-4.0")
    shapes = [bologna.shape["fondazza"], bologna.shape["portineria"]]
    atlas.add("pacts", gpd.GeoDataFrame({"title": ["Giardino", "Portineria"], "status": ["active", "active"]},
                                        geometry=gpd.GeoSeries(shapes, crs=4326).to_crs(32632), crs=32632))
    document = json.loads(export_register(atlas, tmp_path / "utm.geojson").read_text(encoding="utf-8"))
    garden, point = document["features"]
    assert garden["properties"]["area_ha"] == pytest.approx(geodesic_ha(shapes[0]), abs=1e-4)  # to 4 decimals
    assert shapes[0].contains(shapely.Point(garden["properties"]["lon"], garden["properties"]["lat"]))
    assert shapely.geometry.shape(garden["geometry"]).symmetric_difference(shapes[0]).area < 1e-12
    assert (point["properties"]["lon"], point["properties"]["lat"]) == pytest.approx((shapes[1].x, shapes[1].y),
                                                                                    abs=1e-7)


# -- planner queries ------------------------------------------------------------------------------

def test_pacts_by_status_and_district_match_a_count_by_hand(bologna: Bologna) -> None:
    atlas = bologna.atlas
    stored = atlas["pacts"]
    for viewer, shown in ((ANONYMOUS, (stored["sensitivity"] == "public")), (ADMIN, stored["id"].notna())):
        expected = stored[shown].groupby(["status", "district"]).size()
        table = pacts_by_status(atlas, viewer=viewer)
        assert table.set_index(["status", "district"])["count"].sort_index().equals(expected.sort_index())
        order = [PactStatus.codes().index(s) for s in table["status"]]
        assert order == sorted(order)
    assert pacts_by_status(atlas, "status", viewer=ADMIN).set_index("status")["count"]["active"] == 5
    interventions = pacts_by_status(atlas, "interventions", viewer=ANONYMOUS)
    named = interventions.dropna(subset=["interventions"]).set_index("interventions")["count"].to_dict()
    assert named == {"continuous_care": 1, "occasional_care": 1, "regeneration": 2, "shared_management": 2}
    assert interventions.loc[interventions["interventions"].isna(), "count"].tolist() == [2]  # none named
    with pytest.raises(QueryError, match="no field 'colour'"):
        pacts_by_status(atlas, ("status", "colour"))


def test_district_falls_back_to_the_unit_containing_the_pact(bologna: Bologna, tmp_path: Path) -> None:
    path = tmp_path / "copy.gpkg"
    shutil.copy(bologna.path, path)
    atlas = cm.open_atlas(path)
    atlas.add("pacts", {"title": "Panchine di via del Pratello", "status": "proposed",
                        "geometry": bologna.box_in("Saffi", dx=-0.003)})
    counts = pacts_by_status(atlas, ("district",), viewer=ANONYMOUS).set_index("district")["count"]
    assert counts["Saffi"] == 1  # the zone, as the pact names no district


def test_area_under_pacts_counts_overlaps_once(bologna: Bologna) -> None:
    atlas = bologna.atlas
    zones = bologna.zones
    in_force = {"public": ["fondazza", "orto", "marconi"], "all": ["fondazza", "orto", "marconi", "lame", "rifugio",
                                                                    "mazzini"]}
    district = {"fondazza": "Santo Stefano", "orto": "Santo Stefano", "marconi": "Porto-Saragozza",
                "lame": "Navile", "rifugio": "Navile", "mazzini": "Savena"}
    for viewer, keys in ((ANONYMOUS, in_force["public"]), (ADMIN, in_force["all"])):
        pacts = gpd.GeoDataFrame({"district": [district[k] for k in keys]},
                                 geometry=[bologna.shape[k] for k in keys], crs=4326)
        merged = pacts.dissolve("district")
        expected = {d: geodesic_ha(g) for d, g in merged.geometry.items()}
        expected["Navile"] = expected.get("Navile", 0.0) + 0.35  # the point pact's linked parcel
        table = area_under_pacts(atlas, viewer=viewer).set_index("district")
        assert table["area_ha"].to_dict() == pytest.approx(expected, rel=1e-9)
        assert table.loc["Navile", "parcels_ha"] == pytest.approx(0.35)
        assert list(table["area_ha"]) == sorted(table["area_ha"], reverse=True)
        # the two overlapping gardens of via Fondazza count once
        fondazza = geodesic_ha(bologna.shape["fondazza"]) + geodesic_ha(bologna.shape["orto"])
        assert table.loc["Santo Stefano", "area_ha"] < fondazza - 1.0

        pieces = gpd.overlay(gpd.GeoDataFrame(geometry=[pacts.union_all()], crs=4326), zones[["name", "geometry"]],
                             how="intersection")
        by_zone = {name: geodesic_ha(g) for name, g in zip(pieces["name"], pieces.geometry, strict=True)
                   if geodesic_ha(g) > 1e-9}
        by_zone["Bolognina"] = 0.35
        units = area_under_pacts(atlas, by="admin_unit", viewer=viewer).set_index("name")
        assert units["area_ha"].to_dict() == pytest.approx(by_zone, rel=1e-9)
        assert units.loc["Marconi", "pacts"] == units.loc["Malpighi", "pacts"] == 1
        assert units.loc["Galvani", "pacts"] == 2
        assert units["area_ha"].sum() == pytest.approx(table["area_ha"].sum(), rel=1e-9)
    ended = area_under_pacts(atlas, statuses=["concluded"]).set_index("district")
    assert ended["area_ha"].to_dict() == pytest.approx({"Santo Stefano": geodesic_ha(bologna.shape["murri"])})
    with pytest.raises(QueryError, match="'district' or 'admin_unit'"):
        area_under_pacts(atlas, by="colour")


def test_designated_parcels_without_a_pact_in_force(bologna: Bologna) -> None:
    atlas = bologna.atlas
    refs = {v: k for k, v in bologna.parcels.items()}
    public = designated_without_pact(atlas, viewer=ANONYMOUS)
    # the Lame parcel's pact is hidden from the public, so for them it has none
    assert sorted(refs[i] for i in public["id"]) == ["BO-B", "BO-C", "BO-E", "BO-F"]
    owner = designated_without_pact(atlas)
    assert sorted(refs[i] for i in owner["id"]) == ["BO-B", "BO-C", "BO-E"]
    parcels = atlas["parcels"].set_index("id")
    for parcel_id, area in zip(owner["id"], owner["area_ha"], strict=True):
        assert area == pytest.approx(geodesic_ha(parcels.loc[parcel_id, "geometry"]), rel=1e-9)
    assert list(owner["cadastral_ref"]) == sorted(owner["cadastral_ref"])


def test_pacts_signed_per_year(bologna: Bologna) -> None:
    owner = pacts_signed_per_year(bologna.atlas)
    assert owner.to_dict("list") == {"year": [2021, 2022, 2023, 2024, 2025], "signed": [1, 1, 1, 4, 1]}
    assert pacts_signed_per_year(bologna.atlas, viewer=ANONYMOUS)["signed"].tolist() == [1, 1, 1, 1, 1]


# -- deadlines ------------------------------------------------------------------------------------

def test_parse_within() -> None:
    assert parse_within("30d") == dt.timedelta(days=30)
    assert parse_within("2w") == dt.timedelta(days=14)
    assert parse_within("3m", today=TODAY) == dt.date(2026, 8, 15) - TODAY
    assert parse_within("1y", today=TODAY) == dt.timedelta(days=365)
    assert parse_within("45") == parse_within(45) == dt.timedelta(days=45)
    with pytest.raises(InvalidInputError, match="30d, 2w, 3m"):
        parse_within("soon")


def test_due_lists_every_kind_of_deadline_overdue_ones_first(bologna: Bologna) -> None:
    atlas = bologna.atlas
    keys = {v: k for k, v in bologna.pact.items()}
    table = due(atlas, today=TODAY)
    assert list(table.columns) == DUE_COLUMNS
    found = [(keys[p], kind, d.isoformat(), left) for p, kind, d, left
             in zip(table["pact"], table["kind"], table["due"], table["days_left"], strict=True)]
    assert found == [
        ("fondazza", "renewal_request", "2026-04-02", -43),  # 60 days before its expiry
        ("murale", "answer_due", "2026-04-09", -36),  # the proponent's integration, asked for until then
        ("orto", "report_due", "2026-05-01", -14),  # 12 months after it started, no report yet
        ("mascarella", "answer_due", "2026-05-20", 5),  # the administration's 30 days
        ("deposito", "notice_ends", "2026-05-25", 10),  # 15 days of public notice
        ("rifugio", "expiry", "2026-05-30", 15),
        ("fondazza", "report_due", "2026-05-30", 15),  # 6 months after the last period reported
        ("fondazza", "expiry", "2026-06-01", 17),
        ("lame", "expiry", "2026-06-10", 26),
    ]
    assert set(table["kind"]) == set(DEADLINE_KINDS)
    assert table.loc[table["pact"] == bologna.pact["murale"], "detail"].iloc[0] == "the proponent's integration"
    assert table.loc[table["pact"] == bologna.pact["mascarella"], "detail"].iloc[0] == "the administration's answer"
    assert (table["title"] == "Cura del giardino di via Fondazza").sum() == 3

    public = due(atlas, today=TODAY, viewer=ANONYMOUS)
    assert set(public["pact"]) == set(table["pact"]) - {bologna.pact["rifugio"], bologna.pact["lame"]}
    soon = due(atlas, today=TODAY, within="2w")
    assert list(soon["days_left"]) == [-43, -36, -14, 5, 10]
    later = due(atlas, today=dt.date(2027, 9, 1), within="6m", viewer=ANONYMOUS)
    kinds = {(keys[p], k) for p, k in zip(later["pact"], later["kind"], strict=True)}
    assert ("marconi", "renewal_request") in kinds and ("marconi", "expiry") in kinds
    marconi = later.loc[(later["pact"] == bologna.pact["marconi"]) & (later["kind"] == "renewal_request")]
    assert marconi["due"].iloc[0] == dt.date(2027, 12, 31) - dt.timedelta(days=90)
    assert ("portineria", "expiry") in kinds and ("murri", "expiry") not in kinds  # concluded long ago


# -- the command line ----------------------------------------------------------------------------

def cli(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_cli_due_history_register_and_reports(bologna: Bologna, tmp_path: Path) -> None:
    atlas = bologna.path
    code, out = cli("pacts", "due", atlas, "--within", "30d", "--today", "2026-05-15")
    assert code == 0, out
    assert "9 deadlines within 30d, 3 overdue" in out
    assert "Aiuole di via Mascarella" in out and "renewal_request" in out and "-43" in out
    code, out = cli("pacts", "due", atlas, "--within", "2w", "--today", "2026-05-15", "--as", "anonymous")
    assert code == 0 and "5 deadlines within 2w" in out and "Rifugio" not in out
    code, out = cli("pacts", "due", atlas, "--within", "soon")
    assert code == 1 and "is not a horizon" in out

    code, out = cli("pacts", "history", atlas, bologna.pact["fondazza"])
    assert code == 0 and "Cura del giardino di via Fondazza: 6 events" in out and "volunteer_hours=410" in out
    code, out = cli("pacts", "history", atlas, bologna.pact["lame"], "--as", "anonymous")
    assert code == 1 and "no feature" in out

    code, out = cli("pacts", "register", atlas, tmp_path / "patti.csv", "--lang", "es")
    assert code == 0 and "8 pacts, licence CC-BY-4.0" in out
    assert "Vigente" in set(pd.read_csv(tmp_path / "patti.csv")["status_label"])
    code, out = cli("pacts", "register", atlas, tmp_path / "patti.gpkg", "--as", "admin")
    assert code == 0 and "10 pacts" in out

    code, out = cli("pacts", "report", atlas, "status", "--as", "anonymous")
    assert code == 0 and "8 pacts" in out and "San Donato-San Vitale" in out
    code, out = cli("pacts", "report", atlas, "unlinked", "-o", tmp_path / "unlinked.csv")
    assert code == 0 and "3 parcels designated" in out and "Foglio 88 mappale 301" in out
    assert len(pd.read_csv(tmp_path / "unlinked.csv")) == 3
    code, out = cli("pacts", "report", atlas, "area", "--by", "admin_unit", "--as", "anonymous")
    assert code == 0 and "Galvani" in out and "Malpighi" in out and "Lame" not in out
    code, out = cli("pacts", "report", atlas, "per-year")
    assert code == 0 and "2024" in out and "8 pacts" in out
    code, out = cli("pacts", "report", atlas, "area", "--by", "colour")
    assert code == 1 and "'district' or 'admin_unit'" in out


def test_cli_transition_refused_or_made(bologna: Bologna, tmp_path: Path) -> None:
    path = tmp_path / "copy.gpkg"
    shutil.copy(bologna.path, path)
    before = path.read_bytes()
    code, out = cli("pacts", "transition", path, bologna.pact["murri"], "active", "--who", WHO)
    assert code == 1
    assert "cannot go from 'concluded' to 'active'" in out and "it may go to: archived" in out
    code, out = cli("pacts", "transition", path, bologna.pact["portineria"], "extended", "--who", WHO)
    assert code == 1 and "needs its new expiry date" in out
    assert path.read_bytes() == before  # nothing written

    code, out = cli("pacts", "transition", path, bologna.pact["mascarella"], "approved", "--who", WHO,
                    "--on", "2026-05-16", "--decision-ref", "DD 2026/145", "--note", "parere favorevole")
    assert code == 0 and "is now approved" in out
    code, out = cli("pacts", "transition", path, bologna.pact["portineria"], "extended", "--who", WHO,
                    "--on", "2026-05-16", "--until", "2029-09-15")
    assert code == 0, out
    code, out = cli("pacts", "due", path, "--today", "2026-05-15")
    assert code == 0 and "Aiuole di via Mascarella" not in out and "8 deadlines" in out
    events = cm.open_atlas(path).layer("pact_events")
    last = events[events["pact"] == bologna.pact["mascarella"]].sort_values("created").iloc[-1]
    assert (last["to_status"], last["decision_ref"], last["note"]) == ("approved", "DD 2026/145",
                                                                        "parere favorevole")
