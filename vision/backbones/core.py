"""What every backbone source shares: the :class:`Backbone` record, its errors and warnings, and
the checks on what a model returns."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from vision.preprocess import Preprocessing

RANDOM_WEIGHTS = "RANDOM WEIGHTS: features carry no learned visual meaning; use for testing only"


class RandomWeightsWarning(UserWarning):
    """Features of a randomly initialised backbone: fine for testing the pipeline, meaningless otherwise."""


def warn_random_weights(notes: list[str]) -> None:
    """Warn once per process (one call site, Python's default filter) if the notes say the weights are random."""
    if any(n == RANDOM_WEIGHTS for n in notes):
        import warnings

        warnings.warn(RANDOM_WEIGHTS, RandomWeightsWarning, stacklevel=1)


class BackboneError(ValueError):
    """The architecture or the weights cannot be used; one line, naming the file if any."""


def first_line(exc: BaseException, empty: str | None = None) -> str:
    """The first line of an exception's message (at most 200 characters), for one-line errors;
    ``empty`` (default: the exception's type name) when the message is blank."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else (type(exc).__name__ if empty is None else empty)


@dataclass
class Backbone:
    """A feature extractor plus what the report needs to identify it."""

    arch: str
    model: nn.Module  # eval mode, head removed: (N, 3, S, S) -> (N, C, h, w) map or (N, C) features
    feature_dim: int
    weights: dict  # identity of the weights: enum name, file SHA-256, random-init seed, module hash
    torchvision_weights: Any = None  # the enum member, when weights came from torchvision
    notes: list[str] = field(default_factory=list)
    # The backbone's own preprocessing (timm's pretrained config, or the caller's for a bare
    # module); None: torchvision weights' mean/std (ImageNet) and the paper's 224.
    preprocessing: Preprocessing | None = None
    gives_map: bool | None = None  # whether ``model`` returns a (N, C, h, w) map; None: not known yet

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C)`` features of a normalised batch: the global average of the map, if any."""
        return pool_output(self.model(x))


def pool_output(out: torch.Tensor) -> torch.Tensor:
    """(N, C, h, w) map -> its global average (N, C); (N, C) features pass through."""
    return out.float().mean(dim=(2, 3)) if out.ndim == 4 else out.reshape(len(out), -1)


def state_dict_sha256(module: nn.Module) -> str:
    """SHA-256 of a module's state dict: for each key in sorted order, the key, the dtype, the
    shape and the tensor's bytes. Identifies in-memory weights in the report and the manifest."""
    h = hashlib.sha256()
    for key, value in sorted(module.state_dict().items()):
        t = value.detach().to("cpu").contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def module_class_name(module: nn.Module) -> str:
    return f"{type(module).__module__}.{type(module).__qualname__}"


def seeded_call(fn: Callable[[], Any], seed: int) -> Any:
    """``fn()`` under ``torch.manual_seed(seed)``, leaving the global RNG as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return fn()


def random_init_identity(seed: int) -> dict:
    return {"kind": "random-init", "seed": seed, "warning": RANDOM_WEIGHTS}


def check_output(out: Any, batch: int, name: str, size: int) -> tuple[int, tuple[int, int, int] | None]:
    """``(feature_dim, map_shape or None)`` of a probe output; BackboneError naming ``name`` otherwise."""
    need = "need (B, C) features or a (B, C, h, w) map"
    if not isinstance(out, torch.Tensor):
        raise BackboneError(f"{name}: returns a {type(out).__name__} for a ({batch}, 3, {size}, {size}) batch, "
                            f"not a tensor; {need}")
    shape = tuple(out.shape)
    if out.ndim not in (2, 4) or shape[0] != batch or any(d < 1 for d in shape[1:]):
        raise BackboneError(f"{name}: returns shape {shape} for a ({batch}, 3, {size}, {size}) batch; {need}")
    if not out.is_floating_point():
        raise BackboneError(f"{name}: returns {out.dtype} values; need floating-point features")
    return int(shape[1]), (tuple(int(d) for d in shape[1:]) if out.ndim == 4 else None)


def probe(model: nn.Module, size: int, name: str,
          device: torch.device | str = "cpu") -> tuple[int, tuple[int, int, int] | None]:
    """Run ``model`` on a (2, 3, size, size) batch: its feature size and map shape, or one clear line."""
    x = torch.zeros(2, 3, size, size, device=device)
    x[1] = 1.0  # two different images: a batch dimension that gets mixed up shows
    try:
        with torch.inference_mode():
            out = model(x)
    except Exception as exc:  # noqa: BLE001 - any failure of a user's module: one line naming it
        raise BackboneError(f"{name}: fails on a (2, 3, {size}, {size}) batch "
                            f"({type(exc).__name__}: {first_line(exc, '')})") from None
    return check_output(out, 2, name, size)
