"""Box-mass objectness: where in the image a feature's activation sits, without any intervention.

For a ResNet-like backbone, feature l is the global average of channel l of the last
convolutional map. The objectness of l for category k is the share of that channel's activation
mass (|activation|, so backbones with signed maps are covered too) that falls inside k's boxes,
mapped through the same resize and crop, averaged over the images containing k:

    o_kl = mean_j  Σ_cells |A_jl| · cover_jk  /  Σ_cells |A_jl|

where cover_jk is the fraction of each map cell covered by the boxes. A channel spread evenly
over the image scores the boxes' area share (reported as ``box_area_share``), so objectness is
read against it. Images where the channel is silent (zero mass) do not count for that feature.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

MAP = "original_map"  # (n, C, h, w) float16, aligned with image_index
COVERAGE = "pair_box_coverage"  # (m, h, w) float16, aligned with pair_image / pair_category
OBJECTNESS_KEYS = ("image_index", "pair_image", "pair_category", MAP, COVERAGE)


def box_mass_objectness(chunks: Iterable[dict], n_categories: int, dim: int) -> dict | None:
    """Objectness (K, D), box area share (K,) and image counts (K,), or None without stored maps."""
    share_sum = np.zeros((n_categories, dim))
    share_n = np.zeros((n_categories, dim))
    area_sum = np.zeros(n_categories)
    n_images = np.zeros(n_categories, dtype=np.int64)
    seen_maps = False
    for chunk in chunks:
        if MAP not in chunk or COVERAGE not in chunk:
            if len(chunk["pair_image"]):
                return None  # an old or --no-maps folder: objectness is undefined, not zero
            continue
        seen_maps = True
        if not len(chunk["pair_image"]):
            continue
        row_of = {int(i): r for r, i in enumerate(chunk["image_index"])}
        rows = np.array([row_of[int(i)] for i in chunk["pair_image"]], dtype=np.int64)
        for k in np.unique(chunk["pair_category"]):
            sel = np.flatnonzero(chunk["pair_category"] == k)
            mass = np.abs(chunk[MAP][rows[sel]].astype(np.float32))  # (m, C, h, w)
            cover = chunk[COVERAGE][sel].astype(np.float32)  # (m, h, w)
            inside = np.einsum("mchw,mhw->mc", mass, cover, dtype=np.float64)
            total = mass.sum(axis=(2, 3), dtype=np.float64)
            ok = total > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(ok, inside / np.where(ok, total, 1.0), 0.0)
            share_sum[k] += share.sum(axis=0)
            share_n[k] += ok.sum(axis=0)
            area_sum[k] += cover.mean(axis=(1, 2)).sum()
            n_images[k] += len(sel)
    if not seen_maps:
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        objectness = share_sum / share_n
        area = area_sum / n_images
    objectness[share_n == 0] = np.nan
    area[n_images == 0] = np.nan
    return {"objectness": objectness, "box_area_share": area, "n_images": n_images}


def spearman_by_category(a: np.ndarray, b: np.ndarray, rows: np.ndarray) -> dict:
    """Spearman correlation over features of a[k] and b[k] for each listed category; median over them."""
    from scipy.stats import spearmanr

    per = {}
    for k in rows:
        ok = np.isfinite(a[k]) & np.isfinite(b[k])
        if ok.sum() >= 3 and np.ptp(a[k][ok]) > 0 and np.ptp(b[k][ok]) > 0:
            per[int(k)] = float(spearmanr(a[k][ok], b[k][ok]).statistic)
    values = np.array(list(per.values()))
    return {"median": float(np.median(values)) if len(values) else None, "n_categories": len(per), "per_category": per}


def objectness_summary(result: dict | None, categories: list[str], arrays: dict[str, np.ndarray],
                       scored: np.ndarray) -> dict:
    """What report.json says about objectness: per-category area share and the correlations."""
    if result is None:
        return {"skipped": "the features folder holds no activation maps (extracted with --no-maps, by an older "
                           "version, or with a backbone without a spatial map)"}
    obj = result["objectness"]
    every = np.flatnonzero(result["n_images"] > 0)
    corr = {
        "object_ratio": spearman_by_category(obj, arrays["object_ratio"], every),
        "context_ratio": spearman_by_category(obj, arrays["context_ratio"], every),
        "anticausal": spearman_by_category(obj, arrays["anticausal"], np.flatnonzero(scored)),
    }
    for v in corr.values():
        v["per_category"] = {categories[k]: r for k, r in v["per_category"].items()}
    return {
        "definition": "share of the channel's |activation| mass inside the category's boxes, mean over its images",
        "box_area_share": {c: (None if not np.isfinite(a) else float(a))
                           for c, a in zip(categories, result["box_area_share"])},
        "correlations": corr,
    }
