"""What is due on which pact, and when: answers, ends of public notice, expiries, renewals, reports.

:func:`due` lists every deadline falling before a horizon (30 days from today by default),
overdue ones included, so that an office sees at once what to answer, publish, renew or chase:

===================  =======================================================  ===========================
kind                 due on                                                   for pacts that are
===================  =======================================================  ===========================
``answer_due``       ``answer_due``: the administration's answer in review,   under_review,
                     the proponent's integration when it is asked for         awaiting_integration
``notice_ends``      ``notice_until``: the end of public notice                public_notice
``expiry``           ``expires_on``                                           in force or suspended
``renewal_request``  ``expires_on`` − ``renewal_notice_days``, when the pact  in force
                     is renewable on request or after evaluation
``report_due``       the last report's ``period_to`` (or, before any report,  in force
                     ``starts_on``, else ``signed_on``) + ``report_every_months``
===================  =======================================================  ===========================

A deadline stays listed, with negative ``days_left``, until what it waits for happens: the status
changes, the pact is extended, a report covering a later period is recorded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from commonsmap.errors import InvalidInputError
from commonsmap.pacts.lifecycle import IN_FORCE, SIGNED, add_months, as_day, optional_day
from commonsmap.pacts.queries import visible
from commonsmap.vocabularies import PactStatus, RenewalRule

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas
    from commonsmap.privacy import Viewer

S = PactStatus
DEADLINE_KINDS = ("answer_due", "notice_ends", "expiry", "renewal_request", "report_due")
"""The kinds of deadline :func:`due` reports."""

DUE_COLUMNS = ["due", "days_left", "kind", "pact", "title", "status", "detail"]
"""The columns of :func:`due`'s table."""

_RENEWABLE = frozenset({RenewalRule.ON_REQUEST.value, RenewalRule.AFTER_EVALUATION.value})
_WITHIN = re.compile(r"^\s*(\d+)\s*([dwmy]?)\s*$", re.IGNORECASE)


def parse_within(text: str | int | dt.timedelta, today: Any = None) -> dt.timedelta:
    """Read a horizon such as ``"30d"``, ``"2w"``, ``"3m"`` or ``"1y"`` (a bare number is days).

    Months and years are calendar months and years from ``today`` (today's date by default),
    so ``"1m"`` from 31 January reaches the last day of February.

    Examples
    --------
    >>> parse_within("2w").days
    14
    >>> parse_within("1m", today="2026-01-31").days
    28
    """
    if isinstance(text, dt.timedelta):
        return text
    if isinstance(text, int) and not isinstance(text, bool):
        return dt.timedelta(days=text)
    match = _WITHIN.match(str(text))
    if match is None:
        raise InvalidInputError(f"{text!r} is not a horizon: use a number of days, weeks, months or years, "
                                "e.g. 30d, 2w, 3m, 1y")
    number, unit = int(match.group(1)), match.group(2).lower() or "d"
    if unit == "d":
        return dt.timedelta(days=number)
    if unit == "w":
        return dt.timedelta(weeks=number)
    start = as_day(today if today is not None else dt.date.today(), "today")
    return add_months(start, number * (12 if unit == "y" else 1)) - start


def _deadline(pact: Mapping[Any, Any], kind: str, day: dt.date, detail: str) -> dict[str, Any]:
    return {"due": day, "kind": kind, "pact": pact["id"], "title": pact["title"], "status": pact["status"],
            "detail": detail}


def _last_reports(atlas: Atlas, viewer: Viewer | None) -> dict[str, dt.date]:
    """The end of the latest period reported on, for each pact with reports."""
    events = visible(atlas, "pact_events", viewer)
    reports = events[events["kind"] == "report"]
    ends: dict[str, dt.date] = {}
    for pact, period_to, happened in zip(reports["pact"], reports["period_to"], reports["happened_on"], strict=True):
        end = optional_day(period_to) or optional_day(happened)
        if end is not None and (pact not in ends or end > ends[pact]):
            ends[pact] = end
    return ends


def _count(value: Any) -> int | None:
    if value is None or pd.isna(value):
        return None
    return int(value)


def deadlines_of(pact: Mapping[Any, Any], last_report: dt.date | None = None) -> list[dict[str, Any]]:
    """Every pending deadline of one pact (a dict of its fields), whenever it falls."""
    status = pact["status"]
    found: list[dict[str, Any]] = []
    answer = optional_day(pact.get("answer_due"))
    if answer is not None and status == S.UNDER_REVIEW.value:
        found.append(_deadline(pact, "answer_due", answer, "the administration's answer"))
    elif answer is not None and status == S.AWAITING_INTEGRATION.value:
        found.append(_deadline(pact, "answer_due", answer, "the proponent's integration"))
    notice = optional_day(pact.get("notice_until"))
    if notice is not None and status == S.PUBLIC_NOTICE.value:
        found.append(_deadline(pact, "notice_ends", notice, "end of public notice and comments"))
    expires = optional_day(pact.get("expires_on"))
    in_force = status in {s.value for s in IN_FORCE}
    if expires is not None and status in {s.value for s in SIGNED}:
        renewal = pact.get("renewal")
        found.append(_deadline(pact, "expiry", expires, f"renewal: {renewal}" if isinstance(renewal, str)
                               else "renewal rule not stated"))
        notice_days = _count(pact.get("renewal_notice_days"))
        if in_force and renewal in _RENEWABLE and notice_days is not None:
            found.append(_deadline(pact, "renewal_request", expires - dt.timedelta(days=notice_days),
                                   f"{notice_days} days before expiry on {expires.isoformat()} ({renewal})"))
    every = _count(pact.get("report_every_months"))
    if in_force and every is not None:
        start = last_report or optional_day(pact.get("starts_on")) or optional_day(pact.get("signed_on"))
        if start is not None:
            since = f"last report to {last_report}" if last_report else f"no report yet, from {start}"
            found.append(_deadline(pact, "report_due", add_months(start, every), f"every {every} months; {since}"))
    return found


def due(atlas: Atlas, *, within: dt.timedelta | str | int = dt.timedelta(days=30), today: Any = None,
        viewer: Viewer | None = None) -> pd.DataFrame:
    """List the pacts' deadlines up to ``within`` from ``today``, overdue ones included, soonest first.

    Parameters
    ----------
    atlas : Atlas
        The atlas.
    within : timedelta, str or int, default 30 days
        How far ahead to look: a timedelta, a number of days, or text such as ``"30d"``,
        ``"2w"``, ``"3m"`` (see :func:`parse_within`).
    today : date, optional
        The day to count from; today by default.
    viewer : Viewer, optional
        Whose view: only the pacts (and reports) it may see whole. Everything by default.

    Returns
    -------
    DataFrame
        :data:`DUE_COLUMNS`: ``due`` (a date), ``days_left`` (negative when overdue), ``kind``
        (one of :data:`DEADLINE_KINDS`), the ``pact``'s id, ``title`` and ``status``, and a
        ``detail`` saying whose answer is due, the renewal rule or the reporting period.
    """
    day = as_day(today if today is not None else dt.date.today(), "today")
    horizon = day + parse_within(within, day)
    pacts = visible(atlas, "pacts", viewer)
    reports = _last_reports(atlas, viewer)
    rows = []
    columns = ["id", "title", "status", "answer_due", "notice_until", "expires_on", "renewal", "renewal_notice_days",
               "report_every_months", "starts_on", "signed_on"]
    for pact in pd.DataFrame(pacts[columns]).to_dict("records"):
        rows += [d for d in deadlines_of(pact, reports.get(pact["id"])) if d["due"] <= horizon]
    table = pd.DataFrame(rows, columns=[c for c in DUE_COLUMNS if c != "days_left"])
    table.insert(1, "days_left", pd.Series([(d - day).days for d in table["due"]], index=table.index, dtype=int))
    table["kind_order"] = table["kind"].map(DEADLINE_KINDS.index)
    table = table.sort_values(["due", "kind_order", "title", "pact"], kind="stable").drop(columns="kind_order")
    return table.reset_index(drop=True)
