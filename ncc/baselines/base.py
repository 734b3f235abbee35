"""What every baseline shares: the PairBaseline interface (score_pairs, predict_proba) and the
rescaling helpers."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from synthetic.pairs import as_pair_array


def rescale01(v: np.ndarray) -> np.ndarray:
    """Map to [0, 1] (IGCI's uniform reference measure, RECI's normalisation); constant -> 0."""
    lo, hi = v.min(), v.max()
    return np.zeros_like(v) if hi == lo else (v - lo) / (hi - lo)


def _standardize(v: np.ndarray) -> np.ndarray:
    sd = v.std()
    return v - v.mean() if sd == 0 else (v - v.mean()) / sd


def _check_pair(pair) -> tuple[np.ndarray, np.ndarray]:
    arr = as_pair_array(pair, "pair", min_points=0)  # NaN is refused: clean first (ncc.scoring.clean_record)
    return arr[:, 0], arr[:, 1]


class PairBaseline(BaseEstimator):
    """Shared interface: nothing to learn, ``fit`` is there for scikit-learn pipelines."""

    def fit(self, X=None, y=None):
        return self

    def score_pairs(self, pairs: Sequence[np.ndarray], progress=None) -> np.ndarray:
        """P(first column causes second) for each pair.

        ``progress``: called with 1 after each pair (e.g. a tqdm bar's ``update``). BLAS runs on
        one thread here: the matrices are small, and on a shared 2-core machine two BLAS threads
        made ANM-HSIC about 10 times slower than one (benchmarks/baselines.py).
        """
        from threadpoolctl import threadpool_limits

        rng = check_random_state(getattr(self, "random_state", None))
        out = np.empty(len(pairs), dtype=float)
        with threadpool_limits(1, user_api="blas"):
            for i, p in enumerate(pairs):
                out[i] = self._score_one(*_check_pair(p), rng)
                if progress is not None:
                    progress(1)
        return out

    def predict_proba(self, X: Sequence[np.ndarray]) -> np.ndarray:
        s = self.score_pairs(X)
        return np.column_stack([1 - s, s])

    def predict(self, X: Sequence[np.ndarray]) -> np.ndarray:
        return (self.score_pairs(X) > 0.5).astype(int)

    def _subsampled(self, x: np.ndarray, y: np.ndarray, rng=None):
        """(x, y, rng): the generator of this call (``random_state`` when None) and the pair cut
        to ``max_points`` points drawn with it, for methods whose cost grows faster than n."""
        rng = check_random_state(self.random_state if rng is None else rng)
        if len(x) > self.max_points:
            idx = rng.choice(len(x), self.max_points, replace=False)
            x, y = x[idx], y[idx]
        return x, y, rng

    def _score_one(self, x, y, rng) -> float:  # pragma: no cover - abstract
        raise NotImplementedError
