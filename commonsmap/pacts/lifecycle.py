"""The lifecycle of a collaboration pact: which status may follow which, and the one way to change it.

::

    proposed → under_review ⇄ awaiting_integration
    under_review → public_notice (complex pacts only, and always for them) → co_design
    under_review → co_design | approved (ordinary pacts)
    co_design → approved → active ⇄ monitoring, active | monitoring → extended → monitoring
    active | monitoring | extended → concluded | expired | suspended | terminated_early
    suspended → active | terminated_early
    side exits: rejected, withdrawn (before signing); archived (after any end, or a lapsed proposal)

:func:`transition` is the only way to change a pact's status (the atlas refuses any other
change of it). Each change is checked against :data:`TRANSITIONS`, written with the pact in one
transaction together with a ``pact_events`` record of who, when, a note and the decision
reference, and keeps the pact's dates, its granted rights and its parcels' designation in step.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from typing import TYPE_CHECKING, Any

import pandas as pd

from commonsmap.days import add_months, as_day, optional_day
from commonsmap.errors import InvalidInputError
from commonsmap.pacts.event_privacy import inherited
from commonsmap.vocabularies import PactStatus, PactType

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas
    from commonsmap.atlas.writing import AtlasTransaction

S = PactStatus

TRANSITIONS: dict[PactStatus, frozenset[PactStatus]] = {
    S.PROPOSED: frozenset({S.UNDER_REVIEW, S.WITHDRAWN, S.REJECTED, S.ARCHIVED}),
    S.UNDER_REVIEW: frozenset({S.AWAITING_INTEGRATION, S.PUBLIC_NOTICE, S.CO_DESIGN, S.APPROVED, S.REJECTED,
                               S.WITHDRAWN, S.ARCHIVED}),
    S.AWAITING_INTEGRATION: frozenset({S.UNDER_REVIEW, S.REJECTED, S.WITHDRAWN, S.ARCHIVED}),
    S.PUBLIC_NOTICE: frozenset({S.CO_DESIGN, S.REJECTED, S.WITHDRAWN}),
    S.CO_DESIGN: frozenset({S.APPROVED, S.AWAITING_INTEGRATION, S.REJECTED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.ACTIVE, S.WITHDRAWN}),
    S.ACTIVE: frozenset({S.MONITORING, S.EXTENDED, S.CONCLUDED, S.EXPIRED, S.SUSPENDED, S.TERMINATED_EARLY}),
    S.MONITORING: frozenset({S.ACTIVE, S.EXTENDED, S.CONCLUDED, S.EXPIRED, S.SUSPENDED, S.TERMINATED_EARLY}),
    S.EXTENDED: frozenset({S.MONITORING, S.CONCLUDED, S.EXPIRED, S.SUSPENDED, S.TERMINATED_EARLY}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.TERMINATED_EARLY}),
    S.CONCLUDED: frozenset({S.ARCHIVED}),
    S.EXPIRED: frozenset({S.ARCHIVED}),
    S.TERMINATED_EARLY: frozenset({S.ARCHIVED}),
    S.REJECTED: frozenset({S.ARCHIVED}),
    S.WITHDRAWN: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}
"""Every status a pact may move to from each status (before the complex/ordinary rule)."""

IN_FORCE = frozenset({S.ACTIVE, S.MONITORING, S.EXTENDED})
"""Statuses in which a signed pact has effect: its rights apply and its parcels are under pact."""

SIGNED = IN_FORCE | {S.SUSPENDED}
ENDED = frozenset({S.CONCLUDED, S.EXPIRED, S.TERMINATED_EARLY, S.REJECTED, S.WITHDRAWN, S.ARCHIVED})

ANSWER_DAYS = 30
"""Days given for an answer: the administration's in review, the proponent's when integration is asked."""
NOTICE_DAYS = 15
"""Days a complex pact stays on public notice for comments, unless told otherwise."""


class TransitionError(InvalidInputError):
    """A status change the lifecycle does not allow; nothing was written."""

    code = "forbidden-transition"


def allowed_next(status: str, pact_type: str | None = None) -> list[str]:
    """Return the statuses a pact of ``pact_type`` may move to from ``status``, sorted.

    Complex pacts must pass through public notice after review; ordinary pacts never do.

    Examples
    --------
    >>> allowed_next("approved")
    ['active', 'withdrawn']
    >>> "public_notice" in allowed_next("under_review", "ordinary")
    False
    """
    current = S.parse(status)
    following = set(TRANSITIONS[current])
    if current is S.UNDER_REVIEW:
        if pact_type is not None and PactType.parse(pact_type) is PactType.COMPLEX:
            following -= {S.CO_DESIGN, S.APPROVED}
        else:
            following.discard(S.PUBLIC_NOTICE)
    return sorted(term.value for term in following)


def lifecycle_path(start: str, end: str, pact_type: str | None = None) -> list[str] | None:
    """Return the shortest chain of allowed statuses leading from ``start`` to ``end``.

    The chain excludes ``start`` and includes ``end``; it is empty when they are equal and
    ``None`` when the lifecycle offers no way. Register imports use it to record what must have
    happened between two snapshots.

    Examples
    --------
    >>> lifecycle_path("under_review", "active", "ordinary")
    ['approved', 'active']
    >>> lifecycle_path("active", "under_review") is None
    True
    """
    first, last = S.parse(start).value, S.parse(end).value
    came_from: dict[str, str | None] = {first: None}
    queue = deque([first])
    while queue:
        status = queue.popleft()
        if status == last:
            chain = []
            while came_from[status] is not None:
                chain.append(status)
                status = came_from[status]
            return chain[::-1]
        for following in allowed_next(status, pact_type):
            if following not in came_from:
                came_from[following] = status
                queue.append(following)
    return None


def _dates_for(pact: dict[str, Any], to: PactStatus, day: dt.date, until: Any) -> dict[str, Any]:
    """The pact's dates that entering ``to`` on ``day`` sets."""
    changes: dict[str, Any] = {}
    if to in (S.UNDER_REVIEW, S.AWAITING_INTEGRATION):
        changes["answer_due"] = as_day(until, "until") if until is not None else day + dt.timedelta(ANSWER_DAYS)
    elif to is S.PUBLIC_NOTICE:
        changes["notice_until"] = as_day(until, "until") if until is not None else day + dt.timedelta(NOTICE_DAYS)
        changes["answer_due"] = None
    elif to is S.ACTIVE and optional_day(pact.get("signed_on")) is None:
        starts = optional_day(pact.get("starts_on")) or day
        changes.update(signed_on=day, starts_on=starts, answer_due=None)
        months = pact.get("duration_months")
        if optional_day(pact.get("expires_on")) is None and months is not None and not pd.isna(months):
            changes["expires_on"] = add_months(starts, int(months))
    elif to is S.EXTENDED:
        if until is None:
            raise TransitionError("extending a pact needs its new expiry date: until=...")
        new_end = as_day(until, "until")
        old_end = optional_day(pact.get("expires_on"))
        if old_end is not None and new_end <= old_end:
            raise TransitionError(f"an extension must end after the current expiry {old_end}, not on {new_end}")
        changes["expires_on"] = new_end
    elif to in (S.REJECTED, S.WITHDRAWN, S.APPROVED, S.CO_DESIGN):
        changes["answer_due"] = None
    if to in (S.CONCLUDED, S.TERMINATED_EARLY) and (optional_day(pact.get("expires_on")) or day) > day:
        changes["expires_on"] = day
    return changes


def check_transition(pact: dict[str, Any], to: str) -> PactStatus:
    """Return the target status if ``pact`` may move to it, or raise :class:`TransitionError`."""
    try:
        target = S.parse(to)
    except (ValueError, KeyError) as exc:
        raise TransitionError(f"{to!r} is not a pact status; statuses: {', '.join(S.codes())}") from exc
    current = str(pact["status"])
    following = allowed_next(current, pact.get("pact_type"))
    if target.value not in following:
        kind = pact.get("pact_type") or "ordinary"
        options = ", ".join(following) if following else "none: it is final"
        raise TransitionError(f"pact {pact['id']!r} ({kind}) cannot go from {current!r} to {target.value!r}; "
                              f"from {current!r} it may go to: {options}")
    return target


def apply_status(tx: AtlasTransaction, pact: dict[str, Any], to: PactStatus, *, day: dt.date, actor: str,
                 kind: str = "transition", note: str | None = None, decision_ref: str | None = None,
                 until: Any = None, expected_version: int | None = None,
                 extra: dict[str, Any] | None = None, event_fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write one status change of ``pact`` inside ``tx``, with its event; return the new pact.

    No check is made here: :func:`transition` checks the lifecycle, register imports record the
    register's own corrections. ``extra`` are more changes to the pact, ``event_fields`` more
    fields of the event (e.g. its ``dataset``).
    """
    from commonsmap.pacts.effects import follow_status

    changes = {"status": to.value, **_dates_for(pact, to, day, until), **(extra or {})}
    updated = tx.update("pacts", pact["id"], changes, expected_version=expected_version, workflow=True)
    tx.add("pact_events", [{"pact": pact["id"], "kind": kind, "happened_on": day, "actor": actor,
                            "from_status": pact["status"], "to_status": to.value, "note": note,
                            "decision_ref": decision_ref, **inherited(updated), **(event_fields or {})}])
    follow_status(tx, updated, previous=S.parse(str(pact["status"])), day=day)
    return updated


def _check_order(tx: AtlasTransaction, pact_id: str, day: dt.date) -> None:
    """Refuse a change dated before the pact's last recorded change: the log stays in order."""
    changes = [optional_day(e["happened_on"]) for e in tx.find("pact_events", "pact", [pact_id])
               if e["kind"] in ("transition", "correction")]
    last = max((d for d in changes if d is not None), default=None)
    if last is not None and day < last:
        raise TransitionError(f"pact {pact_id!r} last changed status on {last}; a change dated {day} would come "
                              "before it")


def transition(atlas: Atlas, pact_id: str, to: str, *, who: str, on: Any = None, note: str | None = None,
               decision_ref: str | None = None, until: Any = None,
               expected_version: int | None = None) -> dict[str, Any]:
    """Move a pact to status ``to``, if the lifecycle allows it; return the updated pact.

    Parameters
    ----------
    atlas : Atlas
        The atlas holding the pact.
    pact_id : str
        The pact's id.
    to : str
        The new status (a code or a label in any language).
    who : str
        Who makes the change: recorded in the pact's events and in the atlas history.
    on : date, optional
        When the change happened; today by default.
    note : str, optional
        Why, or anything worth keeping with the change.
    decision_ref : str, optional
        The reference of the act that decided it (protocol number, resolution).
    until : date, optional
        The due date the new status sets: the new expiry for ``extended`` (required), the end of
        public notice for ``public_notice``, the answer due date for ``under_review`` and
        ``awaiting_integration`` (:data:`ANSWER_DAYS` and :data:`NOTICE_DAYS` by default).
    expected_version : int, optional
        The pact version the caller last saw; a newer one raises ``VersionConflictError``.

    Returns
    -------
    dict
        The pact after the change.

    Raises
    ------
    TransitionError
        If the lifecycle does not allow the change; the message lists the allowed ones.
    NotFoundError
        If there is no such pact.

    Notes
    -----
    Entering ``active`` sets ``signed_on`` (and ``expires_on`` from ``duration_months``);
    entering a status in force marks the pact's parcels ``under_pact``; leaving force ends the
    rights the pact granted (``concluded``, ``expired``, ``terminated_early``) and gives back
    parcels no other pact in force covers to ``designated``.
    """
    if not who or not str(who).strip():
        raise InvalidInputError("a status change must say who makes it: who=...")
    day = as_day(on if on is not None else dt.date.today(), "on")
    with atlas.transaction(who=who, note=note or f"pact status → {to}") as tx:
        pact = tx.get("pacts", pact_id)
        target = check_transition(pact, to)
        _check_order(tx, pact_id, day)
        return apply_status(tx, pact, target, day=day, actor=who, note=note, decision_ref=decision_ref,
                            until=until, expected_version=expected_version)
