"""Attributes computed when a layer is read, never stored or entered: e.g. a right holder's position."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from commonsmap.tenure import positions

Derivation = Callable[[pd.DataFrame], pd.Series]

DERIVED: dict[str, dict[str, Derivation]] = {"rights": {"position": positions}}
"""``{layer: {attribute: function of the layer's frame}}``."""


def derived_names(layer: str) -> set[str]:
    """Names of the attributes derived for a layer."""
    return set(DERIVED.get(layer, {}))


def add_derived(layer: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Add a layer's derived attributes to a frame read from the atlas."""
    for name, derive in DERIVED.get(layer, {}).items():
        frame[name] = derive(frame) if len(frame) else pd.Series(dtype=object)
    return frame
