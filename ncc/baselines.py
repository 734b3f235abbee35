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
* :class:`CDS` -- Conditional Distribution Similarity: the conditional distributions of the effect
  given the (discretised) cause vary less across cause values than the reverse ones. Fonollosa,
  "Conditional distribution variability measures for causality detection", in Guyon et al. (eds.),
  Cause Effect Pairs in Machine Learning, Springer 2019 (arXiv:1601.06680, 2016).
* :class:`QCCD` -- bivariate Quantile Causal Discovery with a nonparametric copula: the causal
  direction has the shorter quantile-regression code length. Tagasovska, Chavez-Demoulin and
  Vatter, "Distinguishing cause from effect using quantiles: bivariate quantile causal
  discovery", ICML 2020.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.special import digamma, expit, ndtr, ndtri
from scipy.stats import gamma as gamma_dist
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
                           alphas: Sequence[float], fit: np.ndarray | None = None) -> np.ndarray:
    """Residuals of y regressed on x by Gaussian kernel ridge regression.

    Bandwidth (times the median distance) and ridge are chosen by exact leave-one-out error,
    which one eigendecomposition per bandwidth gives for every ridge value at once.
    ``fit`` (indices): fit on those points only, then predict every point. That costs one
    eigendecomposition of the fit points (O(m^3)) instead of all n (O(n^3)); ``None`` fits all.
    """
    if fit is not None:
        return _subsampled_krr_residuals(x, y, bandwidths, alphas, fit)
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


def _median_sq_dist(v: np.ndarray) -> float:
    d2 = _sq_dists(v)
    med = np.median(d2[np.triu_indices(len(v), 1)])
    return med if med > 0 else max(float(np.mean(d2)), 1e-12)  # the same fallback as _rbf_gram


def _subsampled_krr_residuals(x, y, bandwidths, alphas, fit) -> np.ndarray:
    """Kernel ridge fitted on ``x[fit]`` (hyper-parameters by exact leave-one-out there),
    residuals on every point: the usual way to bound the O(n^3) cost (Mooij et al. 2016 fit
    their GP regressions on subsamples too)."""
    xf, yf = x[fit], y[fit]
    mean = yf.mean()
    yc = yf - mean
    alphas = np.asarray(alphas, dtype=float)
    med = _median_sq_dist(xf)
    best = (np.inf, None, None, None)
    for bw in bandwidths:
        evals, U = np.linalg.eigh(np.exp(-_sq_dists(xf) / (2.0 * med * bw**2)))
        evals = np.clip(evals, 0.0, None)
        shrink = evals[None, :] / (evals[None, :] + alphas[:, None])
        proj = U.T @ yc
        resid = yc[None, :] - (shrink * proj[None, :]) @ U.T
        loo = np.mean((resid / np.clip(1.0 - shrink @ (U**2).T, 1e-8, None)) ** 2, axis=1)
        i = int(np.argmin(loo))
        if loo[i] < best[0]:
            coef = U @ (proj / (evals + alphas[i]))  # dual coefficients: (K + alpha I)^-1 y
            best = (loo[i], bw, coef, None)
    _, bw, coef, _ = best
    cross = np.exp(-((x[:, None] - xf[None, :]) ** 2) / (2.0 * med * bw**2))
    return y - mean - cross @ coef


class ANMHSIC(PairBaseline):
    """Additive-noise model with an HSIC test on the regression residuals.

    Parameters
    ----------
    max_points : int
        Pairs are subsampled (seeded) to this many points for the regressions and the HSIC
        test: the Gram matrices cost O(n^2) memory and the eigendecomposition O(n^3); Mooij et
        al. 2016 subsample likewise. Pairs with fewer points are used whole.
    fit_points : int or None
        ``None`` (default): the kernel ridge regressions are fitted on all ``max_points``
        points, the published method. An int m: they are fitted on a random subset of m of those
        points (hyper-parameters by leave-one-out on it) and give residuals at all of them, so
        the eigendecomposition costs O(m^3) instead of O(max_points^3). Pairs with at most m
        points are fitted on every point, with exactly the default's answer. m = 200 was about
        3-4 times faster per pair above 500 points, but moved the mean accuracy of the nine
        simulated suites from 0.659 to 0.641 (benchmarks/baselines.py, benchmarks/RESULTS.md),
        so it is not the default.
    bandwidths, alphas : sequences of float
        Candidate kernel widths (times the median distance) and ridge penalties for the
        regression, chosen per fit by leave-one-out error.
    random_state : int, RandomState or None
        Seeds the subsampling (the same points serve both directions, so the score stays
        exactly antisymmetric).
    """

    def __init__(self, max_points: int = 500, fit_points: int | None = None,
                 bandwidths: Sequence[float] = (0.5, 1.0),
                 alphas: Sequence[float] = (1e-3, 1e-2, 1e-1, 1.0), random_state=0):
        self.max_points = max_points
        self.fit_points = fit_points
        self.bandwidths = bandwidths
        self.alphas = alphas
        self.random_state = random_state

    def statistic(self, x: np.ndarray, y: np.ndarray, rng=None) -> float:
        """log p(x -> y) - log p(y -> x) of the independence tests: positive means x -> y."""
        rng = check_random_state(self.random_state if rng is None else rng)
        if len(x) > self.max_points:
            idx = rng.choice(len(x), self.max_points, replace=False)
            x, y = x[idx], y[idx]
        fit = None
        if self.fit_points is not None and len(x) > self.fit_points:
            fit = np.sort(rng.choice(len(x), self.fit_points, replace=False))
        x, y = _standardize(x), _standardize(y)
        r_y = kernel_ridge_residuals(x, y, self.bandwidths, self.alphas, fit)
        r_x = kernel_ridge_residuals(y, x, self.bandwidths, self.alphas, fit)
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


# ----------------------------------------------------------------------------- CDS
def discretize(v: np.ndarray, ffactor: int = 2, maxdev: int = 3) -> tuple[np.ndarray, bool]:
    """(integer codes, numerical?) of one variable, as CDS reads it.

    A variable with more than ``2 * ffactor * maxdev + 1`` distinct values is numerical: it is
    standardised, clipped to ``maxdev`` standard deviations and rounded to steps of
    ``1 / ffactor`` sd (codes -ffactor*maxdev .. ffactor*maxdev). Otherwise its distinct values
    are its codes (0 .. k-1), with no order assumed.
    """
    levels = 2 * ffactor * maxdev + 1
    values, codes = np.unique(v, return_inverse=True)
    if len(values) <= levels:
        return codes.astype(int), False
    z = np.clip(_standardize(v), -maxdev, maxdev)
    return np.rint(ffactor * z).astype(int), True


def conditional_distribution_variability(x: np.ndarray, y: np.ndarray, ffactor: int = 2, maxdev: int = 3,
                                         min_count: int = 12) -> float:
    """CDS(x -> y): how much the distribution of y given x = a changes with a.

    x is discretised (:func:`discretize`); for every level a with at least ``min_count`` points
    the conditional distribution P(y | x = a) is a histogram. A numerical y is first centred on
    its mean within the level and scaled by its overall sd, then binned in steps of 1/ffactor sd
    over ±maxdev sd: only the *shape* of the conditional is compared, as an additive-noise
    mechanism keeps it fixed. A categorical y's histogram is sorted by frequency (no order).
    The measure is the standard deviation, over all levels and bins, of the histograms minus
    their mean histogram. Fewer than two usable levels: 0.
    """
    xd, _ = discretize(x, ffactor, maxdev)
    _, y_numerical = discretize(y, ffactor, maxdev)
    half = ffactor * maxdev
    sd = y.std()
    y_codes = None if y_numerical else np.unique(y, return_inverse=True)[1]
    width = 2 * half + 1 if y_numerical else int(y_codes.max()) + 1
    hists = []
    for a in np.unique(xd):
        member = xd == a
        if member.sum() < min_count:
            continue
        if y_numerical:
            ys = y[member]
            centred = (ys - ys.mean()) / sd if sd > 0 else np.zeros_like(ys)
            bins = np.clip(np.rint(ffactor * centred), -half, half).astype(int) + half
            h = np.bincount(bins, minlength=width).astype(float)
        else:
            h = np.sort(np.bincount(y_codes[member], minlength=width).astype(float))[::-1]
        hists.append(h / h.sum())
    if len(hists) < 2:
        return 0.0
    P = np.array(hists)
    return float(np.std(P - P.mean(axis=0)))


class CDS(PairBaseline):
    """Conditional Distribution Similarity (Fonollosa 2016).

    Decides x -> y when CDS(x -> y) < CDS(y -> x): under a causal mechanism with independent
    noise, P(effect | cause = a) keeps its shape across a, while P(cause | effect = b) does not
    (:func:`conditional_distribution_variability`). Statistic: CDS(y -> x) - CDS(x -> y).

    Parameters
    ----------
    ffactor, maxdev : int
        Discretisation: steps of 1/ffactor standard deviation, clipped at maxdev sd (Fonollosa's
        defaults, 2 and 3).
    min_count : int
        Levels of the conditioning variable with fewer points are ignored (Fonollosa: 12).
    """

    def __init__(self, ffactor: int = 2, maxdev: int = 3, min_count: int = 12):
        self.ffactor = ffactor
        self.maxdev = maxdev
        self.min_count = min_count

    def statistic(self, x: np.ndarray, y: np.ndarray) -> float:
        """CDS(y -> x) - CDS(x -> y): positive means x -> y."""
        args = (self.ffactor, self.maxdev, self.min_count)
        d = conditional_distribution_variability(y, x, *args) - conditional_distribution_variability(x, y, *args)
        return float(d) if np.isfinite(d) else 0.0

    def _score_one(self, x, y, rng) -> float:
        # Differences are a few hundredths of a probability; the factor only spreads the scores.
        return float(expit(50.0 * self.statistic(x, y)))


# ----------------------------------------------------------------------------- QCCD / bQCD
def pinball_loss(actual: np.ndarray, predicted, tau: float) -> float:
    """Quantile score mean((1{a <= q} - tau) (q - a)), the proper scoring rule bQCD codes with."""
    return float(np.mean(((actual <= predicted) - tau) * (predicted - actual)))


def pseudo_observations(v: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Ranks / (n + 1), ties broken by ``tiebreak`` (random keys): bQCD's treatment of discrete data."""
    order = np.lexsort((tiebreak, v))
    ranks = np.empty(len(v))
    ranks[order] = np.arange(1, len(v) + 1)
    return ranks / (len(v) + 1)


def copula_conditional_quantiles(z_given: np.ndarray, z_target: np.ndarray, levels: np.ndarray,
                                 grid_size: int = 128) -> np.ndarray:
    """Conditional quantiles of z_target given z_given at every point, from a kernel copula.

    Both inputs are normal scores Φ⁻¹(pseudo-observations). The copula density is the
    transformation kernel estimator: a Gaussian product-kernel density of the normal scores,
    bandwidth n^(-1/6) (normal reference for two dimensions). Its conditional CDF given z_given is
    the kernel-weighted mean of Φ((t - z_target_i) / h); the inverse at each level (the h-function
    inverse of the copula) is read off a grid of ``grid_size`` values by linear interpolation.
    Returns (n, len(levels)) normal-scale quantiles.
    """
    n = len(z_given)
    h = n ** (-1.0 / 6.0)
    grid = np.linspace(z_target.min() - 4 * h, z_target.max() + 4 * h, grid_size)
    w = np.exp(-0.5 * ((z_given[:, None] - z_given[None, :]) / h) ** 2)
    w /= w.sum(axis=1, keepdims=True)
    cdf = w @ ndtr((grid[None, :] - z_target[:, None]) / h)  # (n, grid): monotone in the grid
    out = np.empty((n, len(levels)))
    rows = np.arange(n)
    for k, tau in enumerate(levels):
        hi = np.clip((cdf < tau).sum(axis=1), 1, grid_size - 1)
        f_lo, f_hi = cdf[rows, hi - 1], cdf[rows, hi]
        frac = np.clip((tau - f_lo) / np.where(f_hi > f_lo, f_hi - f_lo, 1.0), 0.0, 1.0)
        out[:, k] = grid[hi - 1] + frac * (grid[hi] - grid[hi - 1])
    return out


class QCCD(PairBaseline):
    """Bivariate Quantile Causal Discovery with a nonparametric copula (bQCD / QCCD).

    Tagasovska et al. (ICML 2020) link the minimum description length of a conditional to its
    quantile scores. On normal scores z = Φ⁻¹(pseudo-observations) (ties broken at random), with
    Gauss-Legendre levels τ_k and weights w_k on (0, 1):

        S(Z)     = Σ_k w_k · pinball(z, empirical τ_k-quantile of z)
        S(Y | X) = Σ_k w_k · pinball(z_y, q_k(z_x)),   q_k the copula's conditional τ_k-quantile,
                                                         mapped through z_y's empirical quantiles
        C(x→y)   = (S(X) + S(Y | X)) / (S(X) + S(Y)),    C(y→x) likewise,

    and x -> y when C(x→y) < C(y→x). Statistic: C(y→x) − C(x→y).

    What is approximated: the authors fit the copula with rvinecopulib's local-constant
    transformation likelihood estimator ("tll", constant) and its own bandwidth rule; here it is
    the transformation kernel estimator with a Gaussian *product* kernel and the normal-reference
    bandwidth n^(-1/6) (:func:`copula_conditional_quantiles`), whose conditional quantiles are
    read off a grid. Like their code, one level (the median) is used below 200 points.

    Parameters
    ----------
    n_levels : int
        Number m of quantile levels (the authors' code uses 7 for the real pairs).
    max_points : int
        Pairs are subsampled (seeded) to this many points: the kernel weights cost O(n^2).
    random_state : int, RandomState or None
        Seeds the subsample and the random tie-breaking (the same draws serve both directions,
        so the score is exactly antisymmetric).
    """

    def __init__(self, n_levels: int = 7, max_points: int = 1000, random_state=0):
        self.n_levels = n_levels
        self.max_points = max_points
        self.random_state = random_state

    def statistic(self, x: np.ndarray, y: np.ndarray, rng=None) -> float:
        """C(y→x) − C(x→y): positive means x -> y."""
        rng = check_random_state(self.random_state if rng is None else rng)
        if len(x) > self.max_points:
            idx = rng.choice(len(x), self.max_points, replace=False)
            x, y = x[idx], y[idx]
        keys = rng.random_sample(len(x))
        zx, zy = ndtri(pseudo_observations(x, keys)), ndtri(pseudo_observations(y, keys))
        m = 1 if len(x) < 200 else self.n_levels
        nodes, weights = np.polynomial.legendre.leggauss(m)
        levels, weights = (nodes + 1) / 2, weights / 2
        q_y = copula_conditional_quantiles(zx, zy, levels)  # of y given x
        q_x = copula_conditional_quantiles(zy, zx, levels)
        s = np.zeros(4)  # S(X), S(Y), S(X | Y), S(Y | X)
        for k, (tau, w) in enumerate(zip(levels, weights)):
            s[0] += w * pinball_loss(zx, np.quantile(zx, tau), tau)
            s[1] += w * pinball_loss(zy, np.quantile(zy, tau), tau)
            s[2] += w * pinball_loss(zx, np.quantile(zx, ndtr(q_x[:, k])), tau)
            s[3] += w * pinball_loss(zy, np.quantile(zy, ndtr(q_y[:, k])), tau)
        total = s[0] + s[1]
        if not total > 0:
            return 0.0
        d = ((s[1] + s[2]) - (s[0] + s[3])) / total
        return float(d) if np.isfinite(d) else 0.0

    def _score_one(self, x, y, rng) -> float:
        # Code-length differences are a few hundredths; the factor only spreads the scores.
        return float(expit(10.0 * self.statistic(x, y, rng)))


BASELINES = {"IGCI": IGCI, "ANM-HSIC": ANMHSIC, "RECI": RECI, "CDS": CDS, "QCCD": QCCD}


def make_baseline(name: str, random_state=0) -> PairBaseline:
    """A baseline by its display name (see :data:`BASELINES`)."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    cls = BASELINES[name]
    return cls(random_state=random_state) if "random_state" in cls().get_params() else cls()
