"""Training NCC networks on synthetic cause-effect pairs: the training loop (:func:`train_ncc`).

The run's pieces live beside it and are re-exported here: ``ncc.train_config`` (recipe, TrainConfig),
``ncc.train_sources`` (pair sources), ``ncc.train_objective`` (loss, evaluation, optimiser) and
``ncc.train_checkpoints``.

* Data: pairs are generated on the fly by :mod:`synthetic` (:class:`SyntheticPairs`: the batch of
  step ``s`` of member ``k`` is a function of ``(seed, k, s)`` only, so no pair is seen twice and a
  resumed run sees exactly the batches it would have seen), or read from a file written by
  ``ncc generate`` / given as arrays (:class:`ArrayPairs`: seeded epoch permutations).
* Loss: the symmetrised binary cross-entropy over both orientations: f(x, y) with target t and
  f(y, x) with target 1 − t, where t = 1 for x → y, 0 for y → x and ½ for pairs without a causal
  link (label −1).
* Held-out synthetic pairs (drawn from their own seed stream, never trained on) give the accuracy
  shown in the progress bar and stored in the metadata.
* Checkpoints (model, optimiser, RNG states, step) are written atomically; :func:`train_ncc` with
  ``resume=True`` continues exactly where the run stopped (same weights as an uninterrupted run).
* ``TrainConfig.ensemble = K`` trains K members one after the other, each with its own seed
  stream derived from the run seed; the result is an :class:`~ncc.model.NCCEnsemble`.
* ``head="link"`` trains the same networks for the other question, P(no causal link), with the
  symmetric link loss of :mod:`ncc.link` (label −1 against 1 / 0); the result is a
  :class:`~ncc.link.LinkModel`, and the held-out figures are the link accuracy, loss and AUC.
"""
from __future__ import annotations

import math
import os
import platform
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np
import torch
from tqdm.auto import tqdm

from ncc._version import __version__
from ncc.data import pad_pairs
from ncc.devices import resolve_device
from ncc.model import NCC, NCCConfig, NCCEnsemble
from ncc.train_checkpoints import (
    CheckpointError,
    TrainingInterrupted,
    _check_same_run,
    _numpy_rng_state,
    _read_checkpoint,
    _set_numpy_rng_state,
    _write_checkpoint,
)
from ncc.train_config import (
    _STREAM_INIT,
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    DEFAULT_ARCH,
    DEFAULT_GENERATOR,
    DEFAULT_LINK_ARCH,
    DEFAULT_LINK_GENERATOR,
    HEADS,
    TrainConfig,
    derive_seed,
    generator_options,
)
from ncc.train_objective import (
    _lr_at,
    _make_optimizer,
    _to_list,
    evaluate,
    evaluate_link,
    symmetric_loss,
    targets_from_labels,
)
from ncc.train_sources import ArrayPairs, Pairs, PairSource, SyntheticPairs

__all__ = [
    "DEFAULT_ARCH",
    "DEFAULT_GENERATOR",
    "generator_options",
    "TrainConfig",
    "SyntheticPairs",
    "ArrayPairs",
    "TrainResult",
    "TrainingInterrupted",
    "CheckpointError",
    "train_ncc",
    "evaluate",
    "symmetric_loss",
    "resolve_device",
    "HEADS",
    "DEFAULT_LINK_ARCH",
    "DEFAULT_LINK_GENERATOR",
    "evaluate_link",
]

# ----------------------------------------------------------------------------------------------
# The training loop.
# ----------------------------------------------------------------------------------------------

@dataclass
class TrainResult:
    model: Union[NCC, NCCEnsemble]
    metadata: dict
    checkpoint: Optional[Path] = None  # where the last checkpoint went (a fallback if the first path failed)


class _InterruptFlag:
    """Turns Ctrl-C into a flag checked between steps, so a checkpoint never holds half a step."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> "_InterruptFlag":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.requested = True

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class _Trainer:
    """One training run: members one after the other, checkpoints, metadata."""

    def __init__(self, model_config: NCCConfig, config: TrainConfig, data: PairSource,
                 checkpoint: Optional[Path], device: torch.device, progress: bool,
                 callback: Optional[Callable[[int, int, float], None]], head: str = "direction") -> None:
        self.model_config, self.cfg, self.data = model_config, config, data
        self.checkpoint, self.device, self.progress, self.callback = checkpoint, device, progress, callback
        self.head = head
        self.run_key = {"model_config": model_config.to_dict(), "train_config": config.to_dict(),
                        "data": data.describe()}
        if head != "direction":  # direction checkpoints keep their old key, so they still resume
            self.run_key["head"] = head
        self.finished: list[dict] = []  # state dicts of finished members
        self.member_meta: list[dict] = []
        self.history: list[dict] = []
        self.elapsed_before = 0.0  # seconds spent before a resume
        self.started = time.perf_counter()
        self.heldout = data.heldout()

    # -- checkpoints -----------------------------------------------------------------------------
    def save(self, member: int, step: int, model: Optional[NCC] = None, optimizer=None,
             member_seconds: float = 0.0, last_eval: Optional[dict] = None) -> None:
        if self.checkpoint is None:
            return
        mid_member = step > 0 and model is not None
        state = {
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "ncc_version": __version__,
            **self.run_key,
            "member": member, "step": step,
            # Step 0 of a member needs nothing but its seed, so only a member in progress is stored.
            "model": model.state_dict() if mid_member else None,
            "optimizer": optimizer.state_dict() if mid_member else None,
            "torch_rng": torch.get_rng_state(), "numpy_rng": _numpy_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state() if self.device.type == "cuda" else None,
            "finished_members": self.finished, "member_meta": self.member_meta, "history": self.history,
            "elapsed_s": self.elapsed(), "member_elapsed_s": member_seconds, "last_eval": last_eval,
        }
        try:
            _write_checkpoint(self.checkpoint, state)
        except OSError as exc:
            # The folder went away or filled up mid-run: keep the work in a fallback file, say where.
            import sys

            from ncc._paths import fallback_path

            rescued = fallback_path(self.checkpoint)
            _write_checkpoint(rescued, state)
            tqdm.write(f"Warning: cannot write checkpoint {self.checkpoint} ({exc.strerror or exc}); "
                       f"writing checkpoints to {rescued} instead (resume with --checkpoint {rescued})",
                       file=sys.stderr)
            self.checkpoint = rescued

    def restore(self) -> dict:
        state = _read_checkpoint(self.checkpoint)
        _check_same_run(state, self.run_key, self.checkpoint)
        self.finished = list(state["finished_members"])
        self.member_meta = list(state["member_meta"])
        self.history = list(state["history"])
        self.elapsed_before = float(state["elapsed_s"])
        return state

    def elapsed(self) -> float:
        return self.elapsed_before + time.perf_counter() - self.started

    # -- training --------------------------------------------------------------------------------
    def run(self, resume: bool) -> TrainResult:
        state = self.restore() if resume else None
        start_member = int(state["member"]) if state else 0
        with _InterruptFlag() as interrupt:
            for member in range(start_member, self.cfg.ensemble):
                resume_from = state if (state and member == start_member and state["step"] > 0) else None
                self.train_member(member, resume_from, interrupt)
        return self.result()

    def train_member(self, member: int, state: Optional[dict], interrupt: _InterruptFlag) -> None:
        cfg, device = self.cfg, self.device
        torch.manual_seed(derive_seed(cfg.seed, _STREAM_INIT, member))  # weights, then dropout
        model = NCC(self.model_config).to(device)
        optimizer = _make_optimizer(model.parameters(), cfg)
        step, seconds_before, last_eval = 0, 0.0, None
        if state is not None:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            torch.set_rng_state(state["torch_rng"])
            _set_numpy_rng_state(state["numpy_rng"])
            if state.get("cuda_rng") is not None and device.type == "cuda":
                torch.cuda.set_rng_state(state["cuda_rng"])
            step, seconds_before, last_eval = int(state["step"]), float(state["member_elapsed_s"]), state["last_eval"]
        started = time.perf_counter()
        seconds = lambda: seconds_before + time.perf_counter() - started  # noqa: E731
        heldout_X, heldout_y = self.heldout
        model.train()
        bar = tqdm(total=cfg.steps, initial=step, disable=not self.progress, dynamic_ncols=True, unit="step",
                   desc=f"member {member + 1}/{cfg.ensemble}" if cfg.ensemble > 1 else "train")
        smoothed = None
        at_boundary = True  # False while a step is half done: such a state is never saved
        try:
            while step < cfg.steps:
                at_boundary = False
                X, y = self.data.batch(member, step, cfg.batch_size)
                points, mask = pad_pairs(_to_list(X), torch.float32, device)
                for group in optimizer.param_groups:
                    group["lr"] = _lr_at(step, cfg)
                loss = self.loss(model(points, mask), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                at_boundary = True
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise FloatingPointError(f"training diverged at member {member}, step {step} "
                                             f"(loss {value}); try a lower --lr")
                smoothed = value if smoothed is None else 0.98 * smoothed + 0.02 * value
                if step % cfg.eval_every == 0 or step == cfg.steps:
                    last_eval = self.evaluate(model, heldout_X, heldout_y)
                    self.history.append({"member": member, "step": step, "train_loss": round(smoothed, 5),
                                         "heldout_accuracy": last_eval["accuracy"],
                                         "heldout_loss": last_eval["loss"],
                                         **({"heldout_auc": last_eval["auc"]} if "auc" in last_eval else {})})
                postfix = {"loss": f"{smoothed:.4f}"}
                if last_eval is not None and last_eval["accuracy"] is not None:
                    postfix["heldout_acc"] = f"{last_eval['accuracy']:.3f}"
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
                if step % cfg.checkpoint_every == 0 and step < cfg.steps:
                    self.save(member, step, model, optimizer, seconds(), last_eval)
                if self.callback is not None:
                    self.callback(member, step, value)
                if interrupt.requested:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            if at_boundary:
                self.save(member, step, model, optimizer, seconds(), last_eval)
            raise TrainingInterrupted(member, step, self.checkpoint if at_boundary else None) from None
        finally:
            bar.close()
        self.member_meta.append({"member": member, "seed": derive_seed(cfg.seed, _STREAM_INIT, member),
                                 "steps": cfg.steps, "wall_time_s": round(seconds(), 2), "heldout": last_eval})
        self.finished.append({k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        self.save(member + 1, 0)  # member done: the checkpoint points at the next one

    # -- the head's loss and held-out figures --------------------------------------------------
    def loss(self, logits: torch.Tensor, y) -> torch.Tensor:
        if self.head == "link":
            from ncc.link import link_loss, unlinked_targets

            return link_loss(logits, unlinked_targets(y).to(logits.device))
        return symmetric_loss(logits, targets_from_labels(y).to(logits.device))

    def evaluate(self, model, X: Pairs, y) -> dict:
        return evaluate_link(model, X, y) if self.head == "link" else evaluate(model, X, y)

    def result(self) -> TrainResult:
        members = []
        for state in self.finished:
            net = NCC(self.model_config)
            net.load_state_dict(state)
            members.append(net.to(self.device).eval())
        if self.head == "link":
            from ncc.link import LinkModel

            model = LinkModel(members).eval()
        else:
            model = members[0] if len(members) == 1 else NCCEnsemble(members).eval()
        cfg = self.cfg
        metadata = {
            "format": "ncc-model-metadata",
            **({"head": self.head} if self.head != "direction" else {}),
            "ncc_version": __version__,
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "model_config": self.model_config.to_dict(),
            "train_config": cfg.to_dict(),
            "data": self.data.describe(),
            "seed": cfg.seed,
            "steps": cfg.steps * cfg.ensemble,
            "wall_time_s": round(self.elapsed(), 2),
            "heldout": self.evaluate(model, *self.heldout),  # the ensemble's, for K > 1
            "members": self.member_meta,
            "history": self.history,
            "environment": {
                "device": str(self.device), "torch_threads": torch.get_num_threads(),
                "torch_version": str(torch.__version__), "numpy_version": str(np.__version__),
                "python": platform.python_version(), "machine": platform.machine(),
            },
        }
        return TrainResult(model, metadata, self.checkpoint)


def train_ncc(
    model_config: NCCConfig,
    train_config: TrainConfig,
    data: PairSource,
    *,
    checkpoint: Optional[Union[str, os.PathLike]] = None,
    resume: bool = False,
    device: Union[str, torch.device] = "cpu",
    progress: bool = True,
    callback: Optional[Callable[[int, int, float], None]] = None,
    head: str = "direction",
) -> TrainResult:
    """Train ``train_config.ensemble`` NCC networks on ``data``; returns the model and its metadata.

    ``checkpoint``: file for atomic checkpoints (every ``checkpoint_every`` steps, at the end of
    each member, and on Ctrl-C, which raises :class:`TrainingInterrupted` after saving).
    ``resume=True`` continues from it exactly: the weights equal those of an uninterrupted run.
    ``callback(member, step, loss)`` runs after every step (tests use it to interrupt a run).
    ``head``: "direction" (P(x → y)) or "link" (P(no causal link), a :class:`~ncc.link.LinkModel`;
    the data need pairs labelled −1, e.g. ``DEFAULT_LINK_GENERATOR``'s kinds).
    """
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; valid: {', '.join(HEADS)}")
    if resume and checkpoint is None:
        raise CheckpointError("resume needs a checkpoint path")
    device = resolve_device(device) if isinstance(device, str) else device
    trainer = _Trainer(model_config, train_config, data, Path(checkpoint) if checkpoint else None,
                       device, progress, callback, head)
    return trainer.run(resume)
