"""Small helpers shared by every CLI command."""
from __future__ import annotations

from typing import NoReturn, Optional

import typer
import typer.core

try:  # typer >= 0.22 carries its own copy of click, and raises that copy's exceptions
    from typer import _click as click
except ImportError:  # older typer runs on click itself
    import click


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error on stderr and exit; no traceback ever reaches the user."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


class OneLineErrors(typer.core.TyperCommand):
    """A command whose own usage errors (unknown option, bad value, out of range, missing argument)
    end like every other error of ``ncc``: one line on stderr, exit code 2, no usage box."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.ClickException as exc:
            fail(exc.format_message(), code=exc.exit_code)


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
