"""Vocabularies of collaboration pacts, after the Bologna regulation on urban commons."""

from commonsmap.vocabularies._base import Vocabulary


class PactType(Vocabulary):
    """Whether a collaboration pact is ordinary or complex."""

    ORDINARY = "ordinary", {"en": "Ordinary", "es": "Ordinario", "it": "Ordinario", "pt": "Ordinário"}
    COMPLEX = "complex", {"en": "Complex", "es": "Complejo", "it": "Complesso", "pt": "Complexo"}


class PactStatus(Vocabulary):
    """Where a collaboration pact stands, from proposal to archive."""

    PROPOSED = "proposed", {"en": "Proposed", "es": "Propuesto", "it": "Proposta", "pt": "Proposto"}
    UNDER_REVIEW = (
        "under_review",
        {
            "en": "Under review",
            "es": "En revisión",
            "it": "In istruttoria",
            "pt": "Em análise",
        },
    )
    AWAITING_INTEGRATION = (
        "awaiting_integration",
        {
            "en": "Awaiting additional information",
            "es": "Pendiente de documentación",
            "it": "In attesa di integrazioni",
            "pt": "Aguardando complementação",
        },
    )
    PUBLIC_NOTICE = (
        "public_notice",
        {
            "en": "Public notice",
            "es": "Publicación",
            "it": "Pubblicazione",
            "pt": "Publicação",
        },
    )
    CO_DESIGN = (
        "co_design",
        {
            "en": "Co-design",
            "es": "Codiseño",
            "it": "Co-progettazione",
            "pt": "Cocriação",
        },
    )
    APPROVED = "approved", {"en": "Approved", "es": "Aprobado", "it": "Approvato", "pt": "Aprovado"}
    ACTIVE = "active", {"en": "Active", "es": "Vigente", "it": "Attivo", "pt": "Em vigor"}
    MONITORING = (
        "monitoring",
        {
            "en": "Monitoring",
            "es": "En monitoreo",
            "it": "Monitoraggio",
            "pt": "Em monitoramento",
        },
    )
    EXTENDED = "extended", {"en": "Extended", "es": "Prorrogado", "it": "Prorogato", "pt": "Prorrogado"}
    CONCLUDED = "concluded", {"en": "Concluded", "es": "Concluido", "it": "Concluso", "pt": "Concluído"}
    EXPIRED = "expired", {"en": "Expired", "es": "Vencido", "it": "Scaduto", "pt": "Vencido"}
    REJECTED = "rejected", {"en": "Rejected", "es": "Rechazado", "it": "Respinto", "pt": "Indeferido"}
    WITHDRAWN = "withdrawn", {"en": "Withdrawn", "es": "Retirado", "it": "Ritirato", "pt": "Retirado"}
    SUSPENDED = "suspended", {"en": "Suspended", "es": "Suspendido", "it": "Sospeso", "pt": "Suspenso"}
    TERMINATED_EARLY = (
        "terminated_early",
        {
            "en": "Terminated early",
            "es": "Terminado anticipadamente",
            "it": "Cessato anticipatamente",
            "pt": "Encerrado antecipadamente",
        },
    )
    ARCHIVED = "archived", {"en": "Archived", "es": "Archivado", "it": "Archiviato", "pt": "Arquivado"}


class Intervention(Vocabulary):
    """The kind of care a pact's signatories take of a commons."""

    OCCASIONAL_CARE = (
        "occasional_care",
        {
            "en": "Occasional care",
            "es": "Cuidado ocasional",
            "it": "Cura occasionale",
            "pt": "Cuidado ocasional",
        },
    )
    CONTINUOUS_CARE = (
        "continuous_care",
        {
            "en": "Continuous care",
            "es": "Cuidado continuo",
            "it": "Cura costante e continuativa",
            "pt": "Cuidado contínuo",
        },
    )
    SHARED_MANAGEMENT = (
        "shared_management",
        {
            "en": "Shared management",
            "es": "Gestión compartida",
            "it": "Gestione condivisa",
            "pt": "Gestão compartilhada",
        },
    )
    REGENERATION = (
        "regeneration",
        {
            "en": "Regeneration",
            "es": "Regeneración",
            "it": "Rigenerazione",
            "pt": "Regeneração",
        },
    )


class PactDomain(Vocabulary):
    """The field of action a pact belongs to."""

    PUBLIC_SPACE = (
        "public_space",
        {
            "en": "Public space",
            "es": "Espacio público",
            "it": "Spazi pubblici",
            "pt": "Espaço público",
        },
    )
    BUILDING = "building", {"en": "Buildings", "es": "Edificios", "it": "Edifici", "pt": "Edificações"}
    SOCIAL_INNOVATION = (
        "social_innovation",
        {
            "en": "Social innovation",
            "es": "Innovación social",
            "it": "Innovazione sociale",
            "pt": "Inovação social",
        },
    )
    URBAN_CREATIVITY = (
        "urban_creativity",
        {
            "en": "Urban creativity",
            "es": "Creatividad urbana",
            "it": "Creatività urbana",
            "pt": "Criatividade urbana",
        },
    )
    DIGITAL = (
        "digital",
        {
            "en": "Digital innovation",
            "es": "Innovación digital",
            "it": "Innovazione digitale",
            "pt": "Inovação digital",
        },
    )
