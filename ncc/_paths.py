"""Checks on the files a command will write, done before any long work starts."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional


def same_file(a: Path, b: Path) -> bool:
    """True when two paths name one file (after symlinks; hard links too when both exist)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def first_clash(named: dict[str, Optional[Path]]) -> Optional[tuple[str, str]]:
    """The first two roles (e.g. "--output", "--checkpoint") whose paths are the same file."""
    items = [(role, path) for role, path in named.items() if path is not None]
    for i, (role_a, a) in enumerate(items):
        for role_b, b in items[i + 1:]:
            if same_file(a, b):
                return role_a, role_b
    return None


def writable_problem(path: Path) -> Optional[str]:
    """Why ``path`` could not be written later (atomic write: temp file + rename), or None.

    A folder that does not exist yet must be creatable: its nearest existing ancestor must be a
    writable folder. An existing folder is probed with a real temporary file, since permission
    bits say nothing about read-only mounts or ACLs.
    """
    if path.is_dir():
        return "is a folder, not a file"
    parent = path.parent if str(path.parent) else Path(".")
    ancestor = parent
    while not ancestor.exists():
        if ancestor.is_symlink():
            return f"{ancestor} is a broken link"
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is not a folder"
    if ancestor != parent:
        return None if os.access(ancestor, os.W_OK | os.X_OK) else f"cannot create {parent}: {ancestor} is not writable"
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
    except OSError as exc:
        return f"cannot write in {parent} ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(probe)
    return None


def fallback_path(path: Path) -> Path:
    """Where to rescue a file that cannot be written at ``path``: the temp folder, a unique name."""
    fd, name = tempfile.mkstemp(prefix=f"ncc-rescued-{path.stem}-", suffix=path.suffix or ".bin")
    os.close(fd)
    return Path(name)
