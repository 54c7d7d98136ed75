"""Vocabularies describing a commons: its kind, nature, regime, ownership and protection."""

from commonsmap.vocabularies._base import Vocabulary


class CommonsKind(Vocabulary):
    """What kind of resource or place a commons is."""

    FOREST = "forest", {"en": "Forest", "es": "Bosque", "it": "Bosco", "pt": "Floresta"}
    WATER = "water", {"en": "Water", "es": "Agua", "it": "Acqua", "pt": "Água"}
    RIVER = "river", {"en": "River", "es": "Río", "it": "Fiume", "pt": "Rio"}
    WETLAND = "wetland", {"en": "Wetland", "es": "Humedal", "it": "Zona umida", "pt": "Área úmida"}
    PASTURE = "pasture", {"en": "Pasture", "es": "Pastizal", "it": "Pascolo", "pt": "Pastagem"}
    FISHERY = "fishery", {"en": "Fishery", "es": "Pesquería", "it": "Zona di pesca", "pt": "Área de pesca"}
    IRRIGATION = (
        "irrigation",
        {
            "en": "Irrigation system",
            "es": "Sistema de riego",
            "it": "Sistema irriguo",
            "pt": "Sistema de irrigação",
        },
    )
    COAST = "coast", {"en": "Coast", "es": "Costa", "it": "Costa", "pt": "Litoral"}
    SEEDS = (
        "seeds",
        {
            "en": "Seeds and agrobiodiversity",
            "es": "Semillas y agrobiodiversidad",
            "it": "Sementi e agrobiodiversità",
            "pt": "Sementes e agrobiodiversidade",
        },
    )
    SQUARE = "square", {"en": "Square", "es": "Plaza", "it": "Piazza", "pt": "Praça"}
    PARK = "park", {"en": "Park", "es": "Parque", "it": "Parco", "pt": "Parque"}
    GARDEN = (
        "garden",
        {
            "en": "Garden",
            "es": "Huerta / jardín",
            "it": "Orto / giardino",
            "pt": "Horta / jardim",
        },
    )
    BUILDING = "building", {"en": "Building", "es": "Edificio", "it": "Edificio", "pt": "Edifício"}
    ARCADE = "arcade", {"en": "Arcade", "es": "Pórtico", "it": "Portico", "pt": "Pórtico"}
    STREET_SECTION = (
        "street_section",
        {
            "en": "Street section",
            "es": "Tramo de calle",
            "it": "Tratto di strada",
            "pt": "Trecho de rua",
        },
    )
    VACANT_LOT = (
        "vacant_lot",
        {
            "en": "Vacant lot",
            "es": "Terreno baldío",
            "it": "Area dismessa",
            "pt": "Terreno baldio",
        },
    )
    SHARED_FACILITY = (
        "shared_facility",
        {
            "en": "Shared facility",
            "es": "Equipamiento compartido",
            "it": "Struttura condivisa",
            "pt": "Equipamento compartilhado",
        },
    )
    DIGITAL = (
        "digital",
        {
            "en": "Digital commons",
            "es": "Comunes digitales",
            "it": "Beni comuni digitali",
            "pt": "Comuns digitais",
        },
    )
    KNOWLEDGE = (
        "knowledge",
        {
            "en": "Knowledge commons",
            "es": "Comunes del conocimiento",
            "it": "Beni comuni della conoscenza",
            "pt": "Comuns do conhecimento",
        },
    )


class Materiality(Vocabulary):
    """Whether a commons is tangible, intangible or digital."""

    TANGIBLE = "tangible", {"en": "Tangible", "es": "Material", "it": "Materiale", "pt": "Material"}
    INTANGIBLE = (
        "intangible",
        {
            "en": "Intangible",
            "es": "Inmaterial",
            "it": "Immateriale",
            "pt": "Imaterial",
        },
    )
    DIGITAL = "digital", {"en": "Digital", "es": "Digital", "it": "Digitale", "pt": "Digital"}


class Rivalry(Vocabulary):
    """Whether one person's use of a commons reduces what is left for others."""

    RIVAL = "rival", {"en": "Rival", "es": "Rival", "it": "Rivale", "pt": "Rival"}
    NON_RIVAL = "non_rival", {"en": "Non-rival", "es": "No rival", "it": "Non rivale", "pt": "Não rival"}


class ManagementRegime(Vocabulary):
    """Who manages a commons day to day."""

    STATE_PUBLIC = (
        "state_public",
        {
            "en": "State / public",
            "es": "Estatal / público",
            "it": "Pubblico / statale",
            "pt": "Estatal / público",
        },
    )
    CO_MANAGED_PACT = (
        "co_managed_pact",
        {
            "en": "Co-managed by pact",
            "es": "Cogestionado por pacto",
            "it": "Cogestito tramite patto",
            "pt": "Cogerido por pacto",
        },
    )
    COMMUNITY_MANAGED = (
        "community_managed",
        {
            "en": "Community-managed",
            "es": "Gestionado por la comunidad",
            "it": "Gestito dalla comunità",
            "pt": "Gerido pela comunidade",
        },
    )
    PRIVATE = "private", {"en": "Private", "es": "Privado", "it": "Privato", "pt": "Privado"}


class Ownership(Vocabulary):
    """Who holds the property of the land or resource under a commons."""

    MUNICIPAL = "municipal", {"en": "Municipal", "es": "Municipal", "it": "Comunale", "pt": "Municipal"}
    STATE = "state", {"en": "State", "es": "Estatal", "it": "Statale", "pt": "Estatal"}
    COMMUNAL = "communal", {"en": "Communal", "es": "Comunal", "it": "Collettiva", "pt": "Coletiva"}
    EJIDO_COMUNA = (
        "ejido_comuna",
        {
            "en": "Ejido / comuna",
            "es": "Ejido / comuna",
            "it": "Ejido / comuna",
            "pt": "Ejido / comuna",
        },
    )
    COMMUNITY_LAND_TRUST = (
        "community_land_trust",
        {
            "en": "Community land trust",
            "es": "Fideicomiso comunitario de tierras",
            "it": "Community land trust",
            "pt": "Termo Territorial Coletivo",
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
    PRIVATE = "private", {"en": "Private", "es": "Privada", "it": "Privata", "pt": "Privada"}
    UNKNOWN = "unknown", {"en": "Unknown", "es": "Desconocida", "it": "Sconosciuta", "pt": "Desconhecida"}


class ProtectionStatus(Vocabulary):
    """How far a commons has got on the way from being mapped to being protected."""

    MAPPED = "mapped", {"en": "Mapped", "es": "Mapeado", "it": "Mappato", "pt": "Mapeado"}
    RECOGNISED = (
        "recognised",
        {
            "en": "Recognised",
            "es": "Reconocido",
            "it": "Riconosciuto",
            "pt": "Reconhecido",
        },
    )
    CO_MANAGED = "co_managed", {"en": "Co-managed", "es": "Cogestionado", "it": "Cogestito", "pt": "Cogerido"}
    PROTECTED_IN_PERPETUITY = (
        "protected_in_perpetuity",
        {
            "en": "Protected in perpetuity",
            "es": "Protegido a perpetuidad",
            "it": "Tutelato in perpetuo",
            "pt": "Protegido em perpetuidade",
        },
    )


class ParcelOwnerKind(Vocabulary):
    """Whether a cadastral parcel is publicly or privately owned."""

    PUBLIC = "public", {"en": "Public", "es": "Público", "it": "Pubblico", "pt": "Público"}
    PRIVATE = "private", {"en": "Private", "es": "Privado", "it": "Privato", "pt": "Privado"}
    UNKNOWN = "unknown", {"en": "Unknown", "es": "Desconocido", "it": "Sconosciuto", "pt": "Desconhecido"}


class Designation(Vocabulary):
    """Whether a place has been set aside for use as a commons."""

    NOT_DESIGNATED = (
        "not_designated",
        {
            "en": "Not designated",
            "es": "Sin destinar",
            "it": "Non destinato",
            "pt": "Não destinado",
        },
    )
    DESIGNATED = (
        "designated",
        {
            "en": "Designated for commons use",
            "es": "Destinado al uso común",
            "it": "Destinato all'uso comune",
            "pt": "Destinado ao uso comum",
        },
    )
    RESERVED = "reserved", {"en": "Reserved", "es": "Reservado", "it": "Riservato", "pt": "Reservado"}
    UNDER_PACT = (
        "under_pact",
        {
            "en": "Under pact",
            "es": "Bajo pacto",
            "it": "Oggetto di patto",
            "pt": "Sob pacto",
        },
    )
