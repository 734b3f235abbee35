"""How a batch of pairs is laid out in memory, so mechanisms can be written once.

A mechanism sees one variable of a whole batch of pairs as a single numpy array and
never loops over pairs.  Two layouts share one interface:

* :class:`DenseLayout` - every pair has the same number of points; the array has
  shape ``(n_pairs, n_points)`` and per-pair parameters broadcast as ``(n_pairs, 1)``.
* :class:`RaggedLayout` - pairs have different sizes; their points are concatenated
  into one flat array and per-pair parameters are gathered by segment id.

All reductions are numpy's own single-threaded loops (no BLAS), so results never depend
on the number of threads.  Variables are float32 (the output dtype): it halves memory
traffic, which is what bounds the speed; per-pair parameters are cast to float32 by
``expand`` so that numpy never silently promotes a batch back to float64.
"""
from __future__ import annotations

import numpy as np

DTYPE = np.float32


def _as_param(values) -> np.ndarray:
    v = np.asarray(values)
    return v.astype(DTYPE, copy=False) if v.dtype.kind == "f" else v


class DenseLayout:
    """``n_pairs`` pairs of ``n_points`` points each, as a ``(n_pairs, n_points)`` array."""

    def __init__(self, n_pairs: int, n_points: int):
        self.n_pairs = int(n_pairs)
        self.n_points = int(n_points)
        self.shape = (self.n_pairs, self.n_points)
        self.sizes = np.full(self.n_pairs, self.n_points, dtype=np.int64)

    def expand(self, values: np.ndarray) -> np.ndarray:
        """Per-pair values (n_pairs, ...) -> broadcastable against a variable."""
        return _as_param(values)[:, None]

    def pair_ids(self) -> np.ndarray:
        """Index of the pair of every point, broadcastable against a variable."""
        return np.arange(self.n_pairs)[:, None]

    def mean(self, a: np.ndarray) -> np.ndarray:
        return a.mean(axis=1)

    def min(self, a: np.ndarray) -> np.ndarray:
        return a.min(axis=1)

    def max(self, a: np.ndarray) -> np.ndarray:
        return a.max(axis=1)

    def subset(self, rows: np.ndarray) -> "DenseLayout":
        """Layout of the pairs ``rows`` (sorted ascending), in that order."""
        return DenseLayout(len(rows), self.n_points)

    def take(self, a: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return a[rows]

    def put(self, out: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
        out[rows] = values

    def shuffle_within(self, a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Permute the points of every pair independently (breaks any dependence)."""
        order = rng.random(self.shape).argsort(axis=1, kind="stable")
        return np.take_along_axis(a, order, axis=1)

    def split(self, a: np.ndarray) -> np.ndarray:
        """Per-pair view of a (n_pairs, n_points, ...) array: already split."""
        return a


class RaggedLayout:
    """Pairs of sizes ``sizes``, their points concatenated into one flat array."""

    def __init__(self, sizes):
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.n_pairs = len(self.sizes)
        ends = np.cumsum(self.sizes)
        self.starts = ends - self.sizes
        self.shape = (int(ends[-1]) if self.n_pairs else 0,)
        self.segment = np.repeat(np.arange(self.n_pairs), self.sizes)

    def expand(self, values: np.ndarray) -> np.ndarray:
        return _as_param(values)[self.segment]

    def pair_ids(self) -> np.ndarray:
        return self.segment

    def mean(self, a: np.ndarray) -> np.ndarray:
        return np.add.reduceat(a, self.starts) / self.sizes

    def min(self, a: np.ndarray) -> np.ndarray:
        return np.minimum.reduceat(a, self.starts)

    def max(self, a: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(a, self.starts)

    def subset(self, rows: np.ndarray) -> "RaggedLayout":
        return RaggedLayout(self.sizes[rows])

    def _point_mask(self, rows: np.ndarray) -> np.ndarray:
        chosen = np.zeros(self.n_pairs, dtype=bool)
        chosen[rows] = True
        return chosen[self.segment]

    def take(self, a: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return a[self._point_mask(rows)]

    def put(self, out: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
        out[self._point_mask(rows)] = values

    def shuffle_within(self, a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        # Sorting by (segment + U[0,1)) keeps every point inside its own pair.
        order = (self.segment + rng.random(self.shape)).argsort(kind="stable")
        return a[order]

    def split(self, a: np.ndarray) -> list:
        """List of per-pair arrays from a flat (total, ...) array."""
        return np.split(a, self.starts[1:])


Layout = DenseLayout | RaggedLayout


def std(layout: Layout, a: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """Per-pair population standard deviation."""
    if mean is None:
        mean = layout.mean(a)
    centred = a - layout.expand(mean)
    return np.sqrt(layout.mean(centred * centred))


def standardise(layout: Layout, a: np.ndarray) -> np.ndarray:
    """Per-pair mean 0 and standard deviation 1; a constant pair becomes all zeros."""
    mean = layout.mean(a)
    centred = a - layout.expand(mean)
    with np.errstate(over="ignore"):
        sd = np.sqrt(layout.mean(centred * centred))
    if not np.isfinite(sd).all():  # float32 squares overflow past 1.8e19 (heavy-tailed effects)
        wide = centred.astype(np.float64)
        sd = np.sqrt(layout.mean(wide * wide)).astype(a.dtype)
    # A (numerically, at float32 precision) constant variable has nothing to scale:
    # leave it centred at 0 rather than blow rounding errors up to unit variance.
    sd = np.where(sd > 1e-6 * (1.0 + np.abs(mean)), sd, np.inf)
    return centred / layout.expand(sd)


def groups(codes: np.ndarray, n_codes: int):
    """Yield ``(code, rows)`` for every code present, in code order (deterministic)."""
    for code in range(n_codes):
        rows = np.flatnonzero(codes == code)
        if len(rows):
            yield code, rows


def fill_by_group(layout: Layout, codes: np.ndarray, n_codes: int, make, out=None):
    """Build a variable by calling ``make(code, rows, sub_layout)`` once per group of pairs."""
    if len(codes) and (codes == codes[0]).all():  # one group: no gather/scatter copies
        return make(int(codes[0]), np.arange(len(codes)), layout)
    if out is None:
        out = np.empty(layout.shape, dtype=DTYPE)
    for code, rows in groups(codes, n_codes):
        layout.put(out, rows, make(code, rows, layout.subset(rows)))
    return out
