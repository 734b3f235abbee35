"""``ncc generate``: the generator's command line (it lives in ncc: synthetic imports nothing above it).

Bad input (an unknown name, a size out of range, a malformed range or weight list, an
unknown format, an unwritable output path) ends with a one-line message on stderr and
exit code 2, before any work is done.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ncc import choices
from ncc._cli_utils import fail, parse_weights
from ncc.choices import option_kwargs

_SEED_MAX = 2**32 - 1  # what numpy's RandomState (via check_random_state) accepts


def generate(
    out: Annotated[Path, typer.Option(  # --out: the first spelling, still accepted
        "--output", "-o", "--out", help="Output: .npz file, CEPC prefix or .csv, or Tübingen folder.")],
    n_pairs: Annotated[int, typer.Option("--n-pairs", help="Number of pairs.")] = 1000,
    n_points: Annotated[str, typer.Option(
        "--n-points", help="Points per pair: M, or LOW:HIGH for log-uniform sizes.")] = "1000",
    mechanism: Annotated[str, typer.Option("--mechanism", help="Mechanism family, or 'mix'.",
                                           **option_kwargs(choices.Mechanism, "mechanism"))] = "spline",
    cause: Annotated[str, typer.Option(
        "--cause", help="Cause distribution: gmm, uniform, student_t, lognormal or mix.",
        **option_kwargs(choices.Cause, "cause"))] = "gmm",
    noise: Annotated[Optional[str], typer.Option(
        "--noise",
        help="Noise shape: gaussian, uniform, laplace, student_t or mix (default: Gaussian for spline, mix "
             "otherwise).", **option_kwargs(choices.Noise, "noise"))] = None,
    kinds: Annotated[str, typer.Option("--kinds", help="Comma-separated: causal, independent, confounded.")] = "causal",
    mechanism_weights: Annotated[Optional[str], typer.Option(
        "--mechanism-weights", help="For --mechanism mix: NAME=W,NAME=W.")] = None,
    cause_weights: Annotated[Optional[str], typer.Option(
        "--cause-weights", help="For --cause mix: NAME=W,NAME=W.")] = None,
    noise_weights: Annotated[Optional[str], typer.Option(
        "--noise-weights", help="For --noise mix: NAME=W,NAME=W.")] = None,
    kind_weights: Annotated[Optional[str], typer.Option(
        "--kind-weights", help="KIND=W,KIND=W (default equal).")] = None,
    discretize_prob: Annotated[float, typer.Option(
        "--discretize-prob", help="Probability per pair of an integer-valued cause.")] = 0.0,
    quantize_prob: Annotated[float, typer.Option(
        "--quantize-prob", help="Probability per variable of coarse rounding.")] = 0.0,
    confounder_prob: Annotated[float, typer.Option(
        "--confounder-prob", help="Probability per causal pair of an extra hidden confounder.")] = 0.0,
    outlier_prob: Annotated[float, typer.Option(
        "--outlier-prob", help="Probability per pair of gross errors on a few effect values.")] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the output depends only on seed and options.")] = 0,
    fmt: Annotated[str, typer.Option("--format", "-f", help="npz, cepc or tuebingen.",
                                     **option_kwargs(choices.ExportFormat, "format"))] = "npz",
    progress: Annotated[Optional[bool], typer.Option(
        "--progress/--no-progress", " /--quiet", help="Progress bar (default: on for 10,000+ pairs; --quiet: "
        "off).")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite",
        help="Replace the pair files of an earlier run at --output (a Tübingen folder's pairNNNN.txt, pairmeta.txt and "
             "ncc_synthetic.json).")] = False,
) -> None:
    """Generate synthetic cause-effect pairs and write them to a file."""
    from synthetic.config import check_n_pairs, make_config
    from synthetic.generator import generate as run
    from synthetic.io import check_output
    from synthetic.memory import check_memory

    try:
        check_n_pairs(n_pairs)
        config = make_config(
            n_points=n_points, mechanism=mechanism, cause=cause, noise=noise, kinds=kinds,
            mechanism_weights=parse_weights(mechanism_weights, "--mechanism-weights"),
            cause_weights=parse_weights(cause_weights, "--cause-weights"),
            noise_weights=parse_weights(noise_weights, "--noise-weights"),
            kind_weights=parse_weights(kind_weights, "--kind-weights"),
            discretize_prob=discretize_prob, quantize_prob=quantize_prob,
            confounder_prob=confounder_prob, outlier_prob=outlier_prob)
        if not 0 <= seed <= _SEED_MAX:
            raise ValueError(f"seed must be in [0, {_SEED_MAX}], got {seed}")
        if fmt == "tuebingen" and config.kinds != ("causal",):
            raise ValueError("the tuebingen format cannot store pairs without a causal link; "
                             "use --kinds causal, or --format npz or cepc")
        check_output(out, fmt, overwrite)
        check_memory(n_pairs, config.n_points, fmt)
    except ValueError as exc:
        fail(str(exc))

    from tqdm import tqdm

    show = n_pairs >= 10_000 if progress is None else progress
    with tqdm(total=n_pairs, unit="pair", disable=not show, file=sys.stderr) as bar:
        X, y, info = run(n_pairs, config, seed, progress=bar.update)
    written = _write(out, fmt, X, y, info, config, seed, overwrite)
    counts = {label: int((y == value).sum()) for label, value in (("x->y", 1), ("y->x", 0), ("no link", -1))}
    summary = ", ".join(f"{c} {label}" for label, c in counts.items() if c)
    typer.echo(f"wrote {n_pairs} pairs ({summary}) to {written}")


def _write(out: Path, fmt: str, X, y, info, config, seed: int, overwrite: bool) -> Path:
    """Write the pairs in ``fmt``; returns the file or folder written (a failure is one line, exit 2)."""
    from synthetic.io import export_cepc, export_tuebingen, save

    try:
        if fmt == "npz":
            return save(out, X, y, config=config, random_state=seed, info=info)
        if fmt == "cepc":
            return export_cepc(out, X, y, config=config, random_state=seed)[0]
        return export_tuebingen(out, X, y, config=config, random_state=seed, overwrite=overwrite)
    except (OSError, ValueError) as exc:
        fail(f"cannot write to {out}: {getattr(exc, 'strerror', None) or exc}")
