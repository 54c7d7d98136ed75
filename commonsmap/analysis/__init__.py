"""Analyses over an atlas: overlaps and conflicts, rights queries, statistics."""

from commonsmap.analysis.areas import fast_geodesic_area_ha
from commonsmap.analysis.conflicts import (
    detect_conflicts,
    exclusive_rights_conflicts,
    open_dispute,
    write_conflict_report,
)
from commonsmap.analysis.overlaps import overlap_pairs
from commonsmap.analysis.rights import rights_with_places, who_may
from commonsmap.analysis.statistics import area_statistics, overlap_statistics

__all__ = [
    "area_statistics",
    "detect_conflicts",
    "exclusive_rights_conflicts",
    "fast_geodesic_area_ha",
    "open_dispute",
    "overlap_pairs",
    "overlap_statistics",
    "rights_with_places",
    "who_may",
    "write_conflict_report",
]
