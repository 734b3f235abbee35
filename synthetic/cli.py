"""Placeholder: replaced by the synthetic generator's CLI."""
import typer


def generate() -> None:
    """Not implemented yet."""
    raise typer.Exit(1)


def plot_pairs() -> None:
    """Not implemented yet."""
    raise typer.Exit(1)
