"""The one atomic file writer of the project (synthetic, ncc and vision all use it).

It lives in the lowest layer (``synthetic`` imports nothing from ``ncc``) so every layer above
can reuse it. A file is written to a temporary name in the same folder, flushed to disk, given
the permissions a plain ``open()`` would give (``0o666`` minus the umask: ``mkstemp`` alone makes
``0600`` files), then renamed over the target: a reader never sees a half-written file, and a
failure leaves neither a partial target nor a stray temporary file.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Union

PathLike = Union[str, os.PathLike]


def current_umask() -> int:
    """The process umask (reading it means setting it; it is put back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """What ``open(path, "w")`` would create: 0o666 & ~umask (0o644 under the usual 022)."""
    return 0o666 & ~current_umask()


def atomic_write(path: PathLike, write: Callable, *, binary: bool = False, name_only: bool = False) -> Path:
    """Create or replace ``path`` atomically.

    ``write`` receives an open file object (text, UTF-8, no newline translation; or binary with
    ``binary=True``), or with ``name_only=True`` the temporary file's name, for libraries that
    want a path (safetensors). Raises the OSError of any failure, after removing the temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if name_only:
            os.close(fd)
            write(tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        else:
            mode = "wb" if binary else "w"
            kwargs = {} if binary else {"encoding": "utf-8", "newline": ""}
            with os.fdopen(fd, mode, **kwargs) as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: PathLike, text: str) -> Path:
    return atomic_write(path, lambda fh: fh.write(text))


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda fh: fh.write(data), binary=True)
