"""Small helpers shared by every CLI command."""
from __future__ import annotations

from typing import NoReturn, Optional

import typer


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error on stderr and exit; no traceback ever reaches the user."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def parse_weights(text: Optional[str], option: str) -> Optional[dict]:
    """"spline=2,nn=1" → {"spline": 2.0, "nn": 1.0}; the names are checked by the generator."""
    if text is None:
        return None
    weights = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise ValueError(f"malformed {option} {text!r}: expected NAME=WEIGHT,NAME=WEIGHT")
    return weights
