"""Batching of variable-size pairs: validation, padding, size-sorted chunks and subsampling.

Everything here is plain numpy/torch bookkeeping shared by the trainer and the scoring API.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

from synthetic.pairs import as_pair_array, as_pair_list  # the one pair validator (re-exported)

__all__ = [
    "as_pair_array",
    "as_pair_list",
    "pad_pairs",
    "size_sorted_chunks",
    "subsample_indices",
]


def pad_pairs(pairs: Sequence[np.ndarray], dtype: torch.dtype = torch.float64,
              device: Optional[torch.device | str] = None) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Stack (n_i, 2) arrays into padded points (B, N, 2) and a mask (B, N).

    The mask is None when every pair has the same size (the common, fastest case).
    Padding values are zeros; the model never reads them.
    """
    sizes = [len(p) for p in pairs]
    n_max = max(sizes)
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    if min(sizes) == n_max:
        points = np.stack(pairs).astype(np_dtype, copy=False)
        return torch.from_numpy(points).to(device), None
    points = np.zeros((len(pairs), n_max, 2), dtype=np_dtype)
    mask = np.zeros((len(pairs), n_max), dtype=bool)
    for i, pair in enumerate(pairs):
        points[i, :len(pair)] = pair
        mask[i, :len(pair)] = True
    return torch.from_numpy(points).to(device), torch.from_numpy(mask).to(device)


def size_sorted_chunks(sizes: Sequence[int], max_pairs: int, max_padded_points: int) -> list[np.ndarray]:
    """Group pair indices into chunks of similar size, to limit padding.

    Pairs are sorted by size (stable, so the result depends on sizes only); a chunk holds at most
    ``max_pairs`` pairs and at most ``max_padded_points`` points once padded (but always at least
    one pair).
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    order = np.argsort(sizes, kind="stable")
    chunks, start = [], 0
    for end in range(1, len(order) + 1):
        # Ascending order: the next pair would be the largest of the chunk, so it sets the padding.
        grows = end < len(order) and end - start < max_pairs \
            and (end - start + 1) * sizes[order[end]] <= max_padded_points
        if not grows:
            chunks.append(order[start:end])
            start = end
    return chunks


def subsample_indices(n_points: int, max_points: int, n_subsamples: int,
                      random_state: int) -> list[np.ndarray]:
    """``n_subsamples`` random subsets of ``max_points`` distinct indices of a pair of ``n_points``.

    Seeded by ``(random_state, n_points)`` only, so a pair gets the same subsamples whether it is
    scored alone or in a batch, and a pair and its reversal get the same ones.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(random_state) & 0xFFFFFFFF, int(n_points)]))
    return [np.sort(rng.choice(n_points, size=max_points, replace=False)) for _ in range(n_subsamples)]

