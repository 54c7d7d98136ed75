"""``commonsmap map``: an atlas as one HTML map that works offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from commonsmap.atlas.atlas import open_atlas
from commonsmap.cli import AtlasPath, _clear_errors, app, console
from commonsmap.maps import MAX_INLINE, commons_map, save_map
from commonsmap.maps.build import COUNTRIES
from commonsmap.privacy import parse_viewer


@app.command("map")
def map_(path: AtlasPath,
         out: Annotated[Path, typer.Argument(help="The HTML file to write.")],
         layer: Annotated[list[str] | None, typer.Option(help="A layer to draw (repeat; all by default).")] = None,
         viewer: Annotated[str, typer.Option(
             help="Who the map is for: anonymous, signed_in, member:PARTY_ID, custodian:PARTY_ID or admin.")]
         = "anonymous",
         lang: Annotated[str, typer.Option(help="Language of the labels: en, es, it or pt.")] = "en",
         tiles_url: Annotated[str | None, typer.Option(
             help="Vector tiles for large layers, with {layer}, e.g. "
                  "https://atlas.example.org/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}")] = None,
         max_inline: Annotated[int, typer.Option(help="Most features of a layer written into the page.")]
         = MAX_INLINE,
         basemap: Annotated[str, typer.Option(
             help="'countries' (offline, the default), 'none', or a tile layer (needs the internet).")] = COUNTRIES,
         ) -> None:
    """Write a standalone map of an atlas: no internet needed to open it, nothing hidden in it."""
    with _clear_errors():
        atlas = open_atlas(path)
        who = parse_viewer(viewer)
        names = layer or None
        tiles = {name: tiles_url.replace("{layer}", name) for name in atlas.layers()} if tiles_url else None
        m = commons_map(atlas, names, viewer=who, lang=lang, tiles=tiles, max_inline=max_inline,
                        basemap=None if basemap == "none" else basemap)
        written = save_map(m, out)
    table = Table("layer", "features", "drawn as")
    for name, drawn in m.commonsmap_layers.items():
        table.add_row(name, f"{drawn.expected:,}", drawn.mode)
    console.print(table)
    console.print(f"map for viewer {viewer}: {written} ({written.stat().st_size / 1e6:.2f} MB), works offline")
