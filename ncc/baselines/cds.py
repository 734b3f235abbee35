"""CDS: Conditional Distribution Similarity."""
from __future__ import annotations

import numpy as np
from scipy.special import expit

from ncc.baselines.base import PairBaseline, _standardize


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
