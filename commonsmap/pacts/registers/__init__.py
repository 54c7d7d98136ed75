"""Import the registers of collaboration pacts that cities publish, snapshot after snapshot.

* :mod:`~commonsmap.pacts.registers.palermo`: Palermo's civic monitor (CSV);
* :mod:`~commonsmap.pacts.registers.paris`: the Ville de Paris register of shared gardens (GeoJSON);
* :mod:`~commonsmap.pacts.registers.snapshots`: what every register shares: matching rows to
  pacts, updates, status changes as lifecycle events or corrections, parties, withheld cells.

Examples
--------
>>> from commonsmap.pacts.registers import import_register
>>> result = import_register(atlas, "2025-10-21.csv", register="palermo", who="open data office")  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from commonsmap.errors import InvalidInputError
from commonsmap.pacts.registers import palermo, paris
from commonsmap.pacts.registers.snapshots import RegisterImport, Snapshot, apply_snapshot, snapshot_day

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

READERS: Final[dict[str, Callable[[Path], Snapshot]]] = {
    palermo.REGISTER_NAME: palermo.read_palermo,
    paris.REGISTER_NAME: paris.read_paris,
}
"""The reader of each known register, by its ``register_name``."""

ALIASES: Final[dict[str, str]] = {"palermo": palermo.REGISTER_NAME, "paris": paris.REGISTER_NAME}
"""Short names accepted for ``register``."""


def import_register(atlas: Atlas, path: str | Path, *, register: str, snapshot_date: Any = None, who: str,
                    dataset: str | None = None) -> RegisterImport:
    """Import one snapshot of a register of pacts into ``atlas``, in one transaction.

    Parameters
    ----------
    atlas : Atlas
        The atlas to write to.
    path : str or Path
        The snapshot file.
    register : str
        Which register it is: ``"palermo"`` or ``"paris"`` (or their ``register_name``).
    snapshot_date : date, optional
        The day the snapshot shows; by default a ``YYYY-MM-DD`` in the file name, else today.
        Status changes found in the snapshot are dated on it.
    who : str
        Who imports: the actor of the pact events and the author of the writes.
    dataset : str, optional
        Id of the ``datasets`` record carrying the register's licence and attribution; set on
        the pacts, parties, links, sources and import events written.

    Returns
    -------
    RegisterImport
        Pacts added, updated, unchanged and missing; the transition and correction events
        written; the rows skipped.

    Raises
    ------
    InvalidInputError
        If the register is unknown, the file is missing, a required column is missing, a status
        is unknown, an id appears twice or a record fails validation. Nothing is written then.

    Notes
    -----
    Pacts are matched on ``(register_name, register_id)``; see
    :mod:`~commonsmap.pacts.registers.snapshots` for what a later snapshot changes.
    """
    if not who or not str(who).strip():
        raise InvalidInputError("a register import must say who makes it: who=...")
    name = ALIASES.get(register, register)
    if name not in READERS:
        raise InvalidInputError(f"unknown register {register!r}; known: {', '.join([*ALIASES, *READERS])}")
    source = Path(path)
    if not source.is_file():
        raise InvalidInputError(f"{source}: no such file")
    day = snapshot_day(source, snapshot_date)
    return apply_snapshot(atlas, READERS[name](source), day=day, who=who, dataset=dataset)


__all__ = ["ALIASES", "READERS", "RegisterImport", "import_register"]
