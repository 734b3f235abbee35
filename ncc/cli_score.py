"""`ncc score` and `ncc evaluate`: score pair files with NCC; compare NCC with classic baselines.

`score` never reads ground truth. `evaluate` needs it (pairmeta.txt, pairs_gt.txt or a CEPC
targets CSV) and prints NCC and the baselines side by side on the same pairs.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ncc._cli_utils import fail
from ncc._hashing import file_sha256
from ncc._version import __version__
from ncc.formats import FORMATS, StatusCode

_FORMAT_HELP = f"Input layout: {', '.join(FORMATS)} (detected when omitted)."
DEFAULT_BASELINES = "IGCI,ANM-HSIC,RECI,CDS,QCCD"


# ----------------------------------------------------------------------------- helpers
def _shipped_model_file() -> Path | None:
    """The model file used when no --model is given, if the package ships one."""
    from ncc.weights import Weights

    return Weights.DEFAULT.path if Weights.DEFAULT.path.is_file() else None


def load_model_or_exit(path: Optional[Path]):
    """(loaded model, provenance dict: path and SHA-256 of the file); exits on any problem."""
    import ncc

    if path is None:
        shipped = _shipped_model_file()
        if shipped is None:
            fail("no --model given and no shipped model is installed; pass --model PATH (see `ncc train`)")
        path, kind = shipped, "shipped default"
    else:
        kind = "file"
    if not path.is_file():
        fail(f"model file not found: {path}")
    try:
        model = ncc.load(path)
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure is a bad model file, reported in one line
        detail = " ".join(str(exc).split()) or type(exc).__name__
        fail(detail if str(path) in detail else f"cannot load model file {path}: {detail}")
    return model, {"model": kind, "path": str(path), "sha256": file_sha256(path)}


def _read(input_path: Path, fmt: Optional[str], **kwargs):
    from ncc.formats import FormatError, detect_format, normalize_format, read_pairs

    try:
        name = normalize_format(fmt) if fmt else detect_format(input_path)
        return name, read_pairs(input_path, name, **kwargs)
    except FormatError as exc:
        fail(str(exc))


def _atomic_text(path: Path, text: str) -> None:
    """Write through a temporary file and rename (umask honoured); any failure is one line, and no .tmp stays."""
    from synthetic._atomic import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")


def _check_output(output: Optional[Path]) -> None:
    """Refuse an output that cannot be written before any scoring is done."""
    from ncc._paths import writable_problem

    if output is None:
        return
    for path in (output, output.with_name(output.name + ".json")):
        problem = writable_problem(path)
        if problem:
            fail(f"--output {path}: {problem}")


def _check_plots_dir(plots: Optional[Path]) -> None:
    """Create the --plots folder before any scoring; a file in its way is one line."""
    if plots is None:
        return
    if plots.exists() and not plots.is_dir():
        fail(f"--plots {plots}: exists and is not a folder")
    try:
        plots.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"--plots {plots}: cannot create the folder ({exc.strerror or exc})")


def _status_counts(statuses) -> dict[str, int]:
    """Status code -> number of pairs, for the provenance file and the summary line."""
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s.code.value] = counts.get(s.code.value, 0) + 1
    return counts


def _skipped_summary(counts: dict[str, int]) -> str:
    """"non_numeric: 2, too_few_points: 1": the codes of the pairs that got no real score."""
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())
                     if k not in (StatusCode.OK.value, StatusCode.CONSTANT.value))


def _guarded(run):
    """Run the scoring step; an unexpected failure (e.g. no shipped model) becomes one line."""
    try:
        return run()
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        fail(f"scoring failed: {' '.join(str(exc).split()) or type(exc).__name__}")


# ----------------------------------------------------------------------------- ncc score
def score(
    input: Annotated[Path, typer.Argument(
        help="Pair file or folder (CEPC CSV, Tübingen folder, AN/LS folder, two-column file).", show_default=False)],
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o",
        help="CSV to write (default: print to stdout). Provenance (model SHA-256, version, format, seed) goes to "
             "OUTPUT.json, e.g. scores.csv.json.")] = None,
    model: Annotated[Optional[Path], typer.Option(
        "--model", "-m", help="Model file (default: the shipped model).")] = None,
    format: Annotated[Optional[str], typer.Option("--format", "-f", help=_FORMAT_HELP)] = None,
    min_points: Annotated[int, typer.Option(help="Pairs with fewer finite points are skipped.", min=2)] = 10,
    seed: Annotated[int, typer.Option(help="Seeds the random subsamples of pairs above the model's max_points.")] = 0,
    link_model: Annotated[Optional[Path], typer.Option(
        "--link-model", help="Link model file for p_none (default: the shipped link model).")] = None,
    x: Annotated[Optional[str], typer.Option(
        "--x", help="Table mode: the column to score as x (with --y) in a CSV/TSV/Parquet table.")] = None,
    y: Annotated[Optional[str], typer.Option("--y", help="Table mode: the column to score as y (with --x).")] = None,
    all_pairs: Annotated[bool, typer.Option(
        "--all-pairs", help="Table mode: score every pair of numeric columns.")] = False,
    plots: Annotated[Optional[Path], typer.Option(
        "--plots", help="Folder for scatter plots of the pairs, titled with the verdict.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar (table mode shows one).")] = False,
) -> None:
    """Score every pair: P(first column causes second). Never reads ground truth.

    Output columns: pair_id, score, direction (-> or <-), n_points, status, then the three
    answers p_xy, p_yx, p_none (P(x -> y), P(y -> x), P(no causal link); they sum to 1).
    Table mode (--x/--y or --all-pairs, INPUT a CSV, TSV or Parquet table with named columns):
    x, y, score, p_none, n_points, status, one row per pair of columns.
    """
    from ncc.cli_relation import RELATION_COLUMNS, link_rows, load_link, relation_cells
    from ncc.scoring import clean_records, ncc_scorer, score_clean

    if x is not None or y is not None or all_pairs:
        from ncc.cli_table import score_table_command

        _check_plots_dir(plots)
        return score_table_command(input, x=x, y=y, all_pairs=all_pairs, output=output, model=model,
                                   link_model=link_model, format=format, min_points=min_points, seed=seed,
                                   plots=plots, quiet=quiet)
    _check_output(output)
    _check_plots_dir(plots)
    fmt, records = _read(input, format)  # with_truth stays False: scoring never sees the truth
    loaded, identity = load_model_or_exit(model)
    linker, link_identity = load_link(link_model)
    cleaned = clean_records(records, min_points)
    rows = _guarded(lambda: score_clean(cleaned, ncc_scorer(loaded, random_state=seed)))
    relations = relation_cells(rows, _guarded(lambda: link_rows(cleaned, linker, seed)))

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["pair_id", "score", "direction", "n_points", "status", *RELATION_COLUMNS])
    for r, cells in zip(rows, relations):
        w.writerow([r.pair_id, "" if r.score is None else f"{r.score:.6f}", r.direction,
                    "" if r.n_points is None else r.n_points, r.status, *cells])
    counts = _status_counts(r.status for r in rows)
    if output is None:
        typer.echo(buf.getvalue(), nl=False)
    else:
        _atomic_text(output, buf.getvalue())
        provenance = {
            "command": "ncc score", "ncc_version": __version__, "input": str(input), "format": fmt,
            **identity, **link_identity, "seed": seed, "min_points": min_points, "n_pairs": len(rows),
            "status_counts": counts,
        }
        _atomic_text(output.with_name(output.name + ".json"), json.dumps(provenance, indent=2) + "\n")
    if plots is not None:
        _score_plots(records, rows, plots)
    n_scored = sum(r.scored for r in rows)
    skipped = _skipped_summary(counts)
    typer.echo(f"scored {n_scored} of {len(rows)} pairs" + (f" (skipped {skipped})" if skipped else "")
               + (f" -> {output}" if output else ""), err=True)
    if rows and fmt == "two-column" and all(r.status.code is StatusCode.MULTIVARIATE for r in rows):
        typer.echo(f"hint: {input} has more than two columns; to score named columns of a table use "
                   "--x NAME --y NAME or --all-pairs", err=True)


def _score_plots(records, rows, folder: Path) -> None:
    """Scatter grids of the scored pairs (finite points), titled with the verdict."""
    import numpy as np

    from ncc.plots import plot_scored_pairs

    items = []
    for rec, row in zip(records, rows):
        data = None
        if rec.data is not None:
            data = rec.data[np.isfinite(rec.data).all(axis=1)]
        items.append((row.pair_id, data, row.score, row.status, "x (first column)", "y (second column)"))
    written = _guarded(lambda: plot_scored_pairs(items, folder))
    typer.echo(f"plots: {', '.join(str(p) for p in written)}", err=True)


def _fmt(v: float) -> str:
    """A metric for the tables of ncc evaluate and the relation lines."""
    return "n/a" if v != v else f"{v:.3f}"  # NaN (e.g. AUC with one class) -> n/a
