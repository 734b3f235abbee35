"""Per (category, feature) statistics: intervention ratios, NCC directions, correlation control,
and the top-q% comparison with its sign test.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

Scorer = Callable[[list[np.ndarray]], np.ndarray]


# ---------------------------------------------------------------------------- ratios

def intervention_ratios(original: np.ndarray, context_only: np.ndarray, object_only: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Object and context ratios of every feature over the images of one category.

    Rows are images containing the category, columns features:
    ``s_o = Σ_j |f(x_j^c) − f(x_j)| / Σ_j |f(x_j)|`` (the object removed) and
    ``s_c = Σ_j |f(x_j^o) − f(x_j)| / Σ_j |f(x_j)|`` (the context removed). NaN where the
    denominator is 0 (a feature that is 0 on every such image).
    """
    den = np.abs(original).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        s_o = np.abs(context_only - original).sum(axis=0) / den
        s_c = np.abs(object_only - original).sum(axis=0) / den
    s_o[den == 0] = np.nan
    s_c[den == 0] = np.nan
    return s_o, s_c


class RatioAccumulator:
    """The sums of :func:`intervention_ratios`, accumulated chunk by chunk (nothing held in memory)."""

    def __init__(self, n_categories: int, dim: int):
        self.object_num = np.zeros((n_categories, dim))
        self.context_num = np.zeros((n_categories, dim))
        self.den = np.zeros((n_categories, dim))
        self.n_images = np.zeros(n_categories, dtype=np.int64)

    def add(self, image_index: np.ndarray, original: np.ndarray, pair_image: np.ndarray,
            pair_category: np.ndarray, context_only: np.ndarray, object_only: np.ndarray) -> None:
        if not len(pair_image):
            return
        row_of = {int(i): r for r, i in enumerate(image_index)}
        orig = original[[row_of[int(i)] for i in pair_image]].astype(np.float64)
        for k in np.unique(pair_category):
            sel = pair_category == k
            o = orig[sel]
            self.object_num[k] += np.abs(context_only[sel].astype(np.float64) - o).sum(axis=0)
            self.context_num[k] += np.abs(object_only[sel].astype(np.float64) - o).sum(axis=0)
            self.den[k] += np.abs(o).sum(axis=0)
            self.n_images[k] += int(sel.sum())

    def ratios(self) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            s_o = self.object_num / self.den
            s_c = self.context_num / self.den
        s_o[self.den == 0] = np.nan
        s_c[self.den == 0] = np.nan
        return s_o, s_c


# ---------------------------------------------------------------------------- scores

def correlations(features: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Pearson correlation of every (category k, feature l): shape (K, D); NaN if either is constant."""
    F = features - features.mean(axis=0)
    C = classes - classes.mean(axis=0)
    fn = np.sqrt((F ** 2).sum(axis=0))
    cn = np.sqrt((C ** 2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (C.T @ F) / np.outer(cn, fn)
    rho[:, fn == 0] = np.nan
    rho[cn == 0, :] = np.nan
    return rho


def ncc_direction_scores(features: np.ndarray, classes: np.ndarray, scorer: Scorer, *,
                         categories_ok: np.ndarray | None = None, features_ok: np.ndarray | None = None,
                         max_points_per_call: int = 20_000_000, progress: bool = False
                         ) -> tuple[np.ndarray, np.ndarray, int]:
    """NCC causal ``P(f_l → c_k)`` and anticausal ``P(c_k → f_l)`` for every usable (k, l).

    Both directions are scored explicitly: the causal score of (k, l) is the scorer's output on
    the two-column sample ``[f_l, c_k]`` and the anticausal score its output on ``[c_k, f_l]``
    (with an antisymmetric NCC the two add up to 1; the report checks it). All pairs go to the
    scorer in one call, unless they exceed ``max_points_per_call`` points, in which case they are
    split into as few calls as that memory budget allows. Returns ``(causal, anticausal,
    n_calls)``, shape (K, D), NaN where a category or feature is unusable (constant).
    """
    n, dim = features.shape
    K = classes.shape[1]
    cats = np.flatnonzero(np.ones(K, bool) if categories_ok is None else categories_ok)
    feats = np.flatnonzero(np.ones(dim, bool) if features_ok is None else features_ok)
    cells = [(k, l) for k in cats for l in feats]
    causal = np.full((K, dim), np.nan)
    anti = np.full((K, dim), np.nan)
    if not cells or n == 0:
        return causal, anti, 0
    per_call = max(1, int(max_points_per_call // (2 * n)))  # cells per call (2 pairs of n points each)
    groups = [cells[i:i + per_call] for i in range(0, len(cells), per_call)]
    from tqdm.auto import tqdm

    for group in tqdm(groups, disable=not progress or len(groups) == 1, desc="NCC", unit="call"):
        forward = [np.column_stack([features[:, l], classes[:, k]]) for k, l in group]
        backward = [np.column_stack([classes[:, k], features[:, l]]) for k, l in group]
        out = np.asarray(scorer(forward + backward), dtype=np.float64).reshape(-1)
        if out.shape != (2 * len(group),):
            raise RuntimeError(f"NCC scorer returned {out.shape[0]} scores for {2 * len(group)} pairs")
        ks, ls = np.array([c[0] for c in group]), np.array([c[1] for c in group])
        causal[ks, ls] = out[:len(group)]
        anti[ks, ls] = out[len(group):]
    return causal, anti, len(groups)


# ---------------------------------------------------------------------------- comparison

def n_top(n_valid: int, top_percent: float) -> int:
    """How many features are "the top q%": floor(q% of the usable features), at least 1 (paper: 5 of 512)."""
    return max(1, int(np.floor(n_valid * top_percent / 100.0 + 1e-9))) if n_valid else 0


def top_indices(score: np.ndarray, top_percent: float) -> np.ndarray:
    """Indices of the highest-scoring q% of all features (q% of D, as in the paper's 5 of 512);
    NaN scores (constant features) are never selected; ties go to the lower index."""
    valid = np.flatnonzero(np.isfinite(score))
    order = valid[np.argsort(-score[valid], kind="stable")]
    return order[:n_top(len(score), top_percent)]


def compare_top(anticausal: np.ndarray, causal: np.ndarray, object_ratio: np.ndarray,
                context_ratio: np.ndarray, top_percent: float) -> dict:
    """Mean object and context ratios of the top-anticausal vs the top-causal features of one category."""
    ta, tc = top_indices(anticausal, top_percent), top_indices(causal, top_percent)

    def mean(values, idx):
        v = values[idx]
        v = v[np.isfinite(v)]
        return float(v.mean()) if len(v) else float("nan")

    return {
        "n_top": int(len(ta)),
        "top_anticausal": ta.tolist(), "top_causal": tc.tolist(),
        "object_ratio_anticausal": mean(object_ratio, ta), "object_ratio_causal": mean(object_ratio, tc),
        "context_ratio_anticausal": mean(context_ratio, ta), "context_ratio_causal": mean(context_ratio, tc),
    }


def paired_sign_test(per_category: dict, names: Sequence[str], greater: str, other: str) -> dict:
    """:func:`sign_test` of two per-category entries (e.g. the anticausal and causal object ratios)."""
    return sign_test([per_category[c][greater] for c in names], [per_category[c][other] for c in names])


def sign_test(anticausal_means: Sequence[float], causal_means: Sequence[float]) -> dict:
    """Count categories with top-anticausal > top-causal; two-sided sign test (ties and NaN dropped)."""
    from scipy.stats import binomtest

    a, c = np.asarray(anticausal_means, float), np.asarray(causal_means, float)
    ok = np.isfinite(a) & np.isfinite(c)
    greater = int((a[ok] > c[ok]).sum())
    less = int((a[ok] < c[ok]).sum())
    n = greater + less
    p = float(binomtest(greater, n, 0.5, alternative="two-sided").pvalue) if n else None
    return {"n_categories": int(ok.sum()), "n_anticausal_greater": greater, "n_causal_greater": less,
            "n_ties": int(ok.sum()) - n, "p_value": p}


def compare_categories(categories: Sequence[str], anticausal: np.ndarray, causal: np.ndarray,
                       object_ratio: np.ndarray, context_ratio: np.ndarray, top_percent: float,
                       usable: np.ndarray, in_test: np.ndarray | None = None) -> dict:
    """Per-category comparisons (the ``usable`` categories) plus the overall sign tests (over the
    ``in_test`` ones, default all usable), for one pair of direction scores."""
    per = {}
    for k, name in enumerate(categories):
        if usable[k]:
            per[name] = compare_top(anticausal[k], causal[k], object_ratio[k], context_ratio[k], top_percent)
    in_test = usable if in_test is None else in_test & usable
    names = [name for k, name in enumerate(categories) if in_test[k]]
    return {
        "per_category": per,
        "object": paired_sign_test(per, names, "object_ratio_anticausal", "object_ratio_causal"),
        "context": paired_sign_test(per, names, "context_ratio_anticausal", "context_ratio_causal"),
    }
