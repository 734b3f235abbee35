"""``ncc train``: train an NCC model (or an ensemble) on synthetic pairs.

Pairs come from the generator on the fly (its options are passed through) or from a file written
by ``ncc generate``. Writes the model (safetensors) and its metadata (JSON sidecar: configs, seed,
package version, steps, wall time, held-out synthetic metrics, the command line), and
``OUTPUT.png``: training loss and held-out accuracy against steps, from the logged history.
``--head link`` trains the link model (P(no causal link), :mod:`ncc.link`) instead. Checkpoints are
written atomically while training; ``--resume`` continues exactly where a run stopped.

Bad input ends with a one-line message on stderr and exit code 2, before any training.
"""
from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Optional

import typer

from ncc import cli_train_options as opt
from ncc._cli_utils import fail, parse_weights
from ncc.cli_train_options import DEFAULT_DEVICE, DEFAULT_HEAD, DEFAULT_OUTPUT, TrainArgs


def _parse_gen_options(items: list[str]) -> dict:
    """``--gen KEY=VALUE`` (VALUE read as JSON when it parses, else as a string)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ValueError(f"malformed --gen {item!r}: expected KEY=VALUE")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
        if isinstance(out[key], list):
            out[key] = tuple(out[key])
    return out


def _as_option(message: str) -> str:
    """"steps must be ..." / "NCCConfig.embed_dim must be ..." → "--steps must be ..." (CLI names)."""
    head, sep, rest = message.removeprefix("NCCConfig.").partition(" ")
    if sep and head in {f.name for f in fields(TrainArgs)}:  # not "unknown optimizer ..." -> "--unknown"
        return f"--{head.replace('_', '-')} {rest}"
    return message


def _command_line() -> str:
    """The command as typed when run as ``ncc train ...`` (else the interpreter's argv)."""
    argv = sys.argv[1:]
    if argv[:1] == ["train"]:
        return shlex.join(["ncc", *argv])
    return shlex.join([Path(sys.argv[0]).name, *argv])


def _default_threads() -> int:
    """The CPUs this process may use.

    Fixed for a given machine, never read from its current load: float sums depend on the thread
    count, so a load-dependent default would make the same seeded command give different weights.
    On a busy shared machine ``--threads 1`` can be much faster (waiting threads spin).
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _check_paths(output: Path, metadata: Path, checkpoint: Path, data: Optional[Path], resume: bool,
                 overwrite: bool) -> None:
    """Refuse, before training, paths that would lose a file or fail once the work is done."""
    from ncc._paths import first_clash, writable_problem

    roles = {"--output": output, "metadata (OUTPUT with .json)": metadata,
             ("--checkpoint" if checkpoint != output.with_suffix(".ckpt")
              else "checkpoint (OUTPUT with .ckpt)"): checkpoint,
             "--data": data}
    clash = first_clash(roles)
    if clash:
        a, b = clash
        fail(f"{a} {roles[a]} and {b} {roles[b]} are the same file; one would overwrite or delete the other "
             "(give another --output or --checkpoint)")
    for role, path in list(roles.items())[:3]:
        problem = writable_problem(path)
        if problem:
            fail(f"{role} {path}: {problem}")
    if resume and overwrite:
        fail("--resume and --overwrite contradict each other; give one")
    if resume and not checkpoint.exists():
        fail(f"--resume: no checkpoint at {checkpoint} (was the first run given the same --output / --checkpoint?)")
    if checkpoint.exists() and not (resume or overwrite):
        fail(f"checkpoint {checkpoint} exists (an earlier run); pass --resume to continue it or --overwrite "
             "to start over")


def _save_or_rescue(model, output: Path, metadata: dict, checkpoint: Path) -> None:
    """Save the trained model; if that fails now, save it elsewhere and say where (never lose it)."""
    from ncc._paths import fallback_path
    from ncc.serialization import metadata_path, save_model

    try:
        save_model(model, output, metadata)
        return
    except OSError as exc:
        reason = exc.strerror or str(exc)
    rescued = fallback_path(output)
    try:
        save_model(model, rescued, metadata)
    except OSError as exc:
        fail(f"cannot write {output} ({reason}) nor {rescued} ({exc.strerror or exc}); "
             f"the checkpoint {checkpoint} is kept: rerun with --resume and another --output")
    fail(f"cannot write {output} ({reason}); the model was saved to {rescued} (metadata "
         f"{metadata_path(rescued)}) and the checkpoint {checkpoint} is kept")


def _plot_or_warn(path: Path, metadata: dict) -> None:
    """OUTPUT.png: loss and held-out accuracy against steps. The model is saved already, so a
    failure here is a warning, never an error."""
    from ncc.plot_training import plot_history

    try:
        plot_history(metadata.get("history") or [], path, title=Path(path).stem)
    except (OSError, ValueError, ImportError) as exc:
        typer.echo(f"Warning: cannot draw {path} ({getattr(exc, 'strerror', None) or exc})", err=True)


def train(
    ctx: typer.Context,
    output: opt.Output = DEFAULT_OUTPUT,
    data: opt.Data = None,
    steps: opt.Steps = None,
    batch_size: opt.BatchSize = None,
    lr: opt.Lr = None,
    optimizer: opt.Optimizer = None,
    lr_schedule: opt.LrSchedule = None,
    weight_decay: opt.WeightDecay = None,
    seed: opt.Seed = 0,
    ensemble: opt.Ensemble = 1,
    device: opt.Device = DEFAULT_DEVICE,
    threads: opt.Threads = None,
    heldout: opt.Heldout = None,
    eval_every: opt.EvalEvery = None,
    checkpoint_every: opt.CheckpointEvery = None,
    checkpoint: opt.Checkpoint = None,
    resume: opt.Resume = False,
    overwrite: opt.Overwrite = False,
    keep_checkpoint: opt.KeepCheckpoint = False,
    progress: opt.Progress = True,
    head: opt.Head = DEFAULT_HEAD,
    embed_dim: opt.EmbedDim = None,
    embed_layers: opt.EmbedLayers = None,
    classifier_dim: opt.ClassifierDim = None,
    classifier_layers: opt.ClassifierLayers = None,
    dropout: opt.Dropout = None,
    batchnorm: opt.Batchnorm = True,
    statistics: opt.Statistics = None,
    copula: opt.Copula = None,
    rounds: opt.Rounds = None,
    max_points: opt.MaxPoints = None,
    n_subsamples: opt.NSubsamples = None,
    n_points: opt.NPoints = None,
    mechanism: opt.Mechanism = None,
    mechanism_weights: opt.MechanismWeights = None,
    cause: opt.Cause = None,
    cause_weights: opt.CauseWeights = None,
    noise: opt.Noise = None,
    noise_weights: opt.NoiseWeights = None,
    kinds: opt.Kinds = None,
    kind_weights: opt.KindWeights = None,
    discretize_prob: opt.DiscretizeProb = None,
    quantize_prob: opt.QuantizeProb = None,
    confounder_prob: opt.ConfounderProb = None,
    outlier_prob: opt.OutlierProb = None,
    gen: opt.Gen = None,
) -> None:
    """Train an NCC model on synthetic cause-effect pairs; save it as safetensors + JSON metadata.

    Generator options not given keep the defaults of ncc.train.DEFAULT_GENERATOR (all of them are
    recorded in the metadata).
    """
    args = TrainArgs(**ctx.params)
    _run(args, _plan(args), ctx.params)


@dataclass
class _Plan:
    """Everything checked before any work: a bad option never costs a training run."""

    model_config: Any  # NCCConfig
    train_config: Any  # TrainConfig
    source: Any  # SyntheticPairs or ArrayPairs
    device: Any  # torch.device
    checkpoint: Path


def _generator_given(a: TrainArgs) -> dict:
    """The generator options given on the command line (the rest keep DEFAULT_GENERATOR's)."""
    given = {
        "n_points": a.n_points, "mechanism": a.mechanism, "cause": a.cause, "noise": a.noise, "kinds": a.kinds,
        "discretize_prob": a.discretize_prob, "quantize_prob": a.quantize_prob,
        "confounder_prob": a.confounder_prob, "outlier_prob": a.outlier_prob,
    }
    try:
        for name in ("mechanism_weights", "cause_weights", "noise_weights", "kind_weights"):
            given[name] = parse_weights(getattr(a, name), "--" + name.replace("_", "-"))
        given = {k: v for k, v in given.items() if v is not None}
        given.update(_parse_gen_options(a.gen or []))
    except ValueError as exc:
        fail(str(exc))
    if a.data is not None and given:
        fail(f"--data {a.data} gives the training pairs; generator options ({', '.join(sorted(given))}) "
             "cannot be combined with it")
    return given


def _model_config(a: TrainArgs, link: bool):
    from ncc.model import NCCConfig
    from ncc.train import DEFAULT_ARCH, DEFAULT_LINK_ARCH

    arch = {k: v for k, v in dict(embed_dim=a.embed_dim, embed_layers=a.embed_layers,
                                   classifier_dim=a.classifier_dim, classifier_layers=a.classifier_layers,
                                   dropout=a.dropout, rounds=a.rounds, max_points=a.max_points,
                                   n_subsamples=a.n_subsamples, statistics=a.statistics,
                                   copula=a.copula).items() if v is not None}
    try:
        return NCCConfig(**{**(DEFAULT_LINK_ARCH if link else DEFAULT_ARCH), "batchnorm": a.batchnorm, **arch})
    except (TypeError, ValueError) as exc:
        fail(_as_option(str(exc)))


def _check_run_options(a: TrainArgs):
    """Threads, held-out size, seed, device and output name; returns the torch device."""
    from ncc.train import resolve_device

    if a.threads is not None and a.threads < 1:
        fail(f"--threads must be >= 1, got {a.threads}")
    if a.heldout is not None and a.heldout < 0:
        fail(f"--heldout must be >= 0, got {a.heldout}")
    if not 0 <= a.seed <= 2**32 - 1:
        fail(f"--seed must be in [0, {2**32 - 1}], got {a.seed}")
    try:
        device = resolve_device(a.device)
    except ValueError as exc:
        fail(str(exc))
    if a.output.exists() and a.output.is_dir():
        fail(f"--output {a.output} is a folder; give a file name such as {a.output / 'ncc-model.safetensors'}")
    if a.output.suffix == ".json":
        fail(f"--output {a.output}: the model file cannot be .json (that name is used for the metadata)")
    return device


def _source_and_config(a: TrainArgs, given: dict, link: bool):
    """The training pairs and the TrainConfig; a generator option that fails only when pairs are
    drawn is caught here too (one batch is drawn)."""
    from ncc.train import DEFAULT_LINK_GENERATOR, ArrayPairs, SyntheticPairs, TrainConfig, generator_options

    opts = {k: v for k, v in dict(steps=a.steps, batch_size=a.batch_size, lr=a.lr, optimizer=a.optimizer,
                                   lr_schedule=a.lr_schedule, weight_decay=a.weight_decay, eval_every=a.eval_every,
                                   checkpoint_every=a.checkpoint_every).items() if v is not None}
    try:
        if a.data is not None:
            source = ArrayPairs.from_file(a.data, seed=a.seed, n_heldout=a.heldout)
            n_heldout = len(source.heldout_idx)
            if link and not ((source.y < 0).any() and (source.y >= 0).any()):
                raise ValueError(f"--head link: --data {a.data} needs pairs with a link (label 1 / 0) and "
                                 "without one (label -1); generate it with --kinds causal,independent,confounded")
        else:
            n_heldout = 1000 if a.heldout is None else a.heldout
            if link and "kinds" not in given:  # the link head needs the no-link kinds
                given = {**DEFAULT_LINK_GENERATOR, **given}
            source = SyntheticPairs(generator_options(given), seed=a.seed, n_heldout=n_heldout)
            if link and ("causal" not in source.config.kinds or len(source.config.kinds) < 2):
                raise ValueError(f"--head link: --kinds {','.join(source.config.kinds)} must hold causal and at "
                                 "least one of independent, confounded (pairs with and without a link)")
        try:
            train_config = TrainConfig(seed=a.seed, ensemble=a.ensemble, n_heldout=n_heldout, **opts)
        except ValueError as exc:
            raise ValueError(_as_option(str(exc))) from None
        if a.data is None:
            source.batch(0, 0, 2)  # a generator option may only fail when pairs are drawn
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if isinstance(exc, TypeError) and "unexpected keyword" in message:
            message = f"unknown generator option: {message.split('argument')[-1].strip()}"
        fail(message)
    return source, train_config


def _plan(a: TrainArgs) -> _Plan:
    """Validate every option, in the order the messages have always come, before any work."""
    from ncc.serialization import metadata_path
    from ncc.train import HEADS

    if a.head not in HEADS:
        fail(f"unknown --head {a.head!r}; valid: {', '.join(HEADS)}")
    link = a.head == "link"
    given = _generator_given(a)
    model_config = _model_config(a, link)
    device = _check_run_options(a)
    checkpoint = a.checkpoint if a.checkpoint is not None else a.output.with_suffix(".ckpt")
    _check_paths(a.output, metadata_path(a.output), checkpoint, a.data, a.resume, a.overwrite)
    source, train_config = _source_and_config(a, given, link)
    return _Plan(model_config, train_config, source, device, checkpoint)


def _run(a: TrainArgs, plan: _Plan, params: dict) -> None:
    """Train, save the model and its metadata, draw OUTPUT.png, print the summary line."""
    import torch

    from ncc.serialization import metadata_path
    from ncc.train import CheckpointError, TrainingInterrupted, train_ncc

    torch.set_num_threads(a.threads if a.threads is not None else _default_threads())
    try:
        result = train_ncc(plan.model_config, plan.train_config, plan.source, checkpoint=plan.checkpoint,
                           resume=a.resume, device=plan.device, progress=a.progress, head=a.head)
    except CheckpointError as exc:
        fail(str(exc))
    except TrainingInterrupted as exc:
        where = f"checkpoint saved to {exc.checkpoint}" if exc.checkpoint else "no new checkpoint"
        fail(f"interrupted at step {exc.step} of member {exc.member + 1}; {where}; "
             "rerun the same command with --resume to continue", code=130)
    except FloatingPointError as exc:
        fail(str(exc), code=1)

    metadata = result.metadata
    metadata["command"] = _command_line()
    metadata["options"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in params.items()}
    metadata["resumed"] = a.resume
    checkpoint = result.checkpoint or plan.checkpoint  # it moves when its own folder became unwritable
    _save_or_rescue(result.model, a.output, metadata, checkpoint)
    if not a.keep_checkpoint:
        checkpoint.unlink(missing_ok=True)  # the model file now holds everything worth keeping
    _plot_or_warn(a.output.with_suffix(".png"), metadata)
    _print_summary(a, metadata, metadata_path(a.output))


def _print_summary(a: TrainArgs, metadata: dict, meta_file: Path) -> None:
    link = a.head == "link"
    acc = metadata["heldout"]["accuracy"]
    acc_text = f"held-out {'link ' if link else ''}accuracy {acc:.3f} on {metadata['heldout']['n_pairs']} pairs" \
        if acc is not None else "no held-out pairs"
    if link and metadata["heldout"].get("auc") is not None:
        acc_text += f", link AUC {metadata['heldout']['auc']:.3f}"
    typer.echo(f"saved {a.output} and {meta_file} ({acc_text}; "
               f"{metadata['steps']} steps in {metadata['wall_time_s']:.0f} s)")
