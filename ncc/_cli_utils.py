"""Small helpers shared by every CLI command."""
from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error on stderr and exit; no traceback ever reaches the user."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)
