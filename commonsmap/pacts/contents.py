"""A pact's contents: proposing it with its parties, checking what it says, granting its rights.

The pact record (layer ``pacts``) holds the contents the regulation names: type,
interventions, domains, objectives and actions, collective-use rules, forms of support from the
closed list (a reimbursement of costs with its amount), insurance, responsibilities, guarantees,
monitoring plan (indicators and how often to report), duration and renewal rule, causes of
suspension and termination, exclusion rules, end-of-pact effects and the dispute clause. Each
party's role and commitments are records of ``pact_parties``; the rights and responsibilities a
pact grants are records of ``rights`` that name the pact, so "who may do what here?" answers them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from commonsmap.days import as_day, optional_day
from commonsmap.errors import InvalidInputError, Problem
from commonsmap.pacts.event_privacy import inherited
from commonsmap.vocabularies import PactRole, PactStatus, SupportForm

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas
    from commonsmap.atlas.writing import AtlasTransaction

SIGNING_ROLES = frozenset({PactRole.PROPONENT.value, PactRole.SIGNATORY.value})
"""Roles whose parties sign the pact: they are listed in the pact's ``parties`` and hold its rights."""


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (list, tuple, set, dict)):
        return len(value) > 0
    return not pd.isna(value)


def check_contents(pact: Mapping[str, Any]) -> list[Problem]:
    """Return what is inconsistent in a pact's contents (an empty list when nothing is).

    A reimbursement of costs needs a positive amount and an amount needs that form of support;
    a pact cannot expire before it starts; its reports need indicators to report on.

    Examples
    --------
    >>> [p.reason for p in check_contents({"support": ["cost_reimbursement"]})]
    ['a reimbursement of costs needs its amount (reimbursement_amount)']
    """
    problems: list[Problem] = []
    forms = []
    for form in pact.get("support") or []:
        try:
            forms.append(SupportForm.parse(form).value)
        except ValueError as exc:
            problems.append(Problem(str(exc), field="support"))
    amount = pact.get("reimbursement_amount")
    reimbursed = SupportForm.COST_REIMBURSEMENT.value in forms
    if reimbursed and not _present(amount):
        problems.append(Problem("a reimbursement of costs needs its amount (reimbursement_amount)",
                                field="reimbursement_amount"))
    elif reimbursed and float(amount) <= 0:  # type: ignore[arg-type]
        problems.append(Problem(f"a reimbursement amount must be positive, not {amount}", field="reimbursement_amount"))
    elif _present(amount) and not reimbursed:
        problems.append(Problem("reimbursement_amount is set but cost_reimbursement is not among the forms of "
                                "support", field="support"))
    starts = optional_day(pact.get("starts_on")) or optional_day(pact.get("signed_on"))
    ends = optional_day(pact.get("expires_on"))
    if starts is not None and ends is not None and ends < starts:
        problems.append(Problem(f"the pact expires on {ends}, before it starts on {starts}", field="expires_on"))
    if _present(pact.get("report_every_months")) and not _present(pact.get("indicators")):
        problems.append(Problem("a reporting frequency needs indicators to report on", field="indicators"))
    for name in ("duration_months", "report_every_months", "renewal_notice_days"):
        value = pact.get(name)
        if _present(value) and int(value) <= 0:  # type: ignore[arg-type]
            problems.append(Problem(f"{name} must be positive, not {value}", field=name))
    return problems


def _raise_if(problems: list[Problem], what: str) -> None:
    if problems:
        raise InvalidInputError(problems, source=what)


def _party_rows(pact_id: str, parties: Sequence[Mapping[str, Any]], day: dt.date) -> list[dict[str, Any]]:
    rows = []
    for number, entry in enumerate(parties):
        unknown = sorted(set(entry) - {"party", "role", "commitments", "joined_on"})
        if unknown or "party" not in entry or "role" not in entry:
            raise InvalidInputError(f"party entry {number}: needs 'party' and 'role' (and optionally "
                                    f"'commitments', 'joined_on'); got {sorted(entry)}")
        try:
            role = PactRole.parse(entry["role"]).value
        except ValueError as exc:
            raise InvalidInputError([Problem(str(exc), row=number, field="role")], source="pact parties") from exc
        rows.append({"pact": pact_id, "party": entry["party"], "role": role,
                     "commitments": entry.get("commitments"),
                     "joined_on": as_day(entry.get("joined_on") or day, "joined_on")})
    return rows


def propose_pact(atlas: Atlas, pact: Mapping[str, Any], parties: Sequence[Mapping[str, Any]], *, who: str,
                 on: Any = None, note: str | None = None) -> str:
    """Record a new pact proposal with its parties; return the pact's id.

    Parameters
    ----------
    atlas : Atlas
        The atlas to write to.
    pact : mapping
        The pact's fields (``title`` at least, and usually ``geometry``); its status is set to
        ``proposed``.
    parties : sequence of mappings
        One entry per party: ``party`` (a party id), ``role`` (proponent, signatory,
        administration, supporter, guarantor), optional ``commitments``. At least one proponent.
    who : str
        Who records the proposal.
    on : date, optional
        When the proposal was made; today by default.
    note : str, optional
        A note kept with the first event.

    Returns
    -------
    str
        The new pact's id.

    Raises
    ------
    InvalidInputError
        If the contents are inconsistent (see :func:`check_contents`), there is no proponent,
        a party is unknown, or a field fails validation. Nothing is written then.
    """
    day = as_day(on if on is not None else dt.date.today(), "on")
    record = dict(pact)
    if "status" in record and record["status"] not in (None, PactStatus.PROPOSED.value):
        raise InvalidInputError("a new pact starts as 'proposed'; import existing pacts with atlas.add or a "
                                "register importer")
    _raise_if(check_contents(record), "pact contents")
    rows = _party_rows("", parties, day)
    roles = [row["role"] for row in rows]
    if PactRole.PROPONENT.value not in roles:
        raise InvalidInputError("a pact proposal needs at least one party with the role 'proponent'")
    record["status"] = PactStatus.PROPOSED.value
    record["parties"] = list(dict.fromkeys(row["party"] for row in rows if row["role"] in SIGNING_ROLES))
    with atlas.transaction(who=who, note=note or "pact proposed") as tx:
        pact_id = tx.add("pacts", [record]).ids[0]
        tx.add("pact_parties", [{**row, "pact": pact_id} for row in rows])
        tx.add("pact_events", [{"pact": pact_id, "kind": "transition", "happened_on": day, "actor": who,
                                "to_status": PactStatus.PROPOSED.value, "note": note,
                                **inherited(tx.get("pacts", pact_id))}])
    return pact_id


def add_party(atlas: Atlas, pact_id: str, party: str, role: str, *, who: str, commitments: str | None = None,
              on: Any = None) -> str:
    """Add a party to a pact in a role, with its commitments; return the ``pact_parties`` id."""
    day = as_day(on if on is not None else dt.date.today(), "on")
    with atlas.transaction(who=who, note=f"party {party} joins pact {pact_id} as {role}") as tx:
        pact = tx.get("pacts", pact_id)
        if pact["status"] in {s.value for s in (PactStatus.ARCHIVED, PactStatus.REJECTED, PactStatus.WITHDRAWN,
                                                 PactStatus.CONCLUDED, PactStatus.EXPIRED,
                                                 PactStatus.TERMINATED_EARLY)}:
            raise InvalidInputError(f"pact {pact_id!r} is {pact['status']}: no party can join it")
        row = _party_rows(pact_id, [{"party": party, "role": role, "commitments": commitments}], day)[0]
        link = tx.add("pact_parties", [row]).ids[0]
        if row["role"] in SIGNING_ROLES and party not in (pact.get("parties") or []):
            tx.update("pacts", pact_id, {"parties": [*(pact.get("parties") or []), party]})
    return link


def signatories(tx: AtlasTransaction, pact_id: str) -> list[str]:
    """Return the ids of the parties that sign ``pact_id`` and have not been excluded."""
    rows = tx.find("pact_parties", "pact", [pact_id])
    return list(dict.fromkeys(r["party"] for r in rows if r["role"] in SIGNING_ROLES and r.get("excluded_on") is None))


def _area(geometry: Any) -> Any:
    """The pact's area for its rights: its polygons, or nothing when it is mapped as a point."""
    if geometry is None or geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    return geometry


_BUNDLE = ("access", "withdrawal", "management", "exclusion", "alienation")


def grant_rights(atlas: Atlas, pact_id: str, *, who: str, rights: Sequence[str] = ("access", "management"),
                 kind: str = "right", to: Sequence[str] | None = None, commons: str | None = None,
                 description: str | None = None) -> list[str]:
    """Record the rights (or responsibilities) a pact grants its signatories; return their ids.

    Parameters
    ----------
    atlas : Atlas
        The atlas holding the pact.
    pact_id : str
        The granting pact.
    who : str
        Who records the grant.
    rights : sequence of str, default ("access", "management")
        The rights of the bundle granted (access, withdrawal, management, exclusion, alienation).
    kind : {"right", "responsibility", "restriction"}, default "right"
        What is granted: a responsibility (e.g. to keep the garden open to all) has no bundle.
    to : sequence of str, optional
        The holders; the pact's signatories (not excluded) by default.
    commons : str, optional
        The commons concerned, if the pact cares for one.
    description : str, optional
        What the right or responsibility is.

    Returns
    -------
    list of str
        Ids of the new ``rights`` records: one per holder, over the pact's area, valid from the
        pact's start to its expiry, with basis ``pact``.
    """
    unknown = sorted(set(rights) - set(_BUNDLE))
    if unknown:
        raise InvalidInputError(f"unknown rights {unknown}; the bundle is {', '.join(_BUNDLE)}")
    with atlas.transaction(who=who, note=f"rights granted by pact {pact_id}") as tx:
        pact = tx.get("pacts", pact_id)
        holders = list(to) if to is not None else signatories(tx, pact_id)
        if not holders:
            raise InvalidInputError(f"pact {pact_id!r} has no signatory to grant rights to; name them with to=[...]")
        bundle = {name: (name in rights) if kind == "right" else None for name in _BUNDLE}
        records = [{"kind": kind, "holder": holder, "commons": commons, **bundle, "basis": "pact", "pact": pact_id,
                    "valid_from": optional_day(pact.get("starts_on")) or optional_day(pact.get("signed_on")),
                    "valid_to": optional_day(pact.get("expires_on")),
                    "description": description or f"{kind} granted by pact {pact.get('title')!r}",
                    "sensitivity": pact.get("sensitivity"), "custodian": pact.get("custodian"),
                    "geometry": _area(pact.get("geometry"))} for holder in holders]
        return tx.add("rights", records).ids
