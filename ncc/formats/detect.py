"""Which layout a path holds (format names and their aliases), and reading any of them."""
from __future__ import annotations

import os
from pathlib import Path

from ncc.formats.anls import _ANLS_RE, read_anls
from ncc.formats.cepc import find_cepc_targets, read_cepc
from ncc.formats.records import FormatError, PairRecord
from ncc.formats.tuebingen import _TUEB_RE, read_tuebingen
from ncc.formats.two_column import read_two_column

__all__ = ["FORMATS", "normalize_format", "detect_format", "read_pairs"]

FORMATS = ("cepc", "tuebingen", "anls", "two-column")
# Spellings people use for the same layouts; the canonical names are in FORMATS.
_ALIASES = {
    "cepc": "cepc",
    "cdt": "cepc",
    "tuebingen": "tuebingen",
    "tubingen": "tuebingen",
    "mooij": "tuebingen",
    "anls": "anls",
    "an-ls": "anls",
    "two-column": "two-column",
    "two_column": "two-column",
    "twocolumn": "two-column",
    "text": "two-column",
}


def normalize_format(name: str) -> str:
    key = name.strip().lower()
    if key not in _ALIASES:
        raise FormatError(f"unknown format {name!r}; known formats: {', '.join(FORMATS)}")
    return _ALIASES[key]


def detect_format(path: str | os.PathLike) -> str:
    """Guess the layout of ``path``: a folder of pairNNNN / pair_N files, a CEPC CSV, or one pair."""
    p = Path(path)
    if not p.exists():
        raise FormatError(f"input not found: {p}")
    if p.is_dir():
        names = [q.name for q in p.iterdir() if q.is_file()]
        if any(_TUEB_RE.match(n) for n in names):
            return "tuebingen"
        if any(_ANLS_RE.match(n) for n in names):
            return "anls"
        raise FormatError(f"{p}: no pairNNNN.txt or pair_N.txt files; known formats: {', '.join(FORMATS)}")
    with p.open(encoding="utf-8-sig", errors="replace") as fh:
        first = fh.readline(4096)
    head = [f.strip().strip('"').lower() for f in first.split(",")]
    if head and head[0] == "sampleid":
        return "cepc"
    return "two-column"


def read_pairs(path: str | os.PathLike, format: str | None = None, *, with_truth: bool = False,
               targets: str | os.PathLike | None = None) -> list[PairRecord]:
    """Read every pair under ``path``. Truth is only loaded when ``with_truth`` is set.

    For CEPC, the targets CSV is ``targets`` or, when ``with_truth`` is set and none is
    given, ``<stem>_target.csv`` / ``<stem>_targets.csv`` beside the pairs file
    (CDT / ChaLearn naming: ``X_pairs.csv`` + ``X_targets.csv``).
    """
    fmt = detect_format(path) if format is None else normalize_format(format)
    if not Path(path).exists():
        raise FormatError(f"input not found: {path}")
    if fmt == "cepc":
        if targets is None and with_truth:
            targets = find_cepc_targets(path)
        return read_cepc(path, targets if with_truth else None)
    if Path(path).is_dir() != (fmt in ("tuebingen", "anls")):
        kind = "a folder" if fmt in ("tuebingen", "anls") else "a file"
        raise FormatError(f"{path}: format {fmt!r} expects {kind}")
    if fmt == "tuebingen":
        return read_tuebingen(path, with_truth=with_truth)
    if fmt == "anls":
        return read_anls(path, with_truth=with_truth)
    return read_two_column(path)
