"""Consent: which parties agreed to what being done with their data, and where consent is missing.

Consent records (layer ``consents``) say who granted it, its scope (collect, store, publish,
share), over which data, when, until when, and how. :func:`consent_gaps` lists what the atlas
publishes without a current consent of the party that holds it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from commonsmap.privacy import GENERALISABLE, holders
from commonsmap.vocabularies import ConsentScope

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas


def current_consents(atlas: Atlas, scope: str, *, on: Any = None) -> pd.DataFrame:
    """Return the consents of ``scope`` in force on a day (today by default): granted, not expired nor withdrawn."""
    term = ConsentScope(ConsentScope.parse(scope)).value
    day = pd.Timestamp(on if on is not None else dt.date.today())
    consents = atlas.layer("consents")
    in_scope = consents["scope"].map(lambda s: term in (s or []))
    granted = pd.to_datetime(consents["granted_on"]) <= day
    not_expired = consents["expires_on"].isna() | (pd.to_datetime(consents["expires_on"]) >= day)
    not_withdrawn = consents["withdrawn_on"].isna() | (pd.to_datetime(consents["withdrawn_on"]) > day)
    return consents[in_scope & granted & not_expired & not_withdrawn].reset_index(drop=True)


def consent_gaps(atlas: Atlas, *, on: Any = None) -> pd.DataFrame:
    """Features shown beyond their holders (public, or generalised) whose holding party has no current publish consent.

    Only features held by a party of the atlas (through their layer's holder fields or their
    custodian) are considered; a party's consent to publish covers all its features.

    Returns
    -------
    DataFrame
        Columns ``layer``, ``id``, ``party``, ``sensitivity``, ``publish_as``.
    """
    parties = set(atlas.layer("parties")["id"])
    consenting = set(current_consents(atlas, "publish", on=on)["granted_by"])
    rows: list[dict[str, Any]] = []
    for name, spec in atlas.catalogue.items():
        if name in ("parties", "consents", "datasets"):
            continue
        frame = atlas.layer(name)
        shown = (frame["sensitivity"] == "public") | frame["publish_as"].isin(GENERALISABLE)
        frame = frame[shown.to_numpy()].reset_index(drop=True)
        for row, held_by in zip(frame.itertuples(index=False), holders(frame, spec), strict=True):
            for party in sorted((held_by & parties) - consenting):
                rows.append({"layer": name, "id": row.id, "party": party, "sensitivity": row.sensitivity,
                             "publish_as": row.publish_as})
    return pd.DataFrame(rows, columns=["layer", "id", "party", "sensitivity", "publish_as"])
