"""The Schlager–Ostrom bundle of rights and the holder's position derived from it.

Rights are cumulative: access (enter), withdrawal (take), management (regulate and improve),
exclusion (decide who may access), alienation (sell or lease the other rights). A holder's
position follows from the rights held — it is never entered by hand:

====================  ======  ==========  ==========  =========  ==========
position              access  withdrawal  management  exclusion  alienation
====================  ======  ==========  ==========  =========  ==========
authorized entrant      x
authorized user         x         x
claimant                x         x           x
proprietor              x         x           x          x
owner                   x         x           x          x          x
====================  ======  ==========  ==========  =========  ==========

A bundle that skips a right (exclusion without management, say) gives the highest position
whose rights are all held.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from commonsmap.vocabularies import HolderPosition

BUNDLE: tuple[str, ...] = ("access", "withdrawal", "management", "exclusion", "alienation")
"""The five rights of the bundle, from the weakest to the strongest."""

_POSITIONS: tuple[HolderPosition, ...] = (HolderPosition.AUTHORIZED_ENTRANT, HolderPosition.AUTHORIZED_USER,
                                          HolderPosition.CLAIMANT, HolderPosition.PROPRIETOR, HolderPosition.OWNER)


def holder_position(rights: Mapping[str, Any]) -> HolderPosition | None:
    """Return the position of a holder with the given rights (None without access).

    Parameters
    ----------
    rights : mapping
        ``{"access": True, "withdrawal": True, ...}``; missing or null rights are not held.

    Examples
    --------
    >>> holder_position({"access": True, "withdrawal": True, "management": True})
    <HolderPosition.CLAIMANT: 'claimant'>
    """
    held = 0
    for name in BUNDLE:
        value = rights.get(name)
        if value is None or value is pd.NA or not bool(value):
            break
        held += 1
    return _POSITIONS[held - 1] if held else None


def positions(frame: pd.DataFrame) -> pd.Series:
    """Return the holder position of every row of a rights frame (vectorised)."""
    held = np.zeros(len(frame), dtype=int)
    still = np.ones(len(frame), dtype=bool)
    for name in BUNDLE:
        column = frame[name] if name in frame.columns else pd.Series(False, index=frame.index)
        has = column.fillna(False).astype(bool).to_numpy()
        still &= has
        held += still
    labels = np.array([None, *[p.value for p in _POSITIONS]], dtype=object)
    return pd.Series(labels[held], index=frame.index, dtype=object)
