"""The ``commonsmap`` command: create, fill, inspect, check and export atlases from a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import shapely
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from commonsmap.atlas.atlas import Atlas, open_atlas
from commonsmap.catalogue import load_catalogue
from commonsmap.errors import CommonsmapError, InvalidInputError
from commonsmap.privacy import shown_metadata

app = typer.Typer(help="Map the commons: territories, use-rights, claims and collaboration pacts.",
                  no_args_is_help=True, add_completion=False)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

AtlasPath = Annotated[Path, typer.Argument(help="The atlas file (.gpkg).")]
DEFAULT_DEMO = Path("commonsmap-demo.gpkg")


@contextmanager
def _clear_errors() -> Iterator[None]:
    """Print commonsmap's errors as messages (not tracebacks) and exit with status 1."""
    try:
        yield
    except CommonsmapError as exc:
        errors.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from None


@contextmanager
def _steps(title: str) -> Iterator[Any]:
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(title, total=None)
        yield lambda step: progress.update(task, description=f"{title}: {step}")


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"{what} {item!r} is not of the form name=value")
        pairs[key.strip()] = value.strip()
    return pairs


def _counts_table(atlas: Atlas, lang: str = "en") -> Table:
    table = Table(title=f"{Path(atlas.location).name} ({atlas.crs.to_string()})")
    table.add_column("layer")
    table.add_column("title")
    table.add_column("geometry")
    table.add_column("features", justify="right")
    for name, count in atlas.counts().items():
        spec = atlas.spec(name)
        table.add_row(name, spec.title(lang), spec.geometry or "-", str(count))
    return table


@app.command()
def init(path: AtlasPath,
         crs: Annotated[str, typer.Option(help="CRS every geometry is stored in.")] = "EPSG:4326",
         custodian: Annotated[str | None, typer.Option(help="Who looks after the data.")] = None,
         licence: Annotated[str | None, typer.Option(help="Licence or community terms of the data.")] = None,
         title: Annotated[str | None, typer.Option(help="A title for the atlas.")] = None) -> None:
    """Create a new, empty atlas."""
    with _clear_errors():
        atlas = Atlas.create(path, crs=crs, custodian=custodian, licence=licence, title=title)
    console.print(f"created {atlas.location} with {len(atlas.layers())} layers in {atlas.crs.to_string()}")


@app.command("import")
def import_(path: AtlasPath,
            file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, Shapefile/.zip, KML/KMZ, GPX, CSV, "
                                                      "or a Mapeo export.")],
            layer: Annotated[str, typer.Option("--layer", "-l", help="Target layer, e.g. claims.")],
            source_layer: Annotated[str | None, typer.Option(help="Layer of the file to read.")] = None,
            map_: Annotated[list[str] | None, typer.Option("--map", help="column=field (repeatable).")] = None,
            set_: Annotated[list[str] | None, typer.Option("--set", help="field=value for every row.")] = None,
            crs: Annotated[str | None, typer.Option(help="CRS of a file that declares none.")] = None,
            unknown: Annotated[str, typer.Option(help="Unmatched columns: error, keep or drop.")] = "error",
            reject_invalid: Annotated[bool, typer.Option(help="Refuse invalid geometries instead of "
                                                              "repairing them.")] = False,
            who: Annotated[str | None, typer.Option(help="Who imports (kept in history).")] = None,
            note: Annotated[str | None, typer.Option(help="Why (kept in history).")] = None) -> None:
    """Import a file into a layer: every row is written, or none."""
    with _clear_errors():
        if unknown not in ("error", "keep", "drop"):
            raise InvalidInputError(f"--unknown must be error, keep or drop, not {unknown!r}")
        atlas = open_atlas(path)
        with _steps(f"importing {file.name}") as progress:
            result = atlas.import_file(file, layer, source_layer=source_layer, mapping=_pairs(map_, "--map"),
                                       values=_pairs(set_, "--set"), crs=crs, unknown=unknown,
                                       on_invalid="reject" if reject_invalid else "repair", who=who, note=note,
                                       progress=progress)
    console.print(result.summary(), highlight=False)


@app.command()
def export(path: AtlasPath,
           layer: Annotated[str, typer.Argument(help="The layer to export.")],
           out: Annotated[Path, typer.Argument(help="Output: .gpkg, .geojson, .csv, .shp, .zip or .kml.")],
           fmt: Annotated[str | None, typer.Option("--format", help="gpkg, geojson, csv, shp or kml.")] = None,
           max_sensitivity: Annotated[str, typer.Option(help="public, internal or community.")] = "community",
           where: Annotated[str | None, typer.Option(help="SQL filter on attributes.")] = None,
           columns: Annotated[str | None, typer.Option(help="Comma-separated fields to write.")] = None,
           as_: Annotated[str | None, typer.Option(
               "--as", help="Export what this viewer may see: anonymous, signed_in, member:PARTY_ID, "
                            "custodian:PARTY_ID or admin.")] = None) -> None:
    """Export a layer (secret features are never exported)."""
    from commonsmap.privacy import parse_viewer

    with _clear_errors():
        atlas = open_atlas(path)
        chosen = [c.strip() for c in columns.split(",")] if columns else None
        written = atlas.export(layer, out, fmt=fmt, max_sensitivity=max_sensitivity, where=where, columns=chosen,
                               viewer=parse_viewer(as_) if as_ else None)
    for file in written:
        console.print(f"wrote {file}")


@app.command()
def layers(path: Annotated[Path | None, typer.Argument(help="An atlas, to count its features.")] = None,
           lang: Annotated[str, typer.Option(help="Label language: en, es, it or pt.")] = "en") -> None:
    """List the layers of the catalogue (and their feature counts in an atlas)."""
    with _clear_errors():
        if path is not None:
            console.print(_counts_table(open_atlas(path), lang))
            return
        table = Table(title="layer catalogue")
        for column in ("layer", "title", "geometry", "fields", "default sensitivity"):
            table.add_column(column)
        for name, spec in load_catalogue().items():
            table.add_row(name, spec.title(lang), spec.geometry or "-", ", ".join(f.name for f in spec.fields),
                          spec.default_sensitivity)
        console.print(table)


@app.command()
def info(path: AtlasPath) -> None:
    """Describe an atlas: metadata, CRS, size and features per layer."""
    with _clear_errors():
        atlas = open_atlas(path)
        for key, value in sorted(shown_metadata(atlas.metadata).items()):  # never its secrets
            console.print(f"[bold]{key}[/]: {value}", highlight=False)
        console.print(f"[bold]size[/]: {Path(atlas.location).stat().st_size / 1e6:.2f} MB")
        console.print(f"[bold]history entries[/]: {atlas.store.history_count()}")
        console.print(_counts_table(atlas))


@app.command()
def validate(path: AtlasPath) -> None:
    """Check an atlas: GeoPackage conformance and every layer against the catalogue."""
    from commonsmap.checks import check_atlas, check_geopackage

    with _clear_errors():
        atlas = open_atlas(path)
        try:
            violation = check_geopackage(str(path))
            console.print(f"GeoPackage: {'[red]' + violation if violation else '[green]conforms'}[/]")
        except ModuleNotFoundError:
            violation = None
            console.print("GeoPackage: not checked (pip install --no-deps gdal-utils to check it)")
        findings = check_atlas(atlas)
    for finding in findings:
        console.print(f"[yellow]{finding}[/]", highlight=False)
    console.print(f"layers: {len(findings)} problems" if findings else "layers: [green]consistent[/]")
    if violation or findings:
        raise typer.Exit(1)


@app.command()
def history(path: AtlasPath,
            layer: Annotated[str | None, typer.Option(help="Only this layer.")] = None,
            feature: Annotated[str | None, typer.Option("--id", help="Only this feature.")] = None,
            limit: Annotated[int, typer.Option(help="Show the last N entries.")] = 50) -> None:
    """Show who changed what, and when."""
    with _clear_errors():
        entries = open_atlas(path).history(layer, feature, last=limit)
    table = Table(title="history")
    for column in ("entry", "at", "who", "op", "layer", "feature", "changed", "note"):
        table.add_column(column)
    for entry in entries.to_dict("records"):
        table.add_row(str(entry["entry"]), str(entry["at"])[:19], entry["who"] or "(external)", str(entry["op"]),
                      str(entry["layer"]), str(entry["feature_id"]), _changed_fields(entry["before"], entry["after"]),
                      entry["note"] if isinstance(entry["note"], str) else "")
    console.print(table)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, shapely.Geometry) and isinstance(new, shapely.Geometry):
        return bool(old.equals(new))
    if isinstance(old, list | dict) or isinstance(new, list | dict):
        return bool(old == new)
    if old is None or new is None or pd.isna(old) or pd.isna(new):
        return (old is None or pd.isna(old)) and (new is None or pd.isna(new))
    return bool(old == new)


def _changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if not before or not after:
        return ""
    return ", ".join(k for k in after if k not in ("updated", "version") and not _same(before.get(k), after[k]))


@app.command()
def restore(path: AtlasPath, layer: Annotated[str, typer.Argument(help="The layer.")],
            feature: Annotated[str, typer.Argument(help="The feature id.")],
            at: Annotated[str, typer.Option(help="Time to go back to (ISO 8601, UTC).")],
            who: Annotated[str | None, typer.Option(help="Who restores.")] = None) -> None:
    """Bring a feature back to its state at a past time (recorded as a new change)."""
    with _clear_errors():
        row = open_atlas(path).restore(layer, feature, at, who=who)
    console.print(f"restored {layer} {feature} to its state at {at} (now version {row['version']})")


@app.command()
def demo(out: Annotated[Path, typer.Option(help="Where to write the demo atlas.")] = DEFAULT_DEMO,
         overwrite: Annotated[bool, typer.Option(help="Replace an existing demo atlas.")] = True) -> None:
    """Build the demo atlas from real open data shipped with commonsmap, and show what is in it."""
    from commonsmap.demo import DEMO_DIR, build_demo_atlas

    with _clear_errors(), _steps("building the demo atlas") as progress:
        atlas = build_demo_atlas(out, progress=progress, overwrite=overwrite)
    console.print(_counts_table(atlas))
    console.print(f"demo atlas: {atlas.location}")
    console.print(f"sources and licences: {DEMO_DIR / 'ATTRIBUTION.md'}")
    console.print("open it in QGIS, or in Python: import commonsmap as cm; cm.open_atlas(...)['commons']")


if __name__ == "__main__":
    # ``python -m commonsmap.cli``: import the module proper, which registers every command group.
    from commonsmap.cli import app as registered

    registered()
else:
    from importlib.metadata import entry_points

    from commonsmap import cli_analysis, cli_keys, cli_maps, cli_pacts  # noqa: F401  (register conflicts, who, stats; pacts …)

    for plugin in entry_points(group="commonsmap.commands"):  # e.g. ``serve``, from the web layer
        plugin.load()(app)
