"""Metrics against values computed by hand."""
from __future__ import annotations

import numpy as np
import pytest

from ncc.metrics import (
    accuracy,
    auc,
    bootstrap_ci,
    bootstrap_indices,
    correctness,
    evaluate_scores,
    weighted_accuracy,
)

TRUTH = np.array([1, 1, 0, 0, 1])
SCORE = np.array([0.9, 0.4, 0.2, 0.5, 0.6])  # right, wrong, right, tie, right


def test_correctness_counts_ties_half():
    np.testing.assert_array_equal(correctness(TRUTH, SCORE), [1, 0, 1, 0.5, 1])


def test_accuracy_by_hand():
    assert accuracy(TRUTH, SCORE) == pytest.approx(3.5 / 5)


def test_weighted_accuracy_by_hand():
    w = np.array([2.0, 1.0, 0.5, 1.0, 0.0])
    # (2*1 + 1*0 + 0.5*1 + 1*0.5 + 0*1) / 4.5
    assert weighted_accuracy(TRUTH, SCORE, w) == pytest.approx(3.0 / 4.5)
    assert weighted_accuracy(TRUTH, SCORE, np.ones(5)) == pytest.approx(accuracy(TRUTH, SCORE))


def test_auc_by_hand():
    # positives 0.9, 0.4, 0.6 vs negatives 0.2, 0.5: pairs won: 0.9>both (2), 0.4>0.2 (1), 0.6>both (2) -> 5/6
    assert auc(TRUTH, SCORE) == pytest.approx(5 / 6)
    assert auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)  # ties count half
    assert auc([1, 0, 1, 0], [0.1, 0.2, 0.3, 0.9]) == pytest.approx(1 / 4)
    assert np.isnan(auc([1, 1], [0.2, 0.8]))


def test_bootstrap_ci_brackets_the_estimate_and_is_seeded():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 2, 200)
    s = np.where(rng.random(200) < 0.7, t, 1 - t) * 0.6 + 0.2  # 70% right
    lo, hi = bootstrap_ci(t, s, random_state=1)
    acc = accuracy(t, s)
    assert lo < acc < hi
    # Binomial standard error sqrt(.7*.3/200) ~ 0.032: a 95% interval is about +-0.064.
    assert 0.09 < hi - lo < 0.16
    assert (lo, hi) == bootstrap_ci(t, s, random_state=1)


def test_bootstrap_ci_degenerate_cases():
    assert bootstrap_ci([1, 0, 1], [0.9, 0.1, 0.8], random_state=0) == (1.0, 1.0)
    idx = bootstrap_indices(3, 50, 0)
    assert idx.shape == (50, 3) and idx.min() >= 0 and idx.max() <= 2


def test_evaluate_scores_bundles_everything():
    m = evaluate_scores(TRUTH, SCORE, np.ones(5), random_state=0, n_boot=500)
    assert m.n_pairs == 5 and m.accuracy == pytest.approx(0.7) and m.auc == pytest.approx(5 / 6)
    assert m.ci_low <= m.weighted_accuracy <= m.ci_high
    assert set(m.as_dict()) == {"n_pairs", "accuracy", "weighted_accuracy", "auc", "ci_low", "ci_high"}


def test_input_validation():
    with pytest.raises(ValueError):
        accuracy([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError):
        accuracy([1, 0], [0.1])
    with pytest.raises(ValueError):
        weighted_accuracy([1, 0], [0.1, 0.2], [-1, 1])
