"""Bootstrap confidence intervals, over images, of the per-category mean ratios.

The ratios are sums over the images containing a category, so resampling those images with
replacement (multinomial counts) and recomputing the sums gives the ratios' sampling spread.
The top-anticausal and top-causal features are held fixed: the intervals are conditional on the
selection (rescoring NCC per resample would cost the whole analysis B times).
"""
from __future__ import annotations

import warnings

import numpy as np

CI_LEVEL = 0.95


def collect_per_image(chunks, selection: dict[int, np.ndarray]) -> dict[int, dict[str, np.ndarray]]:
    """Per-image |Δf| (object removed, context removed) and |f| for the selected features of each category.

    ``chunks`` iterates feature-store chunks; ``selection`` maps a category index to feature
    indices. One streaming pass: only n_images_k × len(features) numbers per category are kept.
    """
    parts: dict[int, dict[str, list]] = {k: {"object": [], "context": [], "den": []} for k in selection}
    for chunk in chunks:
        if not len(chunk["pair_image"]):
            continue
        row_of = {int(i): r for r, i in enumerate(chunk["image_index"])}
        rows = np.array([row_of[int(i)] for i in chunk["pair_image"]], dtype=np.int64)
        for k, cols in selection.items():
            sel = np.flatnonzero(chunk["pair_category"] == k)
            if not len(sel):
                continue
            orig = chunk["original"][rows[sel]][:, cols].astype(np.float64)
            parts[k]["object"].append(np.abs(chunk["context_only"][sel][:, cols] - orig))
            parts[k]["context"].append(np.abs(chunk["object_only"][sel][:, cols] - orig))
            parts[k]["den"].append(np.abs(orig))
    return {k: {name: (np.concatenate(v) if v else np.zeros((0, len(selection[k]))))
                for name, v in p.items()} for k, p in parts.items()}


def _interval(values: np.ndarray) -> list[float] | None:
    v = values[np.isfinite(values)]
    if len(v) < 2:
        return None
    lo, hi = np.quantile(v, [(1 - CI_LEVEL) / 2, (1 + CI_LEVEL) / 2])
    return [float(lo), float(hi)]


def ratio_intervals(per_image: dict[str, np.ndarray], anticausal: np.ndarray, causal: np.ndarray,
                    n_boot: int, rng: np.random.Generator) -> dict:
    """CIs of the mean object / context ratio of the top-anticausal and top-causal features, and of
    their difference. ``anticausal``/``causal`` index the columns of ``per_image``."""
    n = len(per_image["den"])
    if n < 2 or n_boot < 1:
        return {}
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)  # (B, n)
    den = weights @ per_image["den"]
    out = {}
    for ratio in ("object", "context"):
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (weights @ per_image[ratio]) / den
        r[den == 0] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "mean of empty slice": a feature 0 on a resample
            a = np.nanmean(r[:, anticausal], axis=1)
            c = np.nanmean(r[:, causal], axis=1)
        out[f"{ratio}_ratio_anticausal"] = _interval(a)
        out[f"{ratio}_ratio_causal"] = _interval(c)
        out[f"{ratio}_ratio_difference"] = _interval(a - c)
    return out


def category_intervals(chunks, per_category: dict, categories: list[str], n_boot: int, seed: int) -> dict[str, dict]:
    """Bootstrap CIs for every compared category (see :func:`ratio_intervals`)."""
    selection, layout = {}, {}
    for k, c in enumerate(categories):
        if c in per_category:
            a = np.asarray(per_category[c]["top_anticausal"], dtype=np.int64)
            b = np.asarray(per_category[c]["top_causal"], dtype=np.int64)
            cols = np.concatenate([a, b])
            selection[k] = cols
            layout[k] = (np.arange(len(a)), np.arange(len(a), len(cols)))
    if not selection or n_boot < 1:
        return {}
    data = collect_per_image(chunks, selection)
    rng = np.random.default_rng(seed)
    return {categories[k]: ratio_intervals(data[k], *layout[k], n_boot=n_boot, rng=rng) for k in selection}
