"""The network's view: NCC's pooled embedding of each pair, projected to 2-D by PCA.

The view is the antisymmetric part of the pooled embedding: the mean φ embedding of the pair's
points in orientation (x, y) minus that in (y, x) (:meth:`ncc.model.NCC.embed` gives both, the
vectors ψ reads). Only this part can tell the two directions apart (the sum is the same for a pair
and its reverse), so it is what the picture should spread out. For an ensemble the members'
vectors are concatenated. A pair above the model's ``max_points`` is embedded on one seeded
subsample of that size (the first of those :func:`ncc.score_pairs` averages over). Coloured by
the true direction, the projection shows how the network lays causal and anticausal samples apart.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch

__all__ = ["pooled_embeddings", "pca_2d", "plot_embedding", "TRUTH_NAMES"]

#: Labels of the colours: truth 1, truth 0, no link (CEPC target 0), unknown.
TRUTH_NAMES = {1: "x -> y", 0: "y -> x", -1: "no link", None: "unknown"}
_COLOURS = {1: "tab:blue", 0: "tab:orange", -1: "tab:green", None: "0.6"}


@torch.no_grad()
def pooled_embeddings(pairs: Sequence[np.ndarray], model=None, *, random_state: int = 0,
                      batch_size: int = 256) -> np.ndarray:
    """(n_pairs, C · members) mean φ embedding of (x, y) minus that of (y, x), float64."""
    from ncc.api import _as_pairs, resolve_model
    from ncc.data import pad_pairs, size_sorted_chunks, subsample_indices
    from ncc.model import pack, standardize

    net = resolve_model(model)
    arrays = _as_pairs(pairs)
    limit = net.config.max_points
    arrays = [p[subsample_indices(len(p), limit, 1, random_state)[0]] if len(p) > limit else p for p in arrays]
    members = list(net.members)
    width = sum(m.config.embed_dim for m in members)
    out = np.empty((len(arrays), width))
    was_training = net.training
    net.eval()
    try:
        for chunk in size_sorted_chunks([len(p) for p in arrays], batch_size, 1 << 16):
            points, mask = pad_pairs([arrays[i] for i in chunk], torch.float64)
            packed, lengths = pack(points, mask)
            standardised, _ = standardize(packed, lengths, members[0].head.weight.dtype)
            inputs, _ = members[0].prepare(standardised, lengths)
            views = [m.embed(inputs, lengths) for m in members]
            out[chunk] = torch.cat([v[:, 0] - v[:, 1] for v in views], 1).double().numpy()
    finally:
        net.train(was_training)
    return out


def pca_2d(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First two principal components of the rows (centred) and their explained-variance shares.

    Each component's sign is fixed (its largest loading positive), so the picture is the same
    from run to run.
    """
    e = np.asarray(embeddings, dtype=float)
    if e.ndim != 2 or len(e) < 2:
        raise ValueError(f"need at least 2 embeddings for a 2-D projection, got {len(e)}")
    centred = e - e.mean(0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    coords = centred @ components.T
    if coords.shape[1] < 2:  # a single embedding dimension: the second axis is flat
        coords = np.c_[coords, np.zeros(len(coords))]
    total = float((singular ** 2).sum())
    share = (singular[:2] ** 2) / total if total > 0 else np.zeros(2)
    return coords, np.pad(share, (0, 2 - len(share)))


def plot_embedding(coords: np.ndarray, truths: Sequence[Optional[int]], path: Union[str, os.PathLike], *,
                   explained: Optional[np.ndarray] = None, title: str = "") -> Path:
    """Scatter of the projection, one colour per true direction; written atomically (PNG)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    from ncc.serialization import _atomic_write

    path = Path(path)
    fig, ax = plt.subplots(figsize=(5.5, 4.6), constrained_layout=True)
    truths = list(truths)
    for key in (1, 0, -1, None):
        idx = [i for i, t in enumerate(truths) if t == key]
        if idx:
            ax.scatter(coords[idx, 0], coords[idx, 1], s=14, alpha=0.75, color=_COLOURS[key],
                       label=f"{TRUTH_NAMES[key]} ({len(idx)})", linewidths=0)
    share = explained if explained is not None else (np.nan, np.nan)
    ax.set_xlabel(f"PC 1 ({100 * share[0]:.0f}% of variance)")
    ax.set_ylabel(f"PC 2 ({100 * share[1]:.0f}% of variance)")
    ax.set_title(title or "NCC pooled embedding (PCA)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, title="true direction", title_fontsize=8)
    try:
        _atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    finally:
        plt.close(fig)
    return path
