"""Baselines get easy synthetic cases right, and behave as documented."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtri
from sklearn.base import clone

from ncc.baselines import (
    ANMHSIC,
    BASELINES,
    CDS,
    IGCI,
    QCCD,
    RECI,
    conditional_distribution_variability,
    copula_conditional_quantiles,
    hsic_gamma_logpvalue,
    kernel_ridge_residuals,
    make_baseline,
    pinball_loss,
    pseudo_observations,
)
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


# ----------------------------------------------------------------------------- ANM-HSIC fit subsample
def test_anm_answer_unchanged_below_the_fit_subsample():
    pairs = _additive_noise(k=4, n=150, seed=2)
    fast = ANMHSIC(fit_points=200, random_state=3).score_pairs(pairs)
    full = ANMHSIC(random_state=3).score_pairs(pairs)
    np.testing.assert_array_equal(fast, full)
    assert ANMHSIC().fit_points is None  # the default is the published method


def test_subsampled_regression_on_every_point_is_the_full_regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    y = np.sin(2 * x) + 0.2 * rng.normal(size=120)
    full = kernel_ridge_residuals(x, y, (0.5, 1.0), (1e-3, 1e-1))
    via_fit = kernel_ridge_residuals(x, y, (0.5, 1.0), (1e-3, 1e-1), fit=np.arange(120))
    np.testing.assert_allclose(via_fit, full, atol=1e-6)
    part = kernel_ridge_residuals(x, y, (0.5, 1.0), (1e-3, 1e-1), fit=np.arange(0, 120, 2))
    assert np.std(part) < 0.4 * np.std(y)  # a real fit: residuals near the noise level


def test_anm_with_fit_subsample_still_finds_additive_noise():
    data, truth = _both_orientations(_additive_noise(k=6, n=400))
    assert accuracy(truth, ANMHSIC(fit_points=100).score_pairs(data)) >= 0.9


# ----------------------------------------------------------------------------- CDS
def test_cds_additive_noise_and_discrete_cause():
    data, truth = _both_orientations(_additive_noise(k=8, n=500, seed=4))
    assert accuracy(truth, CDS().score_pairs(data)) >= 0.9
    rng = np.random.default_rng(1)
    pairs = []
    for _ in range(6):  # a cause with 5 levels, numerical effect: P(y | x) keeps its shape
        x = rng.integers(0, 5, 600).astype(float)
        pairs.append(np.c_[x, (x - 2) ** 2 + rng.uniform(-1, 1, 600)])
    data, truth = _both_orientations(pairs)
    assert accuracy(truth, CDS().score_pairs(data)) >= 0.9


def test_cds_measure_is_zero_for_an_identical_conditional_and_positive_otherwise():
    rng = np.random.default_rng(0)
    x = np.repeat(np.arange(4.0), 200)
    noise = np.tile(rng.normal(size=200), 4)  # the same noise sample at every level
    assert conditional_distribution_variability(x, 3 * x + noise) == pytest.approx(0.0, abs=1e-12)
    assert conditional_distribution_variability(x, (1 + x) * noise) > 0.02


# ----------------------------------------------------------------------------- QCCD
def _location_scale(k=8, n=500, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(k):
        x = rng.normal(size=n)
        out.append(np.c_[x, np.sin(x) + (0.2 + 0.4 * np.abs(x)) * rng.normal(size=n)])
    return out


@pytest.mark.parametrize("make", [_additive_noise, _location_scale])
def test_qccd_finds_additive_and_location_scale_mechanisms(make):
    data, truth = _both_orientations(make(k=8, n=400))
    assert accuracy(truth, QCCD().score_pairs(data)) >= 0.9


def test_qccd_exactly_antisymmetric_with_ties_and_many_levels():
    rng = np.random.default_rng(2)
    x = np.round(rng.normal(size=600), 1)  # many ties: broken at random, the same way both ways
    pair = np.c_[x, x**2 + 0.3 * rng.normal(size=600)]
    a = QCCD(random_state=5).score_pairs([pair])
    b = QCCD(random_state=5).score_pairs([pair[:, ::-1]])
    np.testing.assert_allclose(a + b, 1.0, atol=1e-12)
    assert a[0] != 0.5


def test_copula_quantiles_of_independent_normal_scores_are_the_marginal_ones():
    rng = np.random.default_rng(0)
    keys = rng.random(2000)
    zx = ndtri(pseudo_observations(rng.normal(size=2000), keys))
    zy = ndtri(pseudo_observations(rng.normal(size=2000), keys))
    q = copula_conditional_quantiles(zx, zy, np.array([0.1, 0.5, 0.9]))
    np.testing.assert_allclose(np.median(q, axis=0), [-1.28, 0.0, 1.28], atol=0.15)
    assert np.all(np.diff(q, axis=1) > 0)  # quantiles increase with the level


def test_pinball_and_pseudo_observations():
    a = np.array([0.0, 1.0, 2.0, 3.0])
    assert pinball_loss(a, 1.5, 0.5) == pytest.approx(0.5)
    assert pinball_loss(a, 0.0, 0.9) > pinball_loss(a, 3.0, 0.9)  # a high level wants a high quantile
    u = pseudo_observations(np.array([1.0, 1.0, 0.0]), np.array([0.9, 0.1, 0.5]))
    np.testing.assert_allclose(u, [3 / 4, 2 / 4, 1 / 4])


def test_progress_callback_counts_pairs():
    seen = []
    CDS().score_pairs(_additive_noise(k=3, n=100), progress=seen.append)
    assert seen == [1, 1, 1]
