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
from pathlib import Path
from typing import Annotated, Optional

import typer

from ncc._cli_utils import fail, parse_weights

_GEN = "Generator"
_ARCH = "Architecture"
_OPT = "Optimisation"
_RUN = "Run"


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
    import inspect

    head, sep, rest = message.removeprefix("NCCConfig.").partition(" ")
    if sep and head in inspect.signature(train).parameters:  # not "unknown optimizer ..." -> "--unknown"
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
    output: Annotated[Path, typer.Option(
        "--output", "-o",
        help="Model file to write (.safetensors); metadata goes to the same name with .json.",
        rich_help_panel=_RUN)] = Path("ncc-model.safetensors"),
    data: Annotated[Optional[Path], typer.Option(
        "--data",
        help="Train on pairs from this .npz file (written by `ncc generate`) instead of fresh synthetic pairs.",
        rich_help_panel=_RUN)] = None,
    steps: Annotated[Optional[int], typer.Option(
        "--steps", help="Optimiser steps per ensemble member. (default: 3000)", rich_help_panel=_OPT)] = None,
    batch_size: Annotated[Optional[int], typer.Option(
        "--batch-size", help="Pairs per step (each also seen reversed). (default: 32)", rich_help_panel=_OPT)] = None,
    lr: Annotated[Optional[float], typer.Option(
        "--lr", help="Learning rate. (default: 0.001)", rich_help_panel=_OPT)] = None,
    optimizer: Annotated[Optional[str], typer.Option(
        "--optimizer", help="adam or rmsprop. (default: adam)", rich_help_panel=_OPT)] = None,
    lr_schedule: Annotated[Optional[str], typer.Option(
        "--lr-schedule", help="constant or cosine. (default: constant)", rich_help_panel=_OPT)] = None,
    weight_decay: Annotated[Optional[float], typer.Option(
        "--weight-decay", help="L2 penalty. (default: 0)", rich_help_panel=_OPT)] = None,
    seed: Annotated[int, typer.Option(
        "--seed", help="Fixes weights, batches and held-out pairs (bit-exact on CPU).", rich_help_panel=_RUN)] = 0,
    ensemble: Annotated[int, typer.Option(
        "--ensemble",
        help="Number of networks, trained one after the other with seeds derived from --seed; scores are averaged.",
        rich_help_panel=_RUN)] = 1,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.", rich_help_panel=_RUN)] = "auto",
    threads: Annotated[Optional[int], typer.Option(
        "--threads",
        help="CPU threads for torch; results depend on it, so give the same value to reproduce a run. (default: the "
             "CPUs this process may use)",
        rich_help_panel=_RUN)] = None,
    heldout: Annotated[Optional[int], typer.Option(
        "--heldout",
        help="Held-out synthetic pairs for the progress bar and metadata. (default: 1000; with --data: 10% of the "
             "file, at most 1000)",
        rich_help_panel=_RUN)] = None,
    eval_every: Annotated[Optional[int], typer.Option(
        "--eval-every", help="Steps between held-out evaluations. (default: 500)", rich_help_panel=_RUN)] = None,
    checkpoint_every: Annotated[Optional[int], typer.Option(
        "--checkpoint-every", help="Steps between checkpoints. (default: 500)", rich_help_panel=_RUN)] = None,
    checkpoint: Annotated[Optional[Path], typer.Option(
        "--checkpoint", help="Checkpoint file. (default: OUTPUT with .ckpt)", rich_help_panel=_RUN)] = None,
    resume: Annotated[bool, typer.Option(
        "--resume",
        help="Continue from the checkpoint (same options as the interrupted run).",
        rich_help_panel=_RUN)] = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite",
        help="Start over even if the checkpoint file exists (it is replaced).",
        rich_help_panel=_RUN)] = False,
    keep_checkpoint: Annotated[bool, typer.Option(
        "--keep-checkpoint",
        help="Keep the checkpoint after the model is saved (it is deleted by default).",
        rich_help_panel=_RUN)] = False,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress", help="Show a progress bar on stderr.", rich_help_panel=_RUN)] = True,
    head: Annotated[str, typer.Option(
        "--head",
        help="What the model answers: direction (P(x -> y)) or link (P(no causal link); defaults then come from "
             "ncc.train.DEFAULT_LINK_ARCH and DEFAULT_LINK_GENERATOR).",
        rich_help_panel=_RUN)] = "direction",
    embed_dim: Annotated[Optional[int], typer.Option(
        "--embed-dim", help="Units per φ hidden layer. (default: 100)", rich_help_panel=_ARCH)] = None,
    embed_layers: Annotated[Optional[int], typer.Option(
        "--embed-layers", help="φ hidden layers. (default: 2)", rich_help_panel=_ARCH)] = None,
    classifier_dim: Annotated[Optional[int], typer.Option(
        "--classifier-dim", help="Units per ψ hidden layer. (default: 100)", rich_help_panel=_ARCH)] = None,
    classifier_layers: Annotated[Optional[int], typer.Option(
        "--classifier-layers", help="ψ hidden layers. (default: 2)", rich_help_panel=_ARCH)] = None,
    dropout: Annotated[Optional[float], typer.Option(
        "--dropout", help="Dropout after each hidden layer. (default: 0.25)", rich_help_panel=_ARCH)] = None,
    batchnorm: Annotated[bool, typer.Option(
        "--batchnorm/--no-batchnorm", help="Batch normalisation in hidden layers.", rich_help_panel=_ARCH)] = True,
    statistics: Annotated[Optional[bool], typer.Option(
        "--statistics/--no-statistics",
        help="Hybrid NCC: ψ also reads classic cause-effect statistics of both orientations (ncc.statistics); the "
             "default is ncc.train.DEFAULT_ARCH's. (default: True)",
        rich_help_panel=_ARCH, show_default=False)] = None,
    copula: Annotated[Optional[bool], typer.Option(
        "--copula/--no-copula",
        help="φ also reads each point's mid-ranks (copula coordinates); the default is ncc.train.DEFAULT_ARCH's. "
             "(default: True)",
        rich_help_panel=_ARCH, show_default=False)] = None,
    rounds: Annotated[Optional[int], typer.Option(
        "--rounds",
        help="Pooling rounds of the set network: 2 adds a second φ that sees each point beside its pair's first-round "
             "mean. (default: 1)",
        rich_help_panel=_ARCH)] = None,
    max_points: Annotated[Optional[int], typer.Option(
        "--max-points",
        help="Scoring default stored in the model: larger pairs are scored on random subsamples of this size. "
             "(default: 5000)",
        rich_help_panel=_ARCH)] = None,
    n_subsamples: Annotated[Optional[int], typer.Option(
        "--n-subsamples",
        help="Scoring default stored in the model: subsamples per large pair. (default: 8)",
        rich_help_panel=_ARCH)] = None,
    n_points: Annotated[Optional[str], typer.Option(
        "--n-points", help="Points per pair: M, or LOW:HIGH (log-uniform sizes).", rich_help_panel=_GEN)] = None,
    mechanism: Annotated[Optional[str], typer.Option(
        "--mechanism", help="Mechanism family, or 'mix'.", rich_help_panel=_GEN)] = None,
    mechanism_weights: Annotated[Optional[str], typer.Option(
        "--mechanism-weights", help="For --mechanism mix: NAME=W,NAME=W.", rich_help_panel=_GEN)] = None,
    cause: Annotated[Optional[str], typer.Option(
        "--cause",
        help="Cause distribution (gmm, uniform, student_t, lognormal) or mix.",
        rich_help_panel=_GEN)] = None,
    cause_weights: Annotated[Optional[str], typer.Option(
        "--cause-weights", help="For --cause mix: NAME=W,NAME=W.", rich_help_panel=_GEN)] = None,
    noise: Annotated[Optional[str], typer.Option(
        "--noise", help="Noise shape (gaussian, uniform, laplace, student_t) or mix.", rich_help_panel=_GEN)] = None,
    noise_weights: Annotated[Optional[str], typer.Option(
        "--noise-weights", help="For --noise mix: NAME=W,NAME=W.", rich_help_panel=_GEN)] = None,
    kinds: Annotated[Optional[str], typer.Option(
        "--kinds",
        help="Comma-separated: causal, independent, confounded (no-link pairs get target 1/2).",
        rich_help_panel=_GEN)] = None,
    kind_weights: Annotated[Optional[str], typer.Option(
        "--kind-weights", help="KIND=W,KIND=W.", rich_help_panel=_GEN)] = None,
    discretize_prob: Annotated[Optional[float], typer.Option(
        "--discretize-prob", help="Probability per pair of an integer-valued cause.", rich_help_panel=_GEN)] = None,
    quantize_prob: Annotated[Optional[float], typer.Option(
        "--quantize-prob", help="Probability per variable of coarse rounding.", rich_help_panel=_GEN)] = None,
    confounder_prob: Annotated[Optional[float], typer.Option(
        "--confounder-prob",
        help="Probability per causal pair of an extra hidden confounder.",
        rich_help_panel=_GEN)] = None,
    outlier_prob: Annotated[Optional[float], typer.Option(
        "--outlier-prob",
        help="Probability per pair of gross errors on a few effect values.",
        rich_help_panel=_GEN)] = None,
    gen: Annotated[Optional[list[str]], typer.Option(
        "--gen", help="Any other generator option, KEY=VALUE (JSON value); repeatable.", rich_help_panel=_GEN)] = None,
) -> None:
    """Train an NCC model on synthetic cause-effect pairs; save it as safetensors + JSON metadata.

    Generator options not given keep the defaults of ncc.train.DEFAULT_GENERATOR (all of them are
    recorded in the metadata).
    """
    import torch

    from ncc.model import NCCConfig
    from ncc.serialization import metadata_path
    from ncc.train import (
        DEFAULT_ARCH,
        DEFAULT_LINK_ARCH,
        DEFAULT_LINK_GENERATOR,
        HEADS,
        ArrayPairs,
        CheckpointError,
        SyntheticPairs,
        TrainConfig,
        TrainingInterrupted,
        generator_options,
        resolve_device,
        train_ncc,
    )

    if head not in HEADS:
        fail(f"unknown --head {head!r}; valid: {', '.join(HEADS)}")
    link = head == "link"

    # -- validate everything before any work -----------------------------------------------------
    generator_given = {
        "n_points": n_points, "mechanism": mechanism, "cause": cause, "noise": noise, "kinds": kinds,
        "discretize_prob": discretize_prob, "quantize_prob": quantize_prob, "confounder_prob": confounder_prob,
        "outlier_prob": outlier_prob,
    }
    try:
        generator_given["mechanism_weights"] = parse_weights(mechanism_weights, "--mechanism-weights")
        generator_given["cause_weights"] = parse_weights(cause_weights, "--cause-weights")
        generator_given["noise_weights"] = parse_weights(noise_weights, "--noise-weights")
        generator_given["kind_weights"] = parse_weights(kind_weights, "--kind-weights")
        generator_given = {k: v for k, v in generator_given.items() if v is not None}
        generator_given.update(_parse_gen_options(gen or []))
    except ValueError as exc:
        fail(str(exc))
    if data is not None and generator_given:
        fail(f"--data {data} gives the training pairs; generator options ({', '.join(sorted(generator_given))}) "
             "cannot be combined with it")
    arch = {k: v for k, v in dict(embed_dim=embed_dim, embed_layers=embed_layers, classifier_dim=classifier_dim,
                                   classifier_layers=classifier_layers, dropout=dropout, rounds=rounds,
                                   max_points=max_points, n_subsamples=n_subsamples).items() if v is not None}
    opts = {k: v for k, v in dict(steps=steps, batch_size=batch_size, lr=lr, optimizer=optimizer,
                                   lr_schedule=lr_schedule, weight_decay=weight_decay,
                                   eval_every=eval_every, checkpoint_every=checkpoint_every).items() if v is not None}
    try:
        model_config = NCCConfig(**{**(DEFAULT_LINK_ARCH if link else DEFAULT_ARCH), "batchnorm": batchnorm, **arch,
                                    **({} if statistics is None else {"statistics": statistics}),
                                    **({} if copula is None else {"copula": copula})})
    except (TypeError, ValueError) as exc:
        fail(_as_option(str(exc)))
    if threads is not None and threads < 1:
        fail(f"--threads must be >= 1, got {threads}")
    if heldout is not None and heldout < 0:
        fail(f"--heldout must be >= 0, got {heldout}")
    if not 0 <= seed <= 2**32 - 1:
        fail(f"--seed must be in [0, {2**32 - 1}], got {seed}")
    try:
        torch_device = resolve_device(device)
    except ValueError as exc:
        fail(str(exc))
    if output.exists() and output.is_dir():
        fail(f"--output {output} is a folder; give a file name such as {output / 'ncc-model.safetensors'}")
    if output.suffix == ".json":
        fail(f"--output {output}: the model file cannot be .json (that name is used for the metadata)")
    checkpoint = checkpoint if checkpoint is not None else output.with_suffix(".ckpt")
    _check_paths(output, metadata_path(output), checkpoint, data, resume, overwrite)

    try:
        if data is not None:
            source = ArrayPairs.from_file(data, seed=seed, n_heldout=heldout)
            n_heldout = len(source.heldout_idx)
            if link and not ((source.y < 0).any() and (source.y >= 0).any()):
                raise ValueError(f"--head link: --data {data} needs pairs with a link (label 1 / 0) and "
                                 "without one (label -1); generate it with --kinds causal,independent,confounded")
        else:
            n_heldout = 1000 if heldout is None else heldout
            if link and "kinds" not in generator_given:  # the link head needs the no-link kinds
                generator_given = {**DEFAULT_LINK_GENERATOR, **generator_given}
            source = SyntheticPairs(generator_options(generator_given), seed=seed, n_heldout=n_heldout)
            if link and ("causal" not in source.config.kinds or len(source.config.kinds) < 2):
                raise ValueError(f"--head link: --kinds {','.join(source.config.kinds)} must hold causal and at "
                                 "least one of independent, confounded (pairs with and without a link)")
        try:
            train_config = TrainConfig(seed=seed, ensemble=ensemble, n_heldout=n_heldout, **opts)
        except ValueError as exc:
            raise ValueError(_as_option(str(exc))) from None
        if data is None:
            source.batch(0, 0, 2)  # a generator option may only fail when pairs are drawn
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if isinstance(exc, TypeError) and "unexpected keyword" in message:
            message = f"unknown generator option: {message.split('argument')[-1].strip()}"
        fail(message)


    # -- train -----------------------------------------------------------------------------------
    torch.set_num_threads(threads if threads is not None else _default_threads())
    try:
        result = train_ncc(model_config, train_config, source, checkpoint=checkpoint, resume=resume,
                           device=torch_device, progress=progress, head=head)
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
    metadata["options"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in ctx.params.items()}
    metadata["resumed"] = resume
    checkpoint = result.checkpoint or checkpoint  # it moves when its own folder became unwritable
    _save_or_rescue(result.model, output, metadata, checkpoint)
    if not keep_checkpoint:
        checkpoint.unlink(missing_ok=True)  # the model file now holds everything worth keeping
    _plot_or_warn(output.with_suffix(".png"), metadata)
    acc = metadata["heldout"]["accuracy"]
    acc_text = f"held-out {'link ' if link else ''}accuracy {acc:.3f} on {metadata['heldout']['n_pairs']} pairs" \
        if acc is not None else "no held-out pairs"
    if link and metadata["heldout"].get("auc") is not None:
        acc_text += f", link AUC {metadata['heldout']['auc']:.3f}"
    typer.echo(f"saved {output} and {metadata_path(output)} ({acc_text}; "
               f"{metadata['steps']} steps in {metadata['wall_time_s']:.0f} s)")
