"""``commonsmap conflicts``, ``who`` and ``stats``: the territory analyses from a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from commonsmap.atlas.atlas import open_atlas
from commonsmap.cli import AtlasPath, _clear_errors, _pairs, _steps, app, console
from commonsmap.errors import InvalidInputError
from commonsmap.privacy import Viewer, parse_viewer

ViewerOption = Annotated[str | None, typer.Option(
    "--as", help="See it as: anonymous, signed_in, member:PARTY_ID, custodian:PARTY_ID or admin. "
                 "Everything by default (you hold the file).")]


def _viewer(text: str | None) -> Viewer | None:
    return parse_viewer(text) if text else None


def _table(frame: pd.DataFrame, title: str, limit: int = 20) -> Table:
    table = Table(title=title)
    frame = frame[[c for c in frame.columns if frame[c].notna().any()]]  # leave out columns with nothing to show
    for column in frame.columns:
        table.add_column(str(column), overflow="fold",
                         justify="right" if pd.api.types.is_numeric_dtype(frame[column]) else "left")
    for row in frame.head(limit).itertuples(index=False):
        table.add_row(*("" if v is None or (isinstance(v, float) and pd.isna(v))
                        else f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row))
    return table


@app.command()
def conflicts(path: AtlasPath,
              out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report: .geojson or .csv.")]
              = None,
              context: Annotated[list[str] | None, typer.Option(
                  help="name=FILE: a layer to check claims against, e.g. mining=concessions.gpkg (repeatable).")]
              = None,
              against: Annotated[str, typer.Option(help="Comma-separated: claims, parcels, pacts, rights.")]
              = "claims,parcels,pacts,rights",
              min_area: Annotated[float, typer.Option(help="Leave out overlaps of at most this many hectares.")]
              = 0.0,
              as_: ViewerOption = None) -> None:
    """Find where claims overlap each other, context layers, parcels and pacts, and where exclusive rights meet."""
    from commonsmap.analysis.conflicts import detect_conflicts, write_conflict_report
    from commonsmap.analysis.statistics import overlap_statistics

    with _clear_errors():
        atlas = open_atlas(path)
        with _steps("detecting conflicts") as progress:
            progress("overlaps")
            report = detect_conflicts(atlas, viewer=_viewer(as_), context=_pairs(context, "--context"),
                                      against=[a.strip() for a in against.split(",") if a.strip()],
                                      min_area_ha=min_area)
        if out is not None:
            write_conflict_report(report, out)
    if report.empty:
        console.print("no overlaps found")
    else:
        summary = overlap_statistics(report, ["kind", "right_layer"]).reset_index()
        console.print(_table(summary, f"{len(report)} overlaps"))
        largest = pd.DataFrame(report.sort_values("area_ha", ascending=False)[
            ["kind", "left_name", "right_name", "area_ha", "left_share", "right_share"]])
        for share in ("left_share", "right_share"):
            largest[share] = [f"{v:.2%}" for v in largest[share]]
        console.print(_table(largest, "largest overlaps", limit=10))
    if out is not None:
        console.print(f"wrote {out}")


@app.command()
def who(path: AtlasPath,
        at: Annotated[str, typer.Option(help="Where: LON,LAT (WGS84), or a WKT point or polygon in the atlas CRS.")],
        on: Annotated[str | None, typer.Option(help="When: a date (YYYY-MM-DD); any time by default.")] = None,
        as_: ViewerOption = None) -> None:
    """Who may do what here? Rights, restrictions, responsibilities, claims and pacts at a place."""
    import shapely

    from commonsmap.analysis.rights import who_may

    with _clear_errors():
        atlas = open_atlas(path)
        parts = at.split(",")
        if len(parts) == 2:
            try:
                place: object = (float(parts[0]), float(parts[1]))
            except ValueError:
                raise InvalidInputError(f"--at {at!r} is not LON,LAT") from None
        else:
            try:
                place = shapely.from_wkt(at)
            except shapely.errors.GEOSException:
                raise InvalidInputError(f"--at {at!r} is neither LON,LAT nor WKT") from None
        answer = who_may(atlas, place, on=on, viewer=_viewer(as_))
    if answer.empty:
        console.print("no right, restriction, responsibility, claim or pact applies here")
        return
    columns = ["kind", "holder_name", "position", "basis", "status", "months", "valid_from", "valid_to", "title"]
    console.print(_table(pd.DataFrame(answer[columns]), f"who may do what at {at}" + (f" on {on}" if on else ""),
                         limit=100))


@app.command()
def stats(path: AtlasPath,
          layer: Annotated[str, typer.Argument(help="A polygon layer: claims, commons, rights, pacts…")],
          by: Annotated[str | None, typer.Option(help="A field (kind, status…), party or admin_unit.")] = None,
          as_: ViewerOption = None) -> None:
    """Areas (geodesic hectares) and counts of a layer, by group."""
    from commonsmap.analysis.statistics import area_statistics

    with _clear_errors():
        table = area_statistics(open_atlas(path), layer, by=by, viewer=_viewer(as_))
    console.print(_table(table.reset_index(), f"{layer}" + (f" by {by}" if by else ""), limit=100))
