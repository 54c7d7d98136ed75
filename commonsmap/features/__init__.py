"""Features a viewer may see, a page at a time: what the web layer serves, usable in notebooks."""

from commonsmap.features.extent import visible_extent
from commonsmap.features.pages import FeaturePage, FeatureQuery, feature, feature_page, json_ready

__all__ = ["FeaturePage", "FeatureQuery", "feature", "feature_page", "json_ready", "visible_extent"]
