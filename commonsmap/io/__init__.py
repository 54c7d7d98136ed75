"""Reading field and office files into an atlas, and exporting layers from it."""

from commonsmap.io.exporting import export_frame
from commonsmap.io.importing import ImportResult, import_file
from commonsmap.io.mapping import map_columns
from commonsmap.io.readers import SourceInfo, read_file

__all__ = ["ImportResult", "SourceInfo", "export_frame", "import_file", "map_columns", "read_file"]
