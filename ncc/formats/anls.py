"""AN/LS folders of Tagasovska et al.: ``pair_N.txt`` (CSV, header, index column) and an optional
``pairs_gt.txt`` (line N = truth of pair_N)."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from ncc.formats.records import FormatError, PairRecord
from ncc.formats.sniff import _load_table, _numbered_files, _read_text, _record_from_table, _to_float
from ncc.formats.writing import _as_pair, _atomic_write, _fmt

__all__ = ["read_anls", "write_anls"]

_ANLS_RE = re.compile(r"^pair_(\d+)\.txt$", re.IGNORECASE)


def read_anls(folder: str | os.PathLike, *, with_truth: bool = False) -> list[PairRecord]:
    """Read ``pair_N.txt`` CSVs (header + index column) and, if asked, ``pairs_gt.txt``."""
    root = Path(folder)
    files = _numbered_files(root, _ANLS_RE)
    truths: list[int | None] = []
    gt_path = root / "pairs_gt.txt"
    if with_truth and gt_path.is_file():
        for i, line in enumerate(_read_text(gt_path).splitlines(), 1):
            s = line.strip()
            if not s:
                truths.append(None)
                continue
            try:
                v = _to_float(s.split()[0])
            except ValueError:
                raise FormatError(f"{gt_path}: line {i}: {s[:30]!r} is not 0 or 1") from None
            if v not in (0.0, 1.0):  # exact: 0.6 is not a direction
                raise FormatError(f"{gt_path}: line {i}: truth must be 0 or 1, got {s.split()[0][:30]!r}")
            truths.append(int(v))
    records = []
    for number, path in files:
        rec = _record_from_table(path.stem, path, *_load_table(path, index_column=True))
        if with_truth and 1 <= number <= len(truths):
            rec.truth = truths[number - 1]
        records.append(rec)
    return records


def write_anls(folder: str | os.PathLike, pairs: Sequence[np.ndarray],
               truths: Sequence[int] | None = None) -> list[str]:
    """Write ``pair_1.txt`` ... in the AN/LS layout and (when truths are given) ``pairs_gt.txt``."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    ids = []
    for i, pair in enumerate(pairs, 1):
        arr = _as_pair(pair)
        lines = ['"","x_pa","x_child"\n'] + [f'"{j}",{_fmt(a)},{_fmt(b)}\n' for j, (a, b) in enumerate(arr, 1)]
        _atomic_write(root / f"pair_{i}.txt", "".join(lines))
        ids.append(f"pair_{i}")
    if truths is not None:
        if len(truths) != len(pairs):
            raise ValueError("one truth per pair is needed")
        _atomic_write(root / "pairs_gt.txt", "".join(f"{int(t)}\n" for t in truths))
    return ids
