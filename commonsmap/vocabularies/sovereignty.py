"""Data-sovereignty vocabularies: viewers' roles, generalised publication, consent."""

from commonsmap.vocabularies._base import Vocabulary


class ViewerRole(Vocabulary):
    """Who is looking, from least to most trusted."""

    ANONYMOUS = "anonymous", {"en": "Anonymous", "es": "Anónimo", "it": "Anonimo", "pt": "Anônimo"}
    SIGNED_IN = "signed_in", {"en": "Signed in", "es": "Usuario registrado", "it": "Utente registrato",
                              "pt": "Usuário registrado"}
    MEMBER = "member", {"en": "Member", "es": "Miembro", "it": "Membro", "pt": "Membro"}
    CUSTODIAN = "custodian", {"en": "Custodian", "es": "Custodio", "it": "Custode", "pt": "Guardião"}
    ADMIN = "admin", {"en": "Administrator", "es": "Administrador", "it": "Amministratore",
                      "pt": "Administrador"}


class Generalisation(Vocabulary):
    """How a feature appears to viewers not allowed to see it: not at all, or in a coarse form."""

    HIDDEN = "hidden", {"en": "Hidden", "es": "Oculto", "it": "Nascosto", "pt": "Oculto"}
    GRID_CELL = "grid_cell", {"en": "Grid cell", "es": "Celda de cuadrícula", "it": "Cella di griglia",
                              "pt": "Célula de grade"}
    ADMIN_UNIT = "admin_unit", {"en": "Administrative unit", "es": "Unidad administrativa",
                                "it": "Unità amministrativa", "pt": "Unidade administrativa"}


class ConsentScope(Vocabulary):
    """What a consent allows to be done with a community's data."""

    COLLECT = "collect", {"en": "Collect", "es": "Recolectar", "it": "Raccogliere", "pt": "Coletar"}
    STORE = "store", {"en": "Store", "es": "Guardar", "it": "Conservare", "pt": "Armazenar"}
    PUBLISH = "publish", {"en": "Publish", "es": "Publicar", "it": "Pubblicare", "pt": "Publicar"}
    SHARE = "share", {"en": "Share", "es": "Compartir", "it": "Condividere", "pt": "Compartilhar"}


class ConsentMethod(Vocabulary):
    """How a consent was given."""

    ASSEMBLY_MINUTES = "assembly_minutes", {"en": "Assembly minutes", "es": "Acta de asamblea",
                                            "it": "Verbale di assemblea", "pt": "Ata de assembleia"}
    WRITTEN = "written", {"en": "Written agreement", "es": "Acuerdo escrito", "it": "Accordo scritto",
                          "pt": "Acordo escrito"}
    ORAL = "oral", {"en": "Oral, recorded", "es": "Oral, registrado", "it": "Orale, registrato",
                    "pt": "Oral, registrado"}
    DIGITAL = "digital", {"en": "Digital form", "es": "Formulario digital", "it": "Modulo digitale",
                          "pt": "Formulário digital"}
    OTHER = "other", {"en": "Other", "es": "Otro", "it": "Altro", "pt": "Outro"}
