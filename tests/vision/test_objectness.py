"""Box-mass objectness from stored activation maps and box coverages."""
from __future__ import annotations

import numpy as np
import pytest

from vision.objectness import box_mass_objectness, objectness_summary, spearman_by_category


def _chunk():
    h = w = 4
    maps = np.zeros((3, 3, h, w), np.float16)
    maps[:, 0, :2, :2] = 2.0  # channel 0: all mass in the top-left quarter
    maps[:, 1] = 1.0  # channel 1: spread evenly
    # channel 2 is silent everywhere
    cover = np.zeros((3, h, w), np.float16)
    cover[0, :2, :2] = 1.0  # image 0, category 0: the box is the top-left quarter
    cover[1, 2:, 2:] = 1.0  # image 2, category 0: bottom-right quarter
    cover[2, :, :2] = 0.5  # image 2, category 1: half-covered cells on the left half
    return {"image_index": np.array([10, 11, 12]), "original": maps.astype(np.float32).mean((2, 3)),
            "pair_image": np.array([10, 12, 12]), "pair_category": np.array([0, 0, 1]),
            "original_map": maps, "pair_box_coverage": cover}


def test_mass_inside_boxes_per_category_and_feature():
    res = box_mass_objectness([_chunk()], n_categories=3, dim=3)
    obj = res["objectness"]
    assert obj[0, 0] == pytest.approx((1.0 + 0.0) / 2)  # inside the box on image 0, outside on image 2
    assert obj[0, 1] == pytest.approx(0.25) and res["box_area_share"][0] == pytest.approx(0.25)  # even = area
    assert obj[1, 0] == pytest.approx(0.5) and obj[1, 1] == pytest.approx(0.25)
    assert np.isnan(obj[0, 2]) and np.isnan(obj[2]).all()  # silent channel; category without images
    assert res["n_images"].tolist() == [2, 1, 0]


def test_signed_maps_use_absolute_mass():
    c = _chunk()
    c["original_map"] = -c["original_map"]
    assert box_mass_objectness([c], 3, 3)["objectness"][0, 0] == pytest.approx(0.5)


def test_folders_without_maps_give_none_and_the_report_says_why():
    c = _chunk()
    del c["original_map"], c["pair_box_coverage"]
    assert box_mass_objectness([c], 3, 3) is None
    summary = objectness_summary(None, ["a", "b", "c"], {}, np.ones(3, bool))
    assert "no activation maps" in summary["skipped"]


def test_summary_correlations():
    res = box_mass_objectness([_chunk()], 3, 3)
    arrays = {"object_ratio": np.array([[3.0, 2.0, 1.0]] * 3), "context_ratio": np.ones((3, 3)),
              "anticausal": np.array([[0.9, 0.1, 0.5]] * 3)}
    s = objectness_summary(res, ["a", "b", "c"], arrays, np.array([True, True, False]))
    assert s["box_area_share"]["c"] is None and s["box_area_share"]["a"] == pytest.approx(0.25)
    # 2 finite features per category: too few for a rank correlation
    assert s["correlations"]["object_ratio"]["n_categories"] == 0
    r = spearman_by_category(np.array([[1.0, 2, 3, 4]]), np.array([[2.0, 4, 6, 9]]), np.array([0]))
    assert r["median"] == pytest.approx(1.0) and r["per_category"] == {0: pytest.approx(1.0)}
