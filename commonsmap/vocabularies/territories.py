"""Territory vocabularies: LandMark-compatible recognition terms, objections and disputes."""

from commonsmap.vocabularies._base import Vocabulary


class LandIdentity(Vocabulary):
    """Whose land a claim is, in LandMark's terms: indigenous peoples' or a (non-indigenous) community's."""

    INDIGENOUS = "indigenous", {"en": "Indigenous", "es": "Indígena", "it": "Indigeno", "pt": "Indígena"}
    COMMUNITY = "community", {"en": "Community", "es": "Comunitaria", "it": "Comunitario", "pt": "Comunitária"}


class RecognitionForm(Vocabulary):
    """Whether the government acknowledges the land (LandMark's form of recognition)."""

    ACKNOWLEDGED = "acknowledged", {"en": "Acknowledged by government", "es": "Reconocida por el Estado",
                                    "it": "Riconosciuta dallo Stato", "pt": "Reconhecida pelo Estado"}
    NOT_ACKNOWLEDGED = "not_acknowledged", {"en": "Not acknowledged by government",
                                            "es": "No reconocida por el Estado",
                                            "it": "Non riconosciuta dallo Stato",
                                            "pt": "Não reconhecida pelo Estado"}


class DocumentationStatus(Vocabulary):
    """LandMark's documentation status: documented or not when acknowledged; claim or custom when not."""

    DOCUMENTED = "documented", {"en": "Documented", "es": "Documentada", "it": "Documentata", "pt": "Documentada"}
    NOT_DOCUMENTED = "not_documented", {"en": "Not documented", "es": "No documentada", "it": "Non documentata",
                                        "pt": "Não documentada"}
    CLAIM_SUBMITTED = "claim_submitted", {"en": "Formal land claim submitted",
                                          "es": "Solicitud formal presentada",
                                          "it": "Domanda formale presentata",
                                          "pt": "Pedido formal apresentado"}
    CUSTOMARY_TENURE = "customary_tenure", {"en": "Held or used under customary tenure",
                                            "es": "Tenencia consuetudinaria",
                                            "it": "Possesso consuetudinario",
                                            "pt": "Posse consuetudinária"}


class ObjectionStatus(Vocabulary):
    """Where an objection to a claim stands."""

    LODGED = "lodged", {"en": "Lodged", "es": "Presentada", "it": "Presentata", "pt": "Apresentada"}
    UNDER_REVIEW = "under_review", {"en": "Under review", "es": "En trámite", "it": "In istruttoria",
                                    "pt": "Em análise"}
    UPHELD = "upheld", {"en": "Upheld", "es": "Aceptada", "it": "Accolta", "pt": "Acolhida"}
    DISMISSED = "dismissed", {"en": "Dismissed", "es": "Desestimada", "it": "Respinta", "pt": "Rejeitada"}
    WITHDRAWN = "withdrawn", {"en": "Withdrawn", "es": "Retirada", "it": "Ritirata", "pt": "Retirada"}


class DisputeForum(Vocabulary):
    """Where a dispute is heard."""

    CONCILIATION_COMMITTEE = "conciliation_committee", {"en": "Conciliation committee",
                                                        "es": "Comité de conciliación",
                                                        "it": "Collegio di conciliazione",
                                                        "pt": "Comitê de conciliação"}
    JURY = "jury", {"en": "Jury", "es": "Jurado", "it": "Giuria", "pt": "Júri"}
    ASSEMBLY = "assembly", {"en": "Assembly", "es": "Asamblea", "it": "Assemblea", "pt": "Assembleia"}
    COURT = "court", {"en": "Court", "es": "Tribunal", "it": "Tribunale", "pt": "Tribunal"}
    CUSTOMARY_AUTHORITY = "customary_authority", {"en": "Customary authority", "es": "Autoridad tradicional",
                                                  "it": "Autorità consuetudinaria",
                                                  "pt": "Autoridade tradicional"}


class DisputeStatus(Vocabulary):
    """Where a dispute stands."""

    OPEN = "open", {"en": "Open", "es": "Abierta", "it": "Aperta", "pt": "Aberta"}
    IN_PROGRESS = "in_progress", {"en": "In progress", "es": "En curso", "it": "In corso", "pt": "Em andamento"}
    RESOLVED = "resolved", {"en": "Resolved", "es": "Resuelta", "it": "Risolta", "pt": "Resolvida"}
    UNRESOLVED = "unresolved", {"en": "Closed unresolved", "es": "Cerrada sin acuerdo",
                                "it": "Chiusa senza accordo", "pt": "Encerrada sem acordo"}
    WITHDRAWN = "withdrawn", {"en": "Withdrawn", "es": "Retirada", "it": "Ritirata", "pt": "Retirada"}
