"""Who may see a pact's events: at least whoever may see the pact, never more.

An event (a status change, a comment, a report) says things about its pact, so it takes the
pact's sensitivity (or a higher one asked for, e.g. a comment made as a person), its
custodian, and its signing parties, whose members see the event as they see the pact. An
event kept more private than its pact (a person's comment) is held by its own party alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commonsmap.vocabularies import SENSITIVITY_ORDER


def inherited(pact: Mapping[str, Any], requested: str | None = None) -> dict[str, Any]:
    """The sensitivity, custodian and holders an event of ``pact`` is recorded with."""
    own = pact.get("sensitivity") if pact.get("sensitivity") in SENSITIVITY_ORDER else "public"
    level = max((own, requested if requested in SENSITIVITY_ORDER else own), key=SENSITIVITY_ORDER.index)
    parties = pact.get("parties")
    shared = list(parties) if level == own and isinstance(parties, list | tuple) and parties else None
    return {"sensitivity": level, "custodian": pact.get("custodian"), "pact_parties": shared}
