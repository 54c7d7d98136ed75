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


class PactRole(Vocabulary):
    """The part a party plays in a collaboration pact."""

    PROPONENT = "proponent", {"en": "Proponent", "es": "Proponente", "it": "Proponente", "pt": "Proponente"}
    SIGNATORY = "signatory", {"en": "Signatory", "es": "Firmante", "it": "Sottoscrittore", "pt": "Signatário"}
    ADMINISTRATION = (
        "administration",
        {"en": "Administration", "es": "Administración", "it": "Amministrazione", "pt": "Administração"},
    )
    SUPPORTER = "supporter", {"en": "Supporter", "es": "Colaborador", "it": "Sostenitore", "pt": "Apoiador"}
    GUARANTOR = "guarantor", {"en": "Guarantor", "es": "Garante", "it": "Garante", "pt": "Garantidor"}


class SupportForm(Vocabulary):
    """The closed list of forms of support a municipality may give to a pact."""

    FEE_EXEMPTION = (
        "fee_exemption",
        {"en": "Exemption from fees and charges", "es": "Exención de tasas",
         "it": "Esenzione da canoni e tributi", "pt": "Isenção de taxas"},
    )
    MUNICIPAL_SPACE = (
        "municipal_space",
        {"en": "Use of municipal spaces", "es": "Uso de espacios municipales",
         "it": "Uso di spazi comunali", "pt": "Uso de espaços municipais"},
    )
    MATERIALS = (
        "materials",
        {"en": "Materials and protective equipment", "es": "Materiales y equipos de protección",
         "it": "Materiali e dispositivi di protezione", "pt": "Materiais e equipamentos de proteção"},
    )
    STAFF_SUPPORT = (
        "staff_support",
        {"en": "Support from municipal staff", "es": "Apoyo del personal municipal",
         "it": "Affiancamento del personale comunale", "pt": "Apoio de pessoal municipal"},
    )
    TRAINING = "training", {"en": "Training", "es": "Formación", "it": "Formazione", "pt": "Formação"}
    COST_REIMBURSEMENT = (
        "cost_reimbursement",
        {"en": "Reimbursement of costs", "es": "Reembolso de gastos",
         "it": "Rimborso dei costi", "pt": "Reembolso de custos"},
    )
    PUBLIC_RECOGNITION = (
        "public_recognition",
        {"en": "Public recognition", "es": "Reconocimiento público",
         "it": "Riconoscimento pubblico", "pt": "Reconhecimento público"},
    )


class RenewalRule(Vocabulary):
    """How a pact may be renewed when its term ends."""

    NONE = "none", {"en": "Not renewable", "es": "No renovable", "it": "Non rinnovabile", "pt": "Não renovável"}
    ON_REQUEST = (
        "on_request",
        {"en": "Renewable on request", "es": "Renovable a solicitud",
         "it": "Rinnovabile su richiesta", "pt": "Renovável a pedido"},
    )
    AFTER_EVALUATION = (
        "after_evaluation",
        {"en": "Renewable after a positive evaluation", "es": "Renovable tras evaluación positiva",
         "it": "Rinnovabile dopo valutazione positiva", "pt": "Renovável após avaliação positiva"},
    )
    NEW_PACT = (
        "new_pact",
        {"en": "Only by a new pact", "es": "Solo con un nuevo pacto",
         "it": "Solo con un nuovo patto", "pt": "Só com um novo pacto"},
    )


class PactEventKind(Vocabulary):
    """What happened in the life of a pact."""

    TRANSITION = "transition", {"en": "Status change", "es": "Cambio de estado", "it": "Cambio di stato",
                                "pt": "Mudança de situação"}
    CORRECTION = (
        "correction",
        {"en": "Status corrected by the register", "es": "Estado corregido por el registro",
         "it": "Stato rettificato dal registro", "pt": "Situação corrigida pelo registro"},
    )
    COMMENT = "comment", {"en": "Comment", "es": "Comentario", "it": "Osservazione", "pt": "Comentário"}
    REPORT = "report", {"en": "Report", "es": "Informe", "it": "Rendicontazione", "pt": "Relatório"}
    EVALUATION = "evaluation", {"en": "Evaluation", "es": "Evaluación", "it": "Valutazione", "pt": "Avaliação"}
    EXCLUSION = (
        "exclusion",
        {"en": "Exclusion of a party", "es": "Exclusión de una parte",
         "it": "Esclusione di un contraente", "pt": "Exclusão de uma parte"},
    )
    DISPUTE = "dispute", {"en": "Dispute opened", "es": "Controversia abierta", "it": "Controversia aperta",
                          "pt": "Controvérsia aberta"}
    DISPUTE_OUTCOME = (
        "dispute_outcome",
        {"en": "Dispute outcome", "es": "Resultado de la controversia",
         "it": "Esito della controversia", "pt": "Resultado da controvérsia"},
    )


class ParcelLink(Vocabulary):
    """How a pact was linked to a cadastral parcel."""

    REFERENCE = (
        "reference",
        {"en": "By cadastral reference", "es": "Por referencia catastral",
         "it": "Per riferimento catastale", "pt": "Por referência cadastral"},
    )
    GEOMETRY = "geometry", {"en": "By the pact's area", "es": "Por el área del pacto",
                            "it": "Per l'area del patto", "pt": "Pela área do pacto"}
    LOCATION = "location", {"en": "By the pact's location", "es": "Por la ubicación del pacto",
                            "it": "Per la posizione del patto", "pt": "Pela localização do pacto"}
