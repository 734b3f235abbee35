"""Ratios, correlations, top-q selection, sign tests and the batched NCC call, against hand values."""
import numpy as np
import pytest
from scipy.stats import binomtest

from vision.scores import (
    RatioAccumulator,
    compare_top,
    correlations,
    intervention_ratios,
    n_top,
    ncc_direction_scores,
    sign_test,
    top_indices,
)


def test_ratios_by_hand():
    orig = np.array([[1.0, 2.0], [3.0, 0.0]])
    ctx = np.array([[0.0, 2.0], [1.0, 1.0]])  # object removed
    obj = np.array([[1.0, 0.0], [3.0, 4.0]])  # context removed
    s_o, s_c = intervention_ratios(orig, ctx, obj)
    # s_o: (|0-1| + |1-3|) / (1 + 3) = 3/4 ;  (|2-2| + |1-0|) / (2 + 0) = 1/2
    # s_c: (0 + 0) / 4 = 0 ;                 (|0-2| + |4-0|) / 2 = 3
    assert s_o == pytest.approx([0.75, 0.5])
    assert s_c == pytest.approx([0.0, 3.0])


def test_ratio_of_a_dead_feature_is_nan():
    s_o, s_c = intervention_ratios(np.zeros((2, 1)), np.ones((2, 1)), np.ones((2, 1)))
    assert np.isnan(s_o[0]) and np.isnan(s_c[0])


def test_accumulator_matches_formula_across_chunks():
    rng = np.random.default_rng(0)
    n_img, dim = 7, 4
    orig = rng.random((n_img, dim))
    # pairs: (image, category); image 3 has both categories, image 5 none
    pairs = [(0, 0), (1, 1), (2, 0), (3, 0), (3, 1), (4, 1), (6, 0)]
    ctx = rng.random((len(pairs), dim))
    obj = rng.random((len(pairs), dim))
    acc = RatioAccumulator(2, dim)
    for rows in ([0, 1, 2], [3, 4], [5, 6]):  # three chunks
        idx = np.array(rows)
        sel = [i for i, (im, _) in enumerate(pairs) if im in rows]
        acc.add(idx, orig[idx], np.array([pairs[i][0] for i in sel], dtype=int),
                np.array([pairs[i][1] for i in sel], dtype=int), ctx[sel], obj[sel])
    s_o, s_c = acc.ratios()
    for k in (0, 1):
        sel = [i for i, (_, c) in enumerate(pairs) if c == k]
        images = [pairs[i][0] for i in sel]
        e_o, e_c = intervention_ratios(orig[images], ctx[sel], obj[sel])
        assert np.allclose(s_o[k], e_o) and np.allclose(s_c[k], e_c)
    assert acc.n_images.tolist() == [4, 3]


def test_correlations_match_numpy():
    rng = np.random.default_rng(1)
    F = rng.normal(size=(50, 3))
    F[:, 2] = 1.0  # constant feature
    C = np.column_stack([F[:, 0] * 2 + rng.normal(size=50), rng.normal(size=50)])
    rho = correlations(F, C)
    assert rho.shape == (2, 3)
    for k in range(2):
        for l in range(2):
            assert rho[k, l] == pytest.approx(np.corrcoef(F[:, l], C[:, k])[0, 1])
    assert np.isnan(rho[:, 2]).all()


def test_top_is_q_percent_of_all_features():
    assert n_top(512, 1.0) == 5  # the paper's 5 of 512
    assert n_top(512, 20.0) == 102
    assert n_top(10, 1.0) == 1
    score = np.array([0.2, np.nan, 0.9, 0.9, 0.1] + [0.0] * 95)
    assert top_indices(score, 2.0).tolist() == [2, 3]  # ties to the lower index, NaN never picked
    assert top_indices(score, 3.0).tolist() == [2, 3, 0]


def test_compare_top_and_sign_test():
    anti = np.array([0.9, 0.8, 0.1, 0.2])
    causal = 1 - anti
    obj = np.array([1.0, 3.0, 10.0, 20.0])
    ctx = np.array([5.0, 5.0, 1.0, 1.0])
    r = compare_top(anti, causal, obj, ctx, top_percent=50)
    assert r["top_anticausal"] == [0, 1] and r["top_causal"] == [2, 3]
    assert r["object_ratio_anticausal"] == pytest.approx(2.0) and r["object_ratio_causal"] == pytest.approx(15.0)
    assert r["context_ratio_anticausal"] == pytest.approx(5.0) and r["context_ratio_causal"] == pytest.approx(1.0)

    t = sign_test([2.0, 3.0, 4.0, 1.0, 5.0, np.nan], [1.0, 1.0, 1.0, 1.0, 6.0, 0.0])
    assert (t["n_anticausal_greater"], t["n_causal_greater"], t["n_ties"], t["n_categories"]) == (3, 1, 1, 5)
    assert t["p_value"] == pytest.approx(binomtest(3, 4, 0.5).pvalue)
    assert sign_test([1.0] * 20, [0.0] * 20)["p_value"] == pytest.approx(2 * 0.5 ** 20)


def test_ncc_direction_scores_score_both_orientations_in_one_call():
    rng = np.random.default_rng(2)
    F = rng.normal(size=(30, 4))
    C = rng.normal(size=(30, 2))
    calls = []

    def scorer(pairs):
        calls.append(pairs)
        # not antisymmetric on purpose: shows each orientation is really scored
        return np.array([np.tanh(p[:, 0].mean() + 2 * p[:, 1].mean()) for p in pairs])

    ok_f = np.array([True, True, False, True])
    causal, anti, n_calls = ncc_direction_scores(F, C, scorer, features_ok=ok_f)
    assert n_calls == 1 and len(calls) == 1 and len(calls[0]) == 2 * 2 * 3
    for k in range(2):
        for l in range(4):
            if not ok_f[l]:
                assert np.isnan(causal[k, l]) and np.isnan(anti[k, l])
                continue
            assert causal[k, l] == pytest.approx(np.tanh(F[:, l].mean() + 2 * C[:, k].mean()))
            assert anti[k, l] == pytest.approx(np.tanh(C[:, k].mean() + 2 * F[:, l].mean()))
    # a small memory budget splits the work, with the same result
    causal2, anti2, n2 = ncc_direction_scores(F, C, scorer, features_ok=ok_f, max_points_per_call=2 * 30 * 2)
    assert n2 == 3
    assert np.array_equal(np.isnan(causal), np.isnan(causal2))
    assert np.allclose(causal[np.isfinite(causal)], causal2[np.isfinite(causal2)])
    assert np.allclose(anti[np.isfinite(anti)], anti2[np.isfinite(anti2)])


def test_ncc_direction_scores_with_a_real_ncc_model(tiny_ncc_model):
    import ncc

    rng = np.random.default_rng(3)
    F, C = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    causal, anti, _ = ncc_direction_scores(F, C, lambda pairs: ncc.score_pairs(pairs, model=str(tiny_ncc_model)))
    assert np.all((causal >= 0) & (causal <= 1))
    assert np.allclose(causal + anti, 1.0, atol=1e-9)  # NCC's score is antisymmetric
