"""The one writer of each text layout that both the generator and ncc write: CEPC CSV and Tübingen folders.

``ncc generate`` (via :mod:`synthetic.io`) and :mod:`ncc.formats` call these same functions; only the
number formatting differs by caller: the generator writes float32 values with ``%.9g`` (enough to read
back the identical float32), ncc's writers use the shortest lossless float64 text. Files are written
atomically (:mod:`synthetic._atomic`).
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from synthetic._atomic import atomic_write_text
from synthetic.pairs import as_pair_array

Formatter = Callable[[float], str]


def lossless(value: float) -> str:
    """Shortest text that reads back to the same float64."""
    return repr(float(value))


def _as_pair(pair) -> np.ndarray:
    return as_pair_array(pair, "pair", min_points=0, finite=False)  # a writer keeps NaN as "nan"


def _csv_text(rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def write_cepc(pairs_csv: str | os.PathLike, pair_ids: Sequence[str], pairs: Sequence[np.ndarray],
               targets_csv: str | os.PathLike | None = None, targets: Sequence[int] | None = None, *,
               truths: Sequence[int | None] | None = None, value_format: Formatter = lossless) -> None:
    """Write pairs (each ``(n, 2)``) as CEPC CSV (``SampleID,A,B``; A and B space-separated), and
    optionally the targets CSV (``SampleID,Target``).

    ``targets`` are CEPC values (+1: A->B, -1: B->A, 0: no link); alternatively pass ``truths``
    (1: first column causes second, 0: reverse, None: unknown/no link).
    """
    if len(pair_ids) != len(pairs):
        raise ValueError("pair_ids and pairs must have the same length")
    if targets is not None and truths is not None:
        raise ValueError("give targets or truths, not both")
    if truths is not None:
        targets = [0 if t is None else (1 if int(t) == 1 else -1) for t in truths]
    if targets is not None or targets_csv is not None:
        if targets is None or targets_csv is None:
            raise ValueError("targets_csv and targets (or truths) go together")
        if len(targets) != len(pair_ids):
            raise ValueError("one target per pair is needed")
        bad = [t for t in targets if int(t) not in (-1, 0, 1)]
        if bad:
            raise ValueError(f"CEPC targets are +1, -1 or 0, got {bad[0]!r}")

    def join(values) -> str:
        return " ".join([value_format(v) for v in values.tolist()])

    rows = [["SampleID", "A", "B"]]
    for pid, pair in zip(pair_ids, pairs):
        arr = _as_pair(pair)
        rows.append([pid, join(arr[:, 0]), join(arr[:, 1])])
    atomic_write_text(Path(pairs_csv), _csv_text(rows))
    if targets is not None:
        atomic_write_text(Path(targets_csv), _csv_text([["SampleID", "Target"],
                                                        *([pid, int(t)] for pid, t in zip(pair_ids, targets))]))


def write_tuebingen(folder: str | os.PathLike, pairs: Sequence[np.ndarray], truths: Sequence[int] | None = None,
                    weights: Sequence[float] | None = None, *, number_width: int = 4,
                    value_format: Formatter = lossless, weight_format: Formatter = lossless) -> list[str]:
    """Write ``pair0001.txt`` ... (two space-separated columns) and, when truths are given,
    ``pairmeta.txt``; returns the pair ids. Numbers are zero-padded to ``number_width`` digits.

    Truth 1 (column 1 causes column 2) -> meta ``0001 1 1 2 2 w``; truth 0 -> ``0001 2 2 1 1 w``.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    if truths is not None and len(truths) != len(pairs):
        raise ValueError("one truth per pair is needed")
    if weights is not None and len(weights) != len(pairs):
        raise ValueError("one weight per pair is needed")
    ids, meta_lines = [], []
    for i, pair in enumerate(pairs, 1):
        number = f"{i:0{number_width}d}"
        body = "".join(f"{value_format(a)} {value_format(b)}\n" for a, b in _as_pair(pair).tolist())
        atomic_write_text(root / f"pair{number}.txt", body)
        ids.append(f"pair{number}")
        if truths is not None:
            cols = "1 1 2 2" if int(truths[i - 1]) == 1 else "2 2 1 1"
            w = 1.0 if weights is None else float(weights[i - 1])
            meta_lines.append(f"{number} {cols} {weight_format(w)}\n")
    if truths is not None:
        atomic_write_text(root / "pairmeta.txt", "".join(meta_lines))
    return ids
