"""Classic cause-effect baselines shown beside NCC by `ncc evaluate` and the benchmarks.

Every method maps a pair ``(n, 2)`` (first column x, second y) to a score in [0, 1], the
confidence that x causes y, like :func:`ncc.score_pairs`. Each score is a logistic squash
of the method's own decision statistic, so 0.5 means "cannot tell" and the AUC uses the
statistic's ranking. numpy/scipy only.

* :class:`IGCI` -- Information-Geometric Causal Inference with the uniform reference measure
  (each variable rescaled to [0, 1]); slope or entropy estimator.
  Daniušis et al., "Inferring deterministic causal relations", UAI 2010; Janzing et al.,
  "Information-geometric approach to inferring causal directions", AIJ 182, 2012; estimators
  as in Mooij et al., JMLR 17(32), 2016, §4.
* :class:`ANMHSIC` -- additive-noise model: kernel ridge regression both ways, then an HSIC
  independence test between input and residuals (gamma approximation); the direction whose
  residuals look more independent wins. Hoyer et al., NIPS 2008; Gretton et al., "A kernel
  statistical test of independence", NIPS 2008; Mooij et al. 2016.
* :class:`RECI` -- Regression Error based Causal Inference: on [0, 1]-rescaled data the causal
  regression has the smaller mean squared error. Blöbaum et al., AISTATS 2018.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.special import digamma, expit
from scipy.stats import gamma as gamma_dist
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state


def rescale01(v: np.ndarray) -> np.ndarray:
    """Map to [0, 1] (IGCI's uniform reference measure, RECI's normalisation); constant -> 0."""
    lo, hi = v.min(), v.max()
    return np.zeros_like(v) if hi == lo else (v - lo) / (hi - lo)


def _standardize(v: np.ndarray) -> np.ndarray:
    sd = v.std()
    return v - v.mean() if sd == 0 else (v - v.mean()) / sd


def _check_pair(pair) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(pair, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"a pair must be an (n, 2) array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("pairs must be finite (clean them first: ncc.scoring.clean_record)")
    return arr[:, 0], arr[:, 1]


class PairBaseline(BaseEstimator):
    """Shared interface: nothing to learn, ``fit`` is there for scikit-learn pipelines."""

    def fit(self, X=None, y=None):
        return self

    def score_pairs(self, pairs: Sequence[np.ndarray]) -> np.ndarray:
        """P(first column causes second) for each pair."""
        rng = check_random_state(getattr(self, "random_state", None))
        return np.array([self._score_one(*_check_pair(p), rng) for p in pairs], dtype=float)

    def predict_proba(self, X: Sequence[np.ndarray]) -> np.ndarray:
        s = self.score_pairs(X)
        return np.column_stack([1 - s, s])

    def predict(self, X: Sequence[np.ndarray]) -> np.ndarray:
        return (self.score_pairs(X) > 0.5).astype(int)

    def _score_one(self, x, y, rng) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


# ----------------------------------------------------------------------------- IGCI
def igci_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Slope estimator of C_{x->y} = E[log |f'(x)|] on [0, 1]-rescaled data (NaN if undefined)."""
    order = np.argsort(x, kind="stable")
    dx, dy = np.diff(x[order]), np.diff(y[order])
    ok = (dx != 0) & (dy != 0)  # repeated values carry no slope information
    return float(np.mean(np.log(np.abs(dy[ok] / dx[ok])))) if ok.any() else float("nan")


def spacing_entropy(v: np.ndarray) -> float:
    """1-spacing differential entropy estimate (Kraskov et al. 2004 / Vasicek form)."""
    s = np.diff(np.sort(v))
    m = len(v)
    logs = np.log(s[s > 0])
    return float(logs.sum() / (m - 1) + digamma(m) - digamma(1)) if logs.size else float("nan")


class IGCI(PairBaseline):
    """IGCI with the uniform reference measure.

    Parameters
    ----------
    estimator : "slope" or "entropy"
        Which estimate of C_{x->y}; decides x->y when C_{x->y} < C_{y->x}.
    """

    def __init__(self, estimator: str = "slope"):
        self.estimator = estimator

    def statistic(self, x: np.ndarray, y: np.ndarray) -> float:
        """C_{y->x} - C_{x->y}: positive means x -> y."""
        x, y = rescale01(x), rescale01(y)
        if self.estimator == "slope":
            d = igci_slope(y, x) - igci_slope(x, y)
        elif self.estimator == "entropy":
            # C_{x->y} = H(y) - H(x) and C_{y->x} = -C_{x->y}.
            d = 2.0 * (spacing_entropy(x) - spacing_entropy(y))
        else:
            raise ValueError(f"estimator must be 'slope' or 'entropy', got {self.estimator!r}")
        return 0.0 if not np.isfinite(d) else d

    def _score_one(self, x, y, rng) -> float:
        return float(expit(self.statistic(x, y)))


# ----------------------------------------------------------------------------- ANM + HSIC
def _sq_dists(v: np.ndarray) -> np.ndarray:
    return (v[:, None] - v[None, :]) ** 2


def _rbf_gram(v: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Gaussian Gram matrix with the median-distance bandwidth (times ``scale``)."""
    d2 = _sq_dists(v)
    med = np.median(d2[np.triu_indices(len(v), 1)])
    if med <= 0:  # mostly repeated values: fall back to the spread of the data
        med = max(float(np.mean(d2)), 1e-12)
    return np.exp(-d2 / (2.0 * med * scale**2))


def hsic_gamma_logpvalue(a: np.ndarray, b: np.ndarray) -> float:
    """log p-value of the HSIC independence test with the gamma null approximation.

    Gretton et al. 2008: statistic n*HSIC_b, null mean and variance from the Gram matrices.
    Larger (closer to 0) means "looks more independent".
    """
    n = len(a)
    K, L = _rbf_gram(a), _rbf_gram(b)
    Kc = K - K.mean(0, keepdims=True) - K.mean(1, keepdims=True) + K.mean()
    Lc = L - L.mean(0, keepdims=True) - L.mean(1, keepdims=True) + L.mean()
    kl = Kc * Lc
    stat = kl.sum() / n
    var = (kl / 6.0) ** 2
    var = (var.sum() - np.trace(var)) / (n * (n - 1))
    var = var * 72.0 * (n - 4) * (n - 5) / (n * (n - 1) * (n - 2) * (n - 3))
    mu_k = (K.sum() - np.trace(K)) / (n * (n - 1))
    mu_l = (L.sum() - np.trace(L)) / (n * (n - 1))
    mean = (1.0 + mu_k * mu_l - mu_k - mu_l) / n
    if not (var > 0 and mean > 0):
        return 0.0
    shape, scale = mean**2 / var, var * n / mean
    return float(gamma_dist.logsf(stat, shape, scale=scale))


def kernel_ridge_residuals(x: np.ndarray, y: np.ndarray, bandwidths: Sequence[float],
                           alphas: Sequence[float]) -> np.ndarray:
    """Residuals of y regressed on x by Gaussian kernel ridge regression.

    Bandwidth (times the median distance) and ridge are chosen by exact leave-one-out error,
    which one eigendecomposition per bandwidth gives for every ridge value at once.
    """
    yc = y - y.mean()
    alphas = np.asarray(alphas, dtype=float)
    best, best_loo = None, np.inf
    for bw in bandwidths:
        evals, U = np.linalg.eigh(_rbf_gram(x, bw))
        evals = np.clip(evals, 0.0, None)
        shrink = evals[None, :] / (evals[None, :] + alphas[:, None])  # (n_alphas, n)
        fitted = (shrink * (U.T @ yc)[None, :]) @ U.T  # hat-matrix times y, per alpha
        hat_diag = shrink @ (U**2).T  # diag of the hat matrix, per alpha
        resid = yc[None, :] - fitted
        loo = np.mean((resid / np.clip(1.0 - hat_diag, 1e-8, None)) ** 2, axis=1)
        i = int(np.argmin(loo))
        if loo[i] < best_loo:
            best_loo, best = loo[i], resid[i]
    return best


class ANMHSIC(PairBaseline):
    """Additive-noise model with an HSIC test on the regression residuals.

    Parameters
    ----------
    max_points : int
        Pairs are subsampled to this many points: the Gram matrices cost O(n^2) memory and
        the eigendecomposition O(n^3); Mooij et al. 2016 subsample likewise.
    bandwidths, alphas : sequences of float
        Candidate kernel widths (times the median distance) and ridge penalties for the
        regression, chosen per fit by leave-one-out error.
    random_state : int, RandomState or None
        Seeds the subsampling.
    """

    def __init__(self, max_points: int = 500, bandwidths: Sequence[float] = (0.5, 1.0),
                 alphas: Sequence[float] = (1e-3, 1e-2, 1e-1, 1.0), random_state=0):
        self.max_points = max_points
        self.bandwidths = bandwidths
        self.alphas = alphas
        self.random_state = random_state

    def statistic(self, x: np.ndarray, y: np.ndarray, rng=None) -> float:
        """log p(x -> y) - log p(y -> x) of the independence tests: positive means x -> y."""
        rng = check_random_state(self.random_state if rng is None else rng)
        if len(x) > self.max_points:
            idx = rng.choice(len(x), self.max_points, replace=False)
            x, y = x[idx], y[idx]
        x, y = _standardize(x), _standardize(y)
        r_y = kernel_ridge_residuals(x, y, self.bandwidths, self.alphas)
        r_x = kernel_ridge_residuals(y, x, self.bandwidths, self.alphas)
        d = hsic_gamma_logpvalue(x, r_y) - hsic_gamma_logpvalue(y, r_x)
        return float(d) if np.isfinite(d) else 0.0

    def _score_one(self, x, y, rng) -> float:
        return float(expit(self.statistic(x, y, rng)))


# ----------------------------------------------------------------------------- RECI
def _poly_mse(x: np.ndarray, y: np.ndarray, degree: int) -> float:
    V = np.vander(x, degree + 1)
    coef, *_ = np.linalg.lstsq(V, y, rcond=None)
    return float(np.mean((y - V @ coef) ** 2))


class RECI(PairBaseline):
    """RECI: x -> y when the regression of y on x has the smaller MSE on [0, 1]-rescaled data.

    Parameters
    ----------
    degree : int
        Degree of the polynomial regression (Blöbaum et al. report a cubic works well).
    """

    def __init__(self, degree: int = 3):
        self.degree = degree

    def statistic(self, x: np.ndarray, y: np.ndarray) -> float:
        """log MSE(x|y) - log MSE(y|x): positive means x -> y."""
        x, y = rescale01(x), rescale01(y)
        mse_yx, mse_xy = _poly_mse(x, y, self.degree), _poly_mse(y, x, self.degree)
        tiny = 1e-300  # an exact fit both ways is a tie, not an error
        d = np.log(mse_xy + tiny) - np.log(mse_yx + tiny)
        return float(d) if np.isfinite(d) else 0.0

    def _score_one(self, x, y, rng) -> float:
        # The log-ratio of MSEs is small for noisy data; scaling by 10 only spreads the scores.
        return float(expit(10.0 * self.statistic(x, y)))


BASELINES = {"IGCI": IGCI, "ANM-HSIC": ANMHSIC, "RECI": RECI}


def make_baseline(name: str, random_state=0) -> PairBaseline:
    """A baseline by its display name (see :data:`BASELINES`)."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    cls = BASELINES[name]
    return cls(random_state=random_state) if "random_state" in cls().get_params() else cls()
