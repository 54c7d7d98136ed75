"""The ``commonsmap serve`` command, registered into the commonsmap CLI as a plug-in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.settings import Settings


def serve_command(
        atlas: Annotated[Path | None, typer.Argument(help="The atlas file to serve.")] = None,
        demo: Annotated[bool, typer.Option("--demo", help="Build the demo atlas (if missing) and serve it.")] = False,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
        max_limit: Annotated[int, typer.Option(help="Largest page size.")] = 10_000,
        query_timeout: Annotated[float, typer.Option(help="Seconds a query may run.")] = 10.0) -> None:
    """Serve an atlas as OGC API – Features (and vector tiles), with its maps, on HOST:PORT."""
    from commonsmap.cli import _clear_errors, console

    if demo == (atlas is not None):
        raise typer.BadParameter("give an atlas file, or --demo (not both)")
    if demo:
        from commonsmap.cli import DEFAULT_DEMO
        from commonsmap.demo import build_demo_atlas

        atlas = DEFAULT_DEMO
        if not atlas.exists():
            console.print("building the demo atlas …")
            build_demo_atlas(atlas)
    assert atlas is not None
    if not atlas.exists():
        raise typer.BadParameter(f"no atlas at {atlas}")
    from api.server import serve

    console.print(f"serving {atlas} on http://{host}:{port}/ (Ctrl+C to stop)")
    with _clear_errors():  # a file that is not an atlas: a message, before any worker starts
        serve(atlas, host=host, port=port, workers=workers,
              settings=Settings(max_limit=max_limit, query_timeout=query_timeout))


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the commonsmap command line."""
    app.command("serve")(serve_command)
