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


#: Entry-point group through which packages above ncc (vision) add sub-apps: ncc never imports them by name.
COMMAND_GROUP = "ncc.commands"


def _plugin_apps() -> list[tuple[str, typer.Typer]]:
    """(name, typer app) of every installed ``ncc.commands`` entry point; one that fails to load is
    reported in one line on stderr and left out, so a broken add-on never takes ``ncc`` down."""
    from importlib.metadata import entry_points

    apps = []
    for point in entry_points(group=COMMAND_GROUP):
        try:
            apps.append((point.name, point.load()))
        except Exception as exc:  # an add-on's bug or missing dependency: ncc's own commands still work
            sys.stderr.write(f"ncc: sub-command {point.name!r} not available ({type(exc).__name__}: {exc})\n")
    return apps


def _register() -> None:
    from ncc._cli_utils import OneLineErrors
    from ncc.cli_embed import embed
    from ncc.cli_evaluate import evaluate
    from ncc.cli_generate import generate
    from ncc.cli_plot import plot_pairs
    from ncc.cli_score import score
    from ncc.cli_train import train

    app.command("generate", cls=OneLineErrors)(generate)
    app.command("plot-pairs", cls=OneLineErrors)(plot_pairs)
    app.command("train", cls=OneLineErrors)(train)
    app.command("score", cls=OneLineErrors)(score)
    app.command("evaluate", cls=OneLineErrors)(evaluate)
    app.command("embed", cls=OneLineErrors)(embed)
    for name, sub_app in _plugin_apps():
        app.add_typer(sub_app, name=name)


_register()


def main() -> None:
    """Console entry point."""
    app()
