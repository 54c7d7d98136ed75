"""The commonsmap command, run as a user would, on real files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import geopandas as gpd
from typer.testing import CliRunner

import commonsmap as cm
from commonsmap.atlas.gpkg_blob import register_functions
from commonsmap.cli import app
from tests.conftest import digest

runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_init_import_inspect_export(tmp_path: Path, data: Path) -> None:
    atlas = tmp_path / "territorio.gpkg"
    code, out = run("init", atlas, "--custodian", "Comunidad San Juan", "--licence", "CC-BY-4.0")
    assert code == 0 and "created" in out
    code, out = run("import", atlas, data / "kh_community_forests.geojson", "--layer", "commons",
                    "--set", "kind=forest", "--unknown", "keep", "--who", "equipo")
    assert code == 0, out
    assert "40 features imported into 'commons'" in out and "repaired" in out
    code, out = run("import", atlas, data / "bologna_zones.zip", "-l", "admin_units", "--map", "nomezona=name",
                    "--map", "codzona=code", "--set", "kind=zone", "--unknown", "drop")
    assert code == 0, out
    code, out = run("info", atlas)
    assert code == 0 and "Comunidad San Juan" in out and "commons" in out and "40" in out
    code, out = run("layers", atlas, "--lang", "es")
    assert code == 0 and "Bienes comunes" in out
    code, out = run("layers")
    assert code == 0 and "parcels" in out
    code, out = run("validate", atlas)
    assert code == 0 and "conforms" in out and "consistent" in out
    code, out = run("history", atlas, "--layer", "commons", "--limit", "3")
    assert code == 0 and "equipo" in out and "insert" in out
    target = tmp_path / "out" / "bosques.shp"
    code, out = run("export", atlas, "commons", target, "--columns", "name,kind")
    assert code == 0, out
    assert len(gpd.read_file(target)) == 40


def test_bad_input_gives_a_message_and_changes_nothing(tmp_path: Path, data: Path) -> None:
    atlas = tmp_path / "a.gpkg"
    run("init", atlas)
    before = digest(atlas)
    code, out = run("import", atlas, data / "kh_community_forests.geojson", "--layer", "commons")
    assert code == 1
    assert "columns not in layer 'commons'" in out and "Traceback" not in out
    code, out = run("import", atlas, data / "kh_community_forests.geojson", "--layer", "commons",
                    "--set", "colour")
    assert code == 1 and "not of the form name=value" in out
    code, out = run("import", atlas, data / "kh_community_forests.geojson", "--layer", "nothing")
    assert code == 1 and "no layer 'nothing'" in out
    code, out = run("export", atlas, "commons", tmp_path / "x.geojson", "--max-sensitivity", "secret")
    assert code == 1 and "never leave the atlas" in out
    code, out = run("info", tmp_path / "missing.gpkg")
    assert code == 1 and "no atlas" in out
    assert digest(atlas) == before


def test_validate_reports_edits_that_break_the_catalogue(tmp_path: Path, data: Path) -> None:
    path = tmp_path / "a.gpkg"
    atlas = cm.Atlas.create(path)
    atlas.import_file(data / "kh_community_forests.geojson", "commons", values={"kind": "forest"}, unknown="drop")
    connection = sqlite3.connect(path)
    register_functions(connection)
    with connection:
        connection.execute("UPDATE commons SET kind = 'volcano' WHERE fid = 3")
    connection.close()
    code, out = run("validate", path)
    assert code == 1 and "'volcano' is not a CommonsKind code" in out


def test_restore_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "a.gpkg"
    atlas = cm.Atlas.create(path)
    feature = atlas.add("parties", {"name": "Asociación Vecinal", "kind": "association"}).ids[0]
    moment = atlas.history("parties", feature)["at"].iloc[-1]
    atlas.update("parties", feature, {"name": "Renamed"})
    code, out = run("restore", path, "parties", feature, "--at", moment.isoformat(), "--who", "ana")
    assert code == 0, out
    assert atlas.get("parties", feature)["name"] == "Asociación Vecinal"


def test_demo_builds_and_describes_the_demo_atlas(tmp_path: Path) -> None:
    out_path = tmp_path / "demo.gpkg"
    code, out = run("demo", "--out", out_path)
    assert code == 0, out
    assert "claims" in out and "ATTRIBUTION.md" in out
    counts = cm.open_atlas(out_path).counts()
    assert counts["claims"] > 0 and counts["pacts"] > 0 and counts["commons"] > 0


def test_keys_from_the_command_line_and_info_shows_no_secret(tmp_path: Path) -> None:
    atlas_path = tmp_path / "keys.gpkg"
    atlas = cm.Atlas.create(atlas_path, custodian="Comune")
    party = atlas.add("parties", {"name": "Orti uniti", "kind": "association"}).ids[0]
    code, out = run("keys", "add", atlas_path, "--role", "custodian", "--party", party, "--name", "Lucia")
    assert code == 0, out
    key = out.strip().splitlines()[-1]
    assert key.startswith("cm_")
    code, out = run("keys", "add", atlas_path, "--role", "custodian", "--name", "Nobody")
    assert code != 0 and "party" in out  # a custodian acts for a party
    code, out = run("keys", "add", atlas_path, "--role", "emperor", "--name", "X")
    assert code != 0 and "unknown role" in out
    code, listed = run("keys", "list", atlas_path)
    assert code == 0 and "Lucia" in listed and "custodian" in listed and key.split("_")[2] not in listed
    metadata = cm.open_atlas(atlas_path).metadata
    secrets = [v for k, v in metadata.items() if k == "opaque_key"] + [key.split("_", 2)[2]] + \
        [json.loads(v)["hash"] for k, v in metadata.items() if k.startswith("api_key:")]
    code, info = run("info", atlas_path)
    assert code == 0 and "Comune" in info
    assert not [s for s in secrets if s in info] and "api_key" not in info
    key_id = key.split("_")[1]
    code, out = run("keys", "revoke", atlas_path, key_id)
    assert code == 0 and key_id in out
    code, listed = run("keys", "list", atlas_path)
    assert "Lucia" not in listed


def test_serve_refuses_a_file_that_is_not_an_atlas_with_a_message(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.gpkg"
    bogus.write_text("not an atlas")
    code, out = run("serve", bogus, "--port", "1")
    assert code != 0 and "not a GeoPackage" in out and "Traceback" not in out
    code, out = run("serve", tmp_path / "missing.gpkg")
    assert code != 0 and "no atlas" in out
