"""The Python API: score pairs with an NCC model, load and save models.

    >>> import ncc
    >>> ncc.causal_score(x, y)                 # P(x -> y) with the shipped model
    >>> ncc.score_pairs([pair1, pair2, ...])   # many (n_i, 2) arrays, batched
    >>> model = ncc.load("my-model.safetensors"); ncc.score_pairs(pairs, model)
    >>> ncc.predict_relation(x, y)             # {"x->y": p, "y->x": q, "none": r}, summing to 1
    >>> ncc.link_scores(pairs)                 # P(no causal link) per pair, symmetric in x, y

``model`` is everywhere ``None`` (the shipped default model), a path to a model file, or a model
object (:class:`~ncc.model.NCC` / :class:`~ncc.model.NCCEnsemble`).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch

from ncc.data import as_pair_array, as_pair_list, pad_pairs, size_sorted_chunks, subsample_indices
from ncc.model import NCC, NCCEnsemble
from ncc.serialization import ModelFileError, load_link_model, load_model, save_model
from ncc.weights import LinkWeights, Weights

__all__ = ["causal_score", "score_pairs", "load", "save", "resolve_model", "ModelFileError",
           "MAX_PADDED_POINTS", "link_scores", "predict_relation",
           "predict_relations", "resolve_link_model", "RELATIONS"]

#: Column order of :func:`predict_relations` and the keys of :func:`predict_relation`.
RELATIONS = ("x->y", "y->x", "none")

Model = Union[NCC, NCCEnsemble]
ModelLike = Union[None, str, os.PathLike, NCC, NCCEnsemble]

#: Points (after padding) per scoring chunk: bounds memory (float64 input, 16 bytes a point) and
#: sets the grain of the work shared between threads.
MAX_PADDED_POINTS = 1 << 16


def load(path: Union[None, str, os.PathLike] = None, device: Union[str, torch.device] = "cpu") -> Model:
    """Load a model file (safetensors; never pickle). ``None``: the shipped default model.

    Raises :class:`ncc.serialization.ModelFileError` (a ValueError) naming the path when the file
    is missing, corrupt or carries a pickle payload.
    """
    return load_model(Weights.DEFAULT.path if path is None else path, device=device)


def save(model: Model, path: Union[str, os.PathLike], metadata: Optional[dict] = None) -> Path:
    """Save a model as safetensors (+ ``metadata`` as a JSON sidecar ``PATH.json``)."""
    return save_model(model, path, metadata)


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int, size: int) -> Model:
    return load_model(path)


def resolve_model(model: ModelLike = None) -> Model:
    """A model object for ``model``: None → the shipped model, a path → that file (both cached
    until the file changes), a model object → itself."""
    if isinstance(model, (NCC, NCCEnsemble)):
        return model
    if not isinstance(model, (str, os.PathLike, type(None))):
        raise TypeError(f"model must be None, a path or an NCC model, got {type(model).__name__}")
    return _cached_file(Weights.DEFAULT.path if model is None else model, _load_cached, load_model)


def _cached_file(path_like, cached, load):
    """``cached(path, mtime, size)``, so a file is read again once it changes; a path that cannot
    be examined goes to ``load``, which raises the ModelFileError that names the problem."""
    path = Path(path_like)
    try:
        stat = path.stat()
    except OSError:
        return load(path)
    return cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load_link_cached(path: str, mtime_ns: int, size: int):
    return load_link_model(path)


def resolve_link_model(link_model=None):
    """A :class:`~ncc.link.LinkModel` for ``link_model``: None → the shipped link model
    (``ncc/pretrained/ncc-link.safetensors``), a path → that file (cached), a model → itself."""
    from ncc.link import LinkModel

    if isinstance(link_model, LinkModel):
        return link_model
    if not isinstance(link_model, (str, os.PathLike, type(None))):
        raise TypeError(f"link_model must be None, a path or a LinkModel, got {type(link_model).__name__}")
    return _cached_file(LinkWeights.DEFAULT.path if link_model is None else link_model, _load_link_cached,
                        load_link_model)


def _as_pairs(pairs) -> list[np.ndarray]:
    """Validate every pair (errors name ``pairs[i]``); a 3-D array is checked in one go."""
    return list(as_pair_list(pairs, "pairs"))


def score_pairs(
    pairs: Union[Sequence[np.ndarray], np.ndarray],
    model: ModelLike = None,
    *,
    batch_size: int = 512,
    max_points: Optional[int] = None,
    n_subsamples: Optional[int] = None,
    random_state: int = 0,
    return_constant: bool = False,
    n_threads: Optional[int] = None,
):
    """Score many pairs: the probability that column 0 causes column 1, for each pair.

    Parameters
    ----------
    pairs : sequence of (n_i, 2) arrays (any sizes), or one (n_pairs, n_points, 2) array.
        Finite numbers only: NaN/inf, wrong shapes or fewer than 2 points raise ValueError naming
        the pair (clean data first; ``ncc score`` does it for files).
    model : None (shipped model), a model file path, or a loaded model.
    batch_size : pairs per forward pass. Pairs are sorted by size first, to limit padding; the
        result does not depend on the batching (equal to scoring one by one, to ~1e-6).
    max_points : pairs with more points are scored as the mean over ``n_subsamples`` random
        subsamples of ``max_points`` points. Default: the model's (``NCCConfig.max_points``, 5000).
    n_subsamples : default: the model's (``NCCConfig.n_subsamples``, 8).
    random_state : int seeding the subsamples (with the pair's size, so a pair gets the same
        subsamples alone or in a batch, and so does its reversal).
    return_constant : also return a boolean array, True where a variable is constant (score 0.5).
    n_threads : CPU threads (default: ``torch.get_num_threads()``). Each thread scores whole chunks
        with single-threaded kernels: no barrier per operation, so a busy machine does not stall
        the others (on 2 shared cores this was up to 20x faster than torch's own threading).
        torch's thread setting is set to 1 during the call and restored after.

    Returns
    -------
    scores : float64 array (n_pairs,), in [0, 1]; ``score(y, x) = 1 - score(x, y)``.
    """
    return _batched_scores(resolve_model(model), pairs, batch_size=batch_size, max_points=max_points,
                           n_subsamples=n_subsamples, random_state=random_state,
                           return_constant=return_constant, n_threads=n_threads)


def _batched_scores(net, pairs, *, batch_size, max_points, n_subsamples, random_state, return_constant,
                    n_threads):
    """``net.score`` of every pair (a direction model or a link model: both share the batching,
    the subsampling of large pairs and the threads)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    max_points = net.config.max_points if max_points is None else int(max_points)
    n_subsamples = net.config.n_subsamples if n_subsamples is None else int(n_subsamples)
    if max_points < 2 or n_subsamples < 1:
        raise ValueError(f"need max_points >= 2 and n_subsamples >= 1, got {max_points}, {n_subsamples}")
    arrays = _as_pairs(pairs)
    n_pairs = len(arrays)
    if n_pairs == 0:
        empty = np.zeros(0, dtype=np.float64)
        return (empty, np.zeros(0, dtype=bool)) if return_constant else empty

    # One scoring item per pair, or n_subsamples items for a pair above max_points.
    items, owner = [], []
    constant = np.zeros(n_pairs, dtype=bool)
    whole = np.ones(n_pairs, dtype=bool)  # pairs scored in one piece
    for i, pair in enumerate(arrays):
        if len(pair) > max_points:
            whole[i] = False
            constant[i] = bool((pair.max(0) == pair.min(0)).any())
            for idx in subsample_indices(len(pair), max_points, n_subsamples, random_state):
                items.append(pair[idx])
                owner.append(i)
        else:
            items.append(pair)
            owner.append(i)
    owner = np.asarray(owner)

    device = next(net.parameters()).device
    chunks = size_sorted_chunks([len(p) for p in items], batch_size, MAX_PADDED_POINTS)
    item_scores = np.empty(len(items), dtype=np.float64)
    item_constant = np.empty(len(items), dtype=bool)

    def run(chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():  # thread-local: entered in every worker
            points, mask = pad_pairs([items[j] for j in chunk], torch.float64, device)
            scores, flags = net.score(points, mask)
            return scores.cpu().numpy(), flags.cpu().numpy()

    threads = torch.get_num_threads() if n_threads is None else int(n_threads)
    if threads < 1:
        raise ValueError(f"n_threads must be >= 1, got {threads}")
    threads = min(threads, len(chunks)) if device.type == "cpu" else 1
    pool = None
    was_training, previous = net.training, torch.get_num_threads()
    net.eval()
    try:
        if device.type == "cpu":
            torch.set_num_threads(1)  # worker threads pick this up on their first torch call
            if threads > 1:
                pool = ThreadPoolExecutor(threads)
        results = pool.map(run, chunks) if pool is not None else map(run, chunks)
        for chunk, (scores, flags) in zip(chunks, results):
            item_scores[chunk], item_constant[chunk] = scores, flags
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        torch.set_num_threads(previous)
        net.train(was_training)

    totals = np.bincount(owner, weights=item_scores, minlength=n_pairs)
    counts = np.bincount(owner, minlength=n_pairs)
    result = totals / counts
    flagged = np.bincount(owner, weights=item_constant, minlength=n_pairs) > 0
    constant[whole] = flagged[whole]  # (subsampled pairs were checked whole, above)
    return (result, constant) if return_constant else result


def link_scores(pairs: Union[Sequence[np.ndarray], np.ndarray], link_model=None, *, batch_size: int = 512,
                max_points: Optional[int] = None, n_subsamples: Optional[int] = None, random_state: int = 0,
                return_constant: bool = False, n_threads: Optional[int] = None):  # score_pairs' options
    """P(no causal link between the two columns), for each pair; symmetric: swapping the
    columns gives the same value. Same inputs, options and errors as :func:`score_pairs`;
    ``link_model``: None (the shipped link model), a link model file, or a loaded
    :class:`~ncc.link.LinkModel`. A constant variable gives 0.5 (flagged)."""
    return _batched_scores(resolve_link_model(link_model), pairs, batch_size=batch_size, max_points=max_points,
                           n_subsamples=n_subsamples, random_state=random_state,
                           return_constant=return_constant, n_threads=n_threads)


def predict_relations(pairs, model: ModelLike = None, link_model=None, **kwargs) -> np.ndarray:
    """(n_pairs, 3) probabilities of [x → y, y → x, no link] (:data:`RELATIONS`), rows summing to 1.

    With s = P(x → y | a link) from the direction model (:func:`score_pairs`) and r = P(no link)
    from the link model (:func:`link_scores`): [(1 − r) s, (1 − r)(1 − s), r]. Swapping the columns
    swaps the first two and keeps the third. ``kwargs`` go to both scorers.
    """
    arrays = _as_pairs(pairs)  # validated once; errors name the pair
    s = score_pairs(arrays, model, **kwargs)
    r = link_scores(arrays, link_model, **kwargs)
    return np.column_stack([(1.0 - r) * s, (1.0 - r) * (1.0 - s), r]) if len(arrays) else np.zeros((0, 3))


def predict_relation(x, y, model: ModelLike = None, link_model=None, **kwargs) -> dict:
    """``{"x->y": p, "y->x": q, "none": r}`` for one pair (summing to 1): three answers to
    "does x cause y, does y cause x, or neither?". Same inputs as :func:`causal_score`; see
    :func:`predict_relations`."""
    row = predict_relations([_one_pair(x, y)], model, link_model, **kwargs)[0]
    return {name: float(v) for name, v in zip(RELATIONS, row)}


def _as_vector(v, name: str) -> np.ndarray:
    """numpy array of a 1-D sample given as a sequence, numpy array, pandas Series or torch tensor."""
    if isinstance(v, torch.Tensor):
        v = v.detach().cpu()
        return (v.to(torch.float64) if v.is_floating_point() else v).numpy()  # bfloat16 has no numpy dtype
    to_numpy = getattr(v, "to_numpy", None)  # pandas Series (also nullable dtypes: NA -> NaN)
    if callable(to_numpy):
        try:
            return np.asarray(to_numpy(dtype=float, na_value=np.nan))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric ({' '.join(str(exc).split())})") from None
    return np.asarray(v)


def _one_pair(x, y) -> np.ndarray:
    """The (n, 2) pair of two 1-D samples: sequences, numpy arrays, pandas Series (paired by
    position, not index) or torch tensors (any device and dtype; gradients are not tracked)."""
    x = _as_vector(x, "x")
    y = _as_vector(y, "y")
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(f"x and y must be 1-D, got shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    try:
        pair = np.column_stack([x, y])
    except Exception as exc:
        raise ValueError(f"x and y must be numeric ({exc})") from None
    return as_pair_array(pair, "(x, y)")


def causal_score(x, y, model: ModelLike = None, **kwargs) -> float:
    """P(x → y) for one pair of 1-D samples of equal length (see :func:`score_pairs`).

    ``x`` and ``y`` may be sequences, numpy arrays, pandas Series (their index is ignored: values
    pair up by position) or torch tensors (any device and dtype; gradients are not tracked)."""
    return float(score_pairs([_one_pair(x, y)], model, **kwargs)[0])
