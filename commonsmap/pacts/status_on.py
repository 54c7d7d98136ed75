"""A pact's status on a given day, read back from its events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from commonsmap.privacy import whole_rows

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas
    from commonsmap.privacy import Viewer

_STATUS_EVENTS = ("transition", "correction")


def _among(column: str, ids: Iterable[str] | None) -> str | None:
    """A SQL filter keeping the rows whose ``column`` is one of ``ids`` (quotes doubled)."""
    if ids is None:
        return None
    quoted = ", ".join("'" + str(i).replace("'", "''") + "'" for i in sorted(set(ids)))
    return f"{column} IN ({quoted})" if quoted else "0 = 1"


def pact_statuses(atlas: Atlas, *, on: Any = None, viewer: Viewer | None = None,
                  ids: Iterable[str] | None = None) -> dict[str, str]:
    """Return ``{pact id: status}`` for the pacts ``viewer`` may see whole, today or on day ``on``.

    ``ids`` limits the answer (and what is read) to those pacts.

    On a past day, a pact's status is the one its last status change up to that day set; a pact
    with no recorded change before that day (or none at all, when it was added without the
    lifecycle) has its current status. A pact proposed after ``on`` is left out.
    """
    pacts = whole_rows(atlas.layer("pacts", viewer=viewer, where=_among("id", ids)))
    current = dict(zip(pacts["id"], pacts["status"], strict=True))
    if on is None:
        return current
    day = pd.Timestamp(on).normalize()
    events = atlas.layer("pact_events", viewer=viewer, where=_among("pact", ids))
    events = events[events["kind"].isin(_STATUS_EVENTS) & events["pact"].isin(list(current))]
    when = pd.to_datetime(events["happened_on"])
    first = when.groupby(events["pact"]).min()
    upto = events[when <= day]
    last = upto.assign(_order=range(len(upto))).sort_values(["happened_on", "_order"]).groupby("pact").tail(1)
    statuses = dict(current)
    statuses.update(zip(last["pact"], last["to_status"], strict=True))
    for pact, started in first.items():
        if started > day:
            statuses.pop(str(pact), None)
    return statuses


def lifecycle_drift(atlas: Atlas) -> list[tuple[str, str, str]]:
    """Return ``(pact id, status, last recorded status)`` for pacts whose status disagrees with their events.

    That happens when another program (QGIS, a field app) edits the GeoPackage and changes a
    status behind the lifecycle's back.
    """
    pacts = atlas.layer("pacts", max_sensitivity="secret")
    events = atlas.layer("pact_events", max_sensitivity="secret")
    events = events[events["kind"].isin(_STATUS_EVENTS)]
    ordered = events.assign(_order=range(len(events))).sort_values(["happened_on", "_order"])
    recorded = dict(zip(ordered["pact"], ordered["to_status"], strict=True))  # the last one wins
    return [(pid, status, recorded[pid]) for pid, status in zip(pacts["id"], pacts["status"], strict=True)
            if pid in recorded and recorded[pid] != status]
