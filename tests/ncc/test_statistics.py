"""ncc.statistics: hand-computed values, exact orientation swap, order invariance, batching."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ncc.model import standardize
from ncc.statistics import N_STATISTICS, STATISTICS, pair_statistics

I = {name: k for k, name in enumerate(STATISTICS)}


def _raw(points):
    """Statistics before the squash s -> sign(s) log(1 + |s|), for hand checks."""
    pts = torch.as_tensor(np.asarray(points, dtype=float))
    z, _ = standardize(pts, torch.tensor([len(pts)]), torch.float64)
    s = pair_statistics(z, torch.tensor([len(pts)]))[0]
    return torch.sign(s) * torch.expm1(s.abs())


def test_shape_and_names():
    pts = torch.randn(30, 2, dtype=torch.float64)
    assert pair_statistics(pts, torch.tensor([10, 20])).shape == (2, 2, N_STATISTICS)
    assert len(set(STATISTICS)) == N_STATISTICS


def test_hand_computed_values():
    # x = 0..9, y = x^3: on [0, 1] both are rescaled; y is an exact cubic of x.
    x = np.arange(10.0)
    y = x ** 3
    s = _raw(np.c_[x, y])
    xs, ys = x / 9, y / 729
    slope = np.mean(np.log(np.diff(ys) / np.diff(xs)))
    assert s[0, I["igci_slope"]].item() == pytest.approx(slope, rel=1e-6)
    assert s[1, I["igci_slope"]].item() == pytest.approx(-slope, rel=1e-6)
    assert s[0, I["log_n"]].item() == pytest.approx(math.log(10), rel=1e-9)
    assert s[0, I["tie_fraction"]].item() == pytest.approx(0.0, abs=1e-12)
    # Cubic fit of y on x is exact: the log MSE sits at the floor log(1e-12).
    assert s[0, I["reci_log_mse"]].item() < -20
    assert s[1, I["reci_log_mse"]].item() > -20
    z = (x - x.mean()) / x.std()
    assert s[0, I["skewness"]].item() == pytest.approx(np.mean(z ** 3), abs=1e-9)
    assert s[0, I["log_kurtosis"]].item() == pytest.approx(np.log(np.mean(z ** 4)), rel=1e-6)
    assert s[0, I["log_range"]].item() == pytest.approx(np.log(np.ptp(z)), rel=1e-6)


def test_tie_fraction_counts_repeated_values():
    x = np.array([1, 1, 1, 2, 2, 3, 4, 5, 6, 7.0])  # 7 distinct values of 10
    y = np.arange(10.0)
    s = _raw(np.c_[x, y])
    assert s[0, I["tie_fraction"]].item() == pytest.approx(0.3, abs=1e-9)
    assert s[1, I["tie_fraction"]].item() == pytest.approx(0.0, abs=1e-9)


def test_residual_statistics_see_the_noise_side():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, 2000)
    y = np.tanh(2 * x) + 0.05 * rng.normal(size=2000)
    s = _raw(np.c_[x, y])
    # y on x is almost deterministic; x on y is not (tanh saturates): residual variance differs.
    assert s[0, I["log_resid_var"]] < s[1, I["log_resid_var"]] - 1.0
    # Additive noise: the causal residuals are independent of the cause, the reverse ones are not.
    assert s[0, I["resid_hsic"]] < s[1, I["resid_hsic"]]


def test_constant_and_tiny_pairs_are_finite():
    pts = torch.tensor([[1.0, 2.0], [1.0, 3.0], [1.0, 5.0]], dtype=torch.float64)
    z, _ = standardize(pts, torch.tensor([3]))
    assert torch.isfinite(pair_statistics(z.double(), torch.tensor([3]))).all()
    two = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    assert torch.isfinite(pair_statistics(two, torch.tensor([2]))).all()


pair_arrays = st.integers(min_value=3, max_value=60).flatmap(
    lambda n: st.tuples(st.lists(st.integers(-3, 3), min_size=n, max_size=n),
                        st.lists(st.floats(-5, 5, allow_nan=False, width=32), min_size=n, max_size=n),
                        st.randoms(use_true_random=False)))


@settings(max_examples=40, deadline=None)
@given(pair_arrays)
def test_swap_exact_and_order_invariant(data):
    xs, ys, rnd = data
    pts = torch.tensor(np.c_[xs, ys], dtype=torch.float64)  # integer x: many ties
    n = torch.tensor([len(pts)])
    s = pair_statistics(pts, n)
    assert torch.equal(pair_statistics(pts.flip(-1), n), s.flip(1))
    perm = list(range(len(pts)))
    rnd.shuffle(perm)
    # Sums in another order round differently, so equal to float64 rounding, not bit for bit.
    torch.testing.assert_close(pair_statistics(pts[perm], n), s, rtol=0, atol=1e-9)


def test_ragged_batch_equals_one_by_one():
    rng = np.random.default_rng(1)
    lengths = [12, 300, 45, 1000]
    pts = torch.tensor(rng.normal(size=(sum(lengths), 2)))
    batch = pair_statistics(pts, torch.tensor(lengths))
    alone = torch.cat([pair_statistics(p, torch.tensor([len(p)])) for p in pts.split(lengths)])
    torch.testing.assert_close(batch, alone, rtol=0, atol=1e-9)


def test_quantile_loss_against_closed_forms():
    # Independent variables: rank(b) is uniform in every bin of a, and the expected pinball loss
    # of a uniform at its tau-quantile is tau (1 - tau) / 2; averaged over the five taus: 0.0805.
    rng = np.random.default_rng(3)
    s = _raw(np.c_[rng.normal(size=6000), rng.normal(size=6000)])
    expected = np.mean([t * (1 - t) / 2 for t in (0.1, 0.25, 0.5, 0.75, 0.9)])
    assert s[0, I["quantile_loss"]].item() == pytest.approx(np.log(expected + 1e-6), abs=0.03)
    # b a monotone function of a: within a bin of k = 18 bins rank(b) spans 1/18 only.
    x = rng.uniform(size=6000)
    s = _raw(np.c_[x, np.exp(3 * x)])
    assert s[0, I["quantile_loss"]].item() < np.log(expected / 10)
