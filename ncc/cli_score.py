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
                                   plots=plots)
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


# ----------------------------------------------------------------------------- ncc evaluate
def _fmt(v: float) -> str:
    return "n/a" if v != v else f"{v:.3f}"  # NaN (e.g. AUC with one class) -> n/a


def format_table(comparison) -> str:
    """Markdown table: one row per method."""
    lines = ["| method | pairs | accuracy | weighted acc. | AUC | 95% CI (weighted acc.) |",
             "|---|---:|---:|---:|---:|---|"]
    for name, m in comparison.metrics.items():
        if m is None:
            continue
        lines.append(f"| {name} | {m.n_pairs} | {_fmt(m.accuracy)} | {_fmt(m.weighted_accuracy)} | "
                     f"{_fmt(m.auc)} | [{_fmt(m.ci_low)}, {_fmt(m.ci_high)}] |")
    return "\n".join(lines)


def _progress_scorers(methods: dict, baselines: dict) -> dict:
    """Scorers that show a tqdm bar named after their method on stderr (baselines tick per pair;
    NCC scores in one batched call, so its bar fills at once)."""
    import sys

    from tqdm import tqdm

    def wrap(name, fn, per_pair):
        def run(pairs):
            with tqdm(total=len(pairs), desc=f"{name:>8}", unit="pair", file=sys.stderr, leave=True) as bar:
                if per_pair:
                    return fn(pairs, progress=bar.update)
                out = fn(pairs)
                bar.update(len(pairs))
                return out
        return run

    out = {name: wrap(name, fn, False) for name, fn in methods.items()}
    out.update({name: wrap(name, b.score_pairs, True) for name, b in baselines.items()})
    return out


def _output_format(format: Optional[str], json_output: bool, input_format: Optional[str]):
    """(output format, input layout): --format takes json|csv|markdown; an input layout there
    (the option's meaning before it chose the output) is still accepted, as --input-format."""
    from ncc.evaluate_output import OUTPUT_FORMATS
    from ncc.formats import FormatError, normalize_format

    out = "json" if json_output else "markdown"
    if format is not None:
        key = format.strip().lower()
        if key in ("md", "table"):
            key = "markdown"
        if key in OUTPUT_FORMATS:
            out = key
        else:
            try:
                layout = normalize_format(format)
            except FormatError:
                fail(f"unknown --format {format!r}; output formats: {', '.join(OUTPUT_FORMATS)} "
                     f"(input layouts go to --input-format)")
            if input_format is not None and normalize_format(input_format) != layout:
                fail(f"--format {format} and --input-format {input_format} disagree")
            input_format = layout
    return out, input_format


def evaluate(
    input: Annotated[Path, typer.Argument(help="Pair file or folder with ground truth.", show_default=False)],
    model: Annotated[Optional[Path], typer.Option(
        "--model", "-m", help="Model file (default: the shipped model).")] = None,
    format: Annotated[Optional[str], typer.Option(
        "--format", "-f",
        help="Output: markdown (default), json or csv. (An input layout here still works, as --input-format.)")] = None,
    input_format: Annotated[Optional[str], typer.Option("--input-format", help=_FORMAT_HELP)] = None,
    targets: Annotated[Optional[Path], typer.Option(
        help="CEPC targets CSV (default: <name>_targets.csv beside the pairs).")] = None,
    baselines: Annotated[str, typer.Option(
        help="Comma-separated baselines to run beside NCC, or 'none'.")] = DEFAULT_BASELINES,
    seed: Annotated[int, typer.Option(help="Seeds the bootstrap and every method's subsampling.")] = 0,
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples for the 95% interval.", min=100)] = 2000,
    json_output: Annotated[bool, typer.Option(
        "--json", help="Print JSON instead of a table (same as --format json).")] = False,
    min_points: Annotated[int, typer.Option(help="Pairs with fewer finite points are skipped.", min=2)] = 10,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o",
        help="Also save the results: OUT.json (metrics + per-pair scores of every method), or OUT.csv (metrics) + "
             "OUT.pairs.csv (per-pair scores) + OUT.csv.json (provenance).")] = None,
    flip_seed: Annotated[Optional[int], typer.Option(
        "--flip-seed",
        help="Flip each pair's columns with probability 1/2 (truth flipped in step), seeded; for sets where every "
             "truth points one way.")] = None,
    plots: Annotated[Optional[Path], typer.Option(
        "--plots", help="Folder for decision_rate.png, roc.png and confident_pairs.png.")] = None,
    link_model: Annotated[Optional[Path], typer.Option(
        "--link-model",
        help="Link model for the three-way figures on CEPC targets with label 0 (default: the shipped link "
             "model).")] = None,
) -> None:
    """Accuracy, weighted accuracy, AUC and a bootstrap 95% interval of NCC and classic baselines.

    With CEPC targets of 0 (no link), also the three-way accuracy (x->y, y->x, none) and the AUC
    of p_none for "no link" against "a link"; the two-way figures stay on the pairs with a link.
    """
    from ncc.baselines import BASELINES, make_baseline
    from ncc.evaluate_output import dumps, one_way_truth, output_kind, pair_records, pairs_csv, pairs_path, table_csv
    from ncc.scoring import compare_methods, flip_orientation, ncc_scorer

    out_format, input_format = _output_format(format, json_output, input_format)
    names = [] if baselines.strip().lower() == "none" else [b.strip() for b in baselines.split(",") if b.strip()]
    unknown = [b for b in names if b not in BASELINES]
    if unknown:
        fail(f"unknown baseline(s) {', '.join(unknown)}; known: {', '.join(BASELINES)}")
    if targets is not None and not targets.is_file():
        fail(f"targets file not found: {targets}")
    out_kind = None
    if output is not None:
        try:
            out_kind = output_kind(output)
        except ValueError as exc:
            fail(str(exc))
        _check_output(output)
    _check_plots_dir(plots)
    fmt, records = _read(input, input_format, with_truth=True, targets=targets)
    if not any(r.truth is not None for r in records):
        fail(f"{input}: no ground truth found (needs pairmeta.txt, pairs_gt.txt or a CEPC targets CSV via --targets)")
    n_flipped = None
    if flip_seed is not None:
        records, n_flipped = flip_orientation(records, flip_seed)
    loaded, identity = load_model_or_exit(model)
    methods = _progress_scorers({"NCC": ncc_scorer(loaded, random_state=seed)},
                                {b: make_baseline(b, random_state=seed) for b in names})
    comp = _guarded(lambda: compare_methods(records, methods, seed=seed, n_boot=n_boot, min_points=min_points))
    if not comp.pair_ids:
        fail(f"{input}: no pair with ground truth could be scored (statuses: {comp.skipped})")
    relation = None
    if any(r.linked is False for r in records):
        from ncc.cli_relation import evaluate_relation, load_link

        linker, link_identity = load_link(link_model)
        identity = {**identity, **link_identity}
        relation = _guarded(lambda: evaluate_relation(records, loaded, linker, seed, min_points))
    warning = one_way_truth(comp)
    if warning:
        typer.echo(f"Warning: {warning}", err=True)
    report = {
        "command": "ncc evaluate", "ncc_version": __version__, "input": str(input), "format": fmt,
        **identity, "seed": seed, "n_boot": n_boot, "flip_seed": flip_seed, "n_flipped": n_flipped,
        "n_pairs": len(comp.pair_ids), "skipped": comp.skipped,
        "warnings": [warning] if warning else [],
        "metrics": {k: (m.as_dict() if m else None) for k, m in comp.metrics.items()},
        **({"relation": relation} if relation is not None else {}),
    }
    if output is not None:
        if out_kind == "json":
            _atomic_text(output, dumps({**report, "pairs": pair_records(comp)}) + "\n")
        else:
            _atomic_text(output, table_csv(comp))
            _atomic_text(pairs_path(output), pairs_csv(comp))
            _atomic_text(output.with_name(output.name + ".json"), dumps(report) + "\n")
    if plots is not None:
        from ncc.evaluate_output import plot_comparison
        from ncc.scoring import clean_record

        data = {}
        for rec in records:
            cleaned = clean_record(rec, min_points)
            if cleaned.data is not None:
                data[rec.pair_id] = cleaned.data
        written = _guarded(lambda: plot_comparison(comp, data, plots, seed=seed))
        typer.echo(f"plots: {', '.join(str(p) for p in written)}", err=True)
    if out_format == "json":
        typer.echo(dumps(report))
        return
    if out_format == "csv":
        typer.echo(table_csv(comp), nl=False)
        return
    typer.echo(format_table(comp))
    weighted = bool(len(set(comp.weights.tolist())) > 1)
    notes = [f"{len(comp.pair_ids)} pairs with ground truth scored by every method"
             + (", weighted by pairmeta weights" if weighted else "")]
    if n_flipped is not None:
        notes.append(f"--flip-seed {flip_seed}: {n_flipped} of {len(records)} pairs flipped (truth flipped in step)")
    if comp.skipped:
        notes.append("left out: " + ", ".join(f"{k}: {v}" for k, v in sorted(comp.skipped.items())))
    if relation is not None:
        from ncc.cli_relation import relation_lines

        notes += relation_lines(relation, len(comp.pair_ids))
    notes.append(f"bootstrap: {n_boot} resamples, seed {seed}; model: {identity.get('path', identity['model'])}")
    if output is not None:
        notes.append(f"saved: {output}" + (f", {pairs_path(output)}" if out_kind == "csv" else ""))
    typer.echo("\n".join(notes))
