"""Checkpoint files: read a state dict safely and load it into a headless model, tolerating the
usual wrappers (key prefixes, container dicts, classification heads)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vision._io import sha256_file
from vision.backbones.core import BackboneError, first_line

KEY_PREFIXES = ("module.", "model.", "backbone.")  # DataParallel, Lightning, detection/SSL wrappers
#: Top-level names of classification heads: checkpoint keys under these are ignored when the
#: module (a ``module:callable`` or timm trunk) has no such part.
HEAD_NAMES = ("fc", "classifier", "head", "heads", "last_linear")
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".safetensors", ".tar")


def looks_like_path(spec: str) -> bool:
    """Whether a ``--weights`` text names a file (so a missing one is "not found", not a bad enum name)."""
    return os.sep in spec or "/" in spec or Path(spec).suffix.lower() in CHECKPOINT_SUFFIXES


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Load a checkpoint safely (safetensors, or torch.load with weights_only=True)."""
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            obj: Any = load_file(str(path), device="cpu")
        else:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure here means "not a usable checkpoint"
        raise BackboneError(f"{path}: cannot load as a state dict ({first_line(exc)})") from None
    # Training frameworks often wrap the weights: unwrap one level of the usual containers.
    for key in ("state_dict", "model_state_dict", "model", "net"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    tensors = isinstance(obj, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())
    if not tensors or not obj:
        raise BackboneError(f"{path}: not a state dict of tensors")
    return obj


def _strip_one(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], str | None]:
    """Remove one prefix shared by every key; ``(state, None)`` when there is none."""
    for prefix in KEY_PREFIXES:
        if state and all(k.startswith(prefix) for k in state):
            return {k[len(prefix):]: v for k, v in state.items()}, prefix
    return state, None


def strip_prefix(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], str]:
    """Remove a key prefix shared by every key (``module.``, ``model.``, ``backbone.``), repeatedly."""
    stripped = ""
    while True:
        state, prefix = _strip_one(state)
        if prefix is None:
            return state, stripped
        stripped += prefix


def _fitting_prefix(state: dict[str, torch.Tensor], expected: dict) -> tuple[dict[str, torch.Tensor], str]:
    """Strip shared prefixes one at a time, stopping as soon as every expected key is there (a
    module whose own keys start with ``model.`` keeps them); else strip them all."""
    stripped = ""
    while not all(k in state for k in expected):
        state, prefix = _strip_one(state)
        if prefix is None:
            break
        stripped += prefix
    return state, stripped


def _misfit(state: dict, expected: dict) -> list[str]:
    """What keeps ``state`` from loading into a model with state dict ``expected`` (empty: it fits)."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys (e.g. {missing[0]})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})")
    if wrong:
        k = wrong[0]
        parts.append(f"{len(wrong)} shape mismatches (e.g. {k}: {tuple(state[k].shape)} vs {tuple(expected[k].shape)})")
    return parts


def load_checkpoint_into(model: nn.Module, path: Path, arch: str, head_attr: str | tuple[str, ...]) -> dict:
    """Load a state dict into the headless ``model``; raise BackboneError on any misfit.

    Checkpoint keys under ``head_attr`` (one name or several) are ignored unless the model
    itself has those keys (a callable may return a module with its head)."""
    expected = model.state_dict()
    state, stripped = _fitting_prefix(read_state_dict(path), expected)
    heads = (head_attr,) if isinstance(head_attr, str) else tuple(head_attr)
    head_keys = sorted(k for k in state if k.split(".", 1)[0] in heads and k not in expected)
    state = {k: v for k, v in state.items() if k not in head_keys}
    parts = _misfit(state, expected)
    if parts:
        raise BackboneError(f"{path}: checkpoint does not fit {arch}: " + "; ".join(parts))
    model.load_state_dict(state, strict=True)
    return {"kind": "checkpoint", "path": str(path.resolve()), "sha256": sha256_file(path),
            "prefix_stripped": stripped or None, "head_keys_ignored": head_keys}
