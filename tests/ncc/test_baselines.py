"""Baselines get easy synthetic cases right, and behave as documented."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from ncc.baselines import ANMHSIC, BASELINES, IGCI, RECI, hsic_gamma_logpvalue, make_baseline
from ncc.metrics import accuracy


def _both_orientations(pairs):
    """Each pair (truth 1) plus its mirror (truth 0): a method with an orientation bias scores 0.5."""
    data = [p for p in pairs] + [p[:, ::-1] for p in pairs]
    truth = np.r_[np.ones(len(pairs)), np.zeros(len(pairs))]
    return data, truth


def _deterministic_monotone(k=10, n=300, seed=0):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(k):
        x = rng.uniform(0, 1, n)
        power = rng.uniform(2.0, 4.0)
        pairs.append(np.c_[x, x**power + 1e-3 * rng.normal(size=n)])
    return pairs


def _additive_noise(k=10, n=300, seed=0):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(k):
        x = rng.normal(size=n)
        y = np.tanh(2 * x) + x**2 / 3 + 0.3 * rng.uniform(-1, 1, n)  # nonlinear f, non-Gaussian noise
        pairs.append(np.c_[x, y])
    return pairs


@pytest.mark.parametrize("estimator", ["slope", "entropy"])
def test_igci_deterministic_monotone(estimator):
    data, truth = _both_orientations(_deterministic_monotone())
    assert accuracy(truth, IGCI(estimator).score_pairs(data)) >= 0.9


def test_anm_hsic_additive_noise():
    data, truth = _both_orientations(_additive_noise(k=6, n=200))
    assert accuracy(truth, ANMHSIC(max_points=200).score_pairs(data)) >= 0.9


def test_reci_monotone_with_noise():
    rng = np.random.default_rng(3)
    pairs = []
    for _ in range(8):
        x = rng.uniform(0, 1, 400)
        pairs.append(np.c_[x, x**3 + 0.05 * rng.normal(size=400)])
    data, truth = _both_orientations(pairs)
    assert accuracy(truth, RECI().score_pairs(data)) >= 0.9


def test_hsic_separates_dependent_from_independent():
    rng = np.random.default_rng(0)
    a = rng.normal(size=300)
    assert hsic_gamma_logpvalue(a, rng.normal(size=300)) > np.log(0.01)
    assert hsic_gamma_logpvalue(a, a**2 + 0.1 * rng.normal(size=300)) < np.log(1e-6)


def test_scores_are_antisymmetric_probabilities():
    pairs = _additive_noise(k=3, n=150, seed=5)
    for name in BASELINES:
        method = make_baseline(name, random_state=0)
        s = method.score_pairs(pairs)
        s_rev = method.score_pairs([p[:, ::-1] for p in pairs])
        assert np.all((s >= 0) & (s <= 1))
        np.testing.assert_allclose(s + s_rev, 1.0, atol=1e-9)


def test_anm_subsampling_is_seeded():
    pairs = _additive_noise(k=2, n=400, seed=1)
    a = ANMHSIC(max_points=100, random_state=7).score_pairs(pairs)
    b = ANMHSIC(max_points=100, random_state=7).score_pairs(pairs)
    np.testing.assert_array_equal(a, b)


def test_sklearn_contract_and_errors():
    m = clone(IGCI(estimator="entropy"))
    assert m.get_params() == {"estimator": "entropy"}
    assert m.fit() is m
    pairs = _deterministic_monotone(k=2)
    proba = m.predict_proba(pairs)
    assert proba.shape == (2, 2) and np.allclose(proba.sum(1), 1)
    assert set(m.predict(pairs)) <= {0, 1}
    with pytest.raises(ValueError, match="estimator"):
        IGCI("bogus").score_pairs(pairs)
    with pytest.raises(ValueError, match="finite"):
        RECI().score_pairs([np.array([[np.nan, 1.0], [2.0, 3.0]])])
    with pytest.raises(ValueError, match="unknown baseline"):
        make_baseline("LiNGAM")
