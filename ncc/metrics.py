"""Direction-accuracy metrics for cause-effect benchmarks (numpy only).

Conventions: ``truth`` is 1 when the first variable causes the second, 0 otherwise;
``score`` is the predicted probability of "first causes second". A score of exactly 0.5
is a tie: it counts as half right (a coin flip in expectation), never as a win.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state


def _check(truth, score, weights=None):
    t = np.asarray(truth, dtype=float)
    s = np.asarray(score, dtype=float)
    if t.shape != s.shape or t.ndim != 1:
        raise ValueError(f"truth and score must be 1-D of equal length, got {t.shape} and {s.shape}")
    if not np.all((t == 0) | (t == 1)):
        raise ValueError("truth must hold 0 or 1")
    w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != s.shape:
        raise ValueError("weights must match truth in length")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    return t, s, w


def correctness(truth, score) -> np.ndarray:
    """Per pair: 1 right, 0 wrong, 0.5 for a tie (score exactly 0.5)."""
    t, s, _ = _check(truth, score)
    right = ((s > 0.5) == (t == 1)).astype(float)
    return np.where(s == 0.5, 0.5, right)


def accuracy(truth, score) -> float:
    t, s, _ = _check(truth, score)
    return float(correctness(t, s).mean()) if len(t) else float("nan")


def weighted_accuracy(truth, score, weights) -> float:
    """Accuracy with per-pair weights (Tübingen ``pairmeta.txt`` weights)."""
    t, s, w = _check(truth, score, weights)
    total = w.sum()
    return float((correctness(t, s) * w).sum() / total) if total > 0 else float("nan")


def auc(truth, score) -> float:
    """Area under the ROC curve (Mann-Whitney; tied scores count half). NaN with one class."""
    t, s, _ = _check(truth, score)
    pos, neg = s[t == 1], s[t == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    # Rank-based form of P(score_pos > score_neg) + 0.5 P(equal): O(n log n).
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([pos, neg]))
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def bootstrap_ci(truth, score, weights=None, *, n_boot: int = 2000, level: float = 0.95,
                 random_state=None, indices: np.ndarray | None = None) -> tuple[float, float]:
    """Percentile bootstrap interval of the (weighted) accuracy, resampling pairs.

    Pass the same ``indices`` (from :func:`bootstrap_indices`) to compare methods on
    identical resamples.
    """
    t, s, w = _check(truth, score, weights)
    if len(t) == 0:
        return float("nan"), float("nan")
    idx = bootstrap_indices(len(t), n_boot, random_state) if indices is None else indices
    c = correctness(t, s)
    wi = w[idx]
    totals = wi.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        stats = (c[idx] * wi).sum(axis=1) / totals
    stats = stats[np.isfinite(stats)]
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(stats, [alpha, 1 - alpha])
    return float(lo), float(hi)


def bootstrap_indices(n: int, n_boot: int = 2000, random_state=None) -> np.ndarray:
    rng = check_random_state(random_state)
    return rng.randint(0, n, size=(n_boot, n))


@dataclass
class DirectionMetrics:
    """The numbers `ncc evaluate` shows for one method."""

    n_pairs: int
    accuracy: float
    weighted_accuracy: float
    auc: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def evaluate_scores(truth, score, weights=None, *, n_boot: int = 2000, random_state=None,
                    indices: np.ndarray | None = None) -> DirectionMetrics:
    """All metrics at once; the interval is for the weighted accuracy (= accuracy when unweighted)."""
    t, s, w = _check(truth, score, weights)
    lo, hi = bootstrap_ci(t, s, w, n_boot=n_boot, random_state=random_state, indices=indices)
    return DirectionMetrics(len(t), accuracy(t, s), weighted_accuracy(t, s, w), auc(t, s), lo, hi)


#: Classes of the three-way answer, in the column order of ncc.predict_relations.
RELATION_CLASSES = ("x->y", "y->x", "none")


def relation_metrics(truth3, probabilities) -> dict:
    """Three answers against the truth: ``truth3`` holds 0 (x → y), 1 (y → x) or 2 (no link) per
    pair, ``probabilities`` the (n, 3) [P(x → y), P(y → x), P(none)]. Returns the three-way accuracy
    (argmax; a tie counts as a share of right), the AUC of P(none) for "no link" against
    "a link" (NaN with one class), and the pairs per class."""
    t = np.asarray(truth3)
    p = np.asarray(probabilities, dtype=float)
    if t.ndim != 1 or p.shape != (len(t), 3):
        raise ValueError(f"truth3 must be (n,) and probabilities (n, 3), got {t.shape} and {p.shape}")
    if not np.isin(t, (0, 1, 2)).all():
        raise ValueError("truth3 must hold 0 (x->y), 1 (y->x) or 2 (no link)")
    best = p == p.max(1, keepdims=True)
    right = best[np.arange(len(t)), t] / best.sum(1) if len(t) else np.zeros(0)
    return {
        "n_pairs": int(len(t)),
        "n_per_class": {name: int((t == k).sum()) for k, name in enumerate(RELATION_CLASSES)},
        "three_way_accuracy": float(right.mean()) if len(t) else float("nan"),
        "auc_none": auc((t == 2).astype(float), p[:, 2]) if len(t) else float("nan"),
    }
