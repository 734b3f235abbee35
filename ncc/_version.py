"""``ncc.__version__``: the package metadata's version (see synthetic/_version.py, its one home)."""
from synthetic._version import __version__

__all__ = ["__version__"]
