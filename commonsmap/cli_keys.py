"""``commonsmap keys``: make, list and revoke the API keys of an atlas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from commonsmap.atlas.atlas import open_atlas
from commonsmap.cli import _clear_errors, app, console
from commonsmap.keys import add_key, list_keys, revoke_key

keys = typer.Typer(help="API keys: who may see and change what over the API.", no_args_is_help=True)
app.add_typer(keys, name="keys")


@keys.command("add")
def add(path: Annotated[Path, typer.Argument(help="The atlas file.")],
        role: Annotated[str, typer.Option(help="signed_in, member, custodian or admin.")],
        name: Annotated[str, typer.Option(help="Who holds the key (recorded with their writes).")],
        party: Annotated[list[str] | None, typer.Option(help="A party the key acts for (repeat for more).")] = None,
        ) -> None:
    """Make a key; it is printed once and only its hash is kept."""
    with _clear_errors():
        key = add_key(open_atlas(path), role, parties=party or [], name=name)
    console.print(f"key for {name} ({role}): shown only now, keep it safe")
    print(key)


@keys.command("list")
def list_(path: Annotated[Path, typer.Argument(help="The atlas file.")]) -> None:
    """List the keys (never their secrets)."""
    with _clear_errors():
        found = list_keys(open_atlas(path))
    table = Table("key id", "role", "parties", "name", "created")
    for key in found:
        table.add_row(key.key_id, key.role, ", ".join(key.parties), key.name, key.created)
    console.print(table)


@keys.command("revoke")
def revoke(path: Annotated[Path, typer.Argument(help="The atlas file.")],
           key_id: Annotated[str, typer.Argument(help="The key id (see keys list).")]) -> None:
    """Revoke a key: requests with it are refused from now on."""
    with _clear_errors():
        revoke_key(open_atlas(path), key_id)
    console.print(f"revoked key {key_id}")
