"""The web layer of commonsmap (OGC API – Features over an atlas).

It imports :mod:`commonsmap`; the library never imports it. The app factory and routers come
with the API work; this package is shipped in the wheel so that ``commonsmap serve`` can find it.
"""
