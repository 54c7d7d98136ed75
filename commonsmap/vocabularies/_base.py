"""The base class of every controlled vocabulary: a string enum with labels."""

from __future__ import annotations

from enum import Enum
from typing import Any, Self

LANGUAGES: tuple[str, ...] = ("en", "es", "it", "pt")
"""Languages every vocabulary term, layer and field is labelled in."""

DEFAULT_LANGUAGE = "en"


class Vocabulary(str, Enum):  # noqa: UP042 (members take (code, labels))
    """A controlled vocabulary whose terms carry labels in several languages.

    Each member is declared as ``CODE = "code", {"en": ..., "es": ..., "it": ..., "pt": ...}``.
    The member's value is the code stored in the atlas; the labels are for people.

    Examples
    --------
    >>> from commonsmap.vocabularies import Sensitivity
    >>> Sensitivity("secret").label("es")
    'Secreto'
    """

    _labels: dict[str, str]

    def __new__(cls, code: str, labels: dict[str, str] | None = None) -> Vocabulary:
        member = str.__new__(cls, code)
        member._value_ = code
        member._labels = dict(labels or {})
        return member

    def __str__(self) -> str:
        return str(self.value)

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """Return the term's label in ``lang``, falling back to English, then the code."""
        return self._labels.get(lang) or self._labels.get(DEFAULT_LANGUAGE) or str(self.value)

    @classmethod
    def codes(cls) -> list[str]:
        """Return every code of the vocabulary, in declaration order."""
        return [str(member.value) for member in cls]

    @classmethod
    def labels(cls, lang: str = DEFAULT_LANGUAGE) -> dict[str, str]:
        """Return ``{code: label}`` for every term in ``lang``."""
        return {str(member.value): member.label(lang) for member in cls}

    @classmethod
    def parse(cls, value: Any) -> Self:
        """Return the term matching ``value``: a member, its code, or one of its labels.

        Matching of codes and labels ignores case, surrounding spaces, and treats
        spaces and hyphens as underscores, so ``"Community managed"`` finds
        ``community_managed``.

        Raises
        ------
        ValueError
            If nothing matches; the message lists the accepted codes.
        """
        if isinstance(value, cls):
            return value
        text = str(value).strip()
        key = text.lower().replace("-", "_").replace(" ", "_")
        for member in cls:
            if key == member.value:
                return member
        for member in cls:
            if any(text.casefold() == label.casefold() for label in member._labels.values()):
                return member
        raise ValueError(f"{text!r} is not a {cls.__name__} term; use one of: {', '.join(cls.codes())}")
