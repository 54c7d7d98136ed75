"""``commonsmap pacts``: deadlines, status changes, history, registers in and out, cadastre, links, reports."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from commonsmap.atlas.atlas import open_atlas
from commonsmap.cli import AtlasPath, _clear_errors, app, console
from commonsmap.cli_analysis import ViewerOption, _table, _viewer
from commonsmap.privacy import parse_viewer

pacts_app = typer.Typer(help="Collaboration pacts: deadlines, status changes, history, the open register and "
                             "planner reports.", no_args_is_help=True)
app.add_typer(pacts_app, name="pacts")

PactId = Annotated[str, typer.Argument(help="The pact's id.")]


class Report(StrEnum):
    """The planner reports of ``commonsmap pacts report``."""

    STATUS = "status"
    UNLINKED = "unlinked"
    AREA = "area"
    PER_YEAR = "per-year"


def _dates_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ``YYYY-MM-DD`` for printing (not midnight timestamps)."""
    out = pd.DataFrame(frame).copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in out[column]]
    return out


@pacts_app.command("due")
def due_(path: AtlasPath,
         within: Annotated[str, typer.Option(help="How far ahead: 30d, 2w, 3m, 1y (a bare number is days).")] = "30d",
         today: Annotated[str | None, typer.Option(help="Count from this day (YYYY-MM-DD); today by default.")]
         = None,
         as_: ViewerOption = None) -> None:
    """What is due in the coming days: answers, ends of public notice, expiries, renewals, reports (overdue too)."""
    from commonsmap.days import as_day
    from commonsmap.pacts.deadlines import due, parse_within

    with _clear_errors():
        day = as_day(today, "--today") if today is not None else None
        horizon = parse_within(within, day)
        table = due(open_atlas(path), within=horizon, today=day, viewer=_viewer(as_))
    if table.empty:
        console.print(f"nothing due within {within}")
        return
    overdue = int((table["days_left"] < 0).sum())
    title = f"{len(table)} deadlines within {within}" + (f", {overdue} overdue" if overdue else "")
    columns = ["due", "days_left", "kind", "title", "status", "detail", "pact"]
    console.print(_table(table[columns], title, limit=len(table)), highlight=False)


@pacts_app.command()
def transition(path: AtlasPath, pact: PactId,
               status: Annotated[str, typer.Argument(help="The new status (a code or a label).")],
               who: Annotated[str, typer.Option(help="Who makes the change (kept with the pact).")],
               on: Annotated[str | None, typer.Option(help="When it happened (YYYY-MM-DD); today by default.")]
               = None,
               note: Annotated[str | None, typer.Option(help="Why, or anything worth keeping.")] = None,
               decision_ref: Annotated[str | None, typer.Option(help="Reference of the act that decided it.")]
               = None,
               until: Annotated[str | None, typer.Option(
                   help="The date the new status sets: new expiry (extended), end of notice, answer due.")]
               = None) -> None:
    """Move a pact to a new status, if its lifecycle allows it (otherwise nothing changes)."""
    from commonsmap.pacts.lifecycle import transition as move

    with _clear_errors():
        updated = move(open_atlas(path), pact, status, who=who, on=on, note=note, decision_ref=decision_ref,
                       until=until)
    console.print(f"pact {pact} ({updated['title']}) is now {updated['status']}", highlight=False)


@pacts_app.command()
def history(path: AtlasPath, pact: PactId, as_: ViewerOption = None) -> None:
    """The life of a pact: status changes, comments, reports, evaluations, exclusions, disputes."""
    from commonsmap.pacts.events import pact_events

    with _clear_errors():
        atlas = open_atlas(path)
        viewer = _viewer(as_)
        title = atlas.get("pacts", pact, viewer=viewer)["title"]
        events = pact_events(atlas, pact, viewer=viewer)
    columns = ["happened_on", "kind", "from_status", "to_status", "actor", "note", "decision_ref", "period_from",
               "period_to", "values", "outcome"]
    shown = _dates_as_text(events[columns])
    shown["values"] = [", ".join(f"{k}={v}" for k, v in d.items()) if isinstance(d, dict) else None
                       for d in shown["values"]]
    console.print(_table(shown, f"{title}: {len(events)} events", limit=len(events)), highlight=False)


@pacts_app.command()
def register(path: AtlasPath,
             out: Annotated[Path, typer.Argument(help="Output: .csv, .geojson or .gpkg.")],
             as_: Annotated[str, typer.Option("--as", help="Whose register: anonymous (the public one), signed_in, "
                                                           "member:PARTY_ID, custodian:PARTY_ID or admin.")]
             = "anonymous",
             lang: Annotated[str, typer.Option(help="Language of the status labels: en, es, it or pt.")] = "en",
             fmt: Annotated[str | None, typer.Option("--format", help="csv, geojson or gpkg.")] = None,
             licence: Annotated[str | None, typer.Option(help="Licence of pacts whose dataset names none "
                                                              "(the atlas's licence by default).")] = None) -> None:
    """Write the open register of pacts: one row per pact the viewer may see, with its licence."""
    from commonsmap.pacts.register import check_target, register_table

    with _clear_errors():
        atlas = open_atlas(path)
        check_target(atlas, out, fmt)
        table = register_table(atlas, viewer=parse_viewer(as_), lang=lang, licence=licence)
        written = table.write(out, fmt)
    console.print(f"wrote {written}: {len(table.frame)} pacts, licence {table.licence}", highlight=False)
    if written.suffix.lower() == ".csv":
        console.print(f"licence and columns: {written.with_suffix('.txt')}", highlight=False)


@pacts_app.command("report")
def report_(path: AtlasPath,
            kind: Annotated[Report, typer.Argument(help="status: counts by status and district; unlinked: parcels "
                                                        "designated for commons use with no pact in force; area: "
                                                        "hectares under pacts; per-year: pacts signed each year.")],
            by: Annotated[str | None, typer.Option(help="status: fields to count by (default status,district); "
                                                        "area: district or admin_unit.")] = None,
            statuses: Annotated[str | None, typer.Option(help="area: comma-separated statuses counted (default: "
                                                              "active, monitoring, extended).")] = None,
            out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the table as CSV.")] = None,
            as_: ViewerOption = None) -> None:
    """Planner reports on pacts: by status, unlinked designated parcels, area under pacts, pacts per year."""
    from commonsmap.pacts import queries
    from commonsmap.pacts.lifecycle import IN_FORCE

    with _clear_errors():
        atlas = open_atlas(path)
        viewer = _viewer(as_)
        if kind is Report.STATUS:
            fields = [f.strip() for f in (by or "status,district").split(",") if f.strip()]
            table = queries.pacts_by_status(atlas, fields, viewer=viewer)
            title = f"pacts by {', '.join(fields)}: {int(table['count'].sum())} pacts"
        elif kind is Report.UNLINKED:
            table = pd.DataFrame(queries.designated_without_pact(atlas, viewer=viewer).drop(columns="geometry"))
            title = f"{len(table)} parcels designated for commons use with no pact in force"
        elif kind is Report.AREA:
            chosen = [s.strip() for s in statuses.split(",") if s.strip()] if statuses else sorted(IN_FORCE)
            table = queries.area_under_pacts(atlas, by=by or "district", statuses=chosen, viewer=viewer)
            title = f"hectares under pacts ({', '.join(str(s) for s in chosen)}): {table['area_ha'].sum():,.2f} ha"
        else:
            table = queries.pacts_signed_per_year(atlas, viewer=viewer)
            title = f"pacts signed per year: {int(table['signed'].sum())} pacts"
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            table.to_csv(out, index=False, encoding="utf-8")
    console.print(_table(table, title, limit=max(len(table), 1)), highlight=False)
    if out is not None:
        console.print(f"wrote {out}")


Who = Annotated[str, typer.Option(help="Who does it (kept in the history).")]


@pacts_app.command("import-register")
def import_register_(path: AtlasPath,
                     source: Annotated[Path, typer.Argument(help="The register file (a snapshot).")],
                     register: Annotated[str, typer.Option(help="Which register: palermo or paris.")],
                     who: Who,
                     snapshot_date: Annotated[str | None, typer.Option(
                         help="The snapshot's date (YYYY-MM-DD); read from a YYYY-MM-DD file name by default.")]
                     = None) -> None:
    """Import a city's pact register, or a later snapshot of it: status changes become lifecycle events."""
    from commonsmap.pacts.registers import import_register

    with _clear_errors():
        result = import_register(open_atlas(path), source, register=register, snapshot_date=snapshot_date, who=who)
    console.print(result.summary(), highlight=False)


@pacts_app.command("import-cadastre")
def import_cadastre_(path: AtlasPath,
                     source: Annotated[Path, typer.Argument(help="The cadastre: GeoPackage, Shapefile or GeoJSON.")],
                     who: Who,
                     layer: Annotated[str | None, typer.Option(help="The layer of a multi-layer file.")] = None,
                     ref: Annotated[str | None, typer.Option(
                         help="The column, or a template like '{KATUZE_KOD}/{ID}', of the cadastral reference.")]
                     = None,
                     unit: Annotated[str | None, typer.Option(help="The column or template of the cadastral unit.")]
                     = None) -> None:
    """Import cadastral parcels with their references (other columns are kept as extra attributes)."""
    from commonsmap.pacts.cadastre import import_cadastre

    with _clear_errors():
        result = import_cadastre(open_atlas(path), source, layer=layer, ref=ref, unit=unit, who=who)
    console.print(result.summary(), highlight=False)


@pacts_app.command()
def link(path: AtlasPath, who: Who,
         method: Annotated[str, typer.Option(help="auto, reference, geometry or location.")] = "auto") -> None:
    """Link every pact to the parcels it covers (by reference, area share or location); parcels follow."""
    from commonsmap.pacts.parcels import link_pacts

    with _clear_errors():
        result = link_pacts(open_atlas(path), method=method, who=who)
    console.print(f"{len(result.links)} links for {len(result.pacts)} pacts ({result.removed} replaced); "
                  f"{len(result.unlinked)} pacts cover no parcel; {len(result.designation_changes)} parcels "
                  "changed designation", highlight=False)
    for pact, refs in result.unmatched_refs.items():
        console.print(f"pact {pact}: no parcel with reference {', '.join(refs)}", highlight=False)
