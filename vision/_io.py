"""Vision's file I/O: atomic writes and file hashes.

Writes go through the project's one writer, :mod:`synthetic._atomic` (fsync, umask permissions, no
stray temp file): a crash leaves either the old file or the new one, never half of one."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from synthetic._atomic import atomic_write, atomic_write_text


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    text = json.dumps(obj, indent=1, sort_keys=False, default=_json_default) + "\n"
    atomic_write_text(path, text)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    atomic_write_text(path, text)


def save_arrays_atomic(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Uncompressed ``.npz`` (features do not compress well and loading must stay fast)."""
    atomic_write(path, lambda fh: np.savez(fh, **arrays), binary=True)


def load_arrays(path: str | os.PathLike, keys=None) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz``; ``keys``: only those of them present (the others are not read)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files if keys is None or k in keys}


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file: the project's one hasher (:func:`ncc._hashing.file_sha256`)."""
    from ncc._hashing import file_sha256

    return file_sha256(path)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
