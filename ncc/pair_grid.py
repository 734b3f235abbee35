"""A grid of scatter plots of pairs, each titled with its true direction."""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from ncc._version import __version__

DIRECTION_TITLES = {1: "x → y", 0: "y → x", -1: "no link"}
#: No-link pairs named apart by the generator's ``kind``.
KIND_TITLES = {"independent": "independent (no link)", "confounded": "confounded (x ← z → y)"}


def pair_title(label, kind=None) -> str:
    """"x → y", "y → x", "independent (no link)", "confounded (x ← z → y)", or "unknown"."""
    if label is None:
        return "truth unknown"
    label = int(label)
    if label == -1 and kind is not None and str(kind) in KIND_TITLES:
        return KIND_TITLES[str(kind)]
    return DIRECTION_TITLES.get(label, str(label))


def plot_pair_grid(X, y, out, *, n: int = 16, mechanisms=None, kinds=None, names=None, source: str = "") -> Path:
    """Draw the first ``n`` pairs (column 0 on the horizontal axis) into ``out`` (PNG...).

    ``y``: labels (1 x→y, 0 y→x, -1 no link, None unknown); ``kinds`` (the generator's
    ``info["kind"]``) names independent and confounded pairs apart; ``mechanisms`` adds each
    pair's mechanism to its title and ``names`` replaces the pair's index. ``source`` (the data
    file) is recorded in the image's metadata with the package version. Written atomically.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from synthetic._atomic import atomic_write_bytes

    n = min(n, len(X))
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.axis("off")
            continue
        pair = np.asarray(X[i], dtype=float)
        if len(pair):
            ax.scatter(pair[:, 0], pair[:, 1], s=3, alpha=0.5, linewidths=0)
        name = str(names[i]) if names is not None else str(i)
        title = f"{name}: {pair_title(y[i], None if kinds is None else kinds[i])}"
        if mechanisms is not None and not (kinds is not None and str(kinds[i]) == "independent"):
            title += f"\n({mechanisms[i]})"  # an independent pair has no mechanism between x and y
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("x (first column)", fontsize=7, labelpad=1)
        ax.set_ylabel("y (second column)", fontsize=7, labelpad=1)
        ax.tick_params(labelsize=7, pad=1)
        ax.xaxis.set_major_locator(MaxNLocator(4))  # a few readable ticks, not a smear
        ax.yaxis.set_major_locator(MaxNLocator(4))
    fig.tight_layout()
    out = Path(out)
    metadata = {"Software": f"ncc {__version__}", "Description": f"pairs from {source}"}
    buf = io.BytesIO()
    fig.savefig(buf, format=out.suffix.lstrip(".").lower() or "png", dpi=100,
                metadata=metadata if out.suffix.lower() == ".png" else None)
    plt.close(fig)
    atomic_write_bytes(out, buf.getvalue())
    return out
