"""The words of the maps themselves (controls, legend, popups) in every language of the atlas."""

from __future__ import annotations

from commonsmap.errors import QueryError
from commonsmap.vocabularies._base import DEFAULT_LANGUAGE, LANGUAGES

_WORDS: dict[str, dict[str, str]] = {
    "legend": {"en": "Legend", "es": "Leyenda", "it": "Legenda", "pt": "Legenda"},
    "search": {"en": "Search by name…", "es": "Buscar por nombre…", "it": "Cerca per nome…",
               "pt": "Pesquisar por nome…"},
    "not_found": {"en": "Nothing by that name", "es": "Ningún resultado con ese nombre",
                  "it": "Nessun risultato con questo nome", "pt": "Nenhum resultado com esse nome"},
    "fullscreen": {"en": "Full screen", "es": "Pantalla completa", "it": "Schermo intero", "pt": "Ecrã inteiro"},
    "exit_fullscreen": {"en": "Leave full screen", "es": "Salir de pantalla completa",
                        "it": "Esci da schermo intero", "pt": "Sair do ecrã inteiro"},
    "locate": {"en": "Show where I am", "es": "Mostrar dónde estoy", "it": "Mostra dove sono",
               "pt": "Mostrar onde estou"},
    "features": {"en": "features", "es": "elementos", "it": "elementi", "pt": "elementos"},
    "generalised": {"en": "shown generalised: the place is approximate",
                    "es": "mostrado generalizado: el lugar es aproximado",
                    "it": "mostrato generalizzato: il luogo è approssimativo",
                    "pt": "mostrado generalizado: o local é aproximado"},
    "generalised_count": {"en": "generalised", "es": "generalizados", "it": "generalizzati",
                          "pt": "generalizados"},
    "as_picture": {"en": "drawn as a picture below zoom {zoom}; zoom in for each feature",
                   "es": "dibujado como imagen por debajo del zoom {zoom}; acerque para ver cada elemento",
                   "it": "disegnato come immagine sotto lo zoom {zoom}; ingrandisci per ogni elemento",
                   "pt": "desenhado como imagem abaixo do zoom {zoom}; aproxime para ver cada elemento"},
    "from_tiles": {"en": "drawn from vector tiles", "es": "dibujado con teselas vectoriales",
                   "it": "disegnato da tasselli vettoriali", "pt": "desenhado com mosaicos vetoriais"},
    "picture_only": {"en": "drawn as a picture: serve the atlas (commonsmap serve) for each feature",
                     "es": "dibujado como imagen: sirva el atlas (commonsmap serve) para ver cada elemento",
                     "it": "disegnato come immagine: pubblica l'atlante (commonsmap serve) per ogni elemento",
                     "pt": "desenhado como imagem: sirva o atlas (commonsmap serve) para ver cada elemento"},
    "rights": {"en": "Rights", "es": "Derechos", "it": "Diritti", "pt": "Direitos"},
    "pacts": {"en": "Pacts", "es": "Pactos", "it": "Patti", "pt": "Pactos"},
    "parties": {"en": "Parties", "es": "Partes", "it": "Parti", "pt": "Partes"},
    "evidence": {"en": "Evidence", "es": "Pruebas", "it": "Prove", "pt": "Provas"},
    "sources": {"en": "sources", "es": "fuentes", "it": "fonti", "pt": "fontes"},
    "yes": {"en": "yes", "es": "sí", "it": "sì", "pt": "sim"},
    "no": {"en": "no", "es": "no", "it": "no", "pt": "não"},
    "other": {"en": "other", "es": "otro", "it": "altro", "pt": "outro"},
    "none": {"en": "none", "es": "ninguno", "it": "nessuno", "pt": "nenhum"},
}


def check_language(lang: str) -> str:
    """Return ``lang`` if the maps speak it.

    Raises
    ------
    QueryError
        For a language the atlas is not labelled in.
    """
    if lang not in LANGUAGES:
        raise QueryError(f"maps are labelled in {', '.join(LANGUAGES)}; there are no labels in {lang!r}")
    return lang


def word(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Return the map's word ``key`` in ``lang`` (English when missing)."""
    labels = _WORDS[key]
    return labels.get(lang) or labels[DEFAULT_LANGUAGE]
