"""The options of ``ncc train``: one ``Annotated`` type per option (help, panel), and
:class:`TrainArgs`, the values of one invocation, built once from the parsed command line.

Kept apart from the command so its signature stays one line per option and the logic in
:mod:`ncc.cli_train` reads the values from one object instead of 46 local names.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer

from ncc import choices
from ncc.choices import option_kwargs

_GEN = "Generator"
_ARCH = "Architecture"
_OPT = "Optimisation"
_RUN = "Run"

# Defaults that are not None (None: the config's default applies, see ncc.train).
DEFAULT_OUTPUT = Path("ncc-model.safetensors")
DEFAULT_DEVICE = "auto"
DEFAULT_HEAD = "direction"

# The help of every option, by its first flag (typer prints them; the test of the defaults reads them).
_HELP = {
    "--output": "Model file to write (.safetensors); metadata goes to the same name with .json.",
    "--data": "Train on pairs from this .npz file (written by `ncc generate`) instead of fresh synthetic pairs.",
    "--steps": "Optimiser steps per ensemble member. (default: 3000)",
    "--batch-size": "Pairs per step (each also seen reversed). (default: 32)",
    "--lr": "Learning rate. (default: 0.001)",
    "--optimizer": "adam or rmsprop. (default: adam)",
    "--lr-schedule": "constant or cosine. (default: constant)",
    "--weight-decay": "L2 penalty. (default: 0)",
    "--seed": "Fixes weights, batches and held-out pairs (bit-exact on CPU).",
    "--ensemble": "Number of networks, trained one after the other with seeds derived from --seed; scores are "
                  "averaged.",
    "--device": "auto, cpu or cuda.",
    "--threads": "CPU threads for torch; results depend on it, so give the same value to reproduce a run. (default: "
                 "the CPUs this process may use)",
    "--heldout": "Held-out synthetic pairs for the progress bar and metadata. (default: 1000; with --data: 10% of the "
                 "file, at most 1000)",
    "--eval-every": "Steps between held-out evaluations. (default: 500)",
    "--checkpoint-every": "Steps between checkpoints. (default: 500)",
    "--checkpoint": "Checkpoint file. (default: OUTPUT with .ckpt)",
    "--resume": "Continue from the checkpoint (same options as the interrupted run).",
    "--overwrite": "Start over even if the checkpoint file exists (it is replaced).",
    "--keep-checkpoint": "Keep the checkpoint after the model is saved (it is deleted by default).",
    "--progress/--no-progress": "Show a progress bar on stderr.",
    "--head": "What the model answers: direction (P(x -> y)) or link (P(no causal link); defaults then come from "
              "ncc.train.DEFAULT_LINK_ARCH and DEFAULT_LINK_GENERATOR).",
    "--embed-dim": "Units per φ hidden layer. (default: 100)",
    "--embed-layers": "φ hidden layers. (default: 2)",
    "--classifier-dim": "Units per ψ hidden layer. (default: 100)",
    "--classifier-layers": "ψ hidden layers. (default: 2)",
    "--dropout": "Dropout after each hidden layer. (default: 0.25)",
    "--batchnorm/--no-batchnorm": "Batch normalisation in hidden layers.",
    "--statistics/--no-statistics": "Hybrid NCC: ψ also reads classic cause-effect statistics of both orientations "
                                    "(ncc.statistics); the default is ncc.train.DEFAULT_ARCH's. (default: True)",
    "--copula/--no-copula": "φ also reads each point's mid-ranks (copula coordinates); the default is "
                            "ncc.train.DEFAULT_ARCH's. (default: True)",
    "--rounds": "Pooling rounds of the set network: 2 adds a second φ that sees each point beside its pair's "
                "first-round mean. (default: 1)",
    "--max-points": "Scoring default stored in the model: larger pairs are scored on random subsamples of this size. "
                    "(default: 5000)",
    "--n-subsamples": "Scoring default stored in the model: subsamples per large pair. (default: 8)",
    "--n-points": "Points per pair: M, or LOW:HIGH (log-uniform sizes).",
    "--mechanism": "Mechanism family, or 'mix'.",
    "--mechanism-weights": "For --mechanism mix: NAME=W,NAME=W.",
    "--cause": "Cause distribution (gmm, uniform, student_t, lognormal) or mix.",
    "--cause-weights": "For --cause mix: NAME=W,NAME=W.",
    "--noise": "Noise shape (gaussian, uniform, laplace, student_t) or mix.",
    "--noise-weights": "For --noise mix: NAME=W,NAME=W.",
    "--kinds": "Comma-separated: causal, independent, confounded (no-link pairs get target 1/2).",
    "--kind-weights": "KIND=W,KIND=W.",
    "--discretize-prob": "Probability per pair of an integer-valued cause.",
    "--quantize-prob": "Probability per variable of coarse rounding.",
    "--confounder-prob": "Probability per causal pair of an extra hidden confounder.",
    "--outlier-prob": "Probability per pair of gross errors on a few effect values.",
    "--gen": "Any other generator option, KEY=VALUE (JSON value); repeatable.",
}


def _option(panel: str, *flags: str, **kwargs):
    """typer.Option with its help from _HELP, in the help panel ``panel``."""
    return typer.Option(*flags, help=_HELP[flags[0]], rich_help_panel=panel, **kwargs)


# One type per option, grouped by value type; the order in --help is the command's signature.
Checkpoint = Annotated[Optional[Path], _option(_RUN, "--checkpoint")]
Data = Annotated[Optional[Path], _option(_RUN, "--data")]
Copula = Annotated[Optional[bool], _option(_ARCH, "--copula/--no-copula", show_default=False)]
Statistics = Annotated[Optional[bool], _option(_ARCH, "--statistics/--no-statistics", show_default=False)]
ConfounderProb = Annotated[Optional[float], _option(_GEN, "--confounder-prob")]
DiscretizeProb = Annotated[Optional[float], _option(_GEN, "--discretize-prob")]
Dropout = Annotated[Optional[float], _option(_ARCH, "--dropout")]
Lr = Annotated[Optional[float], _option(_OPT, "--lr")]
OutlierProb = Annotated[Optional[float], _option(_GEN, "--outlier-prob")]
QuantizeProb = Annotated[Optional[float], _option(_GEN, "--quantize-prob")]
WeightDecay = Annotated[Optional[float], _option(_OPT, "--weight-decay")]
BatchSize = Annotated[Optional[int], _option(_OPT, "--batch-size")]
CheckpointEvery = Annotated[Optional[int], _option(_RUN, "--checkpoint-every")]
ClassifierDim = Annotated[Optional[int], _option(_ARCH, "--classifier-dim")]
ClassifierLayers = Annotated[Optional[int], _option(_ARCH, "--classifier-layers")]
EmbedDim = Annotated[Optional[int], _option(_ARCH, "--embed-dim")]
EmbedLayers = Annotated[Optional[int], _option(_ARCH, "--embed-layers")]
EvalEvery = Annotated[Optional[int], _option(_RUN, "--eval-every")]
Heldout = Annotated[Optional[int], _option(_RUN, "--heldout")]
MaxPoints = Annotated[Optional[int], _option(_ARCH, "--max-points")]
NSubsamples = Annotated[Optional[int], _option(_ARCH, "--n-subsamples")]
Rounds = Annotated[Optional[int], _option(_ARCH, "--rounds")]
Steps = Annotated[Optional[int], _option(_OPT, "--steps")]
Threads = Annotated[Optional[int], _option(_RUN, "--threads")]
Gen = Annotated[Optional[list[str]], _option(_GEN, "--gen")]
Cause = Annotated[Optional[str], _option(_GEN, "--cause", **option_kwargs(choices.Cause, "cause"))]
CauseWeights = Annotated[Optional[str], _option(_GEN, "--cause-weights")]
KindWeights = Annotated[Optional[str], _option(_GEN, "--kind-weights")]
Kinds = Annotated[Optional[str], _option(_GEN, "--kinds")]
LrSchedule = Annotated[Optional[str], _option(_OPT, "--lr-schedule",
                                               **option_kwargs(choices.LRSchedule, "lr_schedule"))]
Mechanism = Annotated[Optional[str], _option(_GEN, "--mechanism", **option_kwargs(choices.Mechanism, "mechanism"))]
MechanismWeights = Annotated[Optional[str], _option(_GEN, "--mechanism-weights")]
NPoints = Annotated[Optional[str], _option(_GEN, "--n-points")]
Noise = Annotated[Optional[str], _option(_GEN, "--noise", **option_kwargs(choices.Noise, "noise"))]
NoiseWeights = Annotated[Optional[str], _option(_GEN, "--noise-weights")]
Optimizer = Annotated[Optional[str], _option(_OPT, "--optimizer", **option_kwargs(choices.Optimizer, "optimizer"))]
Output = Annotated[Path, _option(_RUN, "--output", "-o")]
Batchnorm = Annotated[bool, _option(_ARCH, "--batchnorm/--no-batchnorm")]
KeepCheckpoint = Annotated[bool, _option(_RUN, "--keep-checkpoint")]
Overwrite = Annotated[bool, _option(_RUN, "--overwrite")]
Progress = Annotated[bool, _option(_RUN, "--progress/--no-progress", " /--quiet")]
Resume = Annotated[bool, _option(_RUN, "--resume")]
Ensemble = Annotated[int, _option(_RUN, "--ensemble")]
Seed = Annotated[int, _option(_RUN, "--seed")]
Device = Annotated[str, _option(_RUN, "--device")]
Head = Annotated[str, _option(_RUN, "--head", **option_kwargs(choices.Head, "head"))]


@dataclass(frozen=True)
class TrainArgs:
    """The options of one ``ncc train`` run as parsed (None: not given, the config default applies)."""

    output: Path
    data: Optional[Path]
    steps: Optional[int]
    batch_size: Optional[int]
    lr: Optional[float]
    optimizer: Optional[str]
    lr_schedule: Optional[str]
    weight_decay: Optional[float]
    seed: int
    ensemble: int
    device: str
    threads: Optional[int]
    heldout: Optional[int]
    eval_every: Optional[int]
    checkpoint_every: Optional[int]
    checkpoint: Optional[Path]
    resume: bool
    overwrite: bool
    keep_checkpoint: bool
    progress: bool
    head: str
    embed_dim: Optional[int]
    embed_layers: Optional[int]
    classifier_dim: Optional[int]
    classifier_layers: Optional[int]
    dropout: Optional[float]
    batchnorm: bool
    statistics: Optional[bool]
    copula: Optional[bool]
    rounds: Optional[int]
    max_points: Optional[int]
    n_subsamples: Optional[int]
    n_points: Optional[str]
    mechanism: Optional[str]
    mechanism_weights: Optional[str]
    cause: Optional[str]
    cause_weights: Optional[str]
    noise: Optional[str]
    noise_weights: Optional[str]
    kinds: Optional[str]
    kind_weights: Optional[str]
    discretize_prob: Optional[float]
    quantize_prob: Optional[float]
    confounder_prob: Optional[float]
    outlier_prob: Optional[float]
    gen: Optional[list[str]]
