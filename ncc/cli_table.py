"""`ncc score TABLE --x A --y B` / `--all-pairs`: the table mode of `ncc score`.

Kept apart from ncc/cli_score.py, which only dispatches here when --x, --y or --all-pairs is given.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from ncc._cli_utils import fail
from ncc._version import __version__


def score_table_command(input: Path, *, x: Optional[str], y: Optional[str], all_pairs: bool,
                        output: Optional[Path], model: Optional[Path], link_model: Optional[Path],
                        format: Optional[str],
                        min_points: int, seed: int, plots: Optional[Path], quiet: bool = False) -> None:
    from ncc.cli_relation import load_link
    from ncc.cli_score import (
        _atomic_text,
        _check_output,
        _guarded,
        _skipped_summary,
        _status_counts,
        load_model_or_exit,
    )
    from ncc.scoring import ncc_scorer
    from ncc.tables import TableError, read_table, rows_to_csv, score_table_pairs, select_pairs

    if all_pairs and (x is not None or y is not None):
        fail("give either --all-pairs or --x and --y, not both")
    if not all_pairs and (x is None or y is None):
        fail(f"{input}: table mode needs both --x and --y (or --all-pairs)")
    _check_output(output)
    try:
        table = read_table(input, format)
        pairs = select_pairs(table, x, y)
    except TableError as exc:
        fail(str(exc))
    loaded, identity = load_model_or_exit(model)
    linker, link_identity = load_link(link_model)

    from tqdm import tqdm

    with tqdm(total=len(pairs), unit="pair", desc="scoring column pairs", file=sys.stderr,
              disable=quiet or not all_pairs) as bar:
        rows = _guarded(lambda: score_table_pairs(table, pairs, ncc_scorer(loaded, random_state=seed),
                                                  link_model=linker, random_state=seed, min_points=min_points,
                                                  progress=bar.update))
    text = rows_to_csv(rows)
    counts = _status_counts(r.status for r in rows)
    if output is None:
        typer.echo(text, nl=False)
    else:
        _atomic_text(output, text)
        provenance = {
            "command": "ncc score (table)", "ncc_version": __version__, "input": str(input),
            "format": "table", "columns": {"x": x, "y": y, "all_pairs": all_pairs},
            "skipped_columns": table.skipped, **identity, **link_identity, "seed": seed,
            "min_points": min_points, "n_pairs": len(rows), "status_counts": counts,
        }
        _atomic_text(output.with_name(output.name + ".json"), json.dumps(provenance, indent=2) + "\n")
    if plots is not None:
        import numpy as np

        from ncc.plots import plot_scored_pairs

        by_name = {(r.x, r.y): r for r in rows}
        items = []
        for a, b in pairs:
            r = by_name[(a, b)]
            va, vb = table.columns[a], table.columns[b]
            keep = np.isfinite(va) & np.isfinite(vb)
            items.append((f"{a} vs {b}", np.column_stack([va[keep], vb[keep]]), r.score, r.status, a, b))
        written = _guarded(lambda: plot_scored_pairs(items, plots, stem="table_scores"))
        typer.echo(f"plots: {', '.join(str(p) for p in written)}", err=True)
    n_scored = sum(r.score is not None for r in rows)
    if table.skipped:
        typer.echo("skipped columns: " + ", ".join(f"{k} ({v})" for k, v in table.skipped.items()), err=True)
    bad = _skipped_summary(counts)
    typer.echo(f"scored {n_scored} of {len(rows)} column pairs" + (f" (not scored: {bad})" if bad else "")
               + (f" -> {output}" if output else ""), err=True)
