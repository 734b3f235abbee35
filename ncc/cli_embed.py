"""``ncc embed``: the network's view, a PCA map of NCC's pooled embedding of every pair.

Writes OUTPUT (PNG, coloured by true direction when the input has ground truth) and
OUTPUT with .csv beside it: pair_id, pc1, pc2, truth, score, n_points, status (pairs that cannot
be embedded keep their row with empty coordinates and their status).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated, Optional

import typer

from ncc._cli_utils import fail
from ncc.cli_score import _FORMAT_HELP


def embed(
    input: Annotated[Path, typer.Argument(
        help="Pair file or folder (any format `ncc score` reads).", show_default=False)],
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="PNG to write; the coordinates go to the same name with .csv.")] = Path("embedding.png"),
    model: Annotated[Optional[Path], typer.Option(
        "--model", "-m", help="Model file (default: the shipped model).")] = None,
    format: Annotated[Optional[str], typer.Option("--format", "-f", help=_FORMAT_HELP)] = None,
    targets: Annotated[Optional[Path], typer.Option(
        help="CEPC targets CSV, for the colours (default: <name>_targets.csv beside the pairs).")] = None,
    min_points: Annotated[int, typer.Option(help="Pairs with fewer finite points are skipped.", min=2)] = 10,
    seed: Annotated[int, typer.Option(help="Seeds the subsample of pairs above the model's max_points.")] = 0,
) -> None:
    """PCA 2-D projection of NCC's pooled embedding of each pair, coloured by true direction."""
    from ncc._paths import writable_problem
    from ncc.cli_score import _atomic_text, _guarded, _read, load_model_or_exit
    from ncc.embedding import TRUTH_NAMES, pca_2d, plot_embedding, pooled_embeddings
    from ncc.formats import StatusCode
    from ncc.scoring import clean_records, ncc_scorer, score_clean

    if output.suffix.lower() != ".png":
        fail(f"--output {output}: the plot is a PNG; give a name ending in .png")
    table = output.with_suffix(".csv")
    for path in (output, table):
        problem = writable_problem(path)
        if problem:
            fail(f"--output {path}: {problem}")
    if targets is not None and not targets.is_file():
        fail(f"targets file not found: {targets}")
    # The truth only colours the points: the embedding and the scores never see it.
    _, records = _read(input, format, with_truth=True, targets=targets)
    loaded, identity = load_model_or_exit(model)
    cleaned = clean_records(records, min_points)
    scored = (StatusCode.OK, StatusCode.CONSTANT)
    usable = [i for i, c in enumerate(cleaned) if c.data is not None and c.status.code in scored]
    if len(usable) < 2:
        fail(f"{input}: {len(usable)} pair(s) can be embedded; a 2-D projection needs at least 2")
    embeddings = _guarded(lambda: pooled_embeddings([cleaned[i].data for i in usable], loaded, random_state=seed))
    coords, explained = pca_2d(embeddings)
    scores = _guarded(lambda: score_clean(cleaned, ncc_scorer(loaded, random_state=seed)))
    truth_of = lambda rec: -1 if rec.linked is False else rec.truth  # noqa: E731
    plot_embedding(coords, [truth_of(cleaned[i].record) for i in usable], output, explained=explained,
                   title=f"NCC pooled embedding of {input.name} (PCA, {len(usable)} pairs)")

    where = {i: k for k, i in enumerate(usable)}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["pair_id", "pc1", "pc2", "truth", "score", "n_points", "status"])
    for i, (c, s) in enumerate(zip(cleaned, scores)):
        xy = [f"{v:.6f}" for v in coords[where[i]]] if i in where else ["", ""]
        truth = truth_of(c.record)
        w.writerow([c.record.pair_id, *xy, "" if truth is None else TRUTH_NAMES[truth],
                    "" if s.score is None else f"{s.score:.6f}", "" if c.n_points is None else c.n_points, c.status])
    _atomic_text(table, buf.getvalue())
    typer.echo(f"embedded {len(usable)} of {len(records)} pairs (PC 1 and 2 explain {100 * explained[0]:.0f}% "
               f"and {100 * explained[1]:.0f}% of the variance) -> {output}, {table}", err=True)
