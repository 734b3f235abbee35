"""The project's one file hasher (ncc and vision record the same digest of a model or checkpoint file)."""
from __future__ import annotations

import hashlib
import os


def file_sha256(path: str | os.PathLike, block: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks (model files and checkpoints can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()
