"""PNG figures: ratios of top causal vs top anticausal features, and example interventions."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def ratio_figure(path: Path, report: dict, arrays: dict[str, np.ndarray]) -> None:
    """Per category: mean (bar) and individual (dots) object / context ratios of the top-anticausal
    and top-causal features, as in the paper's figure. Categories NCC could not score show the
    ratios of all features instead (box), so the figure is never empty."""
    plt = _pyplot()
    cats = list(report["categories"])
    per = report["results"]["ncc"]["per_category"]
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, 0.7 * len(cats) + 2), 7), sharex=True)
    rng = np.random.default_rng(0)
    for ax, key, label in ((axes[0], "object_ratio", "object ratio  Σ|f(xᶜ)−f(x)| / Σ|f(x)|"),
                           (axes[1], "context_ratio", "context ratio  Σ|f(xᵒ)−f(x)| / Σ|f(x)|")):
        shown: list[np.ndarray] = []
        for k, c in enumerate(cats):
            values = arrays[key][k]
            if c in per:
                for offset, which, color in ((-0.18, "top_anticausal", "tab:red"), (0.18, "top_causal", "tab:blue")):
                    v = values[per[c][which]]
                    v = v[np.isfinite(v)]
                    shown.append(v)
                    if len(v):
                        ax.bar(k + offset, v.mean(), width=0.34, color=color, alpha=0.45)
                        ax.scatter(k + offset + rng.uniform(-0.07, 0.07, len(v)), v, s=9, color=color)
            else:
                v = values[np.isfinite(values)]
                shown.append(v)
                if len(v):
                    ax.boxplot([v], positions=[k], widths=0.5, showfliers=False)
        ax.set_ylabel(label, fontsize=8)
        finite = np.concatenate(shown) if shown else np.zeros(0)
        if len(finite) and finite.max() > 20 * max(np.median(finite), 1e-12):
            ax.set_yscale("symlog", linthresh=1.0)  # a few huge ratios would flatten every bar otherwise
    from matplotlib.patches import Patch

    axes[0].legend(handles=[Patch(color="tab:red", alpha=0.6, label="top anticausal (c → f)"),
                            Patch(color="tab:blue", alpha=0.6, label="top causal (f → c)")],
                   fontsize=8, loc="upper right")
    axes[1].set_xticks(range(len(cats)))
    axes[1].set_xticklabels(cats, rotation=60, ha="right", fontsize=8)
    title = f"Top {report['config']['top_percent']}% features by NCC score"
    if any("RANDOM" in w for w in report["warnings"]):
        title += "  —  RANDOM-INIT BACKBONE (pipeline test only)"
    axes[0].set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def examples_figure(path: Path, feats, n_examples: int, seed: int) -> str | None:
    """Rows of (original, context-only, object-only) after preprocessing. Returns a note if impossible."""
    from vision.extract import image_versions
    from vision.preprocess import Preprocessing, decode_image, resize_and_crop

    prep_cfg = feats.manifest["config"]["preprocessing"]
    prep = Preprocessing(resize=prep_cfg["resize"], crop=prep_cfg["crop"], mean=tuple(prep_cfg["mean"]),
                         std=tuple(prep_cfg["std"]))
    ds = feats.dataset
    candidates = [i for i in feats.image_index.tolist() if ds.images[i].boxes]
    if not candidates:
        return "no example figure: no analysed image has a box"
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(candidates, size=min(n_examples, len(candidates)), replace=False).tolist())
    rows = []
    for i in chosen:
        rec = ds.images[i]
        cat = next(iter(rec.boxes))
        try:
            image = decode_image(rec.path)
        except Exception:  # noqa: BLE001 - the figure is best effort; the features are already computed
            continue
        stack, kept = image_versions(image, [(0, rec.boxes[cat])])
        if not kept:
            continue
        rows.append((rec.key, cat, resize_and_crop(stack, prep)))
    if not rows:
        return "no example figure: the example images could not be read"
    plt = _pyplot()
    fig, axes = plt.subplots(len(rows), 3, figsize=(7.5, 2.6 * len(rows)), squeeze=False)
    for r, (key, cat, stack) in enumerate(rows):
        for c, title in enumerate(("original", f"context only (no {cat})", f"object only ({cat})")):
            ax = axes[r][c]
            ax.imshow(stack[c].permute(1, 2, 0).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(title, fontsize=8)
        axes[r][0].set_ylabel(Path(key).name, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None
