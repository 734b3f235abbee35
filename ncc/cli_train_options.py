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

_GEN = "Generator"
_ARCH = "Architecture"
_OPT = "Optimisation"
_RUN = "Run"

Output = Annotated[Path, typer.Option(
    "--output", "-o",
    help="Model file to write (.safetensors); metadata goes to the same name with .json.",
    rich_help_panel=_RUN)]
Data = Annotated[Optional[Path], typer.Option(
    "--data",
    help="Train on pairs from this .npz file (written by `ncc generate`) instead of fresh synthetic pairs.",
    rich_help_panel=_RUN)]
Steps = Annotated[Optional[int], typer.Option(
    "--steps", help="Optimiser steps per ensemble member. (default: 3000)", rich_help_panel=_OPT)]
BatchSize = Annotated[Optional[int], typer.Option(
    "--batch-size", help="Pairs per step (each also seen reversed). (default: 32)", rich_help_panel=_OPT)]
Lr = Annotated[Optional[float], typer.Option(
    "--lr", help="Learning rate. (default: 0.001)", rich_help_panel=_OPT)]
Optimizer = Annotated[Optional[str], typer.Option(
    "--optimizer", help="adam or rmsprop. (default: adam)", rich_help_panel=_OPT)]
LrSchedule = Annotated[Optional[str], typer.Option(
    "--lr-schedule", help="constant or cosine. (default: constant)", rich_help_panel=_OPT)]
WeightDecay = Annotated[Optional[float], typer.Option(
    "--weight-decay", help="L2 penalty. (default: 0)", rich_help_panel=_OPT)]
Seed = Annotated[int, typer.Option(
    "--seed", help="Fixes weights, batches and held-out pairs (bit-exact on CPU).", rich_help_panel=_RUN)]
Ensemble = Annotated[int, typer.Option(
    "--ensemble",
    help="Number of networks, trained one after the other with seeds derived from --seed; scores are averaged.",
    rich_help_panel=_RUN)]
Device = Annotated[str, typer.Option("--device", help="auto, cpu or cuda.", rich_help_panel=_RUN)]
Threads = Annotated[Optional[int], typer.Option(
    "--threads",
    help="CPU threads for torch; results depend on it, so give the same value to reproduce a run. (default: the "
         "CPUs this process may use)",
    rich_help_panel=_RUN)]
Heldout = Annotated[Optional[int], typer.Option(
    "--heldout",
    help="Held-out synthetic pairs for the progress bar and metadata. (default: 1000; with --data: 10% of the "
         "file, at most 1000)",
    rich_help_panel=_RUN)]
EvalEvery = Annotated[Optional[int], typer.Option(
    "--eval-every", help="Steps between held-out evaluations. (default: 500)", rich_help_panel=_RUN)]
CheckpointEvery = Annotated[Optional[int], typer.Option(
    "--checkpoint-every", help="Steps between checkpoints. (default: 500)", rich_help_panel=_RUN)]
Checkpoint = Annotated[Optional[Path], typer.Option(
    "--checkpoint", help="Checkpoint file. (default: OUTPUT with .ckpt)", rich_help_panel=_RUN)]
Resume = Annotated[bool, typer.Option(
    "--resume",
    help="Continue from the checkpoint (same options as the interrupted run).",
    rich_help_panel=_RUN)]
Overwrite = Annotated[bool, typer.Option(
    "--overwrite",
    help="Start over even if the checkpoint file exists (it is replaced).",
    rich_help_panel=_RUN)]
KeepCheckpoint = Annotated[bool, typer.Option(
    "--keep-checkpoint",
    help="Keep the checkpoint after the model is saved (it is deleted by default).",
    rich_help_panel=_RUN)]
Progress = Annotated[bool, typer.Option(
    "--progress/--no-progress", help="Show a progress bar on stderr.", rich_help_panel=_RUN)]
Head = Annotated[str, typer.Option(
    "--head",
    help="What the model answers: direction (P(x -> y)) or link (P(no causal link); defaults then come from "
         "ncc.train.DEFAULT_LINK_ARCH and DEFAULT_LINK_GENERATOR).",
    rich_help_panel=_RUN)]
EmbedDim = Annotated[Optional[int], typer.Option(
    "--embed-dim", help="Units per φ hidden layer. (default: 100)", rich_help_panel=_ARCH)]
EmbedLayers = Annotated[Optional[int], typer.Option(
    "--embed-layers", help="φ hidden layers. (default: 2)", rich_help_panel=_ARCH)]
ClassifierDim = Annotated[Optional[int], typer.Option(
    "--classifier-dim", help="Units per ψ hidden layer. (default: 100)", rich_help_panel=_ARCH)]
ClassifierLayers = Annotated[Optional[int], typer.Option(
    "--classifier-layers", help="ψ hidden layers. (default: 2)", rich_help_panel=_ARCH)]
Dropout = Annotated[Optional[float], typer.Option(
    "--dropout", help="Dropout after each hidden layer. (default: 0.25)", rich_help_panel=_ARCH)]
Batchnorm = Annotated[bool, typer.Option(
    "--batchnorm/--no-batchnorm", help="Batch normalisation in hidden layers.", rich_help_panel=_ARCH)]
Statistics = Annotated[Optional[bool], typer.Option(
    "--statistics/--no-statistics",
    help="Hybrid NCC: ψ also reads classic cause-effect statistics of both orientations (ncc.statistics); the "
         "default is ncc.train.DEFAULT_ARCH's. (default: True)",
    rich_help_panel=_ARCH, show_default=False)]
Copula = Annotated[Optional[bool], typer.Option(
    "--copula/--no-copula",
    help="φ also reads each point's mid-ranks (copula coordinates); the default is ncc.train.DEFAULT_ARCH's. "
         "(default: True)",
    rich_help_panel=_ARCH, show_default=False)]
Rounds = Annotated[Optional[int], typer.Option(
    "--rounds",
    help="Pooling rounds of the set network: 2 adds a second φ that sees each point beside its pair's first-round "
         "mean. (default: 1)",
    rich_help_panel=_ARCH)]
MaxPoints = Annotated[Optional[int], typer.Option(
    "--max-points",
    help="Scoring default stored in the model: larger pairs are scored on random subsamples of this size. "
         "(default: 5000)",
    rich_help_panel=_ARCH)]
NSubsamples = Annotated[Optional[int], typer.Option(
    "--n-subsamples",
    help="Scoring default stored in the model: subsamples per large pair. (default: 8)",
    rich_help_panel=_ARCH)]
NPoints = Annotated[Optional[str], typer.Option(
    "--n-points", help="Points per pair: M, or LOW:HIGH (log-uniform sizes).", rich_help_panel=_GEN)]
Mechanism = Annotated[Optional[str], typer.Option(
    "--mechanism", help="Mechanism family, or 'mix'.", rich_help_panel=_GEN)]
MechanismWeights = Annotated[Optional[str], typer.Option(
    "--mechanism-weights", help="For --mechanism mix: NAME=W,NAME=W.", rich_help_panel=_GEN)]
Cause = Annotated[Optional[str], typer.Option(
    "--cause",
    help="Cause distribution (gmm, uniform, student_t, lognormal) or mix.",
    rich_help_panel=_GEN)]
CauseWeights = Annotated[Optional[str], typer.Option(
    "--cause-weights", help="For --cause mix: NAME=W,NAME=W.", rich_help_panel=_GEN)]
Noise = Annotated[Optional[str], typer.Option(
    "--noise", help="Noise shape (gaussian, uniform, laplace, student_t) or mix.", rich_help_panel=_GEN)]
NoiseWeights = Annotated[Optional[str], typer.Option(
    "--noise-weights", help="For --noise mix: NAME=W,NAME=W.", rich_help_panel=_GEN)]
Kinds = Annotated[Optional[str], typer.Option(
    "--kinds",
    help="Comma-separated: causal, independent, confounded (no-link pairs get target 1/2).",
    rich_help_panel=_GEN)]
KindWeights = Annotated[Optional[str], typer.Option(
    "--kind-weights", help="KIND=W,KIND=W.", rich_help_panel=_GEN)]
DiscretizeProb = Annotated[Optional[float], typer.Option(
    "--discretize-prob", help="Probability per pair of an integer-valued cause.", rich_help_panel=_GEN)]
QuantizeProb = Annotated[Optional[float], typer.Option(
    "--quantize-prob", help="Probability per variable of coarse rounding.", rich_help_panel=_GEN)]
ConfounderProb = Annotated[Optional[float], typer.Option(
    "--confounder-prob",
    help="Probability per causal pair of an extra hidden confounder.",
    rich_help_panel=_GEN)]
OutlierProb = Annotated[Optional[float], typer.Option(
    "--outlier-prob",
    help="Probability per pair of gross errors on a few effect values.",
    rich_help_panel=_GEN)]
Gen = Annotated[Optional[list[str]], typer.Option(
    "--gen", help="Any other generator option, KEY=VALUE (JSON value); repeatable.", rich_help_panel=_GEN)]


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
