"""What happens to a pact besides status changes: comments, reports, evaluation, exclusions, disputes.

Each is a record of ``pact_events`` (a log never edited) written in the same transaction as
what it changes, and each is refused, with nothing written, when the pact is not in a status
that allows it: comments only during public notice, reports only once the pact is signed,
evaluations only once it is monitored or ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from commonsmap.days import as_day, optional_day
from commonsmap.errors import InvalidInputError, NotFoundError
from commonsmap.pacts.contents import SIGNING_ROLES
from commonsmap.pacts.effects import end_granted_rights
from commonsmap.pacts.event_privacy import inherited
from commonsmap.vocabularies import PactStatus

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas
    from commonsmap.atlas.writing import AtlasTransaction
    from commonsmap.privacy import Viewer

S = PactStatus
REPORTABLE = frozenset({S.ACTIVE.value, S.MONITORING.value, S.EXTENDED.value, S.SUSPENDED.value,
                        S.CONCLUDED.value, S.EXPIRED.value, S.TERMINATED_EARLY.value})
EVALUABLE = frozenset({S.MONITORING.value, S.EXTENDED.value, S.CONCLUDED.value, S.EXPIRED.value,
                       S.TERMINATED_EARLY.value})
DISPUTABLE = frozenset({S.APPROVED.value, S.ACTIVE.value, S.MONITORING.value, S.EXTENDED.value,
                        S.SUSPENDED.value, S.CONCLUDED.value, S.EXPIRED.value, S.TERMINATED_EARLY.value})


def _day(on: Any) -> dt.date:
    return as_day(on if on is not None else dt.date.today(), "on")


def _require_status(pact: Mapping[str, Any], allowed: frozenset[str], action: str) -> None:
    if pact["status"] not in allowed:
        raise InvalidInputError(f"pact {pact['id']!r} is {pact['status']!r}: {action} only when it is "
                                f"{', '.join(sorted(allowed))}")


def _event(tx: AtlasTransaction, pact_id: str, kind: str, day: dt.date, actor: str, *,
           sensitivity: str | None = None, **fields: Any) -> str:
    privacy = inherited(tx.get("pacts", pact_id), sensitivity)
    return tx.add("pact_events", [{"pact": pact_id, "kind": kind, "happened_on": day, "actor": actor,
                                   **privacy, **fields}]).ids[0]


def _actor(who: str) -> str:
    if not who or not str(who).strip():
        raise InvalidInputError("every pact event must say who records it: who=...")
    return who


def comment(atlas: Atlas, pact_id: str, text: str, *, who: str, party: str | None = None, on: Any = None,
            sensitivity: str | None = None) -> str:
    """Record a comment on a complex pact during its public notice; return the event's id.

    ``party`` is the commenting party's id, if it is one; ``who`` is who records the comment. A
    comment made as a person may be kept at a higher ``sensitivity`` than the public register.

    Raises
    ------
    InvalidInputError
        If the pact is not on public notice, the notice ended before ``on``, or the text is empty.
    """
    day = _day(on)
    if not text or not str(text).strip():
        raise InvalidInputError("a comment needs its text")
    with atlas.transaction(who=_actor(who), note=f"comment on pact {pact_id}") as tx:
        pact = tx.get("pacts", pact_id)
        _require_status(pact, frozenset({S.PUBLIC_NOTICE.value}), "comments are taken")
        until = optional_day(pact.get("notice_until"))
        if until is not None and day > until:
            raise InvalidInputError(f"the public notice of pact {pact_id!r} ended on {until}; a comment made on "
                                    f"{day} is too late")
        return _event(tx, pact_id, "comment", day, who, party=party, note=text, sensitivity=sensitivity)


def report(atlas: Atlas, pact_id: str, values: Mapping[str, Any], *, who: str, period_from: Any, period_to: Any,
           party: str | None = None, note: str | None = None, on: Any = None) -> str:
    """Record a periodic report with the values of the pact's monitoring indicators; return its id.

    Parameters
    ----------
    atlas : Atlas
        The atlas holding the pact.
    pact_id : str
        The pact reported on; it must be signed (in force, suspended or ended).
    values : mapping
        ``{indicator: value}``; every indicator must be one of the pact's ``indicators``.
    who : str
        Who records the report.
    period_from, period_to : date
        The period the report covers.
    party : str, optional
        The reporting party.
    note : str, optional
        The report's narrative.
    on : date, optional
        When the report was made; today by default.
    """
    day, start, end = _day(on), as_day(period_from, "period_from"), as_day(period_to, "period_to")
    if end < start:
        raise InvalidInputError(f"the report's period ends ({end}) before it starts ({start})")
    if not values:
        raise InvalidInputError("a report needs at least one indicator value")
    with atlas.transaction(who=_actor(who), note=f"report on pact {pact_id}") as tx:
        pact = tx.get("pacts", pact_id)
        _require_status(pact, REPORTABLE, "reports are made")
        known = list(pact.get("indicators") or [])
        strangers = sorted(set(values) - set(known))
        if strangers:
            raise InvalidInputError(f"indicators {strangers} are not in the monitoring plan of pact {pact_id!r} "
                                    f"(its indicators: {', '.join(known) or 'none'})")
        return _event(tx, pact_id, "report", day, who, party=party, values=dict(values), period_from=start,
                      period_to=end, note=note)


def evaluate(atlas: Atlas, pact_id: str, outcome: str, *, who: str, note: str | None = None,
             decision_ref: str | None = None, on: Any = None) -> str:
    """Record the evaluation of a pact's results (once monitored or ended); return the event's id."""
    day = _day(on)
    if not outcome or not str(outcome).strip():
        raise InvalidInputError("an evaluation needs its outcome")
    with atlas.transaction(who=_actor(who), note=f"evaluation of pact {pact_id}") as tx:
        pact = tx.get("pacts", pact_id)
        _require_status(pact, EVALUABLE, "evaluations are made")
        return _event(tx, pact_id, "evaluation", day, who, outcome=outcome, note=note, decision_ref=decision_ref)


def exclude_party(atlas: Atlas, pact_id: str, party: str, reason: str, *, who: str, on: Any = None,
                  decision_ref: str | None = None) -> str:
    """Exclude a party from a pact for ``reason``; end the rights the pact gave it; return the event's id.

    Raises
    ------
    InvalidInputError
        If no reason is given, the party is the administration, or it would leave the pact
        without any signatory.
    NotFoundError
        If the party is not a current party of the pact.
    """
    day = _day(on)
    if not reason or not str(reason).strip():
        raise InvalidInputError("excluding a party needs its reason")
    with atlas.transaction(who=_actor(who), note=f"party {party} excluded from pact {pact_id}") as tx:
        pact = tx.get("pacts", pact_id)
        rows = [r for r in tx.find("pact_parties", "pact", [pact_id]) if r.get("excluded_on") is None]
        own = [r for r in rows if r["party"] == party]
        if not own:
            raise NotFoundError(f"party {party!r} is not a current party of pact {pact_id!r}")
        if any(r["role"] == "administration" for r in own):
            raise InvalidInputError("the administration cannot be excluded from its own pact")
        remaining = {r["party"] for r in rows if r["role"] in SIGNING_ROLES and r["party"] != party}
        if any(r["role"] in SIGNING_ROLES for r in own) and not remaining and pact["status"] != S.SUSPENDED.value:
            raise InvalidInputError(f"excluding {party!r} would leave pact {pact_id!r} without signatories; "
                                    "suspend or terminate the pact instead")
        for row in own:
            tx.update("pact_parties", row["id"], {"excluded_on": day, "exclusion_reason": reason})
        if party in (pact.get("parties") or []):
            tx.update("pacts", pact_id, {"parties": [p for p in pact["parties"] if p != party]})
        end_granted_rights(tx, pact_id, day, holder=party)
        return _event(tx, pact_id, "exclusion", day, who, party=party, note=reason, decision_ref=decision_ref)


def open_pact_dispute(atlas: Atlas, pact_id: str, title: str, *, parties: list[str], who: str,
                      forum: str = "conciliation_committee", on: Any = None) -> str:
    """Open a dispute about a pact (layer ``disputes``) and log it with the pact; return the dispute's id.

    The forum is the conciliation committee the regulation provides, unless told otherwise.
    """
    day = _day(on)
    with atlas.transaction(who=_actor(who), note=f"dispute on pact {pact_id}") as tx:
        pact = tx.get("pacts", pact_id)
        _require_status(pact, DISPUTABLE, "disputes are opened")
        dispute = tx.add("disputes", [{"title": title, "subjects": [f"pacts/{pact_id}"], "parties": parties,
                                       "forum": forum, "status": "open", "opened_on": day,
                                       "sensitivity": pact.get("sensitivity")}]).ids[0]
        _event(tx, pact_id, "dispute", day, who, dispute=dispute, note=title)
        return dispute


def settle_pact_dispute(atlas: Atlas, dispute_id: str, outcome: str, *, who: str, status: str = "resolved",
                        on: Any = None) -> str:
    """Record the outcome of a dispute about a pact and close it; return the event's id."""
    day = _day(on)
    if not outcome or not str(outcome).strip():
        raise InvalidInputError("a dispute's settlement needs its outcome")
    with atlas.transaction(who=_actor(who), note=f"dispute {dispute_id} settled") as tx:
        dispute = tx.get("disputes", dispute_id)
        pacts = [s.split("/", 1)[1] for s in (dispute.get("subjects") or []) if str(s).startswith("pacts/")]
        if not pacts:
            raise InvalidInputError(f"dispute {dispute_id!r} is not about a pact")
        tx.update("disputes", dispute_id, {"status": status, "closed_on": day, "outcome": outcome})
        return _event(tx, pacts[0], "dispute_outcome", day, who, dispute=dispute_id, outcome=outcome)


def pact_events(atlas: Atlas, pact_id: str, *, viewer: Viewer | None = None) -> pd.DataFrame:
    """Return the events of a pact that ``viewer`` may see, in the order they happened."""
    visible = atlas.layer("pacts", viewer=viewer)
    if pact_id not in set(visible["id"]):
        raise NotFoundError(f"no feature {pact_id!r} in layer 'pacts'")
    events = atlas.layer("pact_events", viewer=viewer)
    events = events[events["pact"] == pact_id]
    return events.sort_values(["happened_on", "created"], kind="stable").reset_index(drop=True)
