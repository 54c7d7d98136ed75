"""Errors of commonsmap: each carries a machine-readable code and a message for people.

The web layer maps each class to one HTTP status; the library never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass


class CommonsmapError(Exception):
    """Base of every error commonsmap raises on purpose."""

    code = "commonsmap-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CatalogueError(CommonsmapError):
    """A layer file of the catalogue is malformed, or a layer is unknown."""

    code = "catalogue-error"


class AtlasError(CommonsmapError):
    """The atlas file cannot be created, opened or is not a commonsmap atlas."""

    code = "atlas-error"


class NotFoundError(CommonsmapError):
    """A feature, layer or history entry does not exist (or the viewer may not see it)."""

    code = "not-found"


class VersionConflictError(CommonsmapError):
    """A write was based on a version of a feature that is no longer current."""

    code = "version-conflict"


class QueryError(CommonsmapError):
    """A question to the atlas (a read, an analysis, a viewer) was asked in a way it cannot answer.

    Nothing is read past the check and nothing is written.
    """

    code = "invalid-query"


class QueryTimeoutError(QueryError):
    """A read ran longer than it was allowed to; nothing was returned."""

    code = "query-timeout"


class PermissionDeniedError(CommonsmapError):
    """The viewer may not make this change (or see what it would need to see to make it)."""

    code = "permission-denied"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (row, field) and why."""

    reason: str
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class InvalidInputError(CommonsmapError):
    """Input data was refused; nothing was written.

    Attributes
    ----------
    problems : list of Problem
        Every problem found, each with its row (0-based, in the input's order) and field.
    source : str or None
        The file or object the input came from.
    """

    code = "invalid-input"
    shown = 20

    def __init__(self, problems: list[Problem] | str, source: str | None = None) -> None:
        self.problems = [Problem(problems)] if isinstance(problems, str) else list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        lines = [str(p) for p in self.problems[: self.shown]]
        more = len(self.problems) - self.shown
        if more > 0:
            lines.append(f"... and {more} more problems")
        if len(lines) == 1:
            message = f"{head}{lines[0]}"
        else:
            message = f"{head}{len(self.problems)} problems:\n  " + "\n  ".join(lines)
        super().__init__(message + "\nNothing was written.")
