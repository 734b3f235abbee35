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
    ratios of all features instead (box), so the figure is never empty. The y axis is linear and
    capped near the upper tail: values above the cap are drawn as triangles on it, so one outlier
    cannot flatten every bar."""
    plt = _pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    cats = list(report["categories"])
    per = report["results"]["ncc"]["per_category"]
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, 0.7 * len(cats) + 2), 7.5), sharex=True)
    rng = np.random.default_rng(0)
    for ax, key, label in ((axes[0], "object_ratio", "object ratio  Σ|f(xᶜ)−f(x)| / Σ|f(x)|"),
                           (axes[1], "context_ratio", "context ratio  Σ|f(xᵒ)−f(x)| / Σ|f(x)|")):
        groups = []  # (x position, values, colour or None for a box)
        for k, c in enumerate(cats):
            values = arrays[key][k]
            if c in per:
                for offset, which, color in ((-0.18, "top_anticausal", "tab:red"), (0.18, "top_causal", "tab:blue")):
                    v = values[per[c][which]]
                    groups.append((k + offset, v[np.isfinite(v)], color))
            else:
                groups.append((k, values[np.isfinite(values)], None))
        finite = np.concatenate([g[1] for g in groups]) if groups else np.zeros(0)
        cap = _axis_cap(finite)
        for x, v, color in groups:
            if not len(v):
                continue
            if color is None:
                ax.boxplot([np.minimum(v, cap)], positions=[x], widths=0.5, showfliers=False)
                continue
            ax.bar(x, min(v.mean(), cap), width=0.34, color=color, alpha=0.45)
            inside = v <= cap
            jitter = rng.uniform(-0.07, 0.07, len(v))
            ax.scatter(x + jitter[inside], v[inside], s=9, color=color)
            if (~inside).any():
                ax.scatter(x + jitter[~inside], np.full((~inside).sum(), cap), s=22, marker="^", color=color)
        ax.set_ylim(0, cap * 1.04)
        ax.set_ylabel(label, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(handles=[Patch(color="tab:red", alpha=0.6, label="top anticausal (c → f): bar = mean"),
                            Patch(color="tab:blue", alpha=0.6, label="top causal (f → c): bar = mean"),
                            Line2D([], [], ls="", marker="o", ms=4, color="grey", label="dot: one feature"),
                            Line2D([], [], ls="", marker="^", ms=5, color="grey", label="triangle: above the axis"),
                            Patch(facecolor="none", edgecolor="black",
                                  label="box: all features (category not scored)")],
                   fontsize=7, loc="upper right")
    axes[1].set_xticks(range(len(cats)))
    axes[1].set_xticklabels([f"{c} (n={report['categories'][c]['n_images_with_category']})" for c in cats],
                            rotation=60, ha="right", fontsize=8)
    title = f"Top {report['config']['top_percent']}% features by NCC score; n = images with the category"
    if any("RANDOM" in w for w in report["warnings"]):
        title += "\nRANDOM-INIT BACKBONE (pipeline test only)"
    axes[0].set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _axis_cap(values: np.ndarray) -> float:
    """Top of the y axis: 1.25 × the 95th percentile, raised to the third-largest value if higher, but
    at most 3 × the percentile, so lone outliers sit on the edge instead of stretching the axis."""
    if not len(values) or not np.isfinite(values).any() or values.max() <= 0:
        return 1.0
    p95 = float(np.percentile(values, 95))
    cap = min(max(1.25 * p95, float(np.sort(values)[-min(3, len(values))])), 3 * p95) if p95 > 0 else values.max()
    return float(cap) if cap > 0 else 1.0


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


def _safe_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name) or "category"


def _collect_maps(chunks, wanted: dict[int, set[int]]) -> dict[tuple[int, int], np.ndarray]:
    """Channel maps (h, w) of the wanted (image, feature) pairs, in one pass over the chunks."""
    from vision.objectness import MAP

    out = {}
    for chunk in chunks:
        if MAP not in chunk:
            continue
        for r, i in enumerate(chunk["image_index"].tolist()):
            for l in wanted.get(int(i), ()):
                out[(int(i), l)] = chunk[MAP][r, l].astype(np.float32)
    return out


def _view(rec, cat: str, prep) -> tuple[np.ndarray, np.ndarray] | None:
    """The preprocessed image (S, S, 3) and its category mask after the same resize and crop."""
    import torch

    from vision.masks import boxes_mask
    from vision.preprocess import decode_image, resize_and_crop

    try:
        image = decode_image(rec.path)
    except Exception:  # noqa: BLE001 - the figure is best effort; the features are already computed
        return None
    mask = boxes_mask(rec.boxes.get(cat, []), image.shape[-2], image.shape[-1]).to(torch.uint8) * 255
    stack = resize_and_crop(torch.stack([image, mask.expand(3, -1, -1)]), prep)
    return stack[0].permute(1, 2, 0).numpy(), stack[1, 0].numpy() > 127


def feature_maps_figures(out_dir: Path, report: dict, arrays: dict[str, np.ndarray], feats, chunks,
                         n_features: int = 2, n_images: int = 3) -> list[str]:
    """"What the feature sees": per scored category, its top anticausal and top causal features,
    each on the images that activate it most, with the channel's map laid over the image and the
    category's boxes outlined. Returns the files written (relative to ``out_dir``)."""
    import torch

    from vision.preprocess import Preprocessing

    per = report["results"]["ncc"]["per_category"]
    ds, cats = feats.dataset, feats.dataset.categories
    rows_by_cat, wanted = {}, {}
    for k, c in enumerate(cats):
        if c not in per:
            continue
        with_cat = np.flatnonzero([c in ds.images[i].boxes for i in feats.image_index])
        if not len(with_cat):
            continue
        rows = []
        for role, key in (("anticausal", "top_anticausal"), ("causal", "top_causal")):
            for l in per[c][key][:n_features]:
                best = with_cat[np.argsort(-feats.original[with_cat, l], kind="stable")[:n_images]]
                images = [int(feats.image_index[r]) for r in best]
                rows.append((role, int(l), images, feats.original[best, l]))
                for i in images:
                    wanted.setdefault(i, set()).add(int(l))
        rows_by_cat[c] = (k, rows)
    maps = _collect_maps(chunks, wanted)
    if not maps:
        return []
    p = feats.manifest["config"]["preprocessing"]
    prep = Preprocessing(resize=p["resize"], crop=p["crop"], mean=tuple(p["mean"]), std=tuple(p["std"]))
    plt = _pyplot()
    folder = Path(out_dir) / "feature_maps"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    objectness = arrays.get("objectness")
    for c, (k, rows) in rows_by_cat.items():
        fig, axes = plt.subplots(len(rows), n_images, figsize=(2.3 * n_images, 2.4 * len(rows)), squeeze=False)
        for r, (role, l, images, acts) in enumerate(rows):
            for j in range(n_images):
                ax = axes[r][j]
                ax.set_xticks([])
                ax.set_yticks([])
                if j >= len(images) or (images[j], l) not in maps:
                    ax.axis("off")
                    continue
                view = _view(ds.images[images[j]], c, prep)
                if view is None:
                    ax.axis("off")
                    continue
                img, mask = view
                m = torch.from_numpy(maps[(images[j], l)])[None, None]
                up = torch.nn.functional.interpolate(m, size=img.shape[:2], mode="bilinear", align_corners=False)[0, 0]
                ax.imshow(img)
                ax.imshow(up.numpy(), cmap="inferno", alpha=0.5)
                if mask.any() and not mask.all():
                    ax.contour(mask.astype(float), levels=[0.5], colors="cyan", linewidths=1.0)
                ax.set_title(f"f={acts[j]:.2f}", fontsize=7)
            o = objectness[k, l] if objectness is not None else np.nan
            axes[r][0].set_ylabel(f"{role} f{l}\ns_o {arrays['object_ratio'][k, l]:.2f}, obj {o:.2f}", fontsize=7)
        fig.suptitle(f"{c}: where the top anticausal and causal features look (boxes in cyan)", fontsize=9)
        fig.tight_layout()
        name = f"feature_maps/{_safe_name(c)}.jpg"  # photographs: JPEG is a tenth of the PNG's size
        fig.savefig(Path(out_dir) / name, dpi=90, pil_kwargs={"quality": 85})
        plt.close(fig)
        written.append(name)
    return written
