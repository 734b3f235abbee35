"""Controls that can refute the image finding: class-variable quality, marginal-matched features,
and two permutation tests of the per-category counts.

Why these. With random backbone weights the sign test can still "reject" (issue 8): sparse,
zero-inflated features get high anticausal scores and large ratios whatever the class variable
is, and the 20 per-category comparisons share those features, so they are not independent.

* **Permutation control.** The class variable's rows are shuffled across images — one
  permutation for *all* categories at once, so the dependence between categories (shared images,
  shared features) is kept — then NCC rescores every (category, feature) and the top-q%
  comparison is redone. The counts under shuffling form the null distribution; if marginal shape
  alone produces the pattern, the shuffled counts reproduce it and the p-value is large. This is
  the test over categories that does not assume independent categories.
* **Label-permutation control.** Shuffling c also breaks something no image content is needed
  for: c is the log-odds of a classifier trained on these very features, so it is a function of
  them. Refitting the classifier on shuffled *labels* keeps that dependence and breaks only the
  link between what the images show and their categories; it is the null the verdict uses.
* **Marginal-matched control.** Each top-anticausal feature is paired with the feature nearest to
  it in (fraction of zero activations, mean activation), ranks taken over all features; if the
  top-anticausal features beat their matched twins no more often than chance, their advantage
  over the top-causal ones comes from their marginals.
* **Class-variable quality.** A category whose cross-fitted log-odds barely predict it (ROC AUC
  below ``min_auc``) or that has few positives gives a class variable close to noise; such
  categories are reported but left out of the overall tests.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from vision.scores import compare_categories, paired_sign_test

Scorer = Callable[[list[np.ndarray]], np.ndarray]


# ---------------------------------------------------------------------------- marginals

def zero_fraction(features: np.ndarray) -> np.ndarray:
    """Share of images on which each feature is exactly 0 (a ReLU channel silent on the whole image)."""
    return (features == 0).mean(axis=0) if len(features) else np.full(features.shape[1], np.nan)


def _percentile_ranks(v: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return (rankdata(v) - 0.5) / len(v)


def matched_twins(chosen: np.ndarray, descriptors: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """For each chosen feature, the nearest unused feature of ``pool`` in percentile-rank space.

    ``descriptors`` is (D, d) per-feature summaries (zero fraction, mean activation); greedy
    matching without replacement, in the order of ``chosen`` (the top-scoring first).
    """
    ranks = np.column_stack([_percentile_ranks(descriptors[:, j]) for j in range(descriptors.shape[1])])
    free = np.zeros(len(descriptors), bool)
    free[pool] = True
    free[chosen] = False
    twins = []
    for f in chosen:
        cand = np.flatnonzero(free)
        if not len(cand):
            break
        d = ((ranks[cand] - ranks[f]) ** 2).sum(axis=1)
        best = cand[int(np.argmin(d))]  # ties go to the lower index
        twins.append(best)
        free[best] = False
    return np.asarray(twins, dtype=np.int64)


def marginal_matched(categories: Sequence[str], per_category: dict, descriptors: np.ndarray,
                     object_ratio: np.ndarray, context_ratio: np.ndarray, in_test: np.ndarray) -> dict:
    """Top-anticausal features against their marginal-matched twins, per category and overall."""
    per = {}
    for k, c in enumerate(categories):
        if c not in per_category:
            continue
        top = np.asarray(per_category[c]["top_anticausal"], dtype=np.int64)
        pool = np.flatnonzero(np.isfinite(object_ratio[k]) & np.isfinite(descriptors).all(axis=1))
        twins = matched_twins(top, descriptors, pool)
        top = top[:len(twins)]
        ranks = np.column_stack([_percentile_ranks(descriptors[:, j]) for j in range(descriptors.shape[1])])
        per[c] = {
            "top_anticausal": top.tolist(), "matched": twins.tolist(),
            "mean_rank_distance": float(np.abs(ranks[top] - ranks[twins]).mean()) if len(twins) else None,
            "object_ratio_anticausal": _mean(object_ratio[k], top),
            "object_ratio_matched": _mean(object_ratio[k], twins),
            "context_ratio_anticausal": _mean(context_ratio[k], top),
            "context_ratio_matched": _mean(context_ratio[k], twins),
        }
    names = [c for k, c in enumerate(categories) if c in per and in_test[k]]
    return {
        "descriptors": ["zero_fraction", "mean_activation"],
        "per_category": per,
        "object": paired_sign_test(per, names, "object_ratio_anticausal", "object_ratio_matched"),
        "context": paired_sign_test(per, names, "context_ratio_anticausal", "context_ratio_matched"),
    }


def _mean(values: np.ndarray, idx: np.ndarray) -> float:
    v = values[idx]
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


# ---------------------------------------------------------------------------- class-variable quality

def quality_mask(categories: Sequence[str], scored: np.ndarray, auc: dict, n_positive: np.ndarray,
                 min_auc: float, min_positives: int) -> tuple[np.ndarray, dict[str, str]]:
    """Which scored categories enter the overall tests, and why the others do not."""
    keep = np.asarray(scored, bool).copy()
    left_out: dict[str, str] = {}
    for k, c in enumerate(categories):
        if not keep[k]:
            continue
        a = auc.get(c)
        if int(n_positive[k]) < min_positives:
            left_out[c] = f"{int(n_positive[k])} positive images (< {min_positives})"
        elif a is None or a < min_auc:
            left_out[c] = f"class-variable ROC AUC {'n/a' if a is None else f'{a:.3f}'} (< {min_auc:g})"
        if c in left_out:
            keep[k] = False
    return keep, left_out


# ---------------------------------------------------------------------------- permutation control

def empirical_p(observed: float, null: np.ndarray) -> dict:
    """Two-sided (distance from the null mean) and one-sided ("greater") permutation p-values,
    counting the observed value as one of the permutations so p is never 0."""
    null = np.asarray(null, float)
    if observed is None or not len(null) or not np.isfinite(observed):
        return {"p": None, "p_greater": None}
    centre = null.mean()
    far = np.abs(null - centre) >= abs(observed - centre) - 1e-9
    return {"p": float((1 + far.sum()) / (len(null) + 1)),
            "p_greater": float((1 + (null >= observed - 1e-9).sum()) / (len(null) + 1))}


def _stream_scores(n_items: int, make_pair: Callable[[int], np.ndarray], n_points: int, scorer: Scorer,
                   max_points_per_call: int, progress: bool, desc: str) -> np.ndarray:
    """Score ``n_items`` pairs built on demand, in calls of at most ``max_points_per_call`` points:
    memory stays bounded whatever the number of images, categories and permutations."""
    from tqdm.auto import tqdm

    per_call = max(1, int(max_points_per_call // max(1, 2 * n_points)))
    out = np.empty(n_items, dtype=np.float64)
    starts = range(0, n_items, per_call)
    for start in tqdm(starts, disable=not progress or len(starts) <= 1, desc=desc, unit="call"):
        idx = range(start, min(n_items, start + per_call))
        s = np.asarray(scorer([make_pair(i) for i in idx]), dtype=np.float64).reshape(-1)
        if s.shape != (len(idx),):
            raise RuntimeError(f"NCC scorer returned {s.shape[0]} scores for {len(idx)} pairs")
        out[start:start + len(idx)] = s
    return out


def subsample_rows(n: int, max_images: int, seed: int) -> np.ndarray:
    """The images both permutation controls use: all of them, or one seeded subsample."""
    rng = np.random.default_rng([seed, 1])
    return np.sort(rng.choice(n, size=max_images, replace=False)) if n > max_images else np.arange(n)


def shuffled_class_replicates(classes: np.ndarray, n_permutations: int, seed: int) -> list[np.ndarray]:
    """The observed class variable, then ``n_permutations`` copies with rows shuffled across images
    (one permutation for all categories)."""
    rng = np.random.default_rng([seed, 2])
    return [classes] + [classes[rng.permutation(len(classes))] for _ in range(n_permutations)]


def refit_replicates(labels: np.ndarray, fit: Callable[[np.ndarray], np.ndarray], n_permutations: int, seed: int,
                     observed: np.ndarray | None = None, progress: bool = False) -> list[np.ndarray]:
    """Class variables refitted on shuffled labels: ``fit(labels) -> log-odds (n, K)``.

    Unlike shuffling c itself, this keeps what every class variable is: a function of the very
    features it is compared with. Replicate 0 uses the true labels (``observed`` if given)."""
    from tqdm.auto import tqdm

    rng = np.random.default_rng([seed, 3])
    out = [fit(labels) if observed is None else observed]
    for _ in tqdm(range(n_permutations), disable=not progress, desc="classifier refits", unit="fit"):
        out.append(fit(labels[rng.permutation(len(labels))]))
    return out


def permutation_control(features: np.ndarray, replicates: Sequence[np.ndarray], scorer: Scorer, *,
                        categories: Sequence[str], in_test: np.ndarray, features_ok: np.ndarray,
                        object_ratio: np.ndarray, context_ratio: np.ndarray, top_percent: float,
                        antisymmetric: bool, max_points_per_call: int = 20_000_000, progress: bool = False,
                        desc: str = "NCC permutations") -> dict:
    """Null distribution of the per-category counts over replicated class variables.

    ``replicates[0]`` is the observed class variable (n, K) and the others are null replicates
    (see :func:`shuffled_class_replicates`, :func:`refit_replicates`), all over the rows of
    ``features``; the observed counts are computed exactly like the null ones. ``antisymmetric``:
    score f → c only and read c → f as 1 − score (exact for NCC; the report checks it); otherwise
    both orientations are scored. All (replicate, category, feature) pairs are streamed through
    the scorer in calls of bounded size. Returns, for "ncc", "correlation" and "abs_correlation",
    the observed and null counts and the empirical p-values of both ratios.
    """
    n_reps = len(replicates)
    cats = np.flatnonzero(in_test)
    feats = np.flatnonzero(features_ok)
    result = {"n_permutations": int(n_reps - 1), "n_images": int(len(features)), "n_categories": int(len(cats)),
              "scored_orientations": 1 if antisymmetric else 2}
    if not len(cats) or not len(feats):
        result["skipped"] = "no category in the overall test" if not len(cats) else "no usable feature"
        return result
    cells = len(cats) * len(feats)

    def make_pair(i: int) -> np.ndarray:
        back, i = divmod(i, n_reps * cells)
        r, cell = divmod(i, cells)
        c = replicates[r][:, cats[cell // len(feats)]]
        f = features[:, feats[cell % len(feats)]]
        return np.column_stack([c, f] if back else [f, c])

    n_items = n_reps * cells * (1 if antisymmetric else 2)
    scores = _stream_scores(n_items, make_pair, len(features), scorer, max_points_per_call, progress, desc)
    forward = scores[:n_reps * cells].reshape(n_reps, len(cats), len(feats))
    backward = 1 - forward if antisymmetric else scores[n_reps * cells:].reshape(forward.shape)

    from vision.scores import correlations

    K, D = replicates[0].shape[1], features.shape[1]
    counts = {name: {"object": [], "context": []} for name in ("ncc", "correlation", "abs_correlation")}
    for r, classes in enumerate(replicates):
        causal = np.full((K, D), np.nan)
        anti = np.full((K, D), np.nan)
        causal[np.ix_(cats, feats)] = forward[r]
        anti[np.ix_(cats, feats)] = backward[r]
        rho = correlations(features, classes)
        rho[:, ~features_ok] = np.nan
        for name, (a, b) in {"ncc": (anti, causal), "correlation": (rho, -rho),
                             "abs_correlation": (np.abs(rho), -np.abs(rho))}.items():
            res = compare_categories(categories, a, b, object_ratio, context_ratio, top_percent, in_test)
            for ratio in ("object", "context"):
                counts[name][ratio].append(res[ratio]["n_anticausal_greater"])
    for name, by_ratio in counts.items():
        result[name] = {}
        for ratio, values in by_ratio.items():
            null = np.asarray(values[1:], float)
            result[name][ratio] = {"observed": int(values[0]), "null_counts": [int(v) for v in values[1:]],
                                   "null_mean": float(null.mean()) if len(null) else None,
                                   **empirical_p(values[0], null)}
    return result
