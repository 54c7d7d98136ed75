"""Register imports on real data: Palermo's civic monitor snapshot after snapshot, the Paris shared gardens.

The expected outcomes are computed here from the source files with pandas, independently of the
importer: every non-empty cell must be found again in the atlas, every status change between
two snapshots must be found as its lifecycle events (or as one correction).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest

import commonsmap as cm
from commonsmap.errors import InvalidInputError
from commonsmap.pacts import lifecycle_path
from commonsmap.pacts.registers import import_register
from commonsmap.privacy import Viewer
from tests.conftest import DATA, digest

WHO = "open data office"
HISTORY = sorted((DATA / "palermo_history").glob("*.csv"))
LATEST = DATA / "palermo_pacts.csv"
PALERMO = "palermo-civic-monitor"

# The register's statuses and proposer kinds, written out again here (not imported) on purpose.
STATUS = {
    "istruttoria in corso": "under_review",
    "in attesa di integrazione": "awaiting_integration",
    "patto stipulato": "active",
    "proroga e/o monitoraggio e valutazione dei risultati": "monitoring",
    "respinta": "rejected",
    "archiviata": "archived",
}
ORGANISATIONS = {"associazione": "association", "società": "company", "gruppo informale": "informal_group",
                 "comitato civico": "association", "istituto": "state_agency"}
FIELDS = {"Id": "register_id", "Titolo proposta": "title", "Stato di avanzamento": "register_status",
          "Quartiere": "district", "Scarica il Patto": "url"}


def read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def key(text: str) -> str:
    return " ".join(text.split()).casefold()


def value(cell: Any) -> Any:
    """A value read back from the atlas, with pandas' missing markers made None."""
    if cell is None or isinstance(cell, list | dict):
        return cell
    return None if pd.isna(cell) else cell


def day_of(cell: Any) -> dt.date | None:
    return None if value(cell) is None else pd.Timestamp(cell).date()


def pacts_by_register_id(atlas: cm.Atlas, **options: Any) -> dict[str, dict[str, Any]]:
    pacts = atlas.layer("pacts", **options)
    return {row["register_id"]: row for row in pacts.to_dict("records")}


def withheld_cells(atlas: cm.Atlas, **options: Any) -> dict[str, dict[str, Any]]:
    sources = atlas.layer("sources", **options)
    return {title.split(":")[0].split()[-1]: extra for title, extra in zip(sources["title"], sources["extra"],
                                                                             strict=True)}


def palermo(atlas: cm.Atlas, path: Path, **options: Any) -> Any:
    return import_register(atlas, path, register="palermo", who=WHO, **options)


# -- Palermo: the latest snapshot -------------------------------------------------------------
def test_the_latest_palermo_snapshot_imports_without_loss(atlas: cm.Atlas) -> None:
    result = palermo(atlas, LATEST, snapshot_date="2026-06-12")
    source = read(LATEST)
    assert len(result.added) == len(source) == 73 and result.problems == []
    pacts, withheld = pacts_by_register_id(atlas), withheld_cells(atlas)
    checked = 0
    for cells in source.to_dict("records"):
        pact = pacts[cells["Id"].strip()]
        for column, cell in cells.items():
            if not cell.strip():
                continue
            if column in FIELDS:
                assert pact[FIELDS[column]] == cell.strip(), (cells["Id"], column)
            elif column in ("Lat.", "Long."):
                assert getattr(pact["geometry"], "y" if column == "Lat." else "x") == float(cell)
            elif column == "Rappresentante":
                assert value(pact["proponent"]) == cell.strip() or withheld[cells["Id"]][column] == cell
            else:
                assert pact["extra"][column] == cell, (cells["Id"], column)
            checked += 1
    assert checked == int((source.map(str.strip) != "").sum().sum()) > 73 * 10
    assert atlas.crs.to_epsg() == 4326


def test_the_latest_snapshot_maps_statuses_and_records_the_import(atlas: cm.Atlas) -> None:
    result = palermo(atlas, LATEST, snapshot_date="2026-06-12")
    source = read(LATEST)
    pacts = pacts_by_register_id(atlas)
    for rid, stated in zip(source["Id"], source["Stato di avanzamento"], strict=True):
        assert pacts[rid]["status"] == STATUS[key(stated)]
        assert pacts[rid]["register_name"] == PALERMO
    events = atlas["pact_events"]
    assert sorted(events["id"]) == sorted(result.transitions) and result.corrections == []
    assert set(events["kind"]) == {"transition"} and events["from_status"].isna().all()
    assert {day_of(d) for d in events["happened_on"]} == {dt.date(2026, 6, 12)}
    assert set(events["actor"]) == {WHO}
    assert events["note"].str.contains(PALERMO).all() and events["note"].str.contains("2026-06-12").all()
    by_id = {p["id"]: p for p in pacts.values()}
    assert all(by_id[pact]["status"] == to for pact, to in zip(events["pact"], events["to_status"], strict=True))
    # Domains where the register's field of action says clearly, never a guess.
    steps = {r: pacts[r] for r in source.loc[source["Ambiti di azione"].str.startswith("Riqualificazione immobili"),
                                             "Id"]}
    assert steps and all(p["domains"] == ["building"] and p["interventions"] == ["regeneration"]
                         for p in steps.values())
    intangible = source.loc[source["Ambiti di azione"] == "Azioni immateriali", "Id"]
    assert all(value(pacts[r]["domains"]) is None for r in intangible)


def test_organisations_become_parties_and_natural_persons_stay_private(atlas: cm.Atlas) -> None:
    palermo(atlas, LATEST, snapshot_date="2026-06-12")
    source = read(LATEST)
    pacts = pacts_by_register_id(atlas)
    parties = atlas["parties"].set_index("id")
    links = atlas["pact_parties"]
    organisations = source[source["Proponente"].map(key).isin(ORGANISATIONS) & (source["Rappresentante"].str.strip()
                                                                                 != "")]
    for rid, kind, name in zip(organisations["Id"], organisations["Proponente"], organisations["Rappresentante"],
                               strict=True):
        pact = pacts[rid]
        own = links[links["pact"] == pact["id"]]
        assert list(own["role"]) == ["proponent"]
        party = parties.loc[own["party"].iloc[0]]
        assert key(party["name"]) == key(name) and party["kind"] == ORGANISATIONS[key(kind)]
        assert pact["parties"] == [own["party"].iloc[0]] and pact["proponent"] == name.strip()
    assert atlas.count("parties") == organisations["Rappresentante"].map(key).nunique()

    persons = source[~source["Proponente"].map(key).isin(ORGANISATIONS)]
    named = persons[persons["Rappresentante"].str.strip() != ""]
    assert len(persons) >= 8 and len(named) >= 2
    public = pacts_by_register_id(atlas, viewer=Viewer.anonymous())
    public_parties = set(atlas.layer("parties", viewer=Viewer.anonymous())["name"].map(key))
    for rid, name in zip(persons["Id"], persons["Rappresentante"], strict=True):
        pact = public[rid]
        assert value(pact["proponent"]) is None and value(pact["parties"]) is None
        assert "Rappresentante" not in (pact["extra"] or {})
        assert not (links["pact"] == pact["id"]).any()
        if name.strip():
            assert key(name) not in public_parties
    assert withheld_cells(atlas, viewer=Viewer.anonymous()) == {}
    assert withheld_cells(atlas, viewer=Viewer.signed_in("someone")) == {}
    staff = withheld_cells(atlas, viewer=Viewer.member("Test community"))
    assert staff == {rid: {"Rappresentante": name} for rid, name in zip(named["Id"], named["Rappresentante"],
                                                                         strict=True)}


# -- Palermo: snapshot after snapshot ---------------------------------------------------------
def expected_events() -> dict[str, list[tuple[str, str | None, str, dt.date]]]:
    """The events each pact must have after importing the history, from the CSVs alone."""
    expected: dict[str, list[tuple[str, str | None, str, dt.date]]] = defaultdict(list)
    last: dict[str, str] = {}
    for path in HISTORY:
        day = dt.date.fromisoformat(path.stem)
        frame = read(path)
        frame = frame[frame["Id"].str.strip() != ""]
        for rid, stated in zip(frame["Id"].str.strip(), frame["Stato di avanzamento"], strict=True):
            now = STATUS[key(stated)]
            if rid not in last:
                expected[rid].append(("transition", None, now, day))
            elif last[rid] != now:
                steps = lifecycle_path(last[rid], now)
                if steps is None:
                    expected[rid].append(("correction", last[rid], now, day))
                else:
                    chain = [last[rid], *steps]
                    expected[rid].extend(("transition", a, b, day) for a, b in pairwise(chain))
            last[rid] = now
    return dict(expected)


def test_the_history_covers_every_kind_of_change() -> None:
    changes = [e for events in expected_events().values() for e in events if e[1] is not None]
    corrections = {(f, t) for kind, f, t, _ in changes if kind == "correction"}
    assert {("active", "rejected"), ("archived", "rejected"), ("active", "under_review"),
            ("archived", "active")} <= corrections
    assert ("transition", "monitoring", "active") in {c[:3] for c in changes}
    assert ("transition", "rejected", "archived") in {c[:3] for c in changes}
    headers = {path.stem: list(read(path).columns) for path in HISTORY}
    assert "Ambiti di azione" not in headers["2025-08-18"] and "Scarica il Patto" not in headers["2025-08-18"]
    assert "Nota per la Richiesta" in headers["2025-10-12"]


@dataclass
class History:
    """An atlas after importing every snapshot of the history, once for the module."""

    atlas: cm.Atlas
    results: dict[str, Any]
    first: pd.DataFrame
    written: dict[str, bool]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    atlas = cm.Atlas.create(tmp_path_factory.mktemp("history") / "atlas.gpkg", custodian="Test community")
    results, written, first = {}, {}, None
    for path in HISTORY:
        before = digest(atlas.location)
        results[path.stem] = palermo(atlas, path)
        written[path.stem] = digest(atlas.location) != before
        first = atlas["pacts"] if first is None else first
    assert first is not None
    return History(atlas, results, first, written)


def test_snapshot_after_snapshot_every_status_change_is_recorded(history: History) -> None:
    atlas, results = history.atlas, history.results
    expected = expected_events()
    pacts = atlas["pacts"].set_index("id")
    events = atlas["pact_events"].sort_values(["happened_on", "created"], kind="stable")
    actual: dict[str, list[tuple[str, str | None, str, dt.date]]] = defaultdict(list)
    for row in events.to_dict("records"):
        actual[pacts.loc[row["pact"], "register_id"]].append(
            (row["kind"], value(row["from_status"]), row["to_status"], day_of(row["happened_on"])))
    assert dict(actual) == expected
    written = {i for r in results.values() for i in r.transitions}
    assert written == set(events.loc[events["kind"] == "transition", "id"])
    assert {i for r in results.values() for i in r.corrections} == set(events.loc[events["kind"] == "correction", "id"])
    assert set(events["actor"]) == {WHO}

    notes = events.set_index("kind")["note"]
    assert notes["correction"].str.contains("outside the lifecycle").all()
    inferred = events[events["from_status"].notna() & (events["kind"] == "transition")]
    assert inferred["note"].str.contains("inferred from the register between the two snapshots").all()

    final = read(HISTORY[-1]).set_index("Id")
    latest = pacts.reset_index().set_index("register_id")
    parties = atlas["parties"].set_index("id")
    links = atlas["pact_parties"]
    for rid in ("001", "057"):  # the register named another organisation later: the link follows it
        own = links[links["pact"] == latest.loc[rid, "id"]]
        assert list(own["role"]) == ["proponent"] and latest.loc[rid, "parties"] == list(own["party"])
        assert parties.loc[own["party"].iloc[0], "name"] == final.loc[rid, "Rappresentante"].strip()
        assert latest.loc[rid, "proponent"] == final.loc[rid, "Rappresentante"].strip()
    assert "Rotary Club" not in set(parties["name"])  # only ever named for natural persons
    assert (latest.loc[final.index, "status"] == final["Stato di avanzamento"].map(key).map(STATUS)).all()
    assert (latest.loc[final.index, "register_status"] == final["Stato di avanzamento"].str.strip()).all()


def test_the_broken_snapshot_reports_missing_pacts_and_its_blank_id(history: History) -> None:
    before, broken, after = (history.results[f"2025-12-{d}"] for d in (15, 16, 18))
    assert len(broken.missing) == 60
    assert sorted(broken.missing) == sorted(before.added + before.updated + before.unchanged)
    assert broken.added == broken.updated == broken.unchanged == broken.transitions == broken.corrections == []
    assert [(p.row, p.field) for p in broken.problems] == [(0, "Id")] and "blank Id" in broken.problems[0].reason
    assert not history.written["2025-12-16"] and all(v for k, v in history.written.items() if k != "2025-12-16")
    assert after.missing == [] and after.corrections == [] and len(after.added) == 2
    assert set(after.unchanged) | set(after.updated) == set(broken.missing)


def test_columns_a_snapshot_lacks_are_kept_and_blank_cells_clear(history: History) -> None:
    assert history.first["domains"].isna().all() and history.first["url"].isna().all()  # the older layout
    pacts = pacts_by_register_id(history.atlas)
    notes = read(DATA / "palermo_history" / "2025-10-12.csv").set_index("Id")["Nota per la Richiesta"]
    for rid, note in notes.items():  # only that snapshot had this column: what it said stays
        assert pacts[rid]["extra"].get("Nota per la Richiesta") == (note or None)
    final = read(HISTORY[-1]).set_index("Id")
    for rid, row in final.iterrows():
        for column in ("Nota per attività conclusive", "Foto", "geouri", "Ambiti di azione"):
            assert pacts[rid]["extra"].get(column) == (row[column] or None)
        assert value(pacts[rid]["url"]) == (row["Scarica il Patto"].strip() or None)
        assert value(pacts[rid]["title"]) == row["Titolo proposta"].strip()


def test_reimporting_a_snapshot_changes_nothing(history: History, tmp_path: Path) -> None:
    copy = tmp_path / "copy.gpkg"
    shutil.copy(history.atlas.location, copy)
    atlas = cm.Atlas.open(copy)
    unchanged = digest(copy)
    counts = atlas.counts()
    again = palermo(atlas, HISTORY[-1])
    assert again.added == again.updated == again.transitions == again.corrections == again.missing == []
    assert len(again.unchanged) == atlas.count("pacts") == 73
    assert atlas.counts() == counts and digest(copy) == unchanged


# -- Paris ---------------------------------------------------------------------------------
def test_the_paris_register_becomes_pacts_with_stewards_and_owners(atlas: cm.Atlas, data: Path) -> None:
    gardens = gpd.read_file(data / "paris_gardens.geojson")
    result = import_register(atlas, data / "paris_gardens.geojson", register="paris", snapshot_date="2023-09-01",
                             who=WHO)
    assert len(result.added) == len(gardens) == 181 and result.problems == []
    pacts = atlas["pacts"]
    assert set(pacts["register_name"]) == {"paris-jardins-partages"} and pacts["register_id"].is_unique
    closed = gardens["date_fermeture"].notna()
    assert (pacts["status"] == "concluded").sum() == closed.sum() == 6
    assert (pacts["status"] == "active").sum() == 175
    ends = {day_of(d) for d in pacts.loc[pacts["status"] == "concluded", "expires_on"]}
    assert ends == {d.date() for d in gardens.loc[closed, "date_fermeture"]}
    assert set(pacts["extra"].map(lambda e: e.get("type_jardin_partage"))) >= {"Conseil de Paris", "Autre"}

    parties = atlas["parties"].set_index("id")
    links = atlas["pact_parties"].merge(pacts[["id", "title"]], left_on="pact", right_on="id")
    stewards = {key(n) for n in gardens["nom_gerant"].dropna() if n.strip()}
    owners = {key(n) for n in gardens["proprietaire_terrain"].dropna() if n.strip()}
    signing = links[links["role"] == "proponent"]
    assert {key(parties.loc[p, "name"]) for p in signing["party"]} == stewards
    assert set(parties.loc[signing["party"], "kind"]) == {"association"}
    administration = links[links["role"] == "administration"]
    assert {key(parties.loc[p, "name"]) for p in administration["party"]} == owners
    assert len(signing) == gardens["nom_gerant"].notna().sum() and len(administration) == (~gardens[
        "proprietaire_terrain"].isna()).sum()
    kinds = {parties.loc[p, "name"]: parties.loc[p, "kind"] for p in administration["party"]}
    assert kinds["DEVE"] == "municipality" and kinds["Paris Habitat"] == "company" and kinds["Etat"] == "state_agency"
    for pact in pacts.to_dict("records"):
        expected = list(signing.loc[signing["pact"] == pact["id"], "party"])
        assert (value(pact["parties"]) or []) == expected
    assert atlas.count("pact_events") == 181


def test_a_later_paris_snapshot_closes_gardens_through_the_lifecycle(atlas: cm.Atlas, data: Path,
                                                                      tmp_path: Path) -> None:
    # The same register as it was before any of its six closures (real rows, closing dates emptied).
    gardens = gpd.read_file(data / "paris_gardens.geojson")
    earlier = tmp_path / "jardins_2020-12-31.geojson"
    gardens.assign(date_fermeture=pd.Series([None] * len(gardens), dtype="datetime64[ms]")).to_file(earlier)
    import_register(atlas, earlier, register="paris", who=WHO)
    assert set(atlas["pacts"]["status"]) == {"active"}
    later = import_register(atlas, data / "paris_gardens.geojson", register="paris", snapshot_date="2023-09-01",
                            who=WHO)
    assert len(later.updated) == 6 and len(later.unchanged) == 175 and later.corrections == []
    events = atlas["pact_events"].set_index("id").loc[later.transitions]
    pacts = atlas["pacts"].set_index("id")
    assert set(zip(events["from_status"], events["to_status"], strict=True)) == {("active", "concluded")}
    for pact, happened in zip(events["pact"], events["happened_on"], strict=True):
        assert day_of(happened) == day_of(pacts.loc[pact, "expires_on"])
    assert {day_of(d) for d in events["happened_on"]} == {d.date() for d in gardens["date_fermeture"].dropna()}


# -- refusals -------------------------------------------------------------------------------
def test_malformed_snapshots_are_refused_with_nothing_written(atlas: cm.Atlas, tmp_path: Path) -> None:
    palermo(atlas, HISTORY[0])
    unchanged = digest(atlas.location)
    snapshot = read(HISTORY[1])

    no_status = tmp_path / "2025-10-12.csv"
    snapshot.drop(columns="Stato di avanzamento").to_csv(no_status, index=False)
    with pytest.raises(InvalidInputError, match="Stato di avanzamento") as missing:
        palermo(atlas, no_status)
    assert "required column is missing" in str(missing.value)

    unknown = tmp_path / "2025-10-13.csv"
    snapshot.assign(**{"Stato di avanzamento": snapshot["Stato di avanzamento"].mask(snapshot.index == 5,
                                                                                       "Sospesa")}).to_csv(
        unknown, index=False)
    with pytest.raises(InvalidInputError, match="unknown status 'Sospesa'") as refused:
        palermo(atlas, unknown)
    assert refused.value.problems[0].row == 5 and snapshot["Id"][5] in str(refused.value)

    twice = tmp_path / "2025-10-14.csv"
    pd.concat([snapshot, snapshot.iloc[[3]]]).to_csv(twice, index=False)
    with pytest.raises(InvalidInputError, match="appears on several rows"):
        palermo(atlas, twice)

    with pytest.raises(InvalidInputError, match="unknown register"):
        import_register(atlas, HISTORY[1], register="bologna", who=WHO)
    with pytest.raises(InvalidInputError, match="dataset"):
        palermo(atlas, HISTORY[1], dataset="no-such-dataset")
    with pytest.raises(InvalidInputError, match="who"):
        import_register(atlas, HISTORY[1], register="palermo", who=" ")
    assert digest(atlas.location) == unchanged
