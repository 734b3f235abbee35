"""Placeholder: replaced by `ncc vision ...`."""
import typer

app = typer.Typer(help="Causal signals in images.", no_args_is_help=True)


@app.command()
def extract() -> None:
    """Not implemented yet."""
    raise typer.Exit(1)
