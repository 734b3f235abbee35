"""The project's version, read from the installed package's metadata (pyproject.toml is its one home).

It lives in the lowest layer so that synthetic, ncc and vision all record the same string.
"""
from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("ncc")
except metadata.PackageNotFoundError:  # a source tree that was never installed: say so, never guess
    __version__ = "0+unknown"
