"""Placeholder: replaced by `ncc train`."""
import typer


def train() -> None:
    """Not implemented yet."""
    raise typer.Exit(1)
