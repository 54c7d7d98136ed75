"""Territorial claims: LandMark recognition terms, the objection period, objections kept beside claims.

An objection never changes the claim it concerns: it is a record of its own (layer
``objections``) that points at the claim, lodged by another party before the claim's
``objections_until`` date, and decided later (upheld, dismissed, withdrawn).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from commonsmap.days import as_day
from commonsmap.errors import InvalidInputError, NotFoundError
from commonsmap.vocabularies import ClaimStatus, ObjectionStatus

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas
    from commonsmap.privacy import Viewer

_LANDMARK: dict[str, tuple[str, str]] = {
    ClaimStatus.TITLED: ("acknowledged", "documented"),
    ClaimStatus.RECOGNISED: ("acknowledged", "documented"),
    ClaimStatus.SUBMITTED: ("not_acknowledged", "claim_submitted"),
    ClaimStatus.UNDER_REVIEW: ("not_acknowledged", "claim_submitted"),
    ClaimStatus.DISPUTED: ("not_acknowledged", "claim_submitted"),
    ClaimStatus.ASSERTED: ("not_acknowledged", "customary_tenure"),
    ClaimStatus.DOCUMENTED: ("not_acknowledged", "customary_tenure"),
    ClaimStatus.REJECTED: ("not_acknowledged", "customary_tenure"),
    ClaimStatus.WITHDRAWN: ("not_acknowledged", "customary_tenure"),
}

CLOSED_OBJECTIONS = frozenset({ObjectionStatus.UPHELD, ObjectionStatus.DISMISSED, ObjectionStatus.WITHDRAWN})


def landmark_terms(status: str) -> tuple[str, str]:
    """Return LandMark's (form of recognition, documentation status) for a claim status.

    Titled and recognised claims are acknowledged by government and documented; submitted,
    under review and disputed ones have a formal claim submitted; the rest are held under
    customary tenure.

    Examples
    --------
    >>> landmark_terms("titled")
    ('acknowledged', 'documented')
    """
    return _LANDMARK[ClaimStatus.parse(status)]


def open_objection_period(atlas: Atlas, claim_id: str, until: Any, *, who: str | None = None,
                          note: str | None = None) -> dict[str, Any]:
    """Set the last day on which other parties may object to a claim; return the claim."""
    atlas.get("claims", claim_id)
    return atlas.update("claims", claim_id, {"objections_until": as_day(until)}, who=who,
                        note=note or f"objection period open until {as_day(until)}")


def lodge_objection(atlas: Atlas, claim_id: str, objector: str, grounds: str, *, lodged_on: Any = None,
                    geometry: Any = None, sources: list[str] | None = None, who: str | None = None,
                    sensitivity: str | None = None) -> str:
    """Record another party's objection to a claim, beside it; the claim is not changed.

    Parameters
    ----------
    atlas : Atlas
        The atlas holding the claim.
    claim_id : str
        The claim objected to.
    objector : str
        Id of the objecting party; it must not be the claimant.
    grounds : str
        Why the party objects.
    lodged_on : date, optional
        When the objection was lodged; today by default. It must be on or before the claim's
        ``objections_until``.
    geometry : shapely geometry, optional
        The part of the territory objected to (in the atlas CRS); the whole claim by default.
    sources : list of str, optional
        Ids of sources supporting the objection.
    who : str, optional
        Who records it.
    sensitivity : str, optional
        The objection's sensitivity; the layer's default otherwise.

    Returns
    -------
    str
        The id of the new objection.

    Raises
    ------
    InvalidInputError
        If the claim has no objection period, the period is over, or the objector is the claimant.
    """
    claim = atlas.get("claims", claim_id)
    day = as_day(lodged_on if lodged_on is not None else dt.date.today())
    deadline = claim.get("objections_until")
    if deadline is None or pd.isna(deadline):
        raise InvalidInputError(f"claim {claim.get('name')!r} has no objection period; open one with "
                                "open_objection_period() before objections can be lodged")
    if day > as_day(deadline):
        raise InvalidInputError(f"the objection period of claim {claim.get('name')!r} ended on "
                                f"{as_day(deadline)}; an objection lodged on {day} is too late")
    if objector == claim.get("claimant"):
        raise InvalidInputError("a party cannot object to its own claim")
    record: dict[str, Any] = {"claim": claim_id, "objector": objector, "grounds": grounds, "lodged_on": day,
                              "status": "lodged", "sources": sources}
    if sensitivity is not None:
        record["sensitivity"] = sensitivity
    if geometry is not None:
        record["geometry"] = geometry
    return atlas.add("objections", record, who=who, note=f"objection to claim {claim_id}").ids[0]


def decide_objection(atlas: Atlas, objection_id: str, status: str, *, decision: str | None = None,
                     decided_on: Any = None, who: str | None = None) -> dict[str, Any]:
    """Record the decision on an objection (upheld, dismissed, withdrawn, or under review)."""
    term = ObjectionStatus.parse(status)
    if term is ObjectionStatus.LODGED:
        raise InvalidInputError("an objection cannot be decided back to 'lodged'")
    changes: dict[str, Any] = {"status": term.value, "decision": decision}
    if term in CLOSED_OBJECTIONS:
        changes["decided_on"] = as_day(decided_on if decided_on is not None else dt.date.today())
    return atlas.update("objections", objection_id, changes, who=who, note=f"objection {term.value}")


def objections(atlas: Atlas, claim_id: str, *, viewer: Viewer | None = None) -> pd.DataFrame:
    """Return the objections to a claim that ``viewer`` may see, oldest first."""
    visible = atlas.layer("claims", viewer=viewer)
    if claim_id not in set(visible["id"]):
        raise NotFoundError(f"no feature {claim_id!r} in layer 'claims'")
    found = atlas.layer("objections", viewer=viewer)
    found = found[found["claim"] == claim_id]
    return found.sort_values(["lodged_on", "id"]).reset_index(drop=True)
