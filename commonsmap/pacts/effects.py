"""What a pact's change of status does to the rest of the atlas: its parcels and the rights it granted.

A pact that comes into force puts its parcels ``under_pact``; one that leaves force gives back
to ``designated`` the parcels no other pact in force covers; one that ends (concluded, expired,
terminated early) closes the validity of the rights it granted on that day.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from commonsmap.days import optional_day
from commonsmap.vocabularies import Designation, PactStatus

if TYPE_CHECKING:
    from commonsmap.atlas.writing import AtlasTransaction

_IN_FORCE = frozenset({PactStatus.ACTIVE, PactStatus.MONITORING, PactStatus.EXTENDED})
_ENDING = frozenset({PactStatus.CONCLUDED, PactStatus.EXPIRED, PactStatus.TERMINATED_EARLY})


def in_force(status: Any) -> bool:
    """Whether a pact with ``status`` is in force (active, monitoring or extended)."""
    return status in {term.value for term in _IN_FORCE}


def set_parcel_designation(tx: AtlasTransaction, parcel_ids: list[str]) -> None:
    """Make each parcel's designation follow the pacts in force that cover it."""
    links = tx.find("pact_parcels", "parcel", sorted(set(parcel_ids)))
    pacts = {p["id"]: p for p in tx.find("pacts", "id", sorted({link["pact"] for link in links}))}
    covered = {link["parcel"] for link in links if in_force(pacts[link["pact"]]["status"])}
    for parcel in tx.find("parcels", "id", sorted(set(parcel_ids))):
        current = parcel.get("designation")
        if parcel["id"] in covered:
            wanted = Designation.UNDER_PACT.value
        elif current == Designation.UNDER_PACT.value:
            wanted = Designation.DESIGNATED.value
        else:
            continue
        if current != wanted:
            tx.update("parcels", parcel["id"], {"designation": wanted})


def end_granted_rights(tx: AtlasTransaction, pact_id: str, day: dt.date, *, holder: str | None = None) -> int:
    """Close on ``day`` the rights ``pact_id`` granted (only ``holder``'s if given); return how many."""
    closed = 0
    for right in tx.find("rights", "pact", [pact_id]):
        if holder is not None and right["holder"] != holder:
            continue
        valid_to = optional_day(right.get("valid_to"))
        if valid_to is None or valid_to > day:
            tx.update("rights", right["id"], {"valid_to": day})
            closed += 1
    return closed


def follow_status(tx: AtlasTransaction, pact: dict[str, Any], *, previous: PactStatus, day: dt.date) -> None:
    """Bring parcels and granted rights in step with ``pact``'s new status."""
    now = PactStatus.parse(str(pact["status"]))
    if (now in _IN_FORCE) != (previous in _IN_FORCE):
        links = tx.find("pact_parcels", "pact", [pact["id"]])
        set_parcel_designation(tx, [link["parcel"] for link in links])
    if now in _ENDING:
        end_granted_rights(tx, pact["id"], day)
