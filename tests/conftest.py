"""Fixtures shared by every test layer: real data files, fresh atlases, GeoPackage validation."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from osgeo_utils.samples import validate_gpkg

import commonsmap as cm

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data() -> Path:
    """The folder of real test files (see tests/data/README.md)."""
    return DATA


@pytest.fixture
def atlas(tmp_path: Path) -> cm.Atlas:
    """A new, empty atlas in EPSG:4326."""
    return cm.Atlas.create(tmp_path / "atlas.gpkg", custodian="Test community", licence="CC-BY-4.0")


def assert_valid_geopackage(path: str | Path) -> None:
    """Run GDAL's GeoPackage validator (pure Python); it raises on the first violation."""
    validate_gpkg.check(str(path))


def digest(path: str | Path) -> str:
    """SHA-256 of a file, to show it is byte-for-byte unchanged."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
