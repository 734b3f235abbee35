"""`ncc vision extract | analyze | run`: the paper's image experiment from the command line.

Heavy modules (torch, torchvision, sklearn, matplotlib) are imported inside the commands so that
`ncc --help` stays instant.
"""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ncc._cli_utils import fail

app = typer.Typer(help="Causal signals in images: features of original / context-only / object-only images, "
                       "NCC causal and anticausal scores per category, report.", no_args_is_help=True)


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class Classifier(str, Enum):
    mlp = "mlp"
    logreg = "logreg"


class Format(str, Enum):
    auto = "auto"
    coco = "coco"
    voc = "voc"


# ----------------------------------------------------------------------------- shared options
Images = Annotated[Optional[Path], typer.Option("--images", help="Images folder (for a VOC root, the folder holding JPEGImages/ also works).")]
AnnotationsOpt = Annotated[list[Path], typer.Option("--annotations", help="COCO instances JSON file(s) or a folder of them; or a VOC root, a folder of VOC XML files, or one XML file. Repeatable.")]
Categories = Annotated[str, typer.Option("--categories", help="'voc' (the 20 PASCAL VOC categories, COCO names mapped), 'all', or NAME,NAME,…")]
Split = Annotated[Optional[str], typer.Option("--split", help="VOC only: use the ids of ImageSets/Main/SPLIT.txt.")]
FormatOpt = Annotated[Format, typer.Option("--format", help="Annotation format.")]
Background = Annotated[bool, typer.Option("--background-images", help="Also keep annotated images with none of the selected categories (original version only) as negatives for the class variable.")]
Arch = Annotated[str, typer.Option("--arch", help="torchvision backbone with a global pool: resnet18/34/50/101/152, resnext*, wide_resnet*, regnet_*, densenet*, efficientnet*, mobilenet_v2/v3*, mnasnet*, shufflenet_v2*, convnext*, swin*; or timm:NAME (needs timm); or package.module:callable returning a torch.nn.Module that maps (B,3,H,W) to (B,C) features or a (B,C,h,w) map.")]
Weights = Annotated[Optional[str], typer.Option("--weights", help="torchvision weights name (DEFAULT, IMAGENET1K_V1, …; downloaded into the torch cache), 'pretrained' for timm:NAME, or a checkpoint path (.pth/.pt state dict or .safetensors). A module:callable keeps the callable's weights unless a file is given.")]
RandomInit = Annotated[bool, typer.Option("--random-init", help="No weights: random backbone, for testing only (the report says so).")]
Resize = Annotated[Optional[int], typer.Option("--resize", min=1, help="Shorter side after resizing (default: 224 as in the paper; for timm:NAME, timm's input size).")]
Crop = Annotated[Optional[int], typer.Option("--crop", min=1, help="Centre-crop size (default: --resize).")]
BatchSize = Annotated[int, typer.Option("--batch-size", min=1, help="Images per batch.")]
Workers = Annotated[int, typer.Option("--workers", min=0, help="DataLoader worker processes (decode, mask, resize).")]
DeviceOpt = Annotated[Device, typer.Option("--device", help="auto = cuda if available.")]
ChunkSize = Annotated[int, typer.Option("--chunk-size", min=1, help="Images per feature chunk on disk (the most an interruption can lose).")]
Shard = Annotated[Optional[str], typer.Option("--shard", help="K/N: extract only shard K of N (run all N, in any order or in parallel, into the same --features folder). Default: from torchrun (RANK, WORLD_SIZE) or a SLURM job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT), else 1/1.")]
Mean = Annotated[Optional[str], typer.Option("--mean", help="R,G,B normalisation mean (default: the weights' own, else ImageNet's).")]
Std = Annotated[Optional[str], typer.Option("--std", help="R,G,B normalisation std (default: the weights' own, else ImageNet's).")]
NoMaps = Annotated[bool, typer.Option("--no-maps", help="Do not store the originals' last feature maps and box coverage (no objectness; maps of 100k images at 512x7x7 take ~5 GB).")]
MaxPixels = Annotated[int, typer.Option("--max-pixels", min=1, help="Skip images with more pixels than this, decoded or after the resize (decompression bombs).")]
Seed = Annotated[int, typer.Option("--seed", help="Seed: random-init weights, folds, classifier.")]
Limit = Annotated[Optional[int], typer.Option("--limit", min=1, help="Use only the first N images (sorted by name).")]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bars.")]
NccModel = Annotated[Optional[Path], typer.Option("--ncc-model", help="NCC model file (default: the model shipped with ncc).")]
ClassifierOpt = Annotated[Classifier, typer.Option("--classifier", help="Class-variable classifier: the paper's MLP (2×512) or logistic regression.")]
Folds = Annotated[int, typer.Option("--folds", min=2, help="Cross-fitting folds for the class-variable classifier.")]
MaxIter = Annotated[int, typer.Option("--classifier-max-iter", min=1, help="Training epochs/iterations of that classifier.")]
TopPercent = Annotated[float, typer.Option("--top-percent", min=0.0, max=100.0, help="q: compare the top q% features by each score (paper: 1).")]
Examples = Annotated[int, typer.Option("--examples", min=0, help="Images in the example-interventions figure (0: none).")]
NoFigures = Annotated[bool, typer.Option("--no-figures", help="Skip the PNG figures.")]
MinAuc = Annotated[float, typer.Option("--min-auc", min=0.0, max=1.0, help="Categories whose cross-fitted class-variable ROC AUC is below this are reported but left out of the overall tests (0: keep all).")]
MinPositives = Annotated[int, typer.Option("--min-positives", min=0, help="Categories with fewer positive images are left out of the overall tests too.")]
Permutations = Annotated[int, typer.Option("--permutations", min=0, help="R shuffles of the class variable for the permutation control (0: none; costs R times the NCC scoring, one orientation per pair).")]
LabelPermutations = Annotated[int, typer.Option("--label-permutations", min=0, help="R refits of the class-variable classifier on shuffled labels, each rescored with NCC: the stricter null, since c stays a function of the features (0: none; costs R classifier fits).")]
PermutationImages = Annotated[int, typer.Option("--permutation-max-images", min=2, help="The permutation control scores one seeded subsample of at most this many images (observed and shuffled alike).")]
Bootstrap = Annotated[int, typer.Option("--bootstrap", min=0, help="Image resamples for the per-category 95% intervals (0: none).")]
NccPoints = Annotated[int, typer.Option("--ncc-batch-points", min=1000, help="Memory budget of one score_pairs call, in points: all (category, feature) pairs go in one call unless they exceed it (not a subsampling setting).")]


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


def _do_extract(images, annotations, features, categories, split, fmt, background, arch, weights, random_init,
                resize, crop, batch_size, workers, device, chunk_size, shard, seed, limit, quiet,
                versions: str = "all", max_pixels: Optional[int] = None, mean: Optional[str] = None,
                std: Optional[str] = None, store_maps: bool = True) -> dict:
    from vision.extract import ExtractionConfig, extract_features

    if not annotations:
        fail("--annotations is required")
    callable_arch = ":" in arch and not arch.startswith("timm:")
    if not weights and not random_init and not callable_arch:
        fail("no --weights: give a torchvision weights name (e.g. DEFAULT), 'pretrained' for timm, or a checkpoint path, "
             "or --random-init for a test run")
    mean_rgb, std_rgb = _triple("--mean", mean), _triple("--std", std)
    shard = _pick_shard(shard)
    try:
        cfg = ExtractionConfig(arch=arch, weights=weights, random_init=random_init, resize=resize, crop=crop,
                               mean=mean_rgb, std=std_rgb, store_maps=store_maps,
                               versions=versions, batch_size=batch_size, num_workers=workers,
                               device=device.value, chunk_size=chunk_size, shard=shard, seed=seed,
                               **({"max_pixels": max_pixels} if max_pixels else {}))
        summary = extract_features(images, annotations, features, cfg, categories=categories, split=split,
                                   fmt=fmt.value, background=background, limit=limit, progress=not quiet)
    except _errors() as exc:
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:  # e.g. --features on a read-only filesystem
        fail(f"--features {features}: cannot write {exc.filename or ''} ({exc.strerror or exc})".replace("  ", " "))
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
    return summary


def _check_ncc_model(ncc_model: Optional[Path]) -> None:
    """Fail before any long work if the NCC model cannot be there."""
    if ncc_model is not None:
        if not ncc_model.is_file():
            fail(f"{ncc_model}: NCC model file not found")
        return
    from ncc.serialization import DEFAULT_MODEL_PATH

    if not Path(DEFAULT_MODEL_PATH).is_file():
        fail(f"no shipped NCC model at {DEFAULT_MODEL_PATH}; pass --ncc-model PATH (train one with `ncc train`)")


def _analysis_config(classifier: Classifier, **fields):
    """The analysis settings of a command; a bad combination is a one-line error."""
    from vision.analysis import AnalysisConfig

    fields["figures"] = not fields.pop("no_figures")
    fields["ncc_max_points_per_call"] = fields.pop("ncc_points")
    try:
        return AnalysisConfig(classifier=classifier.value, **fields)
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
    typer.echo(f"categories with top-anticausal > top-causal: object ratio {o['n_anticausal_greater']}/{o['n_categories']} "
               f"(sign test p={p(o['p_value'])}), context ratio {c['n_anticausal_greater']}/{c['n_categories']} "
               f"(p={p(c['p_value'])})")
    typer.echo(f"verdict: {report['verdict']}")
    unscored = [k for k, v in report["categories"].items() if not v["scored"]]
    if unscored:
        typer.echo(f"not scored: {', '.join(unscored)} ({report['categories'][unscored[0]]['reason']})", err=True)
    typer.echo(f"report: {Path(out) / 'report.md'}")
    return report


@app.command()
def extract(
    features: Annotated[Path, typer.Option("--features", help="Output folder for the features (rerun to resume).")],
    annotations: AnnotationsOpt = [],  # noqa: B006 - typer needs a literal default
    images: Images = None,
    categories: Categories = "voc",
    split: Split = None,
    fmt: FormatOpt = Format.auto,
    background: Background = False,
    arch: Arch = "resnet18",
    weights: Weights = None,
    random_init: RandomInit = False,
    resize: Resize = None,
    crop: Crop = None,
    batch_size: BatchSize = 16,
    workers: Workers = 2,
    device: DeviceOpt = Device.auto,
    chunk_size: ChunkSize = 128,
    shard: Shard = None,
    seed: Seed = 0,
    limit: Limit = None,
    originals_only: Annotated[bool, typer.Option("--originals-only", help="Only original images (for a classifier training set).")] = False,
    max_pixels: MaxPixels = 40_000_000,
    mean: Mean = None,
    std: Std = None,
    no_maps: NoMaps = False,
    quiet: Quiet = False,
) -> None:
    """Extract backbone features of every image, its context-only and its object-only versions."""
    _begin()
    _warn_random(weights, random_init)
    _do_extract(images, annotations, features, categories, split, fmt, background, arch, weights, random_init,
                resize, crop, batch_size, workers, device, chunk_size, shard, seed, limit, quiet,
                versions="original" if originals_only else "all", max_pixels=max_pixels, mean=mean, std=std,
                store_maps=not no_maps)


@app.command()
def analyze(
    features: Annotated[Path, typer.Option("--features", help="Features folder from `ncc vision extract` (all shards).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder: feature_scores.csv, report.json, report.md, figures.")],
    ncc_model: NccModel = None,
    train_features: Annotated[Optional[Path], typer.Option("--train-features", help="Features folder of a separate training set for the class-variable classifier (extract it with --originals-only).")] = None,
    classifier: ClassifierOpt = Classifier.mlp,
    folds: Folds = 5,
    classifier_max_iter: MaxIter = 200,
    top_percent: TopPercent = 1.0,
    seed: Seed = 0,
    examples: Examples = 4,
    no_figures: NoFigures = False,
    ncc_batch_points: NccPoints = 20_000_000,
    min_auc: MinAuc = 0.75,
    min_positives: MinPositives = 20,
    permutations: Permutations = 100,
    label_permutations: LabelPermutations = 39,
    permutation_max_images: PermutationImages = 2000,
    bootstrap: Bootstrap = 1000,
    quiet: Quiet = False,
) -> None:
    """Score every (category, feature) with NCC, compare top causal vs top anticausal features, run the controls, write the report."""
    _begin()
    cfg = _analysis_config(classifier, folds=folds, classifier_max_iter=classifier_max_iter, top_percent=top_percent,
                           seed=seed, examples=examples, no_figures=no_figures, ncc_points=ncc_batch_points,
                           min_auc=min_auc, min_positives=min_positives, permutations=permutations,
                           label_permutations=label_permutations, permutation_max_images=permutation_max_images,
                           bootstrap=bootstrap)
    _do_analyze(features, out, ncc_model, cfg, quiet, train_features=train_features)


@app.command()
def run(
    out: Annotated[Path, typer.Option("--out", help="Output folder (features go to OUT/features unless --features).")],
    annotations: AnnotationsOpt = [],  # noqa: B006 - typer needs a literal default
    images: Images = None,
    features: Annotated[Optional[Path], typer.Option("--features", help="Features folder (default OUT/features).")] = None,
    categories: Categories = "voc",
    split: Split = None,
    fmt: FormatOpt = Format.auto,
    background: Background = False,
    arch: Arch = "resnet18",
    weights: Weights = None,
    random_init: RandomInit = False,
    resize: Resize = None,
    crop: Crop = None,
    batch_size: BatchSize = 16,
    workers: Workers = 2,
    device: DeviceOpt = Device.auto,
    chunk_size: ChunkSize = 128,
    mean: Mean = None,
    std: Std = None,
    no_maps: NoMaps = False,
    seed: Seed = 0,
    limit: Limit = None,
    train_images: Annotated[Optional[Path], typer.Option("--train-images", help="Images folder of a separate classifier training set.")] = None,
    train_annotations: Annotated[list[Path], typer.Option("--train-annotations", help="Annotations of a separate training set for the class-variable classifier (instead of cross-fitting).")] = [],  # noqa: B006
    ncc_model: NccModel = None,
    classifier: ClassifierOpt = Classifier.mlp,
    folds: Folds = 5,
    classifier_max_iter: MaxIter = 200,
    top_percent: TopPercent = 1.0,
    examples: Examples = 4,
    no_figures: NoFigures = False,
    ncc_batch_points: NccPoints = 20_000_000,
    min_auc: MinAuc = 0.75,
    min_positives: MinPositives = 20,
    permutations: Permutations = 100,
    label_permutations: LabelPermutations = 39,
    permutation_max_images: PermutationImages = 2000,
    bootstrap: Bootstrap = 1000,
    quiet: Quiet = False,
) -> None:
    """Extract then analyse: the whole image experiment in one command."""
    _begin()
    cfg = _analysis_config(classifier, folds=folds, classifier_max_iter=classifier_max_iter, top_percent=top_percent,
                           seed=seed, examples=examples, no_figures=no_figures, ncc_points=ncc_batch_points,
                           min_auc=min_auc, min_positives=min_positives, permutations=permutations,
                           label_permutations=label_permutations, permutation_max_images=permutation_max_images,
                           bootstrap=bootstrap)
    _check_ncc_model(ncc_model)
    _warn_random(weights, random_init)
    features = features or out / "features"
    _do_extract(images, annotations, features, categories, split, fmt, background, arch, weights, random_init,
                resize, crop, batch_size, workers, device, chunk_size, "1/1", seed, limit, quiet, mean=mean, std=std,
                store_maps=not no_maps)
    train_features = None
    if train_annotations:
        train_features = out / "train-features"
        # Labels are matched to the analysed categories by name at analysis time; every image is
        # kept (background too): images without a category are the negatives the classifier needs.
        _do_extract(train_images, train_annotations, train_features, "all", None, fmt, True, arch,
                    weights, random_init, resize, crop, batch_size, workers, device, chunk_size, "1/1", seed, None,
                    quiet, versions="original", mean=mean, std=std, store_maps=False)  # maps: only the analysed set
    _do_analyze(features, out, ncc_model, cfg, quiet, train_features=train_features)
