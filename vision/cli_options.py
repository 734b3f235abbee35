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


def _table(rows: dict[str, tuple[Any, Any, Any, str | None]]) -> dict[str, tuple[Any, Any]]:
    """``name: (type, default, option name(s), help)`` -> ``name: (Annotated type, default)``; help None
    marks an old spelling kept working but hidden from --help."""
    names = (lambda n: (n,) if isinstance(n, str) else n)
    return {name: (Annotated[kind, typer.Option(*names(flags), help=text, hidden=text is None)], default)
            for name, (kind, default, flags, text) in rows.items()}


DATASET = _table({
    "annotations": (list[Path], [], "--annotations", "COCO instances JSON file(s) or a folder of them; or a VOC root, a folder of VOC XML files, or one XML file. Repeatable."),  # noqa: E501
    "images": (Optional[Path], None, "--images", "Images folder (for a VOC root, the folder holding JPEGImages/ also works)."),  # noqa: E501
    "categories": (str, "voc", "--categories", "'voc' (the 20 PASCAL VOC categories, COCO names mapped), 'all', or NAME,NAME,…"),  # noqa: E501
    "split": (Optional[str], None, "--split", "VOC only: use the ids of ImageSets/Main/SPLIT.txt."),
    "fmt": (Format, Format.auto, "--format", "Annotation format."),
    "background": (bool, False, "--background-images", "Also keep annotated images with none of the selected categories (original version only) as negatives for the class variable."),  # noqa: E501
})

BACKBONE = _table({
    "arch": (str, "resnet18", "--arch", "torchvision backbone with a global pool: resnet18/34/50/101/152, resnext*, wide_resnet*, regnet_*, densenet*, efficientnet*, mobilenet_v2/v3*, mnasnet*, shufflenet_v2*, convnext*, swin*; or timm:NAME (needs timm); or package.module:callable returning a torch.nn.Module that maps (B,3,H,W) to (B,C) features or a (B,C,h,w) map."),  # noqa: E501
    "weights": (Optional[str], None, "--weights", "torchvision weights name (DEFAULT, IMAGENET1K_V1, …; downloaded into the torch cache), 'pretrained' for timm:NAME, or a checkpoint path (.pth/.pt state dict or .safetensors). A module:callable keeps the callable's weights unless a file is given."),  # noqa: E501
    "random_init": (bool, False, "--random-init", "No weights: random backbone, for testing only (the report says so)."),  # noqa: E501
    "resize": (Optional[int], None, "--resize", "Shorter side after resizing, >= 1 (default: 224 as in the paper; for timm:NAME, timm's input size)."),  # noqa: E501
    "crop": (Optional[int], None, "--crop", "Centre-crop size, >= 1 (default: --resize)."),
    "batch_size": (int, 16, "--batch-size", "Images per batch (>= 1)."),
    "workers": (int, 2, "--workers", "DataLoader worker processes (decode, mask, resize; >= 0)."),
    "device": (Device, Device.auto, "--device", "auto = cuda if available."),
    "chunk_size": (int, 128, "--chunk-size", "Images per feature chunk on disk (the most an interruption can lose; >= 1)."),  # noqa: E501
    "mean": (Optional[str], None, "--mean", "R,G,B normalisation mean (default: the weights' own, else ImageNet's)."),
    "std": (Optional[str], None, "--std", "R,G,B normalisation std (default: the weights' own, else ImageNet's)."),
    "no_maps": (bool, False, "--no-maps", "Do not store the originals' last feature maps and box coverage (no objectness; maps of 100k images at 512x7x7 take ~5 GB)."),  # noqa: E501
    "seed": (int, 0, "--seed", "Seed: random-init weights, folds, classifier."),
    "limit": (Optional[int], None, "--limit", "Use only the first N images (sorted by name; N >= 1)."),
})

EXTRACT_ONLY = _table({
    "shard": (Optional[str], None, "--shard", "K/N: extract only shard K of N (run all N, in any order or in parallel, into the same --features folder). Default: from torchrun (RANK, WORLD_SIZE) or a SLURM job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT), else 1/1."),  # noqa: E501
    "originals_only": (bool, False, "--originals-only", "Only original images (for a classifier training set)."),
    "max_pixels": (int, 40_000_000, "--max-pixels", "Skip images with more pixels than this, decoded or after the resize (decompression bombs; >= 1)."),  # noqa: E501
})

ANALYSIS = _table({
    "model": (Optional[Path], None, "--model", "NCC model file (default: the model shipped with ncc)."),
    "model_alias": (Optional[Path], None, "--ncc-model", None),
    "classifier": (Classifier, Classifier.mlp, "--classifier", "Class-variable classifier: the paper's MLP (2×512) or logistic regression."),  # noqa: E501
    "folds": (int, 5, "--folds", "Cross-fitting folds for the class-variable classifier (>= 2)."),
    "classifier_max_iter": (int, 200, "--classifier-max-iter", "Training epochs/iterations of that classifier (>= 1)."),
    "top_percent": (float, 1.0, "--top-percent", "q: compare the top q% features by each score (0 to 100; paper: 1)."),
    "examples": (int, 4, "--examples", "Images in the example-interventions figure (0: none)."),
    "no_figures": (bool, False, "--no-figures", "Skip the PNG figures."),
    "ncc_batch_points": (int, 20_000_000, "--ncc-batch-points", "Memory budget of one score_pairs call, in points (>= 1000): all (category, feature) pairs go in one call unless they exceed it (not a subsampling setting)."),  # noqa: E501
    "min_auc": (float, 0.75, "--min-auc", "Categories whose cross-fitted class-variable ROC AUC is below this (0 to 1) are reported but left out of the overall tests (0: keep all)."),  # noqa: E501
    "min_positives": (int, 20, "--min-positives", "Categories with fewer positive images are left out of the overall tests too."),  # noqa: E501
    "permutations": (int, 100, "--permutations", "R shuffles of the class variable for the permutation control (0: none; costs R times the NCC scoring, one orientation per pair)."),  # noqa: E501
    "label_permutations": (int, 39, "--label-permutations", "R refits of the class-variable classifier on shuffled labels, each rescored with NCC: the null the verdict uses, since c stays a function of the features (0: none; costs R classifier fits; skipped when no category is in the overall test)."),  # noqa: E501
    "permutation_max_images": (int, 2000, "--permutation-max-images", "The permutation control scores one seeded subsample of at most this many images (>= 2; observed and shuffled alike)."),  # noqa: E501
    "bootstrap": (int, 1000, "--bootstrap", "Image resamples for the per-category 95% intervals (0: none)."),
})

OUTPUT = _table({
    "output": (Optional[Path], None, ("--output", "-o"), "Output folder: feature_scores.csv, report.json, report.md, figures."),  # noqa: E501
    "output_alias": (Optional[Path], None, "--out", None),
})

COMMON = _table({
    "quiet": (bool, False, "--quiet", "No progress bars."),
})

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
