"""Import a file into a layer of an atlas: read, map fields, validate, write in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commonsmap.errors import InvalidInputError
from commonsmap.geometry import OnInvalid
from commonsmap.io.mapping import map_columns
from commonsmap.io.readers import SourceInfo, read_file
from commonsmap.validation import UnknownFields, ValidationReport

if TYPE_CHECKING:
    from commonsmap.atlas.atlas import Atlas

Progress = Callable[[str], None]


@dataclass
class ImportResult:
    """What an import did: the layer, ids written, where they came from, repairs and notes."""

    layer: str
    ids: list[str]
    source: SourceInfo
    report: ValidationReport = field(default_factory=ValidationReport)
    mapping_notes: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Number of features imported."""
        return len(self.ids)

    def summary(self) -> str:
        """A few lines for people: what was imported, what was repaired."""
        lines = [f"{self.count} features imported into {self.layer!r} from {Path(self.source.path).name} "
                 f"({self.source.format}{', layer ' + self.source.layer if self.source.layer else ''})"]
        lines += [f"  note: {n}" for n in [*self.source.notes, *self.mapping_notes, *self.report.notes] if n]
        lines += [f"  repaired: {r}" for r in self.report.repairs]
        return "\n".join(lines)


def import_file(atlas: Atlas, path: str | Path, layer: str, *, source_layer: str | None = None,
                mapping: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None,
                crs: object | None = None, unknown: UnknownFields = "error", on_invalid: OnInvalid = "repair",
                who: str | None = None, note: str | None = None, progress: Progress | None = None) -> ImportResult:
    """Import a file into a layer; all rows are written, or none.

    Parameters
    ----------
    atlas : Atlas
        The atlas to write to.
    path : str or Path
        The file (see :func:`commonsmap.io.readers.read_file` for formats).
    layer : str
        The target layer, e.g. ``"claims"``.
    source_layer : str, optional
        The layer of the file to read when it holds several.
    mapping : mapping of str to str, optional
        ``{file column: field}``; other columns match fields by name or label.
    values : mapping of str to object, optional
        Constant field values for every row, e.g. ``{"kind": "forest"}``.
    crs : optional
        The file's CRS when it declares none (a file that declares one keeps it).
    unknown : {"error", "keep", "drop"}, default "error"
        Columns that match no field: refuse the file, keep them in ``extra``, or drop them.
    on_invalid : {"repair", "reject"}, default "repair"
        Invalid geometries: repair with ``make_valid`` (each reported) or refuse.
    who, note : str, optional
        Recorded in the history of every feature written.
    progress : callable, optional
        Called with the name of each step ("reading", "validating", "writing").

    Returns
    -------
    ImportResult

    Raises
    ------
    InvalidInputError
        Naming the file, and each row and field at fault; the atlas is unchanged.
    """
    report = progress or (lambda step: None)
    report("reading")
    frame, source = read_file(path, layer=source_layer)
    if len(frame) == 0:
        raise InvalidInputError("the file holds no features", source=Path(path).name)
    mapped, notes = map_columns(frame, atlas.spec(layer), mapping, values)
    report("validating and writing")
    try:
        result = atlas.add(layer, mapped, who=who, note=note or f"import of {Path(path).name}",
                           unknown=unknown, on_invalid=on_invalid, crs=crs)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.problems, source=Path(path).name) from None
    report("done")
    return ImportResult(layer, result.ids, source, result.report, notes)
