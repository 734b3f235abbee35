"""`ncc vision extract | analyze | run`: the paper's image experiment from the command line.

Heavy modules (torch, torchvision, sklearn, matplotlib) are imported inside the commands so that
`ncc --help` stays instant.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ncc._cli_utils import OneLineErrors, fail
from vision.cli_options import (
    ANALYSIS,
    BACKBONE,
    COMMON,
    DATASET,
    EXTRACT_ONLY,
    OUTPUT,
    Classifier,
    Device,
    Format,
    check_ranges,
    renamed,
    with_options,
)

app = typer.Typer(help="Causal signals in images: features of original / context-only / object-only images, "
                       "NCC causal and anticausal scores per category, report.", no_args_is_help=True)


__all__ = ["Classifier", "DatasetArgs", "Device", "Format", "app"]  # the choices stay importable from here


def _errors():
    from vision.annotations import AnnotationError
    from vision.backbones import BackboneError
    from vision.store import StoreError

    return (AnnotationError, BackboneError, StoreError, ValueError, FileNotFoundError)


_said: set[str] = set()  # warnings already printed by this command (`run` extracts, then analyses)


def _begin() -> None:
    """Start of a command: nothing said yet, and the Python API's RandomWeightsWarning gives way to
    the command's own one-line warning."""
    import warnings

    from vision.backbones import RandomWeightsWarning

    _said.clear()
    warnings.filterwarnings("ignore", category=RandomWeightsWarning)


def _warn(text: str) -> None:
    """Print a warning once per command."""
    if text not in _said:
        _said.add(text)
        typer.secho(f"WARNING: {text}", err=True, fg="red", bold=True)


def _warn_random(weights: Optional[str], random_init: bool) -> None:
    if random_init and not weights:
        from vision.backbones import RANDOM_WEIGHTS

        _warn(RANDOM_WEIGHTS + " (--random-init); the results say nothing about the paper's hypothesis")
        _said.add(RANDOM_WEIGHTS)


def _triple(option: str, text: Optional[str]) -> Optional[tuple[float, float, float]]:
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or (option == "--std" and min(values) <= 0):
        fail(f"{option} {text!r}: expected three numbers R,G,B" + (" (all positive)" if option == "--std" else ""))
    return values  # type: ignore[return-value]


def _pick_shard(shard: Optional[str]) -> str:
    """--shard, else the launcher's environment; says which shard and where it came from."""
    from vision.store import StoreError, parse_shard, shard_from_environment

    try:
        if shard is not None:
            k, n = parse_shard(shard)
            return f"{k}/{n}"
        (k, n), source = shard_from_environment()
    except StoreError as exc:
        fail(str(exc))
    if n > 1:
        typer.echo(f"shard {k}/{n} (from {source})", err=True)
    return f"{k}/{n}"


@dataclass
class DatasetArgs:
    """Which images and boxes to extract (the arguments of :func:`vision.annotations.load_dataset`)."""

    images: Optional[Path]
    annotations: list[Path]
    categories: str = "voc"
    split: Optional[str] = None
    fmt: Format = Format.auto
    background: bool = False
    limit: Optional[int] = None  # only the first N images (sorted by name)


def _dataset_args(options: dict[str, Any]) -> DatasetArgs:
    return DatasetArgs(images=options["images"], annotations=options["annotations"],
                       categories=options["categories"], split=options["split"], fmt=options["fmt"],
                       background=options["background"], limit=options["limit"])


def _extraction_config(options: dict[str, Any], shard: Optional[str], **fields: Any):
    """The ExtractionConfig of a command's backbone options (built once; ``fields`` add to them)."""
    from vision.extract import ExtractionConfig

    arch, weights, random_init = options["arch"], options["weights"], options["random_init"]
    callable_arch = ":" in arch and not arch.startswith("timm:")
    if not weights and not random_init and not callable_arch:
        fail("no --weights: give a torchvision weights name (e.g. DEFAULT), 'pretrained' for timm, "
             "or a checkpoint path, or --random-init for a test run")
    mean_rgb, std_rgb = _triple("--mean", options["mean"]), _triple("--std", options["std"])
    try:
        return ExtractionConfig(arch=arch, weights=weights, random_init=random_init, resize=options["resize"],
                                crop=options["crop"], mean=mean_rgb, std=std_rgb, store_maps=not options["no_maps"],
                                batch_size=options["batch_size"], num_workers=options["workers"],
                                device=options["device"].value, chunk_size=options["chunk_size"],
                                shard=_pick_shard(shard), seed=options["seed"], **fields)
    except ValueError as exc:
        fail(str(exc))


def _do_extract(data: DatasetArgs, features: Path, cfg, quiet: bool) -> dict:
    from vision.extract import extract_features

    try:
        summary = extract_features(data.images, data.annotations, features, cfg, categories=data.categories,
                                   split=data.split, fmt=data.fmt.value, background=data.background,
                                   limit=data.limit, progress=not quiet)
    except _errors() as exc:
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:  # e.g. --features on a read-only filesystem
        fail(f"--features {features}: cannot write {exc.filename or ''} ({exc.strerror or exc})".replace("  ", " "))
    _print_extraction(features, summary)
    return summary


def _print_extraction(features: Path, summary: dict) -> None:
    rate = f", {summary['images_per_s']:.1f} images/s" if summary.get("images_per_s") else ""
    maps = f", maps {'x'.join(map(str, summary['map_shape']))}" if summary.get("map_shape") else ""
    typer.echo(f"features: {features} (shard {summary['shard']}): {summary['n_images_processed']} images processed, "
               f"{summary['n_images_done_before']} already done{rate}{maps}")
    if summary.get("cropped_out"):
        typer.echo(f"  {len(summary['cropped_out'])} (image, category) left out: every box outside the centre crop",
                   err=True)
    skipped = summary.get("skipped", []) + summary["failed"]
    for f in skipped[:10]:
        typer.echo(f"  skipped {f['image']}: {f['reason']}", err=True)
    if len(skipped) > 10:
        typer.echo(f"  … and {len(skipped) - 10} more skipped images", err=True)


def _check_ncc_model(ncc_model: Optional[Path]) -> None:
    """Fail before any long work if the NCC model cannot be there."""
    if ncc_model is not None:
        if not ncc_model.is_file():
            fail(f"{ncc_model}: NCC model file not found")
        return
    from ncc.serialization import DEFAULT_MODEL_PATH

    if not Path(DEFAULT_MODEL_PATH).is_file():
        fail(f"no shipped NCC model at {DEFAULT_MODEL_PATH}; pass --model PATH "
             "(formerly --ncc-model; train one with `ncc train`)")


def _analysis_config(options: dict[str, Any], seed: int):
    """The analysis settings of a command, from its options; a bad combination is a one-line error."""
    from vision.analysis import AnalysisConfig

    fields = {name: options[name] for name in ANALYSIS if name not in ("model", "model_alias")}
    fields["classifier"] = fields["classifier"].value
    fields["figures"] = not fields.pop("no_figures")
    fields["ncc_max_points_per_call"] = fields.pop("ncc_batch_points")
    try:
        return AnalysisConfig(seed=seed, **fields)
    except ValueError as exc:
        fail(str(exc))


def _do_analyze(features, out, ncc_model, cfg, quiet, train_features=None) -> dict:
    from vision.analysis import analyze

    _check_ncc_model(ncc_model)
    try:
        report = analyze(features, out, cfg, ncc_model=str(ncc_model) if ncc_model else None,
                         train_features=train_features, progress=not quiet)
    except _errors() as exc:
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except (RuntimeError, OSError) as exc:  # NCC model loading / scoring problems
        fail(f"NCC scoring failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    for w in report["warnings"]:
        _warn(w)
    o = report["results"]["ncc"]["object"]
    c = report["results"]["ncc"]["context"]
    p = (lambda v: "n/a" if v is None else f"{v:.3g}")
    typer.echo("categories with top-anticausal > top-causal: "
               f"object ratio {o['n_anticausal_greater']}/{o['n_categories']} "
               f"(sign test p={p(o['p_value'])}), context ratio {c['n_anticausal_greater']}/{c['n_categories']} "
               f"(p={p(c['p_value'])})")
    typer.echo(f"verdict: {report['verdict']}")
    unscored = [k for k, v in report["categories"].items() if not v["scored"]]
    if unscored:
        typer.echo(f"not scored: {', '.join(unscored)} ({report['categories'][unscored[0]]['reason']})", err=True)
    typer.echo(f"report: {Path(out) / 'report.md'}")
    return report


def _output(options: dict[str, Any]) -> Path:
    output = renamed(options, "output", "output_alias", "--output", "--out")
    if output is None:
        fail("--output is required (the output folder)")
    return output


def _model(options: dict[str, Any]) -> Optional[Path]:
    return renamed(options, "model", "model_alias", "--model", "--ncc-model")


@app.command(cls=OneLineErrors)
@with_options(DATASET, BACKBONE, EXTRACT_ONLY, COMMON)
def extract(
    features: Annotated[Path, typer.Option("--features", help="Output folder for the features (rerun to resume).")],
    **options: Any,
) -> None:
    """Extract backbone features of every image, its context-only and its object-only versions."""
    _begin()
    check_ranges(options)
    _warn_random(options["weights"], options["random_init"])
    if not options["annotations"]:
        fail("--annotations is required")
    cfg = _extraction_config(options, options["shard"], max_pixels=options["max_pixels"],
                             versions="original" if options["originals_only"] else "all")
    _do_extract(_dataset_args(options), features, cfg, options["quiet"])


@app.command(cls=OneLineErrors)
@with_options(OUTPUT, ANALYSIS, COMMON)
def analyze(
    features: Annotated[Path, typer.Option("--features",
                                           help="Features folder from `ncc vision extract` (all shards).")],
    train_features: Annotated[Optional[Path], typer.Option("--train-features", help="Features folder of a separate training set for the class-variable classifier (extract it with --originals-only).")] = None,  # noqa: E501
    seed: Annotated[int, typer.Option("--seed", help="Seed: folds, classifier.")] = 0,
    **options: Any,
) -> None:
    """Score every (category, feature) with NCC, compare top causal vs top anticausal features, run the controls, write the report."""  # noqa: E501
    _begin()
    check_ranges(options)
    output, model = _output(options), _model(options)
    cfg = _analysis_config(options, seed)
    _do_analyze(features, output, model, cfg, options["quiet"], train_features=train_features)


@app.command(cls=OneLineErrors)
@with_options(OUTPUT, DATASET, BACKBONE, ANALYSIS, COMMON)
def run(
    features: Annotated[Optional[Path], typer.Option("--features", help="Features folder (default OUTPUT/features).")] = None,  # noqa: E501
    train_images: Annotated[Optional[Path], typer.Option("--train-images", help="Images folder of a separate classifier training set.")] = None,  # noqa: E501
    train_annotations: Annotated[list[Path], typer.Option("--train-annotations", help="Annotations of a separate training set for the class-variable classifier (instead of cross-fitting).")] = [],  # noqa: B006, E501
    **options: Any,
) -> None:
    """Extract then analyse: the whole image experiment in one command."""
    _begin()
    check_ranges(options)
    output, model = _output(options), _model(options)
    cfg = _analysis_config(options, options["seed"])
    _check_ncc_model(model)
    _warn_random(options["weights"], options["random_init"])
    if not options["annotations"]:
        fail("--annotations is required")
    extraction = _extraction_config(options, "1/1")
    features = features or output / "features"
    _do_extract(_dataset_args(options), features, extraction, options["quiet"])
    train_features = None
    if train_annotations:
        train_features = output / "train-features"
        # Labels are matched to the analysed categories by name at analysis time; every image is
        # kept (background too): images without a category are the negatives the classifier needs.
        train_data = DatasetArgs(train_images, train_annotations, "all", None, options["fmt"], True, None)
        _do_extract(train_data, train_features, replace(extraction, versions="original", store_maps=False),
                    options["quiet"])  # maps: only the analysed set
    _do_analyze(features, output, model, cfg, options["quiet"], train_features=train_features)
