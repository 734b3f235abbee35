"""The ``ncc`` console script: imports the CLI inside ``main`` so that a Ctrl-C at any moment,
even while torch is still being imported, ends with one line and exit code 130, never a traceback."""
from __future__ import annotations

import sys


def main() -> None:
    try:
        from ncc.cli import app

        app()
    except KeyboardInterrupt:
        sys.stderr.write("ncc: interrupted\n")
        raise SystemExit(130) from None
