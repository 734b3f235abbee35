"""The analysis end to end on tiny extracted features: controls, quality filter, CIs, new columns."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from tests.vision.fixtures import make_coco
from tests.vision.test_controls import sparsity_scorer
from vision.analysis import analyze, load_features
from vision.controls import zero_fraction
from vision.extract import extract_features


@pytest.fixture(scope="module")
def features(tmp_path_factory, resnet18_random):
    root = tmp_path_factory.mktemp("analysis")
    img, ann = make_coco(root / "ds", n_images=24)
    out = root / "features"
    extract_features(img, ann, out, backbone=resnet18_random, resize=32, num_workers=0, progress=False,
                     categories="all")
    return out


FAST = {"classifier": "logreg", "folds": 3, "classifier_max_iter": 50, "figures": False, "progress": False}


def test_permutation_and_matched_controls_in_the_report(features, tmp_path):
    report = analyze(features, tmp_path, scorer=sparsity_scorer, min_auc=0, min_positives=0, permutations=9,
                     label_permutations=0, bootstrap=40, **FAST)
    tests = report["tests"]
    for ratio in ("object", "context"):
        t = tests[f"{ratio}_ratio"]
        assert 0 < t["permutation_p"] <= 1 and len(t["permutation_null_counts"]) == 9
        assert t["sign_test_p"] == report["results"]["ncc"][ratio]["p_value"]
        assert t["n_anticausal_greater"] == report["results"]["ncc"][ratio]["n_anticausal_greater"]
        assert "marginal_matched_sign_test_p" in t and "correlation_permutation_p" in t
    assert tests["permutation"]["n_images"] == 24 and tests["permutation"]["scored_orientations"] == 1
    assert tests["permutation"]["subsampled"] is False and tests["label_permutation"] is None
    assert report["verdict"].startswith("Pipeline test only")
    on_disk = json.loads((tmp_path / "report.json").read_text())
    assert on_disk["tests"]["object_ratio"]["permutation_p"] == tests["object_ratio"]["permutation_p"]
    md = (tmp_path / "report.md").read_text()
    assert "permutation p" in md and "How to read this report" in md and "marginal-matched" in md
    for c, r in report["results"]["ncc"]["per_category"].items():
        lo, hi = r["ci"]["object_ratio_anticausal"]
        assert lo <= r["object_ratio_anticausal"] + 1e-9 and r["object_ratio_anticausal"] - 1e-9 <= hi, c


def test_observed_count_of_the_permutation_control_is_the_reported_count(features, tmp_path):
    report = analyze(features, tmp_path, scorer=sparsity_scorer, min_auc=0, min_positives=0, permutations=3,
                     label_permutations=0, bootstrap=0, **FAST)
    assert "ci" not in next(iter(report["results"]["ncc"]["per_category"].values()))
    # The artefact scorer ignores the class variable: every shuffle gives the observed counts exactly.
    t = report["tests"]["object_ratio"]
    assert t["permutation_null_counts"] == [t["n_anticausal_greater"]] * 3 and t["permutation_p"] == 1.0


def test_label_permutation_refits_the_classifier_and_subsamples_alike(features, tmp_path):
    report = analyze(features, tmp_path, scorer=sparsity_scorer, min_auc=0, min_positives=0, permutations=4,
                     label_permutations=3, permutation_max_images=20, bootstrap=0, **FAST)
    t = report["tests"]
    assert t["label_permutation"]["n_permutations"] == 3 and t["label_permutation"]["subsampled"] is True
    assert t["permutation"]["n_images"] == t["label_permutation"]["n_images"] == 20
    o = t["object_ratio"]
    assert len(o["label_permutation_null_counts"]) == 3 and 0 < o["label_permutation_p"] <= 1
    assert "classifiers refitted on shuffled labels" in report["verdict"]


def test_weak_class_variables_are_left_out_of_the_overall_tests_with_a_warning(features, tmp_path):
    report = analyze(features, tmp_path, scorer=sparsity_scorer, permutations=2, bootstrap=0, **FAST)
    left = [c for c, v in report["categories"].items() if v["scored"] and not v["in_overall_test"]]
    assert left and all("positive images" in report["categories"][c]["left_out_of_overall_test"]
                        or "AUC" in report["categories"][c]["left_out_of_overall_test"] for c in left)
    assert any("left out of the overall tests" in w for w in report["warnings"])
    assert report["tests"]["object_ratio"]["n_categories"] == 0
    assert report["tests"]["permutation"]["skipped"] == "no category in the overall test"
    assert report["tests"]["label_permutation"]["skipped"] == "no category in the overall test"  # no refits run
    assert "no category passes the class-variable quality bar" in report["verdict"]
    # the per-category comparisons are still there
    assert set(left) <= set(report["results"]["ncc"]["per_category"])


def test_feature_scores_have_marginal_columns(features, tmp_path):
    analyze(features, tmp_path, scorer=sparsity_scorer, permutations=0, bootstrap=0, **FAST)
    with open(tmp_path / "feature_scores.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    F = load_features(features).original
    zf = zero_fraction(F)
    got = np.array([float(r["zero_fraction"]) for r in rows[:F.shape[1]]])
    assert np.allclose(got, zf) and zf.max() > 0  # a random ResNet has silent channels
    assert np.allclose([float(r["mean_activation"]) for r in rows[:F.shape[1]]], F.mean(axis=0), rtol=1e-6)


@pytest.mark.parametrize("field, value", [("min_auc", 1.5), ("permutations", -1), ("bootstrap", -2),
                                          ("permutation_max_images", 1)])
def test_bad_control_settings_are_refused_by_name(features, tmp_path, field, value):
    with pytest.raises(ValueError, match=field.replace("_", " ").split()[0]):
        analyze(features, tmp_path, scorer=sparsity_scorer, **{field: value}, **FAST)


def test_the_package_level_analyze_stays_the_function_after_its_module_is_imported():
    import vision
    import vision.analysis  # noqa: F401 - a submodule named vision.analyze once shadowed the function

    assert callable(vision.analyze) and vision.analyze.__module__ == "vision.analysis"


def test_python_api_warns_once_about_random_weights(features, tmp_path, resnet18_random):
    import warnings

    from vision.backbones import RANDOM_WEIGHTS, RandomWeightsWarning, warn_random_weights

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        analyze(features, tmp_path, scorer=sparsity_scorer, permutations=0, bootstrap=0, **FAST)
        warn_random_weights(resnet18_random.notes)  # the extraction's call: same warning, same site
    said = [w for w in caught if issubclass(w.category, RandomWeightsWarning)]
    assert len(said) == 1 and RANDOM_WEIGHTS in str(said[0].message)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_random_weights(["pretrained weights"])
    assert not caught


def test_objectness_and_feature_maps_from_stored_maps(features, tmp_path):
    report = analyze(features, tmp_path, scorer=sparsity_scorer, permutations=0, bootstrap=0,
                     **{**FAST, "figures": True, "examples": 0})
    with open(tmp_path / "feature_scores.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    scored = [c for c, v in report["categories"].items() if v["scored"]]
    values = np.array([float(r["objectness"]) for r in rows if r["category"] in scored])
    finite = values[np.isfinite(values)]
    assert len(finite) > 0.5 * len(values) and ((finite >= 0) & (finite <= 1)).all()
    assert set(report["objectness"]["box_area_share"]) == set(report["categories"])
    maps = [o for o in report["outputs"] if o.startswith("feature_maps/")]
    assert sorted(maps) == sorted(f"feature_maps/{c}.jpg" for c in scored)
    assert all((tmp_path / m).stat().st_size > 1000 for m in maps)
    assert "Box-mass objectness" in (tmp_path / "report.md").read_text()
