"""Random cubic Hermite splines, evaluated for a whole batch of pairs at once."""
from __future__ import annotations

import numpy as np

from synthetic._layout import Layout

MAX_KNOTS = 5  # the paper draws d in {4, 5} knots; arrays are padded to this width


def hermite_coefficients(values: np.ndarray, n_knots: np.ndarray) -> np.ndarray:
    """Polynomial coefficients of the cubic Hermite spline through ``values``.

    ``values`` is (n_pairs, MAX_KNOTS); pair p uses its first ``n_knots[p]`` values at
    equally spaced knots.  Tangents are finite differences (Catmull-Rom: central inside,
    one-sided at the ends), in units of one knot interval.  On interval k, with local
    coordinate u in [0, 1], the spline is ``c0 + c1 u + c2 u^2 + c3 u^3``.
    Returns (n_pairs, MAX_KNOTS - 1, 4); unused intervals are zero.
    """
    n_pairs, width = values.shape
    tangents = np.zeros_like(values)
    for d in np.unique(n_knots):  # at most a couple of distinct knot counts
        rows = n_knots == d
        v = values[rows, :d]
        m = np.empty_like(v)
        m[:, 1:-1] = 0.5 * (v[:, 2:] - v[:, :-2])
        m[:, 0] = v[:, 1] - v[:, 0]
        m[:, -1] = v[:, -1] - v[:, -2]
        tangents[rows, :d] = m
    v0, v1 = values[:, :-1], values[:, 1:]
    m0, m1 = tangents[:, :-1], tangents[:, 1:]
    coef = np.stack(
        [v0, m0, 3.0 * (v1 - v0) - 2.0 * m0 - m1, 2.0 * (v0 - v1) + m0 + m1], axis=-1
    )
    unused = np.arange(width - 1)[None, :] >= (n_knots - 1)[:, None]
    coef[unused] = 0.0
    return coef


def evaluate_hermite(x, layout: Layout, low, high, n_knots, coef) -> np.ndarray:
    """Evaluate per-pair splines on knots spread evenly over [low_p, high_p].

    Points outside the interval continue the end polynomial pieces.
    """
    n_intervals = n_knots - 1
    step = (high - low) / n_intervals
    t = (x - layout.expand(low)) / layout.expand(step)
    k = np.floor(t)
    np.clip(k, 0, layout.expand(n_intervals - 1), out=k)
    u = t - k
    flat = coef.reshape(-1, 4)
    idx = layout.pair_ids() * coef.shape[1] + k.astype(np.intp)
    c = flat[idx]  # (..., 4): one gather for all four coefficients
    return ((c[..., 3] * u + c[..., 2]) * u + c[..., 1]) * u + c[..., 0]


def random_spline(x, layout: Layout, rng: np.random.Generator, knot_values=None,
                  low=None, high=None) -> np.ndarray:
    """A random function of x (the paper's mechanism): cubic Hermite spline with
    d ~ U{4, 5} knots spread over [min(x) - std(x), max(x) + std(x)] and knot values
    N(0, 1) (or ``knot_values`` (n_pairs, MAX_KNOTS) if given).
    """
    from synthetic._layout import std

    n = layout.n_pairs
    if low is None or high is None:
        mean = layout.mean(x)
        sd = std(layout, x, mean)
        low = layout.min(x) - sd
        high = layout.max(x) + sd
        # Guard a constant input: give the knots a unit-wide domain.
        flat = high - low <= 0
        high = np.where(flat, low + 1.0, high)
    n_knots = rng.integers(4, MAX_KNOTS + 1, size=n)
    if knot_values is None:
        knot_values = rng.standard_normal((n, MAX_KNOTS))
    coef = hermite_coefficients(knot_values, n_knots)
    return evaluate_hermite(x, layout, low, high, n_knots, coef)
