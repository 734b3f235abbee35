"""Placeholder: replaced by `ncc score` and `ncc evaluate`."""
import typer


def score() -> None:
    """Not implemented yet."""
    raise typer.Exit(1)


def evaluate() -> None:
    """Not implemented yet."""
    raise typer.Exit(1)
