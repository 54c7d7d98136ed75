"""Read the Ville de Paris register of shared gardens (*jardins partagés*), one pact per garden.

A shared garden is run by an association under an agreement with the land's owner (the "Main
Verte" charter): the closest published analogue of a collaboration pact. Every property is kept:

=========================  =======================================================================
property                   in the atlas
=========================  =======================================================================
``nom_ev``                 ``title`` (``"Jardin partagé, <adresse>"`` when blank)
``nom_ev`` + ``adresse``   ``register_id`` (``"<nom_ev> | <adresse>"``): the export has no id of
                           its own, so a garden renamed or moved comes back as a new pact
``date_fermeture``         status by :data:`STATUS`; ``expires_on`` = that date, which also dates
                           the change when a later snapshot closes the garden
``nom_gerant``             the steward: ``proponent``, and a party of kind ``association`` with
                           role ``proponent`` (it signs: it is in the pact's ``parties``)
``proprietaire_terrain``   the land owner: a party with role ``administration``, its kind by
                           :data:`OWNER_KINDS`; verbatim in ``extra`` too
``type_jardin_partage``    verbatim in ``extra``: which council approved the agreement (Conseil de
                           Paris, Conseil d'arrondissement, Autre), not the ordinary/complex
                           distinction
geometry                   ``geometry`` (points, EPSG:4326)
any other property         verbatim in ``extra`` (``adresse``, ``type_espace_vert``, ``domaine``,
                           ``statut_plu``, ``amenagements``, ``internet_1``, ``internet_2``...)
=========================  =======================================================================

Every garden is an ``ordinary`` pact of continuous care and shared management of a public space:
the charter sets the same terms for all. The export has no status column: ``register_status``
stays empty. Stewards and owners are organisations (the export's contact e-mails were removed
upstream); names are matched without regard to case or spacing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from commonsmap.days import optional_day
from commonsmap.errors import InvalidInputError, Problem
from commonsmap.pacts.registers.snapshots import PartyRef, RegisterRecord, Snapshot, text

REGISTER_NAME: Final = "paris-jardins-partages"
"""The ``register_name`` of the pacts imported from the Paris register of shared gardens."""

STATUS: Final[dict[str, str]] = {"open": "active", "closed": "concluded"}
"""Pact status of a garden.

==================================  ==============  ===============================
garden                              ``status``      dates
==================================  ==============  ===============================
open (``date_fermeture`` empty)     ``active``
closed (``date_fermeture`` set)     ``concluded``   ``expires_on`` = date_fermeture
==================================  ==============  ===============================
"""

OWNER_KINDS: Final[tuple[tuple[str, str], ...]] = (
    (r"^D[A-Z]{1,3}\b|(?i:^ville de paris|conseil d'arrondissement)", "municipality"),
    (r"(?i:^[eé]tat\b|\bsncf\b|\brff\b|\bap-?hp\b|cit[ée] internationale)", "state_agency"),
    (r"(?i:paroisse|institut)", "association"),
    (r"", "company"),
)
"""Party kind of a land owner: the first rule whose pattern matches its name (compound names: the first owner).

============================================================  ==================
``proprietaire_terrain``                                      party ``kind``
============================================================  ==================
a City directorate (DEVE, DJS, DVD, DLH, DAC: an upper-case    ``municipality``
code first), "Ville de Paris", "Conseil d'arrondissement"
the State and its bodies (Etat, SNCF Réseau, RFF, AP-HP,      ``state_agency``
Cité internationale universitaire)
a parish, an institute                                        ``association``
anyone else (social landlords: Paris Habitat, RIVP, SIEMP,    ``company``
ICF Habitat...; property companies)
============================================================  ==================
"""

INTERVENTIONS: Final = ["continuous_care", "shared_management"]
DOMAINS: Final = ["public_space"]
REQUIRED: Final = ("nom_ev", "adresse", "date_fermeture")
MAPPED: Final = frozenset({"nom_ev", "nom_gerant", "date_fermeture"})


def owner_kind(name: str) -> str:
    """Return the party kind of a land owner named as in ``proprietaire_terrain``.

    Examples
    --------
    >>> owner_kind("DEVE"), owner_kind("Paris Habitat"), owner_kind("Etat")
    ('municipality', 'company', 'state_agency')
    """
    key = name.strip()
    return next(kind for pattern, kind in OWNER_KINDS if re.search(pattern, key))


def _cell(value: Any) -> Any:
    """A property verbatim, as JSON can hold it; ``None`` when missing or blank."""
    if isinstance(value, str):
        return value if value.strip() else None
    if value is None or pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if isinstance(value, np.generic) else value


def _record(cells: dict[str, Any], geometry: Any, rid: str, row: int) -> RegisterRecord:
    closed = optional_day(cells["date_fermeture"])
    steward, owner = text(cells.get("nom_gerant")), text(cells.get("proprietaire_terrain"))
    fields = {"title": text(cells["nom_ev"]) or f"Jardin partagé, {text(cells['adresse'])}",
              "pact_type": "ordinary", "interventions": list(INTERVENTIONS), "domains": list(DOMAINS),
              "expires_on": closed,
              "geometry": None if geometry is None or geometry.is_empty else geometry}
    parties = []
    if "nom_gerant" in cells:
        fields["proponent"] = steward
    if steward:
        parties.append(PartyRef(steward, "association", "proponent",
                                f"Steward (nom_gerant) of shared gardens in the register {REGISTER_NAME}"))
    if owner:
        parties.append(PartyRef(owner, owner_kind(owner), "administration",
                                f"Land owner (proprietaire_terrain) of shared gardens in the register {REGISTER_NAME}"))
    return RegisterRecord(rid, row, STATUS["closed" if closed else "open"], fields,
                          cells={c: _cell(v) for c, v in cells.items() if c not in MAPPED}, parties=parties,
                          status_on=closed)


def read_paris(path: str | Path) -> Snapshot:
    """Read an export of the Paris register of shared gardens (GeoJSON or any vector file).

    Parameters
    ----------
    path : str or Path
        The file; without a CRS its coordinates are taken as EPSG:4326.

    Returns
    -------
    Snapshot
        One record per garden; gardens with neither name nor address are skipped and reported.

    Raises
    ------
    InvalidInputError
        If a required property is missing, or a closing date is not a date.
    """
    source = Path(path)
    frame = gpd.read_file(source)
    frame = frame.set_crs("EPSG:4326") if frame.crs is None else frame.to_crs("EPSG:4326")
    absent = [c for c in REQUIRED if c not in frame.columns]
    if absent:
        raise InvalidInputError([Problem("required property is missing", field=c) for c in absent],
                                source=source.name)
    records: list[RegisterRecord] = []
    problems: list[Problem] = []
    fatal: list[Problem] = []
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    for row, (cells, geometry) in enumerate(zip(attributes.to_dict("records"), frame.geometry, strict=True)):
        named = [text(cells["nom_ev"]), text(cells["adresse"])]
        if not any(named):
            problems.append(Problem("a garden with neither name nor address: skipped", row=row, field="nom_ev"))
            continue
        try:
            records.append(_record({str(k): v for k, v in cells.items()}, geometry,
                                   " | ".join(n or "" for n in named).strip(), row))
        except InvalidInputError as exc:
            fatal.extend(Problem(p.reason, row=row, field="date_fermeture") for p in exc.problems)
    if fatal:
        raise InvalidInputError(fatal, source=source.name)
    return Snapshot(REGISTER_NAME, source.name, records, problems)
