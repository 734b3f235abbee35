"""The figures of `ncc evaluate --plots DIR` and `ncc score --plots DIR` (matplotlib, Agg backend).

* :func:`plot_decision_rate` -- accuracy versus decision rate: pairs ranked by confidence
  |score − 0.5|, the accuracy of the most confident fraction r of them, one line per method, with
  a bootstrap 95% band for NCC (the field's standard figure, e.g. Mooij et al. 2016, Fig. 10).
* :func:`plot_roc` -- ROC curve of every method (truth 1 = first column causes second).
* :func:`plot_confident_pairs` -- scatter plots of the most confident correct and wrong pairs of
  one method, titled with the truth and the score.
* :func:`plot_scored_pairs` -- scatter plots of scored pairs, titled with the verdict.

Every figure goes through the project's atomic writer (permissions follow the umask) and records
the ncc version in its PNG metadata.
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ncc._version import __version__

GRID_MAX = 36  # scatter plots per image: beyond that a page is unreadable


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path, description: str = "") -> Path:
    from synthetic._atomic import atomic_write_bytes

    plt = _pyplot()
    buf = io.BytesIO()
    meta = {"Software": f"ncc {__version__}", "Description": description} if path.suffix.lower() == ".png" else None
    fig.savefig(buf, format=path.suffix.lstrip(".").lower() or "png", dpi=110, metadata=meta)
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


# ----------------------------------------------------------------------------- curves
def decision_rate_curve(truth, score, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """(decision rates k/n, accuracy of the k most confident pairs) for k = 1..n.

    Confidence is |score − 0.5|; equal confidences keep their input order (stable sort). A score
    of exactly 0.5 counts as half right, as in :mod:`ncc.metrics`; weights weight the accuracy.
    """
    from ncc.metrics import correctness

    t = np.asarray(truth, dtype=float)
    s = np.asarray(score, dtype=float)
    w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(-np.abs(s - 0.5), kind="stable")
    c, w = correctness(t, s)[order], w[order]
    cum_w = np.cumsum(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.cumsum(c * w) / cum_w
    rates = np.arange(1, len(s) + 1) / max(len(s), 1)
    return rates, acc


def _curve_on_grid(truth, score, weights, grid: np.ndarray) -> np.ndarray:
    rates, acc = decision_rate_curve(truth, score, weights)
    idx = np.clip(np.ceil(grid * len(rates)).astype(int) - 1, 0, len(rates) - 1)
    return acc[idx]


def plot_decision_rate(truth, scores: dict, path, *, weights=None, band_method: Optional[str] = "NCC",
                       n_boot: int = 500, seed: int = 0, title: str = "") -> Path:
    """Accuracy versus decision rate, one line per method, bootstrap 95% band for ``band_method``."""
    from ncc.metrics import bootstrap_indices

    plt = _pyplot()
    truth = np.asarray(truth, dtype=float)
    w = None if weights is None else np.asarray(weights, dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    grid = np.linspace(0.02, 1.0, 50)
    if band_method in scores and len(truth) > 1:
        s = np.asarray(scores[band_method], dtype=float)
        curves = []
        for idx in bootstrap_indices(len(truth), n_boot, seed):
            curves.append(_curve_on_grid(truth[idx], s[idx], None if w is None else w[idx], grid))
        lo, hi = np.nanpercentile(np.array(curves), [2.5, 97.5], axis=0)
        ax.fill_between(grid, lo, hi, alpha=0.2, color="C0", linewidth=0,
                        label=f"{band_method}: bootstrap 95% band")
    for k, (name, s) in enumerate(scores.items()):
        rates, acc = decision_rate_curve(truth, s, w)
        ax.plot(rates, acc, color=f"C{k}", lw=2 if name == band_method else 1.2, label=name)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("decision rate (share of pairs decided, most confident first)")
    ax.set_ylabel("weighted accuracy" if w is not None and len(set(w.tolist())) > 1 else "accuracy")
    ax.set_title(title or f"Accuracy versus decision rate ({len(truth)} pairs)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return save_figure(fig, Path(path), "accuracy versus decision rate")


def roc_points(truth, score) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rates, true positive rates) over all thresholds; empty when one class only."""
    t = np.asarray(truth, dtype=float)
    s = np.asarray(score, dtype=float)
    pos, neg = (t == 1).sum(), (t == 0).sum()
    if pos == 0 or neg == 0:
        return np.array([]), np.array([])
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # one point per distinct threshold
    tp = np.cumsum(t)[last]
    fp = (last + 1) - tp
    return np.r_[0.0, fp / neg], np.r_[0.0, tp / pos]


def plot_roc(truth, scores: dict, path, *, title: str = "") -> Path:
    from ncc.metrics import auc

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.6))
    one_class = len(set(np.asarray(truth, dtype=float).tolist())) < 2
    for k, (name, s) in enumerate(scores.items()):
        fpr, tpr = roc_points(truth, s)
        if len(fpr):
            ax.plot(fpr, tpr, color=f"C{k}", lw=1.5, label=f"{name} (AUC {auc(truth, s):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set_xlabel("false positive rate (y→x pairs called x→y)")
    ax.set_ylabel("true positive rate (x→y pairs called x→y)")
    if one_class:
        ax.text(0.5, 0.5, "ROC undefined: every truth points the same way\n(use --flip-seed)",
                ha="center", va="center", fontsize=9)
    else:
        ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title or "ROC", fontsize=10)
    ax.set_aspect("equal")
    return save_figure(fig, Path(path), "ROC curves")


# ----------------------------------------------------------------------------- scatter grids
def _scatter(ax, data: Optional[np.ndarray], title: str, xlabel: str, ylabel: str, color: str = "C0") -> None:
    from matplotlib.ticker import MaxNLocator

    if data is not None and len(data):
        ax.scatter(data[:, 0], data[:, 1], s=3, alpha=0.5, linewidths=0, color=color)
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, fontsize=7)
    ax.set_title(title, fontsize=7)
    ax.set_xlabel(xlabel, fontsize=6, labelpad=1)
    ax.set_ylabel(ylabel, fontsize=6, labelpad=1)
    ax.tick_params(labelsize=5, pad=1)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.yaxis.set_major_locator(MaxNLocator(4))


def _grid(n: int):
    plt = _pyplot()
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 2.3 * rows), squeeze=False)
    return fig, axes.ravel()


def _arrow(truth: int) -> str:
    return "x→y" if truth == 1 else "y→x"


def plot_confident_pairs(data: Sequence[Optional[np.ndarray]], truth, score, pair_ids: Sequence[str], path, *,
                         method: str = "NCC", per_group: int = 8) -> Path:
    """The ``per_group`` most confident correct pairs (top rows) and wrong pairs (bottom rows)."""
    plt = _pyplot()
    t = np.asarray(truth, dtype=int)
    s = np.asarray(score, dtype=float)
    conf = np.abs(s - 0.5)
    decided = s != 0.5
    right = decided & ((s > 0.5) == (t == 1))
    wrong = decided & ~right
    groups = []
    for label, mask, color in (("correct", right, "C2"), ("wrong", wrong, "C3")):
        idx = np.nonzero(mask)[0]
        groups.append((label, idx[np.argsort(-conf[idx], kind="stable")][:per_group], color))
    cols = max(1, min(per_group, max(len(g[1]) for g in groups)))
    fig, axes = plt.subplots(2, cols, figsize=(2.3 * cols, 5.0), squeeze=False)
    for row, (label, idx, color) in enumerate(groups):
        for c in range(cols):
            ax = axes[row, c]
            if c >= len(idx):
                ax.axis("off")
                if c == 0:
                    ax.text(0.5, 0.5, f"no {label} pair", ha="center", va="center", fontsize=8)
                continue
            i = idx[c]
            verdict = f"{method} {s[i]:.2f} ({'x→y' if s[i] > 0.5 else 'y→x'})"
            _scatter(ax, data[i], f"{pair_ids[i]} [{label}]\ntruth {_arrow(t[i])}, {verdict}",
                     "x (first column)", "y (second column)", color)
    fig.suptitle(f"Most confident correct (top) and wrong (bottom) pairs of {method}", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, Path(path), f"most confident pairs of {method}")


def verdict(score: Optional[float], status: str, x_name: str = "x", y_name: str = "y") -> str:
    """Title text: "x → y (0.83)", "y → x (0.21)", "no call (0.50)", or "not scored: status"."""
    if score is None:
        from ncc.formats import status_code

        return f"not scored: {status_code(status)}"
    if score == 0.5:
        return "no call (0.50)"
    return f"{x_name} → {y_name} ({score:.2f})" if score > 0.5 else f"{y_name} → {x_name} ({score:.2f})"


def plot_scored_pairs(items: Sequence[tuple], out_dir, *, stem: str = "scores") -> list[Path]:
    """Scatter grids of scored pairs, :data:`GRID_MAX` a page: ``OUT_DIR/STEM.png``, then
    ``STEM_2.png``... ``items``: (name, data or None, score or None, status, x label, y label)."""
    out_dir = Path(out_dir)
    written = []
    pages = max(1, math.ceil(len(items) / GRID_MAX))
    for page in range(pages):
        chunk = items[page * GRID_MAX:(page + 1) * GRID_MAX]
        fig, axes = _grid(len(chunk))
        for ax, item in zip(axes, chunk):
            name, data, score, status, xl, yl = item
            x_name = "x" if xl.startswith("x (") else xl
            y_name = "y" if yl.startswith("y (") else yl
            title = f"{name}\n{verdict(score, status, x_name, y_name)}"
            _scatter(ax, data, title, xl, yl)
        for ax in axes[len(chunk):]:
            ax.axis("off")
        fig.tight_layout()
        path = out_dir / (f"{stem}.png" if page == 0 else f"{stem}_{page + 1}.png")
        written.append(save_figure(fig, path, "scored pairs"))
    return written
