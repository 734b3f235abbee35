"""Training NCC networks on synthetic cause-effect pairs.

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
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional, Protocol, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ncc._version import __version__
from ncc.devices import resolve_device
from ncc.data import pad_pairs, size_sorted_chunks
from ncc.model import NCC, NCCConfig, NCCEnsemble
from ncc.serialization import _atomic_write

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

#: Generator options of the default ``ncc train`` run (any ``synthetic.make_config`` option).
#: The paper's spline-only recipe does not generalise (it scores below chance on sigmoid and nn
#: mechanisms, see benchmarks/heldout.py), so the default draws from every family and cause. The
#: weights make the synthetic marginals look like real ones (benchmarks/RESULTS.md, "Stats-only probes"):
#: in real pairs about half of all variables are discretised (tie fraction > 0.5), causes are not
#: heavier-tailed than effects, and effects carry heavy-tailed, heteroscedastic noise and outliers.
DEFAULT_GENERATOR: dict = {
    "n_points": (100, 1500),  # real pairs come in all sizes (log-uniform draw)
    "mechanism": "mix",  # every mechanism family ...
    # ... with the heteroscedastic families (multiplicative, location-scale noise) twice as often
    "mechanism_weights": {"spline": 1, "linear": 1, "polynomial": 1, "sigmoid_additive": 1, "sigmoid_mixed": 1,
                          "gp_additive": 1, "gp_mixed": 1, "nn": 1, "post_nonlinear": 1,
                          "multiplicative": 2, "location_scale": 2},
    "cause": "mix",  # Gaussian mixtures, uniform, heavy tails ...
    # ... but heavy-tailed causes less often: with saturating mechanisms they teach "the heavier
    # tail is the cause", the opposite of what real pairs show
    "cause_weights": {"gmm": 2, "uniform": 1, "student_t": 0.5, "lognormal": 1},
    "noise": "mix",  # Gaussian, uniform, Laplace, Student-t noise, Student-t most often
    "noise_weights": {"gaussian": 1, "uniform": 0.5, "laplace": 1, "student_t": 3},
    "discretize_prob": 0.15,  # integer-valued causes with ties, as in real data
    "quantize_prob": 0.45,  # rounded variables, either side: about half of all variables have ties
    "confounder_prob": 0.2,  # hidden confounders on top of the causal link (Mooij's SIM-c)
    "outlier_prob": 0.3,  # gross errors on a few effect values
}

def generator_options(given: Optional[dict] = None) -> dict:
    """DEFAULT_GENERATOR updated with ``given``. Choosing one mechanism, cause or noise shape
    drops the default's weights over them (weights only apply to "mix")."""
    given = dict(given or {})
    options = {**DEFAULT_GENERATOR, **given}
    for name in ("mechanism", "cause", "noise"):
        key = f"{name}_weights"
        if name in given and given[name] != "mix" and key not in given:
            options.pop(key, None)
    return options


#: Architecture options of the default ``ncc train`` run (any ``NCCConfig`` field; the rest keep
#: the paper's values), chosen in benchmarks/RESULTS.md.
DEFAULT_ARCH: dict = {
    "statistics": True,  # hybrid: ψ also reads classic statistics of both orientations
    "copula": True,  # φ also reads each point's mid-ranks
}

#: What a run trains: "direction" (P(x → y), the shipped ncc-default model) or "link"
#: (P(no causal link), the shipped ncc-link model; see ncc.link).
HEADS = ("direction", "link")

#: Architecture of the default link run: smaller than the direction model (a few CPU minutes);
#: the statistics (residual HSIC, fits) and the mid-ranks carry the dependence cues.
DEFAULT_LINK_ARCH: dict = {"statistics": True, "copula": True, "embed_dim": 48, "classifier_dim": 48}

#: Generator of the default link run: DEFAULT_GENERATOR plus the no-link kinds, half of all pairs
#: without a link (independent and confounded in equal parts).
DEFAULT_LINK_GENERATOR: dict = {
    "kinds": ("causal", "independent", "confounded"),
    "kind_weights": {"causal": 2, "independent": 1, "confounded": 1},
}

# Seed streams, so that no two uses of the run seed ever draw the same numbers.
_STREAM_INIT, _STREAM_TRAIN, _STREAM_HELDOUT, _STREAM_SPLIT, _STREAM_EPOCH = range(5)
CHECKPOINT_FORMAT = "ncc-train-checkpoint"
CHECKPOINT_VERSION = 1


def derive_seed(*key: int) -> int:
    """A 32-bit seed from a tuple of non-negative ints (numpy SeedSequence hashing)."""
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(1)[0])


@dataclass
class TrainConfig:
    """How to train (the architecture is :class:`~ncc.model.NCCConfig`)."""

    steps: int = 3000  # optimiser steps per member; sized so the default run takes < 15 min on 2 cores
    batch_size: int = 32  # pairs per step, each also seen reversed (the paper: 16 + 16 reversals)
    lr: float = 1e-3  # Adam's usual rate; RMSProp runs well with it too
    optimizer: str = "adam"  # "adam" or "rmsprop" (the paper's choice)
    weight_decay: float = 0.0  # L2 penalty (no need: pairs are never repeated)
    lr_schedule: str = "constant"  # "constant" or "cosine" (decays to 0 at the last step)
    seed: int = 0  # fixes the weights, every batch and the held-out set (on CPU: bit for bit)
    ensemble: int = 1  # members trained one after the other, scores averaged
    n_heldout: int = 1000  # held-out synthetic pairs for the progress bar and the metadata
    eval_every: int = 500  # steps between held-out evaluations (and at the end)
    checkpoint_every: int = 500  # steps between atomic checkpoints (and at member ends)

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "ensemble", "eval_every", "checkpoint_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.n_heldout, bool) or not isinstance(self.n_heldout, int) or self.n_heldout < 0:
            raise ValueError(f"n_heldout must be an integer >= 0, got {self.n_heldout!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.optimizer not in ("adam", "rmsprop"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; valid: adam, rmsprop")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"unknown lr_schedule {self.lr_schedule!r}; valid: constant, cosine")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# ----------------------------------------------------------------------------------------------
# Data sources.
# ----------------------------------------------------------------------------------------------

Pairs = Union[np.ndarray, Sequence[np.ndarray]]


class PairSource(Protocol):
    def batch(self, member: int, step: int, batch_size: int) -> tuple[Pairs, np.ndarray]: ...

    def heldout(self) -> tuple[Pairs, np.ndarray]: ...

    def describe(self) -> dict: ...


class SyntheticPairs:
    """Fresh synthetic pairs for every step; ``generator`` holds ``synthetic.make_config`` options."""

    def __init__(self, generator: Optional[dict] = None, seed: int = 0, n_heldout: int = 1000) -> None:
        import synthetic

        self.options = dict(generator or {})
        self.config = synthetic.make_config(**self.options)  # validates (ValueError names the option)
        self.seed = int(seed)
        self.n_heldout = int(n_heldout)
        self._heldout = None

    def batch(self, member: int, step: int, batch_size: int) -> tuple[Pairs, np.ndarray]:
        import synthetic

        seed = derive_seed(self.seed, _STREAM_TRAIN, member, step)
        X, y, _ = synthetic.generate(batch_size, self.config, random_state=seed)
        return X, y

    def heldout(self) -> tuple[Pairs, np.ndarray]:
        """The same held-out pairs for every member (a separate seed stream)."""
        import synthetic

        if self._heldout is None:
            if self.n_heldout == 0:
                self._heldout = ([], np.zeros(0, dtype=np.int64))
            else:
                seed = derive_seed(self.seed, _STREAM_HELDOUT)
                X, y, _ = synthetic.generate(self.n_heldout, self.config, random_state=seed)
                self._heldout = (X, y)
        return self._heldout

    def describe(self) -> dict:
        return {"source": "synthetic", "generator": self.config.to_dict(), "n_heldout": self.n_heldout}


class ArrayPairs:
    """Training pairs given as arrays (or read from an ``ncc generate`` file).

    A seeded permutation sets ``n_heldout`` pairs aside; training walks through seeded epoch
    permutations of the rest, so the batch of any step is known without replaying the run.
    """

    def __init__(self, X: Pairs, y, seed: int = 0, n_heldout: int = 0, source: Optional[dict] = None) -> None:
        y = np.asarray(y)
        if len(X) != len(y):
            raise ValueError(f"got {len(X)} pairs but {len(y)} labels")
        if not np.isin(y, (-1, 0, 1)).all():
            raise ValueError("labels must be 1 (x->y), 0 (y->x) or -1 (no causal link)")
        if n_heldout >= len(y):
            raise ValueError(f"n_heldout={n_heldout} leaves no training pairs out of {len(y)}")
        self.X, self.y = X, y.astype(np.int64)
        self.seed = int(seed)
        order = np.random.default_rng(derive_seed(self.seed, _STREAM_SPLIT)).permutation(len(y))
        self.heldout_idx = np.sort(order[:n_heldout])
        self.train_idx = np.sort(order[n_heldout:])
        self.source = dict(source or {"source": "arrays"})
        self._epochs: dict[tuple[int, int], np.ndarray] = {}

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike], seed: int = 0,
                  n_heldout: Optional[int] = None) -> "ArrayPairs":
        """Pairs of an ``ncc generate`` .npz file; ``n_heldout=None``: 10% of them, at most 1000."""
        from synthetic.io import load

        saved = load(path)  # ValueError with the path for a bad file
        if n_heldout is None:
            n_heldout = min(1000, len(saved.y) // 10)
        source = {"source": "file", "path": str(path), "n_pairs": int(len(saved.y)),
                  "generator": saved.config, "generator_seed": saved.random_state,
                  "written_by": saved.version}
        return cls(saved.X, saved.y, seed=seed, n_heldout=n_heldout, source=source)

    def _take(self, idx: np.ndarray) -> tuple[Pairs, np.ndarray]:
        if isinstance(self.X, np.ndarray):
            return self.X[idx], self.y[idx]
        return [self.X[i] for i in idx], self.y[idx]

    def _epoch(self, member: int, epoch: int) -> np.ndarray:
        key = (member, epoch)
        if key not in self._epochs:
            if len(self._epochs) > 4:
                self._epochs.clear()
            rng = np.random.default_rng(derive_seed(self.seed, _STREAM_EPOCH, member, epoch))
            self._epochs[key] = self.train_idx[rng.permutation(len(self.train_idx))]
        return self._epochs[key]

    def batch(self, member: int, step: int, batch_size: int) -> tuple[Pairs, np.ndarray]:
        n = len(self.train_idx)
        positions = np.arange(step * batch_size, (step + 1) * batch_size)
        idx = np.array([self._epoch(member, int(p // n))[p % n] for p in positions])
        return self._take(idx)

    def heldout(self) -> tuple[Pairs, np.ndarray]:
        return self._take(self.heldout_idx)

    def describe(self) -> dict:
        return {**self.source, "n_train": int(len(self.train_idx)), "n_heldout": int(len(self.heldout_idx))}


# ----------------------------------------------------------------------------------------------
# Loss, evaluation, optimiser.
# ----------------------------------------------------------------------------------------------

def targets_from_labels(y) -> torch.Tensor:
    """Labels 1 / 0 / −1 → P(x → y) targets 1 / 0 / ½."""
    y = torch.as_tensor(np.asarray(y))
    return torch.where(y < 0, torch.full(y.shape, 0.5), y.to(torch.float32)).to(torch.float32)


def symmetric_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BCE of f(x, y) against t plus BCE of f(y, x) against 1 − t, averaged over both."""
    both = torch.stack((target, 1.0 - target), dim=1).to(logits.dtype)
    return F.binary_cross_entropy_with_logits(logits, both)


def _to_list(X: Pairs) -> list:
    return list(X) if isinstance(X, np.ndarray) else X


def _model_device(model) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def evaluate(model: Union[NCC, NCCEnsemble], X: Pairs, y, batch_size: int = 256) -> dict:
    """Held-out metrics in eval mode: accuracy on pairs with a causal link, symmetrised loss.

    An ensemble's loss is that of its mean score (as a probability).
    """
    y = np.asarray(y)
    if len(y) == 0:
        return {"n_pairs": 0, "accuracy": None, "loss": None}
    scores = _scores_of(model, _to_list(X), batch_size)
    linked = y >= 0
    accuracy = float(np.mean((scores[linked] > 0.5) == (y[linked] == 1))) if linked.any() else None
    target = targets_from_labels(y).double().numpy()
    p = np.clip(scores, 1e-7, 1 - 1e-7)
    loss = float(np.mean(-(target * np.log(p) + (1 - target) * np.log(1 - p))))
    return {"n_pairs": int(len(y)), "accuracy": accuracy, "loss": loss}


@torch.no_grad()
def evaluate_link(model, X: Pairs, y, batch_size: int = 256) -> dict:
    """Held-out link metrics in eval mode: accuracy of p_none > ½ for "no link", its binary
    cross-entropy, and the AUC of p_none for no link (label −1) against a link (1 / 0).

    ``model``: a :class:`~ncc.link.LinkModel`, or one NCC network being trained for the link head.
    """
    from ncc.link import LinkModel
    from ncc.metrics import auc

    y = np.asarray(y)
    if len(y) == 0:
        return {"n_pairs": 0, "accuracy": None, "loss": None, "auc": None}
    net = model if isinstance(model, LinkModel) else LinkModel([model])
    p_none = _scores_of(net, _to_list(X), batch_size)
    unlinked = (y < 0).astype(float)
    p = np.clip(p_none, 1e-7, 1 - 1e-7)
    loss = float(np.mean(-(unlinked * np.log(p) + (1 - unlinked) * np.log(1 - p))))
    accuracy = float(np.mean((p_none > 0.5) == (unlinked == 1)))
    value = auc(unlinked, p_none)
    return {"n_pairs": int(len(y)), "accuracy": accuracy, "loss": loss,
            "auc": None if value != value else value}


def _scores_of(model, pairs: list, batch_size: int) -> np.ndarray:
    """``model.score`` of every pair in eval mode, in size-sorted chunks."""
    was_training = model.training
    model.eval()
    scores = np.empty(len(pairs))
    device = _model_device(model)
    try:
        for chunk in size_sorted_chunks([len(p) for p in pairs], batch_size, 1 << 19):
            points, mask = pad_pairs([pairs[i] for i in chunk], torch.float64, device)
            scores[chunk] = model.score(points, mask)[0].cpu().numpy()
    finally:
        model.train(was_training)
    return scores


def _make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.RMSprop(params, lr=config.lr, weight_decay=config.weight_decay)


def _lr_at(step: int, config: TrainConfig) -> float:
    if config.lr_schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * step / config.steps))
    return config.lr


# ----------------------------------------------------------------------------------------------
# Checkpoints.
# ----------------------------------------------------------------------------------------------

class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or from a different run configuration."""


class TrainingInterrupted(KeyboardInterrupt):
    """Raised on Ctrl-C after the checkpoint of the last finished step has been written."""

    def __init__(self, member: int, step: int, checkpoint: Optional[Path]) -> None:
        super().__init__(f"interrupted at member {member}, step {step}")
        self.member, self.step, self.checkpoint = member, step, checkpoint


def _numpy_rng_state() -> dict:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}


def _set_numpy_rng_state(state: dict) -> None:
    np.random.set_state((state["kind"], state["keys"].numpy().astype(np.uint32), state["pos"],
                         state["has_gauss"], state["cached_gaussian"]))


def _write_checkpoint(path: Path, state: dict) -> None:
    _atomic_write(path, lambda tmp: torch.save(state, tmp))


def _read_checkpoint(path: Path) -> dict:
    if not path.exists():
        raise CheckpointError(f"no checkpoint to resume from at {str(path)!r}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)  # no code can run
    except Exception as exc:
        raise CheckpointError(f"checkpoint {str(path)!r} cannot be read ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{str(path)!r} is not an ncc training checkpoint")
    return state


def _check_same_run(state: dict, expected: dict, path: Path) -> None:
    for key, value in expected.items():
        if state.get(key) != value:
            stored = state.get(key)
            if isinstance(value, dict) and isinstance(stored, dict):
                diff = sorted(k for k in set(value) | set(stored) if value.get(k) != stored.get(k))
                detail = ", ".join(f"{k}: checkpoint {stored.get(k)!r} vs now {value.get(k)!r}" for k in diff)
            else:
                detail = f"checkpoint {stored!r} vs now {value!r}"
            raise CheckpointError(f"checkpoint {str(path)!r} is from a different run ({key} differs: {detail}); "
                                  "rerun with the same options, or drop --resume to start over")


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
                       f"writing checkpoints to {rescued} instead (resume with --checkpoint {rescued})", file=sys.stderr)
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
