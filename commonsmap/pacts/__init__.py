"""Collaboration pacts between a municipality and active citizens, after the Bologna regulation.

* :mod:`~commonsmap.pacts.contents`: propose a pact with its parties, check its contents, grant
  the rights and responsibilities it gives;
* :mod:`~commonsmap.pacts.lifecycle`: the allowed status changes and :func:`transition`, the
  only way to make one;
* :mod:`~commonsmap.pacts.events`: comments during public notice, periodic reports,
  evaluation, exclusion of a party, disputes;
* :mod:`~commonsmap.pacts.effects`: what a change of status does to parcels and granted rights;
* :mod:`~commonsmap.pacts.cadastre`, :mod:`~commonsmap.pacts.parcels`,
  :mod:`~commonsmap.pacts.exclusive`: import a cadastre, link pacts to parcels, flag exclusive
  pacts on the same ground at the same time;
* :mod:`~commonsmap.pacts.registers`: import a city's register (Palermo, Paris) and its later
  snapshots;
* :mod:`~commonsmap.pacts.register`, :mod:`~commonsmap.pacts.queries`,
  :mod:`~commonsmap.pacts.deadlines`: the open register, planner queries, what falls due.
"""

from commonsmap.pacts.cadastre import import_cadastre, parse_italian_ref
from commonsmap.pacts.contents import add_party, check_contents, grant_rights, propose_pact
from commonsmap.pacts.deadlines import due
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
from commonsmap.pacts.parcels import designate, exclusive_pact_conflicts, link_pacts, parcel_links
from commonsmap.pacts.queries import area_under_pacts, designated_without_pact, pacts_by_status, pacts_signed_per_year
from commonsmap.pacts.register import REGISTER_COLUMNS, export_register
from commonsmap.pacts.registers import import_register

__all__ = [
    "IN_FORCE",
    "REGISTER_COLUMNS",
    "TRANSITIONS",
    "TransitionError",
    "add_party",
    "allowed_next",
    "area_under_pacts",
    "check_contents",
    "comment",
    "designate",
    "designated_without_pact",
    "due",
    "evaluate",
    "exclude_party",
    "exclusive_pact_conflicts",
    "export_register",
    "grant_rights",
    "import_cadastre",
    "import_register",
    "lifecycle_path",
    "link_pacts",
    "open_pact_dispute",
    "pact_events",
    "pacts_by_status",
    "pacts_signed_per_year",
    "parcel_links",
    "parse_italian_ref",
    "propose_pact",
    "report",
    "settle_pact_dispute",
    "transition",
]
