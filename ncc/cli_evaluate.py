"""``ncc evaluate``: NCC and classic baselines on pairs with ground truth (accuracy, weighted
accuracy, AUC, bootstrap interval; with CEPC no-link targets, the three-way figures too).

Kept apart from :mod:`ncc.cli_score`, whose readers, model loading and file helpers it shares.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ncc._cli_utils import fail
from ncc._version import __version__
from ncc.cli_score import (
    _FORMAT_HELP,
    DEFAULT_BASELINES,
    _atomic_text,
    _check_output,
    _check_plots_dir,
    _fmt,
    _guarded,
    _read,
    load_model_or_exit,
)


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


def _progress_scorers(methods: dict, baselines: dict, show: bool = True) -> dict:
    """Scorers that show a tqdm bar named after their method on stderr (baselines tick per pair;
    NCC scores in one batched call, so its bar fills at once); ``show=False``: no bars."""
    import sys

    from tqdm import tqdm

    def wrap(name, fn, per_pair):
        def run(pairs):
            with tqdm(total=len(pairs), desc=f"{name:>8}", unit="pair", file=sys.stderr, leave=True,
                      disable=not show) as bar:
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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Accuracy, weighted accuracy, AUC and a bootstrap 95% interval of NCC and classic baselines.

    With CEPC targets of 0 (no link), also the three-way accuracy (x->y, y->x, none) and the AUC
    of p_none for "no link" against "a link"; the two-way figures stay on the pairs with a link.
    """
    from ncc.baselines import make_baseline
    from ncc.evaluate_output import one_way_truth
    from ncc.scoring import compare_methods, flip_orientation, ncc_scorer

    out_format, input_format = _output_format(format, json_output, input_format)
    names = _baseline_names(baselines)
    if targets is not None and not targets.is_file():
        fail(f"targets file not found: {targets}")
    out_kind = _output_kind_or_exit(output)
    _check_plots_dir(plots)
    fmt, records = _read(input, input_format, with_truth=True, targets=targets)
    if not any(r.truth is not None for r in records):
        fail(f"{input}: no ground truth found (needs pairmeta.txt, pairs_gt.txt or a CEPC targets CSV via --targets)")
    n_flipped = None
    if flip_seed is not None:
        records, n_flipped = flip_orientation(records, flip_seed)
    loaded, identity = load_model_or_exit(model)
    methods = _progress_scorers({"NCC": ncc_scorer(loaded, random_state=seed)},
                                {b: make_baseline(b, random_state=seed) for b in names}, show=not quiet)
    comp = _guarded(lambda: compare_methods(records, methods, seed=seed, n_boot=n_boot, min_points=min_points))
    if not comp.pair_ids:
        fail(f"{input}: no pair with ground truth could be scored (statuses: {comp.skipped})")
    relation, identity = _relation(records, loaded, link_model, identity, seed, min_points)
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
        _save_report(output, out_kind, report, comp)
    if plots is not None:
        _plot_report(comp, records, plots, seed, min_points)
    _print_report(out_format, report, comp, relation, records, identity, output, out_kind,
                  n_boot=n_boot, seed=seed, flip_seed=flip_seed, n_flipped=n_flipped)


def _relation(records, loaded, link_model: Optional[Path], identity: dict, seed: int, min_points: int):
    """(three-way figures or None, identity with the link model's): only for sets with no-link pairs."""
    if not any(r.linked is False for r in records):
        return None, identity
    from ncc.cli_relation import evaluate_relation, load_link

    linker, link_identity = load_link(link_model)
    relation = _guarded(lambda: evaluate_relation(records, loaded, linker, seed, min_points))
    return relation, {**identity, **link_identity}


def _baseline_names(baselines: str) -> list[str]:
    """``--baselines IGCI,RECI`` -> their names; ``none`` -> none; an unknown name is an error."""
    from ncc.baselines import BASELINES

    names = [] if baselines.strip().lower() == "none" else [b.strip() for b in baselines.split(",") if b.strip()]
    unknown = [b for b in names if b not in BASELINES]
    if unknown:
        fail(f"unknown baseline(s) {', '.join(unknown)}; known: {', '.join(BASELINES)}")
    return names


def _output_kind_or_exit(output: Optional[Path]) -> Optional[str]:
    """"json" or "csv" from the --output name (checked writable), None without --output."""
    from ncc.evaluate_output import output_kind

    if output is None:
        return None
    try:
        kind = output_kind(output)
    except ValueError as exc:
        fail(str(exc))
    _check_output(output)
    return kind


def _save_report(output: Path, out_kind: str, report: dict, comp) -> None:
    """OUT.json (report + per-pair scores), or OUT.csv + OUT.pairs.csv + OUT.csv.json."""
    from ncc.evaluate_output import dumps, pair_records, pairs_csv, pairs_path, table_csv

    if out_kind == "json":
        _atomic_text(output, dumps({**report, "pairs": pair_records(comp)}) + "\n")
    else:
        _atomic_text(output, table_csv(comp))
        _atomic_text(pairs_path(output), pairs_csv(comp))
        _atomic_text(output.with_name(output.name + ".json"), dumps(report) + "\n")


def _plot_report(comp, records, plots: Path, seed: int, min_points: int) -> None:
    from ncc.evaluate_output import plot_comparison
    from ncc.scoring import clean_record

    data = {}
    for rec in records:
        cleaned = clean_record(rec, min_points)
        if cleaned.data is not None:
            data[rec.pair_id] = cleaned.data
    written = _guarded(lambda: plot_comparison(comp, data, plots, seed=seed))
    typer.echo(f"plots: {', '.join(str(p) for p in written)}", err=True)


def _print_report(out_format: str, report: dict, comp, relation, records, identity: dict, output: Optional[Path],
                  out_kind: Optional[str], *, n_boot: int, seed: int, flip_seed: Optional[int],
                  n_flipped: Optional[int]) -> None:
    """The report on stdout: JSON, the metrics CSV, or the markdown table and its notes."""
    from ncc.evaluate_output import dumps, pairs_path, table_csv

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
