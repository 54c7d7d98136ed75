"""Shared machinery of register imports: match a snapshot's rows to pacts, write what changed, in one transaction.

A city publishes its register of pacts as snapshots (a CSV, a GeoJSON). A reader
(:mod:`~commonsmap.pacts.registers.palermo`, :mod:`~commonsmap.pacts.registers.paris`) turns
one snapshot into :class:`RegisterRecord` objects; :func:`apply_snapshot` matches them to the
atlas's pacts by ``(register_name, register_id)`` and writes, in one atlas transaction (a
failure leaves the atlas as it was):

* a new pact with the register's status, its parties and one ``transition`` event recording
  the import (no previous status);
* changed attributes as an update. A snapshot speaks only for the columns it has: a column it
  lacks leaves the atlas's value alone, a blank cell clears it. Source columns the catalogue
  does not name are kept verbatim in the pact's ``extra``;
* a changed status X → Y as lifecycle events dated on the snapshot (or on the row's own date,
  e.g. a garden's closing date): one ``transition`` per step of
  :func:`~commonsmap.pacts.lifecycle.lifecycle_path` when the lifecycle has a way from X to Y,
  otherwise one ``correction`` event: the register changed it outside the lifecycle;
* the parties the register names (created once per distinct name, matched without regard to
  case or spacing), linked in ``pact_parties``. When the register names someone else in a role,
  the links it made for that role follow; a blank name changes nothing;
* cells withheld from the public record (a natural person's name) in one ``sources`` record per
  pact at :data:`WITHHELD_SENSITIVITY`.

Pacts absent from a snapshot are reported as missing, never deleted. Importing the same
snapshot twice writes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from commonsmap.errors import InvalidInputError, NotFoundError, Problem
from commonsmap.pacts.contents import SIGNING_ROLES, signatories
from commonsmap.pacts.event_privacy import inherited
from commonsmap.pacts.lifecycle import apply_status, as_day, lifecycle_path, optional_day
from commonsmap.vocabularies import PactStatus

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas
    from commonsmap.atlas.store import Row
    from commonsmap.atlas.writing import AtlasTransaction

WITHHELD_SENSITIVITY: Final = "community"
"""Sensitivity of the ``sources`` records holding withheld cells: members of the custodian party only."""

STATUS_KINDS: Final = frozenset({"transition", "correction"})


@dataclass(frozen=True)
class PartyRef:
    """A party a register names for a pact: its name, kind (``party_kind``) and role (``pact_role``)."""

    name: str
    kind: str
    role: str
    notes: str | None = None


@dataclass
class RegisterRecord:
    """One row of a register snapshot, in the atlas's terms.

    Attributes
    ----------
    register_id : str
        The pact's id in the register.
    row : int
        The row's position in the file (0-based), for messages.
    status : str
        The pact status code the register's status maps to.
    fields : dict
        The ``pacts`` fields the row speaks for (``geometry`` in EPSG:4326); a field is left out
        when the snapshot lacks its column.
    cells : dict
        Source cells kept verbatim in ``extra``: column → value, ``None`` for a blank cell.
    parties : list of PartyRef
        The parties the row names.
    withheld : dict
        Cells kept off the public record (column → value, ``None`` for blank).
    status_on : date, optional
        When the row's status began, if the register says; the snapshot date otherwise.
    """

    register_id: str
    row: int
    status: str
    fields: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, Any] = field(default_factory=dict)
    parties: list[PartyRef] = field(default_factory=list)
    withheld: dict[str, Any] = field(default_factory=dict)
    status_on: dt.date | None = None


@dataclass
class Snapshot:
    """A register snapshot read from a file: its records and the problems that did not stop it."""

    register: str
    source: str
    records: list[RegisterRecord]
    problems: list[Problem] = field(default_factory=list)


@dataclass
class RegisterImport:
    """What importing a snapshot did.

    ``added``, ``updated``, ``unchanged`` and ``missing`` are atlas ids of pacts: ``updated``
    counts any change (attributes, status, parties, withheld cells); ``missing`` are the
    register's pacts in the atlas that this snapshot does not list (they are kept as they are).
    ``transitions`` and ``corrections`` are ids of the ``pact_events`` written (the import
    record of a new pact is a transition); ``problems`` are the rows skipped or only partly
    understood.
    """

    register: str
    snapshot_date: dt.date
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    transitions: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        """One line per kind of outcome, for people."""
        lines = [f"{self.register}, snapshot of {self.snapshot_date}: {len(self.added)} added, "
                 f"{len(self.updated)} updated, {len(self.unchanged)} unchanged, {len(self.missing)} missing; "
                 f"{len(self.transitions)} transition and {len(self.corrections)} correction events"]
        return "\n".join(lines + [f"  problem: {p}" for p in self.problems])


def text(value: Any) -> str | None:
    """Return a cell as stripped text, or ``None`` when it is missing or blank."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    stripped = str(value).strip()
    return stripped or None


def name_key(name: str) -> str:
    """Return the key names are matched on: case-folded, runs of spaces made one."""
    return " ".join(name.split()).casefold()


def snapshot_day(path: Path, given: Any = None) -> dt.date:
    """Return the snapshot's date: ``given``, else a ``YYYY-MM-DD`` in the file name, else today."""
    if given is not None:
        return as_day(given, "snapshot_date")
    found = re.search(r"\d{4}-\d{2}-\d{2}", path.stem)
    return as_day(found.group(0), "snapshot date in the file name") if found else dt.date.today()


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, BaseGeometry):
        return value.is_empty
    if isinstance(value, list | tuple | dict | set):
        return len(value) == 0
    return bool(pd.isna(value))


def same(current: Any, wanted: Any) -> bool:
    """Whether a stored value already says what the register says."""
    if _missing(current) or _missing(wanted):
        return _missing(current) and _missing(wanted)
    if isinstance(wanted, BaseGeometry):
        return isinstance(current, BaseGeometry) and current.equals_exact(wanted, 1e-9)
    if isinstance(wanted, dt.date):
        return optional_day(current) == wanted
    if isinstance(wanted, float):
        return math.isclose(float(current), wanted)
    return bool(current == wanted)


def merged_extra(current: Any, cells: dict[str, Any]) -> dict[str, Any]:
    """Return ``current`` extra attributes updated with ``cells`` (a blank cell removes its key)."""
    extra = dict(current) if isinstance(current, dict) else {}
    for column, value in cells.items():
        if value is None:
            extra.pop(column, None)
        else:
            extra[column] = value
    return extra


def _check_ids(snapshot: Snapshot) -> None:
    rows: dict[str, list[int]] = defaultdict(list)
    for record in snapshot.records:
        rows[record.register_id].append(record.row)
    problems = [Problem(f"id {rid!r} appears on several rows ({', '.join(map(str, where))})", row=where[1])
                for rid, where in rows.items() if len(where) > 1]
    if problems:
        raise InvalidInputError(problems, source=snapshot.source)


def _to_atlas_crs(records: list[RegisterRecord], crs: Any) -> None:
    located = [r for r in records if r.fields.get("geometry") is not None]
    if not located:
        return
    series = gpd.GeoSeries([r.fields["geometry"] for r in located], crs="EPSG:4326")
    if not series.crs.equals(crs):
        series = series.to_crs(crs)
    for record, geometry in zip(located, series, strict=True):
        record.fields["geometry"] = geometry


class _Writer:
    """Writes one snapshot inside one transaction, collecting what it did."""

    def __init__(self, tx: AtlasTransaction, snapshot: Snapshot, result: RegisterImport, *, who: str,
                 dataset: str | None, crs: Any) -> None:
        self.tx, self.snapshot, self.result, self.who, self.dataset, self.crs = tx, snapshot, result, who, dataset, crs
        self.register = snapshot.register
        self.party_ids: dict[str, str] = {}

    # -- parties ------------------------------------------------------------------------------
    def ensure_parties(self, known: dict[str, str]) -> None:
        """Map every party the snapshot names to an id, adding the parties the atlas lacks."""
        self.party_ids = dict(known)
        new: dict[str, PartyRef] = {}
        for record in self.snapshot.records:
            for party in record.parties:
                key = name_key(party.name)
                if key not in self.party_ids and key not in new:
                    new[key] = party
        if new:
            rows = [{"name": p.name, "kind": p.kind, "notes": p.notes, "dataset": self.dataset} for p in new.values()]
            ids = self.tx.add("parties", rows).ids
            self.party_ids.update(zip(new, ids, strict=True))

    def wanted_links(self, record: RegisterRecord) -> list[tuple[str, str]]:
        return list(dict.fromkeys((self.party_ids[name_key(p.name)], p.role) for p in record.parties))

    def link_rows(self, pact_id: str, links: list[tuple[str, str]], day: dt.date) -> list[dict[str, Any]]:
        return [{"pact": pact_id, "party": party, "role": role, "joined_on": day, "dataset": self.dataset,
                 "extra": {"register_name": self.register}} for party, role in links]

    def sync_links(self, pact_id: str, record: RegisterRecord, links: list[Row], day: dt.date) -> bool:
        """Make the links this register made follow the parties it now names; return whether any changed.

        For each role the row names: a party not yet linked in that role takes over a link this
        register made for someone it no longer names, or gets a new link; this register's links
        to parties it no longer names in that role are removed. Links made by hand, and excluded
        parties, are left alone.
        """
        ours = [link for link in links if (link.get("extra") or {}).get("register_name") == self.register
                and link.get("excluded_on") is None]
        present = {(link["party"], link["role"]) for link in links}  # an exclusion stands: never linked again
        wanted = self.wanted_links(record)
        changed = False
        for role in dict.fromkeys(role for _, role in wanted):
            want = [party for party, r in wanted if r == role]
            spare = [link for link in ours if link["role"] == role and link["party"] not in want]
            for party in [p for p in want if (p, role) not in present]:
                if spare:
                    self.tx.update("pact_parties", spare.pop(0)["id"], {"party": party})
                else:
                    self.tx.add("pact_parties", self.link_rows(pact_id, [(party, role)], day))
                changed = True
            for link in spare:
                self.tx.delete("pact_parties", link["id"])
                changed = True
        return changed

    # -- new pacts ----------------------------------------------------------------------------
    def add_pacts(self, records: list[RegisterRecord], day: dt.date) -> None:
        if not records:
            return
        rows, geometries = [], []
        for record in records:
            attributes = {k: v for k, v in record.fields.items() if k != "geometry"}
            signing = [party for party, role in self.wanted_links(record) if role in SIGNING_ROLES]
            rows.append({**attributes, "status": record.status, "register_name": self.register,
                         "register_id": record.register_id, "parties": list(dict.fromkeys(signing)) or None,
                         "extra": merged_extra(None, record.cells) or None, "dataset": self.dataset})
            geometries.append(record.fields.get("geometry"))
        frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geometries, crs=self.crs)
        ids = self.tx.add("pacts", frame).ids
        links = [row for pact_id, record in zip(ids, records, strict=True)
                 for row in self.link_rows(pact_id, self.wanted_links(record), day)]
        if links:
            self.tx.add("pact_parties", links)
        events = [{"pact": pact_id, "kind": "transition", "happened_on": day, "actor": self.who,
                   "to_status": record.status, "dataset": self.dataset,
                   **inherited({**record.fields, "parties": row["parties"]}),
                   "note": f"imported from the register {self.register}, snapshot of {day} "
                           f"({self.snapshot.source}); status there: {record.fields.get('register_status')!r}"}
                  for pact_id, record, row in zip(ids, records, rows, strict=True)]
        self.result.transitions.extend(self.tx.add("pact_events", events).ids)
        self.result.added.extend(ids)

    # -- known pacts --------------------------------------------------------------------------
    def update_pact(self, current: Row, record: RegisterRecord, links: list[Row], events: list[Row],
                    day: dt.date) -> bool:
        """Bring one known pact in step with its row; return whether anything changed."""
        changes = {name: value for name, value in record.fields.items() if not same(current.get(name), value)}
        extra = merged_extra(current.get("extra"), record.cells)
        if not same(current.get("extra"), extra):
            changes["extra"] = extra or None
        linked = self.sync_links(current["id"], record, links, day)
        if linked:
            signing = signatories(self.tx, current["id"]) or None
            if not same(current.get("parties"), signing):
                changes["parties"] = signing
        pact = self.tx.update("pacts", current["id"], changes) if changes else current
        moved = record.status != current["status"]
        if moved:
            self.change_status(pact, current.get("register_status"), record, events, day)
        return bool(changes) or linked or moved

    def change_status(self, pact: Row, was: Any, record: RegisterRecord, events: list[Row], day: dt.date) -> None:
        """Record the register's change of status as lifecycle steps, or as one correction."""
        start, end, when = str(pact["status"]), record.status, record.status_on or day
        seen = [optional_day(e["happened_on"]) for e in events if e["kind"] in STATUS_KINDS]
        last = max((d for d in seen if d is not None), default=None)
        told = (f"the register {self.register} showed {was!r} (status {start}"
                f"{f', recorded on {last}' if last else ''}) and shows {record.fields.get('register_status')!r} "
                f"in the snapshot of {day} ({self.snapshot.source})")
        before = {e["id"] for e in events}
        path = lifecycle_path(start, end, pact.get("pact_type"))
        if path is None:
            apply_status(self.tx, pact, PactStatus.parse(end), day=when, actor=self.who, kind="correction",
                         event_fields={"dataset": self.dataset},
                         note=f"{told}: the register changed it from {start} to {end} outside the lifecycle, "
                              "which has no way between them; recorded as the register's correction")
        else:
            chain = " → ".join([start, *path])
            for number, step in enumerate(path, start=1):
                pact = apply_status(self.tx, pact, PactStatus.parse(step), day=when, actor=self.who,
                                    event_fields={"dataset": self.dataset},
                                    note=f"{told}: step {number} of {len(path)} ({chain}) inferred from the "
                                         "register between the two snapshots")
        for event in self.tx.find("pact_events", "pact", [pact["id"]]):
            if event["id"] not in before:
                (self.result.corrections if event["kind"] == "correction" else self.result.transitions).append(
                    event["id"])

    # -- the whole snapshot -------------------------------------------------------------------
    def write(self, known: dict[str, str], day: dt.date) -> None:
        """Write the snapshot: parties, new pacts, changes to known pacts, withheld cells."""
        records = self.snapshot.records
        existing = {row["register_id"]: row for row in self.tx.find("pacts", "register_name", [self.register])}
        self.ensure_parties(known)
        fresh = [r for r in records if r.register_id not in existing]
        self.add_pacts(fresh, day)
        pact_ids = {**{rid: row["id"] for rid, row in existing.items()},
                    **dict(zip([r.register_id for r in fresh], self.result.added, strict=True))}
        matched = [r for r in records if r.register_id in existing]
        links: dict[str, list[Row]] = defaultdict(list)
        for link in self.tx.find("pact_parties", "pact", [pact_ids[r.register_id] for r in matched]):
            links[link["pact"]].append(link)
        events: dict[str, list[Row]] = defaultdict(list)
        moving = [pact_ids[r.register_id] for r in matched if r.status != existing[r.register_id]["status"]]
        for event in self.tx.find("pact_events", "pact", moving):
            events[event["pact"]].append(event)
        touched = {pact_ids[r.register_id] for r in matched
                   if self.update_pact(existing[r.register_id], r, links[pact_ids[r.register_id]],
                                       events[pact_ids[r.register_id]], day)}
        touched |= self.sync_withheld([(pact_ids[r.register_id], r) for r in records], day) - set(self.result.added)
        seen = {r.register_id for r in records}
        self.result.updated = [pact_ids[r.register_id] for r in matched if pact_ids[r.register_id] in touched]
        self.result.unchanged = [pact_ids[r.register_id] for r in matched if pact_ids[r.register_id] not in touched]
        self.result.missing = [row["id"] for rid, row in sorted(existing.items()) if rid not in seen]

    # -- withheld cells -----------------------------------------------------------------------
    def sync_withheld(self, pairs: list[tuple[str, RegisterRecord]], day: dt.date) -> set[str]:
        """Keep each pact's withheld cells in its restricted source; return the pacts whose source changed."""
        titles = {self.withheld_title(record): (pact_id, record) for pact_id, record in pairs if record.withheld}
        found = {row["title"]: row for row in self.tx.find("sources", "title", list(titles))}
        changed: set[str] = set()
        new = []
        for title, (pact_id, record) in titles.items():
            current = found.get(title)
            extra = merged_extra(current.get("extra") if current else None, record.withheld)
            if current is None and extra:
                new.append({"title": title, "kind": "document", "date": day, "author": self.register,
                            "sensitivity": WITHHELD_SENSITIVITY, "extra": extra, "dataset": self.dataset,
                            "description": f"Cells of the row of pact {pact_id} in the register {self.register} "
                                           "kept off the public pact: the proposer is a natural person (or of a "
                                           "kind the register does not say)."})
                changed.add(pact_id)
            elif current is not None and not same(current.get("extra"), extra):
                self.tx.update("sources", current["id"], {"extra": extra or None})
                changed.add(pact_id)
        if new:
            self.tx.add("sources", new)
        return changed

    def withheld_title(self, record: RegisterRecord) -> str:
        return f"{self.register} {record.register_id}: cells withheld from the public pact"


def _known_parties(atlas: Atlas) -> dict[str, str]:
    parties = atlas.layer("parties")
    known: dict[str, str] = {}
    for party_id, name in zip(parties["id"], parties["name"], strict=True):
        known.setdefault(name_key(str(name)), str(party_id))
    return known


def apply_snapshot(atlas: Atlas, snapshot: Snapshot, *, day: dt.date, who: str,
                   dataset: str | None = None) -> RegisterImport:
    """Write a register snapshot to the atlas in one transaction; return what it did.

    Parameters
    ----------
    atlas : Atlas
        The atlas to write to.
    snapshot : Snapshot
        The snapshot, as a reader returned it.
    day : date
        The snapshot's date: the date of its events.
    who : str
        Who imports: the actor of the events and the author of the writes.
    dataset : str, optional
        Id of the ``datasets`` record (licence, attribution) the written records belong to.

    Returns
    -------
    RegisterImport

    Raises
    ------
    InvalidInputError
        If an id appears twice, the dataset is unknown, or a record fails validation; nothing is
        written then.
    """
    if not who or not str(who).strip():
        raise InvalidInputError("a register import must say who makes it: who=...")
    _check_ids(snapshot)
    if dataset is not None:
        try:
            atlas.get("datasets", dataset)
        except NotFoundError as exc:
            raise InvalidInputError(f"dataset {dataset!r} is not in the atlas") from exc
    _to_atlas_crs(snapshot.records, atlas.crs)
    result = RegisterImport(snapshot.register, day, problems=list(snapshot.problems))
    known = _known_parties(atlas)
    with atlas.transaction(who=who, note=f"register {snapshot.register}: snapshot of {day} ({snapshot.source})") as tx:
        _Writer(tx, snapshot, result, who=who, dataset=dataset, crs=atlas.crs).write(known, day)
    return result

__all__ = ["WITHHELD_SENSITIVITY", "PartyRef", "RegisterImport", "RegisterRecord", "Snapshot", "apply_snapshot",
           "name_key", "same", "snapshot_day", "text"]
