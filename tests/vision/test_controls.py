"""The controls that can refute the image finding: quality filter, marginal twins, permutation test, bootstrap."""
from __future__ import annotations

import numpy as np
import pytest

from vision.bootstrap import category_intervals, ratio_intervals
from vision.controls import (
    empirical_p,
    marginal_matched,
    matched_twins,
    permutation_control,
    quality_mask,
    refit_replicates,
    shuffled_class_replicates,
    subsample_rows,
    zero_fraction,
)
from vision.scores import compare_categories


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def sparsity_scorer(pairs):
    """An artefact scorer: says "a → b" when b is the sparser column, whatever links them (exactly antisymmetric)."""
    return np.array([_sigmoid(8 * ((p[:, 1] == 0).mean() - (p[:, 0] == 0).mean())) for p in pairs])


def correlation_scorer(pairs):
    """A scorer that reads the link: P(a → b) = σ(10 ρ(a, b) (mean b − mean a)), exactly antisymmetric."""
    out = []
    for p in pairs:
        rho = np.corrcoef(p[:, 0], p[:, 1])[0, 1]
        out.append(_sigmoid(10 * rho * (p[:, 1].mean() - p[:, 0].mean())))
    return np.array(out)


def _world(seed=0, n=120, K=8, D=40):
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(n, K))
    F = rng.gamma(2.0, 1.0, size=(n, D)) + 5.0
    sparse = np.arange(0, D, 5)  # every fifth feature is zero-inflated
    F[:, sparse] *= rng.random((n, len(sparse))) < 0.2
    dense = [l for l in range(D) if l % 5]
    linked = {k: [dense[k % len(dense)]] for k in range(K)}  # one dense feature per category follows c_k
    for k, (l,) in linked.items():
        F[:, l] = 5 + 2 * C[:, k] + 0.3 * rng.normal(size=n)
    return F, C, sparse, linked


def test_zero_fraction_counts_exact_zeros():
    F = np.array([[0.0, 1.0], [0.0, 0.0], [2.0, 1e-30]])
    assert zero_fraction(F).tolist() == pytest.approx([2 / 3, 1 / 3])


def test_quality_mask_leaves_out_weak_and_rare_categories_with_reasons():
    keep, out = quality_mask(["a", "b", "c", "d"], np.array([True, True, True, False]),
                             {"a": 0.9, "b": 0.6, "c": 0.95}, np.array([30, 40, 5, 50]), 0.75, 20)
    assert keep.tolist() == [True, False, False, False]
    assert "AUC 0.600" in out["b"] and "5 positive images" in out["c"] and "d" not in out
    keep, out = quality_mask(["a", "b"], np.array([True, True]), {"a": 0.5}, np.array([3, 3]), 0.0, 0)
    assert keep.tolist() == [True, False] and "n/a" in out["b"]  # no AUC at all is never "good"


def test_matched_twins_are_nearest_in_rank_space_and_never_reused():
    desc = np.array([[0.0, 1.0], [0.01, 1.1], [0.02, 1.05], [0.9, 9.0], [0.5, 5.0]])
    twins = matched_twins(np.array([0, 3]), desc, pool=np.arange(5))
    assert twins.tolist() == [1, 4]
    assert matched_twins(np.array([0, 1]), desc, pool=np.array([2])).tolist() == [2]  # pool runs out


def test_marginal_matched_reports_twins_and_counts_only_tested_categories():
    desc = np.column_stack([np.linspace(0, 1, 10), np.linspace(1, 2, 10)])
    obj = np.tile(np.arange(10.0), (2, 1))
    per = {"x": {"top_anticausal": [9]}, "y": {"top_anticausal": [0]}}
    res = marginal_matched(["x", "y"], per, desc, obj, obj, np.array([True, False]))
    assert res["per_category"]["x"]["matched"] == [8] and res["per_category"]["y"]["matched"] == [1]
    assert res["object"]["n_categories"] == 1 and res["object"]["n_anticausal_greater"] == 1


def test_empirical_p_counts_the_observed_as_one_permutation():
    null = np.array([4, 5, 5, 6, 5, 4, 6, 5, 5, 5], float)
    assert empirical_p(10, null) == {"p": pytest.approx(1 / 11), "p_greater": pytest.approx(1 / 11)}
    assert empirical_p(5, null)["p"] == pytest.approx(1.0)
    assert empirical_p(None, null)["p"] is None


def _control(F, C, scorer, obj, R=19, replicates=None, antisymmetric=True, **kw):
    K, D = obj.shape
    reps = replicates if replicates is not None else shuffled_class_replicates(C, R, seed=0)
    return permutation_control(F, reps, scorer, categories=[f"c{k}" for k in range(K)], in_test=np.ones(K, bool),
                               features_ok=np.ones(D, bool), object_ratio=obj, context_ratio=obj.copy(),
                               top_percent=100 / D, antisymmetric=antisymmetric, **kw)


def test_permutation_control_does_not_reject_a_marginal_artefact_the_sign_test_accepts():
    F, C, sparse, _ = _world()
    obj = np.ones((C.shape[1], F.shape[1]))
    obj[:, sparse] = 3.0  # sparse features "change most" under interventions, whatever the category
    scores = sparsity_scorer([np.column_stack([c, f]) for c in C.T for f in F.T]).reshape(C.shape[1], F.shape[1])
    sign = compare_categories([f"c{k}" for k in range(C.shape[1])], scores, 1 - scores, obj, obj, 100 / F.shape[1],
                              np.ones(C.shape[1], bool))
    assert sign["object"]["n_anticausal_greater"] == C.shape[1] and sign["object"]["p_value"] < 0.01
    res = _control(F, C, sparsity_scorer, obj)
    assert res["ncc"]["object"]["observed"] == C.shape[1]
    assert res["ncc"]["object"]["null_mean"] == C.shape[1]  # shuffling c changes nothing for this scorer
    assert res["ncc"]["object"]["p"] == pytest.approx(1.0)


def test_permutation_control_rejects_when_the_scores_follow_the_class_variable():
    F, C, _, linked = _world()
    obj = np.ones((C.shape[1], F.shape[1]))
    for k, ls in linked.items():
        obj[k, ls] = 3.0  # the feature that follows c_k is the one the object's removal changes
    res = _control(F, C, correlation_scorer, obj, R=39)
    o = res["ncc"]["object"]
    assert o["observed"] == C.shape[1] and o["null_mean"] < C.shape[1] / 2
    assert o["p"] == pytest.approx(1 / 40) and o["p_greater"] == pytest.approx(1 / 40)
    assert len(o["null_counts"]) == 39 and res["n_images"] == len(F) and res["n_permutations"] == 39


def test_permutation_control_is_seeded_and_streams():
    F, C, _, linked = _world(n=60, K=3, D=10)
    obj = np.random.default_rng(1).random((3, 10))
    calls = []

    def counting(pairs):
        calls.append(len(pairs))
        return correlation_scorer(pairs)

    a = _control(F, C, counting, obj, R=4, max_points_per_call=2 * 60 * 7)
    assert max(calls) <= 7 and sum(calls) == 5 * 3 * 10  # one orientation per pair, in bounded calls
    b = _control(F, C, correlation_scorer, obj, R=4)
    assert a["ncc"]["object"]["null_counts"] == b["ncc"]["object"]["null_counts"]
    both = _control(F, C, correlation_scorer, obj, R=4, antisymmetric=False)
    assert both["scored_orientations"] == 2
    assert both["ncc"]["object"]["null_counts"] == b["ncc"]["object"]["null_counts"]  # the scorer is antisymmetric


def test_replicates_and_subsample_are_seeded():
    C = np.arange(20.0).reshape(10, 2)
    reps = shuffled_class_replicates(C, 3, seed=0)
    assert reps[0] is C and all(sorted(r[:, 0]) == sorted(C[:, 0]) for r in reps)
    assert all((r[:, 1] - r[:, 0] == 1).all() for r in reps)  # one permutation for all categories
    assert [r.tolist() for r in shuffled_class_replicates(C, 3, seed=0)] == [r.tolist() for r in reps]
    assert subsample_rows(10, 20, 0).tolist() == list(range(10))
    sub = subsample_rows(100, 25, 0)
    assert len(sub) == 25 and len(set(sub.tolist())) == 25 and (np.diff(sub) > 0).all()
    seen = []
    refits = refit_replicates(np.arange(6), lambda y: (seen.append(y.copy()), y[:, None] * 1.0)[1], 2, seed=0)
    assert len(refits) == 3 and seen[0].tolist() == list(range(6)) and sorted(seen[1]) == list(range(6))
    assert refit_replicates(np.arange(6), lambda y: y, 1, seed=0, observed="given")[0] == "given"


def test_refitted_replicates_keep_the_dependence_that_shuffling_breaks():
    """c computed from the features: shuffling c rejects, refitting on shuffled labels does not."""
    rng = np.random.default_rng(0)
    n, D, K = 150, 30, 6
    F = rng.gamma(2.0, 1.0, size=(n, D)) + 5.0
    W = rng.normal(size=(D, K))
    labels = rng.random((n, K)) < 0.5  # labels unrelated to the features (a random backbone)

    def fit(y):  # a "classifier" whose log-odds are a fixed function of the features plus a label term
        return (F - F.mean(0)) @ W * 0.3 + 0.01 * (y - y.mean(0))

    obj = np.ones((K, D))
    for k in range(K):
        obj[k, np.argmax(W[:, k])] = 3.0  # the feature c_k leans on most has the large ratio
    shuffled = _control(F, None, correlation_scorer, obj, replicates=shuffled_class_replicates(fit(labels), 19, 0))
    refitted = _control(F, None, correlation_scorer, obj, replicates=refit_replicates(labels, fit, 19, 0))
    assert shuffled["ncc"]["object"]["p"] < 0.1
    assert refitted["ncc"]["object"]["p"] > 0.5


def test_permutation_control_without_categories_says_why():
    F, C, _, _ = _world(n=30, K=2, D=6)
    res = permutation_control(F, shuffled_class_replicates(C, 3, 0), correlation_scorer, categories=["a", "b"],
                              in_test=np.zeros(2, bool), features_ok=np.ones(6, bool), object_ratio=np.ones((2, 6)),
                              context_ratio=np.ones((2, 6)), top_percent=20, antisymmetric=True)
    assert res["skipped"] == "no category in the overall test" and "ncc" not in res


def test_ratio_intervals_cover_the_estimate_and_collapse_on_identical_images():
    rng = np.random.default_rng(0)
    per_image = {"den": rng.random((50, 4)) + 1, "object": rng.random((50, 4)), "context": rng.random((50, 4))}
    ci = ratio_intervals(per_image, np.array([0, 1]), np.array([2, 3]), 500, np.random.default_rng(0))
    est = (per_image["object"].sum(0) / per_image["den"].sum(0))[:2].mean()
    lo, hi = ci["object_ratio_anticausal"]
    assert lo < est < hi and hi - lo < 0.5
    same = {k: np.tile(v[:1], (20, 1)) for k, v in per_image.items()}
    ci = ratio_intervals(same, np.array([0]), np.array([1]), 100, np.random.default_rng(0))
    v = same["object"][0, 0] / same["den"][0, 0]
    assert ci["object_ratio_anticausal"] == pytest.approx([v, v])


def test_category_intervals_read_the_right_rows_of_each_chunk():
    rng = np.random.default_rng(0)
    orig = rng.random((6, 3)) + 0.5
    ctx = orig.copy()
    ctx[:, 1] = 0.0  # removing the object zeroes feature 1: its object ratio is exactly 1
    chunk = {"image_index": np.arange(6), "original": orig, "pair_image": np.array([0, 2, 4, 5]),
             "pair_category": np.array([0, 0, 0, 1]), "context_only": ctx[[0, 2, 4, 5]],
             "object_only": orig[[0, 2, 4, 5]]}
    per = {"a": {"top_anticausal": [1], "top_causal": [0]}}
    ci = category_intervals([chunk], per, ["a", "b"], 50, 0)
    assert ci["a"]["object_ratio_anticausal"] == pytest.approx([1.0, 1.0])
    assert ci["a"]["object_ratio_causal"] == pytest.approx([0.0, 0.0])
    assert ci["a"]["context_ratio_causal"] == pytest.approx([0.0, 0.0])
