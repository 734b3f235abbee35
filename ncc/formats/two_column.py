"""One text/CSV file holding one pair: whitespace, comma, semicolon or tab separated, optional header."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ncc.formats.records import FormatError, PairRecord
from ncc.formats.sniff import _load_table, _record_from_table
from ncc.formats.writing import _as_pair, _atomic_write, _fmt

__all__ = ["read_two_column", "write_two_column"]


def read_two_column(path: str | os.PathLike) -> list[PairRecord]:
    """One file, one pair (separator sniffed, optional header, optional index column)."""
    p = Path(path)
    if not p.is_file():
        raise FormatError(f"file not found: {p}")
    return [_record_from_table(p.stem, p, *_load_table(p))]


def write_two_column(path: str | os.PathLike, pair: np.ndarray, header: Sequence[str] | None = None) -> None:
    arr = _as_pair(pair)
    head = "" if header is None else ",".join(header) + "\n"
    _atomic_write(Path(path), head + "".join(f"{_fmt(a)},{_fmt(b)}\n" for a, b in arr))
