"""The ``ncc`` command line: one typer app, each package contributes its commands.

Heavy imports (torch, torchvision, matplotlib) live inside command bodies so that
``ncc --version`` and ``ncc --help`` stay instant.
"""
from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from ncc._version import __version__

app = typer.Typer(
    name="ncc",
    help="Neural Causation Coefficient: synthetic cause-effect pairs, training, scoring and causal signals in images.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ncc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Neural Causation Coefficient."""


def _register() -> None:
    from synthetic.cli import generate
    from ncc.cli_plot import plot_pairs
    from ncc.cli_train import train
    from ncc.cli_score import evaluate, score
    from ncc.cli_embed import embed
    from vision.cli import app as vision_app

    app.command("generate")(generate)
    app.command("plot-pairs")(plot_pairs)
    app.command("train")(train)
    app.command("score")(score)
    app.command("evaluate")(evaluate)
    app.command("embed")(embed)
    app.add_typer(vision_app, name="vision")


_register()


def main() -> None:
    """Console entry point."""
    app()
