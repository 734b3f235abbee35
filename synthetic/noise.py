"""Noise distributions, vectorised over a batch of pairs.

:func:`unit_noise` gives noise with mean 0 and variance 1 whose *shape* varies per pair;
mechanisms scale it.  Varying the shape matters: real pairs are rarely Gaussian, and a
model trained on Gaussian noise only learns a shortcut that fails on them.
"""
from __future__ import annotations

import numpy as np

from synthetic._layout import Layout, fill_by_group

_SQRT3 = np.sqrt(3.0)
_SQRT_HALF = np.sqrt(0.5)


def _gaussian(layout, rng):
    return rng.standard_normal(layout.shape)


def _uniform(layout, rng):
    return rng.uniform(-_SQRT3, _SQRT3, size=layout.shape)


def _laplace(layout, rng):
    return rng.laplace(0.0, _SQRT_HALF, size=layout.shape)


def _student_t(layout, rng):
    # df ~ U[3, 10]: heavy tails, yet a finite variance to normalise by.
    df = layout.expand(rng.uniform(3.0, 10.0, size=layout.n_pairs))
    return rng.standard_t(df, size=layout.shape) / np.sqrt(df / (df - 2.0))


NOISE_SAMPLERS = {"gaussian": _gaussian, "uniform": _uniform, "laplace": _laplace,
                  "student_t": _student_t}
NOISES = tuple(NOISE_SAMPLERS)  # fixed order: codes index into it


def unit_noise(layout: Layout, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Noise of mean 0, variance 1; pair p's shape is ``NOISES[codes[p]]``."""
    return fill_by_group(layout, codes, len(NOISES),
                         lambda code, rows, sub: NOISE_SAMPLERS[NOISES[code]](sub, rng))


def noise_scale(n_pairs: int, rng: np.random.Generator, low: float = 0.02,
                high: float = 1.0) -> np.ndarray:
    """Per-pair noise sd relative to a unit-sd signal, log-uniform on [low, high].

    Log-uniform puts as many pairs in [0.02, 0.14] (nearly deterministic, like Mooij's
    SIM-ln) as in [0.14, 1] (noisy), so both regimes are learnt.
    """
    return np.exp(rng.uniform(np.log(low), np.log(high), size=n_pairs))
