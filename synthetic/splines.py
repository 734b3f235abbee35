"""Random cubic Hermite splines, evaluated for a whole batch of pairs at once."""
from __future__ import annotations

import numpy as np

from synthetic._layout import DTYPE, Layout

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


class HermiteGrid:
    """Where every point falls on its pair's knot grid: the interval index and the local
    coordinate.  Computed once and shared by all splines on the same grid."""

    def __init__(self, x, layout: Layout, low, high, n_knots):
        n_intervals = n_knots - 1
        inv_step = n_intervals / (high - low)
        t = x * layout.expand(inv_step) - layout.expand(low * inv_step)
        k = np.floor(t)
        np.maximum(k, 0, out=k)  # points outside [low, high] continue the end pieces
        np.minimum(k, layout.expand(n_intervals - 1), out=k)
        t -= k
        self.u = t  # local coordinate in [0, 1] on interval k
        self.index = k.astype(np.intp)
        self.index += layout.pair_ids() * (MAX_KNOTS - 1)
        self.n_knots = n_knots

    def evaluate(self, coef: np.ndarray) -> np.ndarray:
        """Values of the splines with coefficients ``coef`` (from hermite_coefficients)."""
        # One contiguous table per coefficient: np.take on a flat table is numpy's
        # fastest gather; Horner's rule in place.
        c0, c1, c2, c3 = (np.ascontiguousarray(coef[..., j], dtype=DTYPE).ravel()
                          for j in range(4))
        u, idx = self.u, self.index
        y = np.take(c3, idx)
        y *= u
        y += np.take(c2, idx)
        y *= u
        y += np.take(c1, idx)
        y *= u
        y += np.take(c0, idx)
        return y


def spline_domain(x, layout: Layout):
    """The paper's knot range [min x - sd x, max x + sd x] for standardised x (sd 1);
    a constant x still gets a range of width 2."""
    return layout.min(x) - 1.0, layout.max(x) + 1.0


def random_splines(x, layout: Layout, rng: np.random.Generator, n_functions: int = 1,
                   knot_low: float | None = None, knot_high: float | None = None) -> list:
    """``n_functions`` random functions of a standardised x (the paper's mechanism).

    Each is a cubic Hermite spline with d ~ U{4, 5} knots evenly spread over
    [min x - sd x, max x + sd x], with knot values N(0, 1), or U[knot_low, knot_high] if
    given.  The functions of one pair share their knot grid (same d), which lets them
    share the costly point location step.
    """
    n = layout.n_pairs
    low, high = spline_domain(x, layout)
    n_knots = rng.integers(4, MAX_KNOTS + 1, size=n)
    grid = HermiteGrid(x, layout, low, high, n_knots)
    out = []
    for _ in range(n_functions):
        if knot_low is None:
            values = rng.standard_normal((n, MAX_KNOTS))
        else:
            values = rng.uniform(knot_low, knot_high, size=(n, MAX_KNOTS))
        out.append(grid.evaluate(hermite_coefficients(values, n_knots)))
    return out
