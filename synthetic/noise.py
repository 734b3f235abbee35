"""Noise distributions, vectorised over a batch of pairs.

:func:`unit_noise` gives noise with mean 0 and variance 1 whose *shape* varies per pair;
mechanisms scale it.  Varying the shape matters: real pairs are rarely Gaussian, and a
model trained on Gaussian noise only learns a shortcut that fails on them.
"""
from __future__ import annotations

import numpy as np

from synthetic._layout import DTYPE, Layout, fill_by_group

_SQRT3 = np.sqrt(3.0)
_SQRT_HALF = np.sqrt(0.5)


def _gaussian(layout, rng):
    return rng.standard_normal(layout.shape, dtype=DTYPE)


def _uniform(layout, rng):
    return rng.random(layout.shape, dtype=DTYPE) * DTYPE(2 * _SQRT3) - DTYPE(_SQRT3)


def _laplace(layout, rng):
    # Exponential magnitude with a random sign, sd 1.
    e = rng.standard_exponential(layout.shape, dtype=DTYPE) * DTYPE(_SQRT_HALF)
    return np.where(rng.random(layout.shape, dtype=DTYPE) < 0.5, -e, e)


def _student_t(layout, rng):
    # df ~ U[3, 10]: heavy tails, yet a finite variance to normalise by.
    df = rng.uniform(3.0, 10.0, size=layout.n_pairs)
    t = rng.standard_t(df[layout.pair_ids()], size=layout.shape)
    return (t / np.sqrt(df / (df - 2.0))[layout.pair_ids()]).astype(DTYPE)


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
