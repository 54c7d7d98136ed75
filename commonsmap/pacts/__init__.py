"""Collaboration pacts between a municipality and active citizens, after the Bologna regulation.

* :mod:`~commonsmap.pacts.contents`: propose a pact with its parties, check its contents, grant
  the rights and responsibilities it gives;
* :mod:`~commonsmap.pacts.lifecycle`: the allowed status changes and :func:`transition`, the
  only way to make one;
* :mod:`~commonsmap.pacts.events`: comments during public notice, periodic reports,
  evaluation, exclusion of a party, disputes;
* :mod:`~commonsmap.pacts.effects`: what a change of status does to parcels and granted rights.
"""

from commonsmap.pacts.contents import add_party, check_contents, grant_rights, propose_pact
from commonsmap.pacts.events import (
    comment,
    evaluate,
    exclude_party,
    open_pact_dispute,
    pact_events,
    report,
    settle_pact_dispute,
)
from commonsmap.pacts.lifecycle import (
    IN_FORCE,
    TRANSITIONS,
    TransitionError,
    allowed_next,
    lifecycle_path,
    transition,
)

__all__ = [
    "IN_FORCE",
    "TRANSITIONS",
    "TransitionError",
    "add_party",
    "allowed_next",
    "check_contents",
    "comment",
    "evaluate",
    "exclude_party",
    "grant_rights",
    "lifecycle_path",
    "open_pact_dispute",
    "pact_events",
    "propose_pact",
    "report",
    "settle_pact_dispute",
    "transition",
]
