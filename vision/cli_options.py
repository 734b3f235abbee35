"""The options of `ncc vision extract | analyze | run`, declared once and shared by the commands.

Each table maps a parameter name to its ``Annotated`` type and default; :func:`with_options`
gives a command the options of the tables it names, so `extract` and `run` (or `analyze` and
`run`) cannot drift apart. Ranges are checked by :func:`check_ranges` with the project's one-line
error (exit 2), not by click's boxed usage error.
"""
from __future__ import annotations

import inspect
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from ncc._cli_utils import fail


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


DATASET: dict[str, tuple[Any, Any]] = {
    "annotations": (Annotated[list[Path], typer.Option(
        "--annotations",
        help="COCO instances JSON file(s) or a folder of them; or a VOC root, a folder of VOC XML files, or "
             "one XML file. Repeatable.")], []),
    "images": (Annotated[Optional[Path], typer.Option(
        "--images",
        help="Images folder (for a VOC root, the folder holding JPEGImages/ also works).")], None),
    "categories": (Annotated[str, typer.Option(
        "--categories",
        help="'voc' (the 20 PASCAL VOC categories, COCO names mapped), 'all', or NAME,NAME,…")], "voc"),
    "split": (Annotated[Optional[str], typer.Option(
        "--split",
        help="VOC only: use the ids of ImageSets/Main/SPLIT.txt.")], None),
    "fmt": (Annotated[Format, typer.Option("--format", help="Annotation format.")], Format.auto),
    "background": (Annotated[bool, typer.Option(
        "--background-images",
        help="Also keep annotated images with none of the selected categories (original version only) as "
             "negatives for the class variable.")], False),
}

BACKBONE: dict[str, tuple[Any, Any]] = {
    "arch": (Annotated[str, typer.Option(
        "--arch",
        help="torchvision backbone with a global pool: resnet18/34/50/101/152, resnext*, wide_resnet*, "
             "regnet_*, densenet*, efficientnet*, mobilenet_v2/v3*, mnasnet*, shufflenet_v2*, convnext*, "
             "swin*; or timm:NAME (needs timm); or package.module:callable returning a torch.nn.Module that "
             "maps (B,3,H,W) to (B,C) features or a (B,C,h,w) map.")], "resnet18"),
    "weights": (Annotated[Optional[str], typer.Option(
        "--weights",
        help="torchvision weights name (DEFAULT, IMAGENET1K_V1, …; downloaded into the torch cache), "
             "'pretrained' for timm:NAME, or a checkpoint path (.pth/.pt state dict or .safetensors). A "
             "module:callable keeps the callable's weights unless a file is given.")], None),
    "random_init": (Annotated[bool, typer.Option(
        "--random-init",
        help="No weights: random backbone, for testing only (the report says so).")], False),
    "resize": (Annotated[Optional[int], typer.Option(
        "--resize",
        help="Shorter side after resizing, >= 1 (default: 224 as in the paper; for timm:NAME, timm's input "
             "size).")], None),
    "crop": (Annotated[Optional[int], typer.Option(
        "--crop",
        help="Centre-crop size, >= 1 (default: --resize).")], None),
    "batch_size": (Annotated[int, typer.Option("--batch-size", help="Images per batch (>= 1).")], 16),
    "workers": (Annotated[int, typer.Option(
        "--workers",
        help="DataLoader worker processes (decode, mask, resize; >= 0).")], 2),
    "device": (Annotated[Device, typer.Option("--device", help="auto = cuda if available.")], Device.auto),
    "chunk_size": (Annotated[int, typer.Option(
        "--chunk-size",
        help="Images per feature chunk on disk (the most an interruption can lose; >= 1).")], 128),
    "mean": (Annotated[Optional[str], typer.Option(
        "--mean",
        help="R,G,B normalisation mean (default: the weights' own, else ImageNet's).")], None),
    "std": (Annotated[Optional[str], typer.Option(
        "--std",
        help="R,G,B normalisation std (default: the weights' own, else ImageNet's).")], None),
    "no_maps": (Annotated[bool, typer.Option(
        "--no-maps",
        help="Do not store the originals' last feature maps and box coverage (no objectness; maps of 100k "
             "images at 512x7x7 take ~5 GB).")], False),
    "seed": (Annotated[int, typer.Option("--seed", help="Seed: random-init weights, folds, classifier.")], 0),
    "limit": (Annotated[Optional[int], typer.Option(
        "--limit",
        help="Use only the first N images (sorted by name; N >= 1).")], None),
}

EXTRACT_ONLY: dict[str, tuple[Any, Any]] = {
    "shard": (Annotated[Optional[str], typer.Option(
        "--shard",
        help="K/N: extract only shard K of N (run all N, in any order or in parallel, into the same --features"
             " folder). Default: from torchrun (RANK, WORLD_SIZE) or a SLURM job array (SLURM_ARRAY_TASK_ID, "
             "SLURM_ARRAY_TASK_COUNT), else 1/1.")], None),
    "originals_only": (Annotated[bool, typer.Option(
        "--originals-only",
        help="Only original images (for a classifier training set).")], False),
    "max_pixels": (Annotated[int, typer.Option(
        "--max-pixels",
        help="Skip images with more pixels than this, decoded or after the resize "
             "(decompression bombs; >= 1).")], 40_000_000),
}

ANALYSIS: dict[str, tuple[Any, Any]] = {
    "model": (Annotated[Optional[Path], typer.Option(
        "--model",
        help="NCC model file (default: the model shipped with ncc).")], None),
    "model_alias": (Annotated[Optional[Path], typer.Option(
        "--ncc-model", hidden=True,
        help="Old name of --model.")], None),
    "classifier": (Annotated[Classifier, typer.Option(
        "--classifier",
        help="Class-variable classifier: the paper's MLP (2×512) or logistic regression.")], Classifier.mlp),
    "folds": (Annotated[int, typer.Option(
        "--folds",
        help="Cross-fitting folds for the class-variable classifier (>= 2).")], 5),
    "classifier_max_iter": (Annotated[int, typer.Option(
        "--classifier-max-iter",
        help="Training epochs/iterations of that classifier (>= 1).")], 200),
    "top_percent": (Annotated[float, typer.Option(
        "--top-percent",
        help="q: compare the top q% features by each score (0 to 100; paper: 1).")], 1.0),
    "examples": (Annotated[int, typer.Option(
        "--examples",
        help="Images in the example-interventions figure (0: none).")], 4),
    "no_figures": (Annotated[bool, typer.Option("--no-figures", help="Skip the PNG figures.")], False),
    "ncc_batch_points": (Annotated[int, typer.Option(
        "--ncc-batch-points",
        help="Memory budget of one score_pairs call, in points (>= 1000): all (category, feature) pairs go in "
             "one call unless they exceed it (not a subsampling setting).")], 20_000_000),
    "min_auc": (Annotated[float, typer.Option(
        "--min-auc",
        help="Categories whose cross-fitted class-variable ROC AUC is below this (0 to 1) are reported but "
             "left out of the overall tests (0: keep all).")], 0.75),
    "min_positives": (Annotated[int, typer.Option(
        "--min-positives",
        help="Categories with fewer positive images are left out of the overall tests too.")], 20),
    "permutations": (Annotated[int, typer.Option(
        "--permutations",
        help="R shuffles of the class variable for the permutation control (0: none; costs R times the NCC "
             "scoring, one orientation per pair).")], 100),
    "label_permutations": (Annotated[int, typer.Option(
        "--label-permutations",
        help="R refits of the class-variable classifier on shuffled labels, each rescored with NCC: the "
             "stricter null, since c stays a function of the features (0: none; costs R classifier fits).")], 0),
    "permutation_max_images": (Annotated[int, typer.Option(
        "--permutation-max-images",
        help="The permutation control scores one seeded subsample of at most this many images (>= 2; observed "
             "and shuffled alike).")], 2000),
    "bootstrap": (Annotated[int, typer.Option(
        "--bootstrap",
        help="Image resamples for the per-category 95% intervals (0: none).")], 1000),
}

OUTPUT: dict[str, tuple[Any, Any]] = {
    "output": (Annotated[Optional[Path], typer.Option(
        "--output", "-o",
        help="Output folder: feature_scores.csv, report.json, report.md, figures.")], None),
    "output_alias": (Annotated[Optional[Path], typer.Option("--out", hidden=True, help="Old name of --output.")], None),
}

COMMON: dict[str, tuple[Any, Any]] = {
    "quiet": (Annotated[bool, typer.Option("--quiet", help="No progress bars.")], False),
}

#: Option ranges: parameter -> (option, lowest, highest); None is open.
RANGES: dict[str, tuple[str, float | None, float | None]] = {
    "resize": ("--resize", 1, None), "crop": ("--crop", 1, None), "batch_size": ("--batch-size", 1, None),
    "workers": ("--workers", 0, None), "chunk_size": ("--chunk-size", 1, None),
    "max_pixels": ("--max-pixels", 1, None), "limit": ("--limit", 1, None), "folds": ("--folds", 2, None),
    "classifier_max_iter": ("--classifier-max-iter", 1, None), "top_percent": ("--top-percent", 0.0, 100.0),
    "examples": ("--examples", 0, None), "min_auc": ("--min-auc", 0.0, 1.0),
    "min_positives": ("--min-positives", 0, None),
    "permutations": ("--permutations", 0, None), "label_permutations": ("--label-permutations", 0, None),
    "permutation_max_images": ("--permutation-max-images", 2, None), "bootstrap": ("--bootstrap", 0, None),
    "ncc_batch_points": ("--ncc-batch-points", 1000, None),
}


def check_ranges(options: dict[str, Any]) -> None:
    """One-line error (exit 2) for the first option outside its range."""
    for name, (flag, low, high) in RANGES.items():
        value = options.get(name)
        if value is None:
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            fail(f"{flag} {value:g}: must be {bound}")


def renamed(options: dict[str, Any], name: str, alias: str, flag: str, old_flag: str) -> Any:
    """The value of an option that also answers to its old name (hidden from help)."""
    new, old = options.pop(name, None), options.pop(alias, None)
    if new is not None and old is not None and new != old:
        fail(f"{flag} and {old_flag} (its old name) give different values; pass only {flag}")
    return new if new is not None else old


def with_options(*tables: dict[str, tuple[Any, Any]]) -> Callable[[Callable], Callable]:
    """Give a command ``def cmd(<own params>, **options)`` the options of ``tables``, after its own.

    typer reads a command's parameters from its signature and annotations: both are set here."""
    def add(command: Callable) -> Callable:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values()
               if p.kind is not inspect.Parameter.VAR_KEYWORD]
        shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
                  for table in tables for name, (kind, default) in table.items()]
        params = own + shared
        command.__signature__ = inspect.Signature(params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command
    return add
