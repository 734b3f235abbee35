"""The project's one pair validator (numpy only, so the generator's writers and ncc's scorers share it).

A pair is an ``(n, 2)`` array of numbers, column 0 the first variable. Errors are ValueErrors that
start with the caller's ``name`` for the pair (``pairs[3]``, ``X[2]``), so one bad pair of many is named.
"""
from __future__ import annotations

import numpy as np

__all__ = ["as_pair_array", "as_pair_list"]


def as_pair_array(pair, name: str = "pair", *, min_points: int = 2, finite: bool = True,
                  dtype=np.float64) -> np.ndarray:
    """Check that ``pair`` is an (n, 2) array of numbers (finite unless ``finite=False``).

    Returns it as ``dtype`` (float64 by default; ``None`` keeps the array's own, so a float32 set
    of pairs being saved is never copied).
    """
    try:
        array = np.asarray(pair)
    except Exception as exc:  # ragged nested lists and the like
        raise ValueError(f"{name}: cannot be read as an (n, 2) array ({exc})") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{name}: expected numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError(f"{name}: complex values are not supported")
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{name}: expected an (n, 2) array, got shape {array.shape}")
    if array.shape[0] < min_points:
        raise ValueError(f"{name}: needs at least {min_points} points, got {array.shape[0]}")
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    if finite and not np.isfinite(array).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return array


def as_pair_list(pairs, name: str = "pairs", *, min_points: int = 2, finite: bool = True,
                 dtype=np.float64) -> np.ndarray | list[np.ndarray]:
    """Check many pairs: an ``(n_pairs, n_points, 2)`` array (checked in one go and returned as an
    array) or a sequence of ``(n_i, 2)`` arrays (returned as a list; errors name ``name[i]``)."""
    if isinstance(pairs, np.ndarray) and pairs.dtype != object:
        if pairs.ndim == 3:
            if pairs.shape[-1] != 2:
                raise ValueError(f"{name}: expected an array of shape (n_pairs, n_points, 2), got {pairs.shape}")
            if pairs.shape[1] < min_points:
                raise ValueError(f"{name}: each pair needs at least {min_points} points, got {pairs.shape[1]}")
            flat = as_pair_array(pairs.reshape(-1, 2), name, min_points=0, finite=finite, dtype=dtype)
            return flat.reshape(pairs.shape)
        if pairs.ndim == 2:
            raise ValueError(f"{name}: got one 2-D array of shape {pairs.shape}; pass a list of pairs "
                             "(or use causal_score)")
        raise ValueError(f"{name}: got a {pairs.ndim}-D array of shape {pairs.shape}; pass a list of (n, 2) arrays "
                         "(or causal_score(x, y) for one pair)")
    if isinstance(pairs, (str, bytes)) or not hasattr(pairs, "__len__"):
        raise ValueError(f"{name}: expected a sequence of (n, 2) arrays, got {type(pairs).__name__}")
    return [as_pair_array(p, f"{name}[{i}]", min_points=min_points, finite=finite, dtype=dtype)
            for i, p in enumerate(pairs)]
