"""Controlled vocabularies of the atlas: string enums whose terms carry labels in en, es, it and pt."""

from commonsmap.vocabularies._base import LANGUAGES, Vocabulary
from commonsmap.vocabularies.commons import (
    CommonsKind,
    Designation,
    ManagementRegime,
    Materiality,
    Ownership,
    ParcelOwnerKind,
    ProtectionStatus,
    Rivalry,
)
from commonsmap.vocabularies.general import (
    SENSITIVITY_ORDER,
    AdminKind,
    ObservationKind,
    PartyKind,
    Sensitivity,
    SourceKind,
)
from commonsmap.vocabularies.pacts import (
    Intervention,
    PactDomain,
    PactEventKind,
    PactRole,
    PactStatus,
    PactType,
    ParcelLink,
    RenewalRule,
    SupportForm,
)
from commonsmap.vocabularies.sovereignty import ConsentMethod, ConsentScope, Generalisation, ViewerRole
from commonsmap.vocabularies.tenure import ClaimBasis, ClaimStatus, HolderPosition, RightBasis, RRRKind
from commonsmap.vocabularies.territories import (
    DisputeForum,
    DisputeStatus,
    DocumentationStatus,
    LandIdentity,
    ObjectionStatus,
    RecognitionForm,
)

VOCABULARIES: dict[str, type[Vocabulary]] = {
    "sensitivity": Sensitivity,
    "party_kind": PartyKind,
    "source_kind": SourceKind,
    "observation_kind": ObservationKind,
    "admin_kind": AdminKind,
    "commons_kind": CommonsKind,
    "materiality": Materiality,
    "rivalry": Rivalry,
    "management_regime": ManagementRegime,
    "ownership": Ownership,
    "protection_status": ProtectionStatus,
    "parcel_owner_kind": ParcelOwnerKind,
    "designation": Designation,
    "rrr_kind": RRRKind,
    "right_basis": RightBasis,
    "holder_position": HolderPosition,
    "claim_basis": ClaimBasis,
    "claim_status": ClaimStatus,
    "pact_type": PactType,
    "pact_status": PactStatus,
    "intervention": Intervention,
    "pact_domain": PactDomain,
    "pact_role": PactRole,
    "support_form": SupportForm,
    "renewal_rule": RenewalRule,
    "pact_event_kind": PactEventKind,
    "parcel_link": ParcelLink,
    "land_identity": LandIdentity,
    "recognition_form": RecognitionForm,
    "documentation_status": DocumentationStatus,
    "objection_status": ObjectionStatus,
    "dispute_forum": DisputeForum,
    "dispute_status": DisputeStatus,
    "viewer_role": ViewerRole,
    "generalisation": Generalisation,
    "consent_scope": ConsentScope,
    "consent_method": ConsentMethod,
}
"""Every vocabulary of the atlas by its snake_case name."""


def vocabulary(name: str) -> type[Vocabulary]:
    """Return the vocabulary registered under ``name``.

    Parameters
    ----------
    name : str
        The vocabulary's snake_case name, e.g. ``"pact_status"``.

    Returns
    -------
    type[Vocabulary]
        The vocabulary class.

    Raises
    ------
    KeyError
        If no vocabulary has that name; the message lists the known names.

    Examples
    --------
    >>> vocabulary("pact_type").codes()
    ['ordinary', 'complex']
    """
    try:
        return VOCABULARIES[name]
    except KeyError:
        raise KeyError(f"unknown vocabulary {name!r}; known: {', '.join(VOCABULARIES)}") from None


__all__ = [
    "LANGUAGES",
    "SENSITIVITY_ORDER",
    "VOCABULARIES",
    "AdminKind",
    "ClaimBasis",
    "ClaimStatus",
    "CommonsKind",
    "ConsentMethod",
    "ConsentScope",
    "Designation",
    "DisputeForum",
    "DisputeStatus",
    "DocumentationStatus",
    "Generalisation",
    "HolderPosition",
    "Intervention",
    "LandIdentity",
    "ManagementRegime",
    "Materiality",
    "ObjectionStatus",
    "ObservationKind",
    "Ownership",
    "PactDomain",
    "PactEventKind",
    "PactRole",
    "PactStatus",
    "PactType",
    "ParcelLink",
    "ParcelOwnerKind",
    "PartyKind",
    "ProtectionStatus",
    "RRRKind",
    "RecognitionForm",
    "RenewalRule",
    "RightBasis",
    "Rivalry",
    "Sensitivity",
    "SourceKind",
    "SupportForm",
    "ViewerRole",
    "Vocabulary",
    "vocabulary",
]
