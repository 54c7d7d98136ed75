"""The web layer of commonsmap: an atlas served as OGC API – Features (and Tiles).

It imports :mod:`commonsmap`; the library never imports it. ``create_app(atlas)`` builds the
FastAPI app; ``commonsmap serve ATLAS`` runs it (the command is registered as a plug-in of the
commonsmap CLI).
"""

from api.app import create_app

__all__ = ["create_app"]
