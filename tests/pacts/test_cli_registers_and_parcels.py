"""``commonsmap pacts import-register | import-cadastre | link`` on real files, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from typer.testing import CliRunner

import commonsmap as cm
from commonsmap.cli import app
from commonsmap.pacts import propose_pact, transition
from tests.conftest import digest

runner = CliRunner()


def _run(*args: object) -> str:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.output


def test_palermo_snapshots_imported_from_the_command_line(atlas: cm.Atlas, data: Path) -> None:
    history = data / "palermo_history"
    first = _run("pacts", "import-register", atlas.location, history / "2025-08-18.csv", "--register", "palermo",
                 "--who", "ufficio beni comuni")
    assert "snapshot of 2025-08-18: 51 added" in first
    later = _run("pacts", "import-register", atlas.location, history / "2026-06-12.csv", "--register", "palermo",
                 "--who", "ufficio beni comuni")
    assert "snapshot of 2026-06-12: 22 added, 51 updated" in later
    assert atlas.count("pacts") == 73
    before = digest(atlas.location)
    refused = runner.invoke(app, ["pacts", "import-register", str(atlas.location), str(history / "2026-06-12.csv"),
                                  "--register", "bologna", "--who", "x"])
    assert refused.exit_code != 0 and "bologna" in refused.output
    assert digest(atlas.location) == before


def test_cadastre_imported_and_pacts_linked_from_the_command_line(atlas: cm.Atlas, data: Path) -> None:
    out = _run("pacts", "import-cadastre", atlas.location, data / "bubenec_plots.gpkg", "--ref", "{KATUZE_KOD}/{ID}",
               "--who", "catasto")
    assert "reprojected to EPSG:4326" in out
    parcels = atlas.layer("parcels")
    assert len(parcels) == len(gpd.read_file(data / "bubenec_plots.gpkg"))
    target = parcels.iloc[10]
    city, friends = atlas.add("parties", [{"name": "Praha 6", "kind": "municipality"},
                                          {"name": "Spolek Bubeneč", "kind": "association"}]).ids
    pact = propose_pact(atlas, {"title": "Zahrada", "geometry": target.geometry.buffer(0)},
                        [{"party": friends, "role": "proponent"}, {"party": city, "role": "administration"}],
                        who="desk", on="2026-01-05")
    for status in ("under_review", "approved", "active"):
        transition(atlas, pact, status, who="office", on="2026-02-01")
    linked = _run("pacts", "link", atlas.location, "--who", "office")
    assert "for 1 pacts" in linked
    links = atlas.layer("pact_parcels")
    whole = links[links["parcel"] == target["id"]]
    assert len(whole) == 1 and abs(float(whole["share"].iloc[0]) - 1.0) < 1e-6
    assert atlas.get("parcels", target["id"])["designation"] == "under_pact"
