"""General vocabularies: sensitivity, kinds of party, source, observation and administrative unit."""

from commonsmap.vocabularies._base import Vocabulary

SENSITIVITY_ORDER: tuple[str, ...] = ("public", "internal", "community", "secret")
"""Sensitivity codes from the least to the most restricted."""


class Sensitivity(Vocabulary):
    """Who may see a feature or source."""

    PUBLIC = "public", {"en": "Public", "es": "Público", "it": "Pubblico", "pt": "Público"}
    INTERNAL = "internal", {"en": "Internal", "es": "Interno", "it": "Interno", "pt": "Interno"}
    COMMUNITY = (
        "community",
        {
            "en": "Community only",
            "es": "Solo la comunidad",
            "it": "Solo la comunità",
            "pt": "Somente a comunidade",
        },
    )
    SECRET = "secret", {"en": "Secret", "es": "Secreto", "it": "Segreto", "pt": "Secreto"}


class PartyKind(Vocabulary):
    """What kind of person or organisation a party is."""

    COMMUNITY = "community", {"en": "Community", "es": "Comunidad", "it": "Comunità", "pt": "Comunidade"}
    INDIGENOUS_PEOPLE = (
        "indigenous_people",
        {
            "en": "Indigenous people",
            "es": "Pueblo indígena",
            "it": "Popolo indigeno",
            "pt": "Povo indígena",
        },
    )
    COOPERATIVE = (
        "cooperative",
        {
            "en": "Cooperative",
            "es": "Cooperativa",
            "it": "Cooperativa",
            "pt": "Cooperativa",
        },
    )
    ASSOCIATION = (
        "association",
        {
            "en": "Association",
            "es": "Asociación",
            "it": "Associazione",
            "pt": "Associação",
        },
    )
    INFORMAL_GROUP = (
        "informal_group",
        {
            "en": "Informal group",
            "es": "Grupo informal",
            "it": "Gruppo informale",
            "pt": "Grupo informal",
        },
    )
    PERSON = "person", {"en": "Person", "es": "Persona", "it": "Persona", "pt": "Pessoa"}
    MUNICIPALITY = (
        "municipality",
        {
            "en": "Municipality",
            "es": "Municipio",
            "it": "Comune",
            "pt": "Município",
        },
    )
    STATE_AGENCY = (
        "state_agency",
        {
            "en": "State agency",
            "es": "Organismo estatal",
            "it": "Ente statale",
            "pt": "Órgão público",
        },
    )
    COMPANY = "company", {"en": "Company", "es": "Empresa", "it": "Impresa", "pt": "Empresa"}


class SourceKind(Vocabulary):
    """What kind of evidence a source is."""

    DOCUMENT = "document", {"en": "Document", "es": "Documento", "it": "Documento", "pt": "Documento"}
    LEGAL_ACT = (
        "legal_act",
        {
            "en": "Legal act",
            "es": "Acto normativo",
            "it": "Atto normativo",
            "pt": "Ato normativo",
        },
    )
    TESTIMONY = (
        "testimony",
        {
            "en": "Testimony",
            "es": "Testimonio",
            "it": "Testimonianza",
            "pt": "Depoimento",
        },
    )
    ORAL_HISTORY = (
        "oral_history",
        {
            "en": "Oral history",
            "es": "Historia oral",
            "it": "Storia orale",
            "pt": "História oral",
        },
    )
    PHOTO = "photo", {"en": "Photo", "es": "Fotografía", "it": "Fotografia", "pt": "Fotografia"}
    SURVEY = "survey", {"en": "Field survey", "es": "Levantamiento", "it": "Rilievo", "pt": "Levantamento"}
    GPS_TRACK = "gps_track", {"en": "GPS track", "es": "Traza GPS", "it": "Traccia GPS", "pt": "Trilha GPS"}
    MAP = "map", {"en": "Map", "es": "Mapa", "it": "Mappa", "pt": "Mapa"}


class ObservationKind(Vocabulary):
    """What a field observation records."""

    LOGGING = "logging", {"en": "Logging", "es": "Tala", "it": "Taglio boschivo", "pt": "Extração de madeira"}
    MINING = "mining", {"en": "Mining", "es": "Minería", "it": "Attività estrattiva", "pt": "Mineração"}
    FIRE = "fire", {"en": "Fire", "es": "Incendio", "it": "Incendio", "pt": "Incêndio"}
    ENCROACHMENT = (
        "encroachment",
        {
            "en": "Encroachment",
            "es": "Invasión",
            "it": "Occupazione abusiva",
            "pt": "Invasão",
        },
    )
    WATER_LEVEL = (
        "water_level",
        {
            "en": "Water level",
            "es": "Nivel del agua",
            "it": "Livello dell'acqua",
            "pt": "Nível da água",
        },
    )
    WORK_DAY = (
        "work_day",
        {
            "en": "Work day",
            "es": "Jornada de trabajo",
            "it": "Giornata di lavoro",
            "pt": "Mutirão",
        },
    )
    WILDLIFE = (
        "wildlife",
        {
            "en": "Wildlife",
            "es": "Fauna silvestre",
            "it": "Fauna selvatica",
            "pt": "Fauna silvestre",
        },
    )
    PLANTING = "planting", {"en": "Planting", "es": "Siembra", "it": "Piantumazione", "pt": "Plantio"}
    POLLUTION = (
        "pollution",
        {
            "en": "Pollution",
            "es": "Contaminación",
            "it": "Inquinamento",
            "pt": "Poluição",
        },
    )
    OTHER = "other", {"en": "Other", "es": "Otro", "it": "Altro", "pt": "Outro"}


class AdminKind(Vocabulary):
    """The level of an administrative unit."""

    COUNTRY = "country", {"en": "Country", "es": "País", "it": "Paese", "pt": "País"}
    REGION = "region", {"en": "Region", "es": "Región", "it": "Regione", "pt": "Região"}
    PROVINCE = "province", {"en": "Province", "es": "Provincia", "it": "Provincia", "pt": "Província"}
    MUNICIPALITY = (
        "municipality",
        {
            "en": "Municipality",
            "es": "Municipio",
            "it": "Comune",
            "pt": "Município",
        },
    )
    DISTRICT = "district", {"en": "District", "es": "Distrito", "it": "Quartiere", "pt": "Distrito"}
    ZONE = "zone", {"en": "Zone", "es": "Zona", "it": "Zona", "pt": "Zona"}
    OTHER = "other", {"en": "Other", "es": "Otro", "it": "Altro", "pt": "Outro"}
