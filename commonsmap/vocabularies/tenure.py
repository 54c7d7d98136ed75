"""Tenure vocabularies: rights, restrictions and responsibilities, holders' positions and claims."""

from commonsmap.vocabularies._base import Vocabulary


class RRRKind(Vocabulary):
    """Whether a tenure record is a right, a restriction or a responsibility."""

    RIGHT = "right", {"en": "Right", "es": "Derecho", "it": "Diritto", "pt": "Direito"}
    RESTRICTION = (
        "restriction",
        {
            "en": "Restriction",
            "es": "Restricción",
            "it": "Restrizione",
            "pt": "Restrição",
        },
    )
    RESPONSIBILITY = (
        "responsibility",
        {
            "en": "Responsibility",
            "es": "Responsabilidad",
            "it": "Responsabilità",
            "pt": "Responsabilidade",
        },
    )


class RightBasis(Vocabulary):
    """What a right, restriction or responsibility rests on."""

    CUSTOMARY = (
        "customary",
        {
            "en": "Customary",
            "es": "Consuetudinario",
            "it": "Consuetudinario",
            "pt": "Consuetudinário",
        },
    )
    STATUTORY = "statutory", {"en": "Statutory", "es": "Legal", "it": "Legale", "pt": "Legal"}
    PACT = "pact", {"en": "Pact", "es": "Pacto", "it": "Patto", "pt": "Pacto"}
    LICENCE = "licence", {"en": "Licence", "es": "Licencia", "it": "Licenza", "pt": "Licença"}
    INFORMAL = "informal", {"en": "Informal", "es": "Informal", "it": "Informale", "pt": "Informal"}


class HolderPosition(Vocabulary):
    """The bundle of rights a holder has, after Schlager and Ostrom (1992)."""

    AUTHORIZED_ENTRANT = (
        "authorized_entrant",
        {
            "en": "Authorized entrant",
            "es": "Entrante autorizado",
            "it": "Entrante autorizzato",
            "pt": "Entrante autorizado",
        },
    )
    AUTHORIZED_USER = (
        "authorized_user",
        {
            "en": "Authorized user",
            "es": "Usuario autorizado",
            "it": "Utente autorizzato",
            "pt": "Usuário autorizado",
        },
    )
    CLAIMANT = "claimant", {"en": "Claimant", "es": "Reclamante", "it": "Rivendicante", "pt": "Reivindicante"}
    PROPRIETOR = (
        "proprietor",
        {
            "en": "Proprietor",
            "es": "Propietario (sin enajenación)",
            "it": "Proprietario (senza alienazione)",
            "pt": "Proprietário (sem alienação)",
        },
    )
    OWNER = "owner", {"en": "Owner", "es": "Dueño", "it": "Titolare pieno", "pt": "Proprietário pleno"}


class ClaimBasis(Vocabulary):
    """What a territorial claim is grounded on."""

    ANCESTRAL_OCCUPATION = (
        "ancestral_occupation",
        {
            "en": "Ancestral occupation",
            "es": "Ocupación ancestral",
            "it": "Occupazione ancestrale",
            "pt": "Ocupação ancestral",
        },
    )
    TITLE = "title", {"en": "Title", "es": "Título", "it": "Titolo", "pt": "Título"}
    LEGAL_RECOGNITION = (
        "legal_recognition",
        {
            "en": "Legal recognition",
            "es": "Reconocimiento legal",
            "it": "Riconoscimento giuridico",
            "pt": "Reconhecimento legal",
        },
    )
    PACT = "pact", {"en": "Pact", "es": "Pacto", "it": "Patto", "pt": "Pacto"}


class ClaimStatus(Vocabulary):
    """Where a territorial claim stands."""

    ASSERTED = "asserted", {"en": "Asserted", "es": "Declarado", "it": "Dichiarato", "pt": "Declarado"}
    DOCUMENTED = (
        "documented",
        {
            "en": "Documented",
            "es": "Documentado",
            "it": "Documentato",
            "pt": "Documentado",
        },
    )
    SUBMITTED = "submitted", {"en": "Submitted", "es": "Presentado", "it": "Presentato", "pt": "Protocolado"}
    UNDER_REVIEW = (
        "under_review",
        {
            "en": "Under review",
            "es": "En trámite",
            "it": "In istruttoria",
            "pt": "Em análise",
        },
    )
    RECOGNISED = (
        "recognised",
        {
            "en": "Recognised",
            "es": "Reconocido",
            "it": "Riconosciuto",
            "pt": "Reconhecido",
        },
    )
    TITLED = "titled", {"en": "Titled", "es": "Titulado", "it": "Titolo rilasciato", "pt": "Titulado"}
    DISPUTED = "disputed", {"en": "Disputed", "es": "En disputa", "it": "Contestato", "pt": "Em disputa"}
    REJECTED = "rejected", {"en": "Rejected", "es": "Rechazado", "it": "Respinto", "pt": "Indeferido"}
    WITHDRAWN = "withdrawn", {"en": "Withdrawn", "es": "Retirado", "it": "Ritirato", "pt": "Retirado"}
