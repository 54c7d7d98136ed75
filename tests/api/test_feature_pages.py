"""Pages of features for a viewer (the API's provider) agree with the atlas's own viewer reads.

:func:`commonsmap.features.feature_page` reads straight from SQLite with paging, counts and
an exact bbox test; :meth:`Atlas.layer` with a viewer is the reference every other output
uses. For every viewer, box and page they must give the same features, the same count, and
nothing hidden.
"""

from __future__ import annotations

import itertools

import pytest
import shapely

import commonsmap as cm
from commonsmap.atlas.store import Selection
from commonsmap.errors import NotFoundError, QueryError
from commonsmap.features import FeatureQuery, feature, feature_page, visible_extent
from commonsmap.privacy import Viewer
from commonsmap.query import compile_cql2, queryables_of
from tests.api.conftest import MARK, ApiAtlas


def _viewers(api_atlas: ApiAtlas) -> dict[str, Viewer]:
    community, association = api_atlas.ids["community"], api_atlas.ids["association"]
    return {"anonymous": Viewer.anonymous(), "signed_in": Viewer.signed_in(), "member": Viewer.member(community),
            "custodian": Viewer.custodian(community), "other": Viewer.custodian(association),
            "admin": Viewer.admin()}


BOXES = [None, (102.0, 10.0, 108.0, 15.0), (104.0, 12.0, 106.0, 14.0), (103.5, 13.0, 104.2, 13.6), (0.0, 0.0, 1.0, 1.0)]


@pytest.mark.parametrize("box", BOXES)
def test_every_page_for_every_viewer_matches_the_atlas_viewer_read(api_atlas_template: ApiAtlas, box) -> None:
    atlas = cm.open_atlas(api_atlas_template.path)
    for name, viewer in _viewers(api_atlas_template).items():
        reference = atlas.layer("commons", viewer=viewer, bbox=box)
        if box is not None:  # the reference reads bounding boxes; pages test the geometry itself
            reference = reference[reference.geometry.intersects(shapely.box(*box))]
        expected = list(reference[~reference["generalised"]]["id"]) + sorted(reference[reference["generalised"]]["id"])
        for limit in (1, 7, 100):
            seen: list[str] = []
            for offset in itertools.count(0, limit):
                page = feature_page(atlas, "commons", FeatureQuery(bbox=box, limit=limit, offset=offset), viewer)
                assert page.number_matched == len(expected), (name, box, limit)
                if not page.records:
                    break
                assert len(page) <= limit
                seen += [r["id"] for r in page.records]
            assert sorted(seen) == sorted(expected), (name, box, limit)
            assert len(seen) == len(set(seen))


def test_hidden_features_leave_no_trace_in_pages_counts_and_extent(api_atlas_template: ApiAtlas) -> None:
    atlas = cm.open_atlas(api_atlas_template.path)
    ids = api_atlas_template.ids
    anonymous = Viewer.anonymous()
    page = feature_page(atlas, "commons", FeatureQuery(limit=None), anonymous)
    text = repr(page.records)
    assert MARK not in text
    assert ids["hidden_community"] not in text and ids["hidden_secret"] not in text
    assert ids["generalised_site"] not in text  # shown, but only under its opaque id
    generalised = [r for r, g in zip(page.records, page.generalised, strict=True) if g]
    assert len(generalised) == 1 and generalised[0]["id"].startswith("g-") and generalised[0]["name"] is None
    with pytest.raises(NotFoundError):
        feature(atlas, "commons", ids["hidden_secret"], anonymous)
    with pytest.raises(NotFoundError):
        feature(atlas, "commons", ids["hidden_secret"], Viewer.member(ids["community"]))  # secret: custodians only
    record, _, _ = feature(atlas, "commons", ids["hidden_secret"], Viewer.custodian(ids["community"]))
    assert MARK in record["name"]
    opaque = generalised[0]["id"]
    record, geometry, generalised_flag = feature(atlas, "commons", opaque, anonymous)
    assert generalised_flag and record["name"] is None and geometry is not None
    # the extent an anonymous viewer sees does not stretch to the secret forest
    secret = atlas.get("commons", ids["hidden_secret"])["geometry"]
    everything = visible_extent(atlas, "commons", Viewer.admin())
    public_only = atlas.layer("commons", viewer=anonymous)
    shown = visible_extent(atlas, "commons", anonymous)
    assert everything is not None and shown is not None
    assert shapely.box(*shown).covers(shapely.box(*public_only.total_bounds).buffer(-1e-6))
    if not shapely.box(*public_only.total_bounds).covers(secret):
        assert not shapely.box(*shown).covers(secret) or shapely.box(*shown).equals(shapely.box(*everything))


def test_filters_count_only_what_the_viewer_sees(api_atlas_template: ApiAtlas) -> None:
    atlas = cm.open_atlas(api_atlas_template.path)
    spec = atlas.spec("commons")
    by_mark = compile_cql2(f"name LIKE '%{MARK}%'", "cql2-text", queryables_of(spec), rtree="rtree_commons_geom")
    counts = {name: feature_page(atlas, "commons", FeatureQuery(filters=(by_mark,), limit=100), viewer).number_matched
              for name, viewer in _viewers(api_atlas_template).items()}
    # generalised features never take part in attribute filters
    assert counts == {"anonymous": 0, "signed_in": 0, "member": 2, "custodian": 3, "other": 0, "admin": 3}


def test_a_bbox_upside_down_is_refused_and_one_across_the_antimeridian_is_read(api_atlas_template: ApiAtlas) -> None:
    atlas = cm.open_atlas(api_atlas_template.path)
    with pytest.raises(QueryError, match="south edge north of its north edge"):
        feature_page(atlas, "commons", FeatureQuery(bbox=(104.0, 14.0, 106.0, 12.0)), Viewer.anonymous())
    across = feature_page(atlas, "commons", FeatureQuery(bbox=(100.0, -60.0, -170.0, 60.0), limit=None),
                          Viewer.admin())
    everything = feature_page(atlas, "commons", FeatureQuery(limit=None), Viewer.admin())
    assert across.number_matched == everything.number_matched
    beyond = feature_page(atlas, "commons", FeatureQuery(bbox=(170.0, -60.0, -170.0, 60.0), limit=None),
                          Viewer.admin())
    assert beyond.number_matched == 0


def test_a_query_past_its_time_limit_is_stopped(api_atlas_template: ApiAtlas) -> None:
    atlas = cm.open_atlas(api_atlas_template.path)
    slow = Selection("(SELECT count(*) FROM parcels a, parcels b, parcels c) > 0")
    from commonsmap.errors import QueryTimeoutError

    with pytest.raises(QueryTimeoutError, match="longer than"):
        atlas.store.select_page("commons", slow, ["id"], limit=10, timeout=0.2)
