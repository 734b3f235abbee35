"""``OUTPUT.png`` of ``ncc train``: training loss and held-out accuracy against steps.

Drawn from the metadata's ``history`` (one entry per held-out evaluation, each with the smoothed
training loss), so a resumed run draws its whole history, and the figure matches the numbers
stored beside the model. matplotlib with the Agg backend; written atomically.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence, Union

__all__ = ["plot_history"]


def plot_history(history: Sequence[dict], path: Union[str, os.PathLike], title: str = "") -> Path:
    """Two panels (loss, held-out accuracy [and link AUC]), one line per ensemble member."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    from ncc.serialization import _atomic_write

    path = Path(path)
    members = sorted({int(h.get("member", 0)) for h in history})
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    for member in members:
        rows = [h for h in history if int(h.get("member", 0)) == member]
        steps = [h["step"] for h in rows]
        label = f"member {member + 1}" if len(members) > 1 else None
        line, = ax_loss.plot(steps, [h["train_loss"] for h in rows], marker="o", ms=3,
                             label=f"{label + ' ' if label else ''}train")
        held = [(h["step"], h["heldout_loss"]) for h in rows if h.get("heldout_loss") is not None]
        if held:
            ax_loss.plot(*zip(*held), ls="--", color=line.get_color(), label=f"{label + ' ' if label else ''}held-out")
        acc = [(h["step"], h["heldout_accuracy"]) for h in rows if h.get("heldout_accuracy") is not None]
        if acc:
            ax_acc.plot(*zip(*acc), marker="o", ms=3, color=line.get_color(),
                        label=f"{label + ' ' if label else ''}accuracy")
        auc = [(h["step"], h["heldout_auc"]) for h in rows if h.get("heldout_auc") is not None]
        if auc:
            ax_acc.plot(*zip(*auc), ls="--", marker="s", ms=3, color=line.get_color(),
                        label=f"{label + ' ' if label else ''}link AUC")
    ax_loss.set(xlabel="step", ylabel="loss (train: smoothed)", title="loss")
    ax_acc.set(xlabel="step", ylabel="held-out", title="held-out synthetic pairs", ylim=(0.4, 1.0))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    if not history:
        ax_acc.text(0.5, 0.5, "no evaluation logged", ha="center", va="center", transform=ax_acc.transAxes)
    if title:
        fig.suptitle(title, fontsize=10)
    try:
        _atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    finally:
        plt.close(fig)
    return path
