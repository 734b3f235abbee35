"""A grid of scatter plots of pairs, each titled with its true direction."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

DIRECTION_TITLES = {1: "x → y", 0: "y → x", -1: "no link"}


def plot_pair_grid(X, y, out, *, n: int = 16, mechanisms=None, source: str = "") -> Path:
    """Draw the first ``n`` pairs (column 0 on the horizontal axis) into ``out`` (PNG...).

    ``mechanisms``, if given, adds each pair's mechanism name to its title; ``source``
    (the data file) is recorded in the image's metadata with the package version.
    """
    from ncc._version import __version__

    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    n = min(n, len(X))
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.4 * rows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.axis("off")
            continue
        pair = np.asarray(X[i])
        ax.scatter(pair[:, 0], pair[:, 1], s=2, alpha=0.4, linewidths=0)
        title = f"{i}: {DIRECTION_TITLES.get(int(y[i]), str(y[i]))}"
        if mechanisms is not None:
            title += f" ({mechanisms[i]})"
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"Software": f"ncc {__version__}", "Description": f"pairs from {source}"}
    fig.savefig(out, dpi=100, metadata=metadata if out.suffix.lower() == ".png" else None)
    plt.close(fig)
    return out
