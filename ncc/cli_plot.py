"""`ncc plot-pairs`: scatter plots of pairs from any file `ncc score` reads, or a generator `.npz`.

In the ncc layer (not synthetic) because it reads ncc's pair formats.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ncc._cli_utils import fail
from ncc.formats import FORMATS


def _load(path: Path, fmt: Optional[str]):
    """(pairs, labels, kinds, mechanisms, names, description) from a .npz or any pair format."""
    if fmt is None and path.suffix.lower() == ".npz" and not path.is_dir():
        from synthetic.io import load

        saved = load(path)
        info = saved.info or {}
        return (saved.X, saved.y, info.get("kind"), info.get("mechanism"), None,
                f"{path} (seed {saved.random_state})")
    from ncc.formats import FormatError, detect_format, normalize_format, read_pairs

    try:
        name = normalize_format(fmt) if fmt else detect_format(path)
        records = read_pairs(path, name, with_truth=True)
    except FormatError as exc:
        raise ValueError(str(exc)) from None
    usable = [r for r in records if r.data is not None]
    if not usable:
        statuses = ", ".join(sorted({r.status.code.value for r in records})) or "no pairs"
        raise ValueError(f"{path}: no pair could be read ({statuses})")
    import numpy as np

    pairs = [r.data[np.isfinite(r.data).all(axis=1)] for r in usable]
    return pairs, [r.truth for r in usable], None, None, [r.pair_id for r in usable], f"{path} ({name})"


def plot_pairs(
    path: Annotated[Path, typer.Argument(
        help="A .npz file written by 'ncc generate', or any pair file or folder 'ncc score' reads.")],
    out: Annotated[Path, typer.Option(
        "--output", "-o", "--out", help="Image file to write (e.g. grid.png).")],
    n: Annotated[int, typer.Option("--n", help="How many pairs to draw (the first N).")] = 16,
    format: Annotated[Optional[str], typer.Option(
        "--format", "-f", help=f"Input layout: npz, {', '.join(FORMATS)} (detected when omitted).")] = None,
) -> None:
    """Draw a grid of scatter plots of pairs, titled with the true direction (when known)."""
    from ncc.pair_grid import plot_pair_grid
    from synthetic.io import ensure_writable_dir

    try:
        if n < 1:
            raise ValueError(f"--n must be >= 1, got {n}")
        if out.is_dir():
            raise ValueError(f"cannot write to {out}: it is a folder")
        ensure_writable_dir(out.parent, out)
        if not path.exists():
            raise ValueError(f"no such file or folder: {path}")
        fmt = None if format is None or format.strip().lower() == "npz" else format
        if format is not None and format.strip().lower() == "npz" and path.is_dir():
            raise ValueError(f"{path} is a folder; --format npz needs a .npz file")
        X, y, kinds, mechanisms, names, source = _load(path, fmt)
    except ValueError as exc:
        fail(str(exc))
    try:
        written = plot_pair_grid(X, y, out, n=n, mechanisms=mechanisms, kinds=kinds, names=names, source=source)
    except (OSError, ValueError) as exc:
        fail(f"cannot write {out}: {exc}")
    typer.echo(f"drew {min(n, len(X))} pairs to {written}")
