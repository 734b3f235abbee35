"""Number formatting and the atomic text write shared by ncc's own writers (AN/LS, two-column)."""
from __future__ import annotations

from pathlib import Path

from synthetic._atomic import atomic_write_text
from synthetic.pair_files import _as_pair, lossless

__all__ = ["_as_pair", "_atomic_write", "_fmt"]

_fmt = lossless  # shortest string that reads back to the same float


def _atomic_write(path: Path, text: str) -> None:
    atomic_write_text(path, text)  # the project's one writer (umask, fsync, cleanup)
