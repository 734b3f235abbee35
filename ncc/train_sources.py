"""Where training pairs come from: generated on the fly (:class:`SyntheticPairs`) or given as arrays
(:class:`ArrayPairs`). See :mod:`ncc.train`."""
from __future__ import annotations

import os
from typing import Optional, Protocol, Sequence, Union

import numpy as np

from ncc.train_config import _STREAM_EPOCH, _STREAM_HELDOUT, _STREAM_SPLIT, _STREAM_TRAIN, derive_seed

# ----------------------------------------------------------------------------------------------
# Data sources.
# ----------------------------------------------------------------------------------------------

Pairs = Union[np.ndarray, Sequence[np.ndarray]]


class PairSource(Protocol):
    def batch(self, member: int, step: int, batch_size: int) -> tuple[Pairs, np.ndarray]: ...

    def heldout(self) -> tuple[Pairs, np.ndarray]: ...

    def describe(self) -> dict: ...


class SyntheticPairs:
    """Fresh synthetic pairs for every step; ``generator`` holds ``synthetic.make_config`` options."""

    def __init__(self, generator: Optional[dict] = None, seed: int = 0, n_heldout: int = 1000) -> None:
        import synthetic

        self.options = dict(generator or {})
        self.config = synthetic.make_config(**self.options)  # validates (ValueError names the option)
        self.seed = int(seed)
        self.n_heldout = int(n_heldout)
        self._heldout = None

    def batch(self, member: int, step: int, batch_size: int) -> tuple[Pairs, np.ndarray]:
        import synthetic

        seed = derive_seed(self.seed, _STREAM_TRAIN, member, step)
        X, y, _ = synthetic.generate(batch_size, self.config, random_state=seed)
        return X, y

    def heldout(self) -> tuple[Pairs, np.ndarray]:
        """The same held-out pairs for every member (a separate seed stream)."""
        import synthetic

        if self._heldout is None:
            if self.n_heldout == 0:
                self._heldout = ([], np.zeros(0, dtype=np.int64))
            else:
                seed = derive_seed(self.seed, _STREAM_HELDOUT)
                X, y, _ = synthetic.generate(self.n_heldout, self.config, random_state=seed)
                self._heldout = (X, y)
        return self._heldout

    def describe(self) -> dict:
        return {"source": "synthetic", "generator": self.config.to_dict(), "n_heldout": self.n_heldout}


class ArrayPairs:
    """Training pairs given as arrays (or read from an ``ncc generate`` file).

    A seeded permutation sets ``n_heldout`` pairs aside; training walks through seeded epoch
    permutations of the rest, so the batch of any step is known without replaying the run.
    """

    def __init__(self, X: Pairs, y, seed: int = 0, n_heldout: int = 0, source: Optional[dict] = None) -> None:
        y = np.asarray(y)
        if len(X) != len(y):
            raise ValueError(f"got {len(X)} pairs but {len(y)} labels")
        if not np.isin(y, (-1, 0, 1)).all():
            raise ValueError("labels must be 1 (x->y), 0 (y->x) or -1 (no causal link)")
        if n_heldout >= len(y):
            raise ValueError(f"n_heldout={n_heldout} leaves no training pairs out of {len(y)}")
        self.X, self.y = X, y.astype(np.int64)
        self.seed = int(seed)
        order = np.random.default_rng(derive_seed(self.seed, _STREAM_SPLIT)).permutation(len(y))
        self.heldout_idx = np.sort(order[:n_heldout])
        self.train_idx = np.sort(order[n_heldout:])
        self.source = dict(source or {"source": "arrays"})
        self._epochs: dict[tuple[int, int], np.ndarray] = {}

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike], seed: int = 0,
                  n_heldout: Optional[int] = None) -> "ArrayPairs":
        """Pairs of an ``ncc generate`` .npz file; ``n_heldout=None``: 10% of them, at most 1000."""
        from synthetic.io import load

        saved = load(path)  # ValueError with the path for a bad file
        if n_heldout is None:
            n_heldout = min(1000, len(saved.y) // 10)
        source = {"source": "file", "path": str(path), "n_pairs": int(len(saved.y)),
                  "generator": saved.config, "generator_seed": saved.random_state,
                  "written_by": saved.version}
        return cls(saved.X, saved.y, seed=seed, n_heldout=n_heldout, source=source)

    def _take(self, idx: np.ndarray) -> tuple[Pairs, np.ndarray]:
        if isinstance(self.X, np.ndarray):
            return self.X[idx], self.y[idx]
        return [self.X[i] for i in idx], self.y[idx]

    def _epoch(self, member: int, epoch: int) -> np.ndarray:
        key = (member, epoch)
        if key not in self._epochs:
            if len(self._epochs) > 4:
                self._epochs.clear()
            rng = np.random.default_rng(derive_seed(self.seed, _STREAM_EPOCH, member, epoch))
            self._epochs[key] = self.train_idx[rng.permutation(len(self.train_idx))]
        return self._epochs[key]

    def batch(self, member: int, step: int, batch_size: int) -> tuple[Pairs, np.ndarray]:
        n = len(self.train_idx)
        positions = np.arange(step * batch_size, (step + 1) * batch_size)
        idx = np.array([self._epoch(member, int(p // n))[p % n] for p in positions])
        return self._take(idx)

    def heldout(self) -> tuple[Pairs, np.ndarray]:
        return self._take(self.heldout_idx)

    def describe(self) -> dict:
        return {**self.source, "n_train": int(len(self.train_idx)), "n_heldout": int(len(self.heldout_idx))}
