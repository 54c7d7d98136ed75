"""Read a snapshot of Palermo's civic monitor of collaboration pacts (a CSV, one row per pact).

Every column is kept, either mapped onto a ``pacts`` field or verbatim in ``extra``
(headers lose surrounding spaces: ``googlemaps `` becomes ``googlemaps``):

=========================  =======================================================================
column                     in the atlas
=========================  =======================================================================
``Id``                     ``register_id`` (text: ``'001'`` keeps its zeros)
``Titolo proposta``        ``title``
``Stato di avanzamento``   ``register_status`` as written, and ``status`` by :data:`STATUS`
``Quartiere``              ``district`` (the named quarter; ``Circoscrizione``, the numbered
                           district, and ``UPL`` stay in ``extra``)
``Lat.``, ``Long.``        ``geometry``: ``Point(Long., Lat.)`` in EPSG:4326
``Scarica il Patto``       ``url`` (the signed pact's PDF)
``Ambiti di azione``       ``domains`` and ``interventions`` by :data:`ACTION_AREAS`, and
                           verbatim in ``extra``
``Proponente``             the proposer party's kind by :data:`PROPOSER_KINDS`, and verbatim in
                           ``extra``
``Rappresentante``         see below
any other column           verbatim in ``extra`` (``Indirizzo``, ``UPL``, ``Circoscrizione``,
                           ``Coordinate``, ``Nota per attività conclusive``, ``Nota per la
                           Richiesta``, ``Foto``, ``googlemaps``, ``geouri``...)
=========================  =======================================================================

**Proposers and privacy.** ``Rappresentante`` names who stands for the proposal. When
``Proponente`` says the proposer is an organisation (association, company, informal group, civic
committee, school), the register names the organisation there: it becomes a party (role
``proponent``) and the pact's public ``proponent``. When the proposer is a *natural person*
(``Persona fisica``), or of a kind the register does not say, the name may be a person's: no
party is created, the public pact has no ``proponent``, and the cell is kept only in a
``sources`` record at sensitivity ``community``, which the public register never shows (see
:data:`~commonsmap.pacts.registers.snapshots.WITHHELD_SENSITIVITY`). The register's own
classification is trusted: a person's name it files under an organisation is published as the
register publishes it.

The register does not say whether a pact is ordinary or complex: ``pact_type`` stays empty and
the lifecycle's rules for ordinary pacts apply to the steps inferred between snapshots.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pandas as pd
from shapely.geometry import Point

from commonsmap.errors import InvalidInputError, Problem
from commonsmap.pacts.registers.snapshots import PartyRef, RegisterRecord, Snapshot, text

REGISTER_NAME: Final = "palermo-civic-monitor"
"""The ``register_name`` of the pacts imported from Palermo's civic monitor."""

STATUS: Final[dict[str, str]] = {
    "istruttoria in corso": "under_review",
    "in attesa di integrazione": "awaiting_integration",
    "patto stipulato": "active",
    "proroga e/o monitoraggio e valutazione dei risultati": "monitoring",
    "respinta": "rejected",
    "archiviata": "archived",
}
"""Pact status for each status of the register (keys case-folded, spaces collapsed).

=======================================================  ========================
``Stato di avanzamento``                                 ``status``
=======================================================  ========================
Istruttoria in corso                                     ``under_review``
In attesa di integrazione                                ``awaiting_integration``
Patto stipulato                                          ``active``
Proroga e/o Monitoraggio e valutazione dei risultati     ``monitoring``
Respinta                                                 ``rejected``
Archiviata                                               ``archived``
=======================================================  ========================

Any other status is refused (:class:`~commonsmap.errors.InvalidInputError` naming the row, the
pact and the value): nothing is written.
"""

PROPOSER_KINDS: Final[dict[str, str]] = {
    "associazione": "association",
    "società": "company",
    "gruppo informale": "informal_group",
    "comitato civico": "association",
    "istituto": "state_agency",
}
"""Party kind for each organisation kind of ``Proponente`` (keys case-folded, spaces collapsed).

=================  ==================  =================================================
``Proponente``     party ``kind``      why
=================  ==================  =================================================
Associazione       ``association``
Società            ``company``
Gruppo informale   ``informal_group``
Comitato civico    ``association``     a committee (art. 39 of the Civil Code) is an
                                       organised body with its own name
Istituto           ``state_agency``    a state school
Persona fisica     none                a natural person: no party, name withheld
=================  ==================  =================================================

A blank or unknown kind is treated as a natural person (and an unknown one is reported).
"""

NATURAL_PERSON: Final = "persona fisica"

ACTION_AREAS: Final[dict[str, tuple[list[str], list[str]]]] = {
    "cura di aree pedonali e collocazione di arredi": (["public_space"], []),
    "pedonalizzazione di aree urbane con collocazione di arredi": (["public_space"], []),
    "cura di spazi verdi e arredi": (["public_space"], []),
    "cura di spazi verdi e earredi": (["public_space"], []),
    "riqualificazione di spazi urbani per attività socio culturali": (["public_space"], ["regeneration"]),
    "riqualificazione di spazi urbani per attività sportive": (["public_space"], ["regeneration"]),
    "riqualificazione immobili comunali per attività socio culturali": (["building"], ["regeneration"]),
    "azioni immateriali": ([], []),
}
"""``(domains, interventions)`` for each ``Ambiti di azione`` (keys case-folded, spaces collapsed).

===============================================================  ================  ================
``Ambiti di azione``                                             ``domains``       ``interventions``
===============================================================  ================  ================
Cura di aree pedonali e collocazione di arredi                   public_space
Pedonalizzazione di aree urbane con collocazione di arredi       public_space
Cura di spazi verdi e arredi                                     public_space
Riqualificazione di spazi urbani per attività socio culturali    public_space      regeneration
Riqualificazione di spazi urbani per attività sportive           public_space      regeneration
Riqualificazione immobili comunali per attività socio culturali  building          regeneration
Azioni immateriali                                               (none clear)
===============================================================  ================  ================

Some snapshots spell the third "Cura di spazi verdi e earredi": it maps the same.
"Cura" does not say whether care is occasional or continuous, so it maps to no intervention. The
text is always kept verbatim in ``extra``; an unknown one maps to nothing and is reported.
"""

REQUIRED: Final = ("Id", "Titolo proposta", "Stato di avanzamento")
"""Columns every snapshot must have."""

MAPPED: Final = frozenset({"Id", "Titolo proposta", "Stato di avanzamento", "Quartiere", "Lat.", "Long.",
                           "Scarica il Patto", "Rappresentante"})
"""Columns held by ``pacts`` fields (or withheld) rather than in ``extra``."""


def _key(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def _cell(value: Any) -> str | None:
    """A cell verbatim, or ``None`` when blank."""
    return value if isinstance(value, str) and value.strip() else None


def _point(cells: dict[str, str], where: str, row: int, fatal: list[Problem]) -> Point | None:
    lat, lon = text(cells.get("Lat.")), text(cells.get("Long."))
    if lat is None and lon is None:
        return None
    try:
        y, x = float(lat or "nan"), float(lon or "nan")
    except ValueError:
        fatal.append(Problem(f"{where}: coordinates ({lat!r}, {lon!r}) are not numbers", row=row, field="Lat."))
        return None
    if not (-90 <= y <= 90 and -180 <= x <= 180):
        fatal.append(Problem(f"{where}: coordinates ({lat!r}, {lon!r}) are missing or out of range", row=row,
                             field="Lat."))
        return None
    return Point(x, y)


def _record(cells: dict[str, str], rid: str, row: int, fatal: list[Problem], problems: list[Problem]) -> RegisterRecord:
    where = f"pact {rid!r}"
    stated = cells["Stato di avanzamento"]
    status = STATUS.get(_key(stated))
    if status is None:
        fatal.append(Problem(f"{where}: unknown status {stated!r}; known: {', '.join(map(repr, STATUS))}", row=row,
                             field="Stato di avanzamento"))
    fields: dict[str, Any] = {"title": text(cells["Titolo proposta"]) or f"Patto {rid}",
                              "register_status": text(stated)}
    for column, name in (("Quartiere", "district"), ("Scarica il Patto", "url")):
        if column in cells:
            fields[name] = text(cells[column])
    if "Lat." in cells or "Long." in cells:
        fields["geometry"] = _point(cells, where, row, fatal)
    if "Ambiti di azione" in cells:
        area = _key(cells["Ambiti di azione"])
        domains, interventions = ACTION_AREAS.get(area, ([], []))
        fields.update(domains=domains or None, interventions=interventions or None)
        if area and area not in ACTION_AREAS:
            problems.append(Problem(f"{where}: no domain is known for {cells['Ambiti di azione']!r}; kept in extra",
                                    row=row, field="Ambiti di azione"))
    record = RegisterRecord(rid, row, status or "", fields,
                            cells={c: _cell(v) for c, v in cells.items() if c not in MAPPED})
    if "Rappresentante" in cells:
        kind_text = cells.get("Proponente", "")
        kind = PROPOSER_KINDS.get(_key(kind_text))
        named = text(cells["Rappresentante"])
        if kind is not None:
            fields["proponent"] = named
            record.parties = [PartyRef(named, kind, "proponent", f"Named as proposer in the register {REGISTER_NAME}")
                              ] if named else []
        else:
            fields["proponent"] = None
            record.withheld = {"Rappresentante": _cell(cells["Rappresentante"])}
            if _key(kind_text) not in ("", NATURAL_PERSON):
                problems.append(Problem(f"{where}: unknown proposer kind {kind_text!r}: treated as a natural person, "
                                        "its name withheld", row=row, field="Proponente"))
    return record


def read_palermo(path: str | Path) -> Snapshot:
    """Read one snapshot of Palermo's civic monitor.

    Parameters
    ----------
    path : str or Path
        The CSV (UTF-8, comma-separated, with a header row).

    Returns
    -------
    Snapshot
        One record per row with an ``Id``; rows with a blank ``Id`` are skipped and reported in
        its ``problems``.

    Raises
    ------
    InvalidInputError
        If a required column is missing, or a row has an unknown status or unreadable
        coordinates; every such problem is listed.
    """
    source = Path(path)
    frame = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [str(c).strip() for c in frame.columns]
    absent = [c for c in REQUIRED if c not in frame.columns]
    if absent:
        raise InvalidInputError([Problem("required column is missing", field=c) for c in absent], source=source.name)
    fatal: list[Problem] = []
    problems: list[Problem] = []
    records: list[RegisterRecord] = []
    for row, cells in enumerate(frame.to_dict("records")):
        found = text(cells["Id"])
        if found is None:
            problems.append(Problem(f"blank Id (title {text(cells['Titolo proposta'])!r}): row skipped", row=row,
                                    field="Id"))
            continue
        records.append(_record({str(k): v for k, v in cells.items()}, found, row, fatal, problems))
    if fatal:
        raise InvalidInputError(fatal, source=source.name)
    return Snapshot(REGISTER_NAME, source.name, records, problems)
