"""Distributions of the cause (and of the confounder), vectorised over a batch of pairs.

Every sampler returns one variable of shape ``layout.shape``; :func:`sample_causes`
standardises it per pair.  With x standardised, "x" below always means mean 0, sd 1.
"""
from __future__ import annotations

import numpy as np

from synthetic._layout import DTYPE, Layout, fill_by_group, standardise

GMM_MAX_COMPONENTS = 5  # paper: k uniform in {1, ..., 5}


def gmm(layout: Layout, rng: np.random.Generator) -> np.ndarray:
    """The paper's cause: a mixture of k ~ U{1..5} Gaussians.

    Means ~ N(0, r^2), sds ~ |N(0, s^2)| with r, s ~ U[0, 5]; weights |N(0, 1)|, normalised.
    """
    n = layout.n_pairs
    k = rng.integers(1, GMM_MAX_COMPONENTS + 1, size=n)
    r = rng.uniform(0.0, 5.0, size=n)
    s = rng.uniform(0.0, 5.0, size=n)
    means = rng.standard_normal((n, GMM_MAX_COMPONENTS)) * r[:, None]
    sds = np.abs(rng.standard_normal((n, GMM_MAX_COMPONENTS))) * s[:, None]
    weights = np.abs(rng.standard_normal((n, GMM_MAX_COMPONENTS)))
    weights[np.arange(GMM_MAX_COMPONENTS)[None, :] >= k[:, None]] = 0.0
    cum = np.cumsum(weights, axis=1)
    cum /= cum[:, -1:]
    # Component of every point = how many cumulative-weight thresholds its uniform draw
    # passes (unused components sit at threshold 1, which a draw in [0, 1) never passes).
    u = rng.random(layout.shape, dtype=DTYPE)
    comp = (u >= layout.expand(cum[:, 0])).view(np.int8)  # int8: cheap to count in
    for j in range(1, GMM_MAX_COMPONENTS - 1):
        comp += u >= layout.expand(cum[:, j])
    comp = layout.pair_ids() * GMM_MAX_COMPONENTS + comp
    x = np.take(sds.astype(DTYPE).ravel(), comp)
    x *= rng.standard_normal(layout.shape, dtype=DTYPE)
    x += np.take(means.astype(DTYPE).ravel(), comp)
    return x


def uniform(layout: Layout, rng: np.random.Generator) -> np.ndarray:
    """x ~ U[0, 1] (bounded, flat: the opposite of a Gaussian)."""
    return rng.random(layout.shape, dtype=DTYPE)


def student_t(layout: Layout, rng: np.random.Generator) -> np.ndarray:
    """x ~ Student-t with df ~ U[2, 10] per pair (heavy, symmetric tails)."""
    df = rng.uniform(2.0, 10.0, size=layout.n_pairs)
    return rng.standard_t(df[layout.pair_ids()], size=layout.shape).astype(DTYPE)


def lognormal(layout: Layout, rng: np.random.Generator) -> np.ndarray:
    """x = exp(s g), g ~ N(0, 1), s ~ U[0.2, 1] per pair (skewed, one heavy tail)."""
    s = rng.uniform(0.2, 1.0, size=layout.n_pairs)
    return np.exp(layout.expand(s) * rng.standard_normal(layout.shape, dtype=DTYPE))


CAUSE_SAMPLERS = {"gmm": gmm, "uniform": uniform, "student_t": student_t, "lognormal": lognormal}
CAUSES = tuple(CAUSE_SAMPLERS)  # fixed order: codes index into it


def discretise(x: np.ndarray, layout: Layout, rng: np.random.Generator) -> np.ndarray:
    """Round a standardised variable to integers on a grid of width w ~ logU[0.1, 1] sd.

    The result is integer-valued with many ties (about 6 to 60 distinct values for a
    Gaussian), like counts, ages or coarse measurements in real data.
    """
    width = np.exp(rng.uniform(np.log(0.1), 0.0, size=layout.n_pairs))
    return np.rint(x / layout.expand(width))


def sample_causes(layout: Layout, codes: np.ndarray, discrete: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """Standardised causes for a batch: pair p from ``CAUSES[codes[p]]``, discretised where
    ``discrete[p]`` (then standardised again)."""
    x = fill_by_group(layout, codes, len(CAUSES),
                      lambda code, rows, sub: CAUSE_SAMPLERS[CAUSES[code]](sub, rng))
    x = standardise(layout, x)
    if discrete.any():
        rows = np.flatnonzero(discrete)
        sub = layout.subset(rows)
        layout.put(x, rows, standardise(sub, discretise(layout.take(x, rows), sub, rng)))
    return x
