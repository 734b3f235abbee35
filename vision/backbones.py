"""torchvision backbones cut at their global pooling layer, with weights from an enum or a file.

The feature of an image is the output of the backbone's global average pooling (512 numbers
for ResNet-18, reference §3); the classification head is removed, so a checkpoint's head may
have any size.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

#: Architecture families we support, and how to cut each one at its global-pool output.
#: Each value: (attribute holding the head, function giving its replacement from the old head).
_HEADS: dict[str, tuple[str, Callable[[nn.Module], nn.Module]]] = {
    "resnet": ("fc", lambda head: nn.Identity()),
    "resnext": ("fc", lambda head: nn.Identity()),
    "wide_resnet": ("fc", lambda head: nn.Identity()),
    "regnet_": ("fc", lambda head: nn.Identity()),
    "shufflenet_v2": ("fc", lambda head: nn.Identity()),
    "densenet": ("classifier", lambda head: nn.Identity()),
    "efficientnet": ("classifier", lambda head: nn.Identity()),
    "mobilenet_v2": ("classifier", lambda head: nn.Identity()),
    "mobilenet_v3": ("classifier", lambda head: nn.Identity()),
    "mnasnet": ("classifier", lambda head: nn.Identity()),
    # ConvNeXt's head starts with a LayerNorm: keep only the raw pooled features.
    "convnext": ("classifier", lambda head: nn.Flatten(1)),
    "swin": ("head", lambda head: nn.Identity()),
}

KEY_PREFIXES = ("module.", "model.", "backbone.")  # DataParallel, Lightning, detection/SSL wrappers


class BackboneError(ValueError):
    """The architecture or the weights cannot be used; one line, naming the file if any."""


@dataclass
class Backbone:
    """A feature extractor plus what the report needs to identify it."""

    arch: str
    model: nn.Module  # eval mode, head removed: input (N, 3, S, S) -> (N, feature_dim)
    feature_dim: int
    weights: dict  # identity of the weights: enum name, file SHA-256, or random-init seed
    torchvision_weights: Any = None  # the enum member, when weights came from torchvision
    notes: list[str] = field(default_factory=list)


def head_attribute(arch: str) -> tuple[str, Callable[[nn.Module], nn.Module]]:
    for prefix, rule in _HEADS.items():
        if arch.startswith(prefix):
            return rule
    supported = ", ".join(sorted(p.rstrip("_") + "*" for p in _HEADS))
    raise BackboneError(f"architecture {arch!r} is not supported (need a torchvision model with a global pool: {supported})")


def sha256_file(path: str | os.PathLike, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def _looks_like_path(spec: str) -> bool:
    return os.sep in spec or "/" in spec or Path(spec).suffix.lower() in (".pt", ".pth", ".bin", ".ckpt", ".safetensors", ".tar")


def resolve_enum_weights(arch: str, name: str):
    """A torchvision weights enum member from ``DEFAULT``, ``IMAGENET1K_V1`` or ``ResNet18_Weights.X``."""
    from torchvision.models import get_model_weights

    try:
        enum = get_model_weights(arch)
    except (ValueError, KeyError):
        raise BackboneError(f"torchvision has no architecture {arch!r}") from None
    member = name.split(".", 1)[1] if name.startswith(enum.__name__ + ".") else name
    if member == "DEFAULT":
        return enum.DEFAULT
    try:
        return enum[member]
    except KeyError:
        valid = ", ".join(["DEFAULT", *enum.__members__])
        raise BackboneError(f"--weights {name!r} is neither a file nor a {enum.__name__} name ({valid})") from None


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Load a checkpoint safely (safetensors, or torch.load with weights_only=True)."""
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            obj: Any = load_file(str(path), device="cpu")
        else:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure here means "not a usable checkpoint"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackboneError(f"{path}: cannot load as a state dict ({first[:200]})") from None
    # Training frameworks often wrap the weights: unwrap one level of the usual containers.
    for key in ("state_dict", "model_state_dict", "model", "net"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not obj or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise BackboneError(f"{path}: not a state dict of tensors")
    return obj


def strip_prefix(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], str]:
    """Remove a key prefix shared by every key (``module.``, ``model.``, ``backbone.``), repeatedly."""
    stripped = ""
    while True:
        for prefix in KEY_PREFIXES:
            if all(k.startswith(prefix) for k in state):
                state = {k[len(prefix):]: v for k, v in state.items()}
                stripped += prefix
                break
        else:
            return state, stripped


def load_checkpoint_into(model: nn.Module, path: Path, arch: str, head_attr: str) -> dict:
    """Load a torchvision state dict into the headless ``model``; raise BackboneError on any misfit."""
    state, stripped = strip_prefix(_read_state_dict(path))
    head_keys = sorted(k for k in state if k.startswith(head_attr + "."))
    state = {k: v for k, v in state.items() if not k.startswith(head_attr + ".")}
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} shape mismatches (e.g. {k}: {tuple(state[k].shape)} vs {tuple(expected[k].shape)})")
        raise BackboneError(f"{path}: checkpoint does not fit {arch}: " + "; ".join(parts))
    model.load_state_dict(state, strict=True)
    return {"kind": "checkpoint", "path": str(path.resolve()), "sha256": sha256_file(path),
            "prefix_stripped": stripped or None, "head_keys_ignored": head_keys}


def build_backbone(arch: str = "resnet18", weights: str | os.PathLike | None = None, *,
                   random_init: bool = False, seed: int = 0, probe_size: int = 64) -> Backbone:
    """Build ``arch`` cut at its global pool, in eval mode on the CPU.

    ``weights``: a torchvision enum name (``DEFAULT``, ``IMAGENET1K_V1``, ...; torchvision
    downloads it into the torch cache on first use) or a path to a torchvision state dict
    (``.pth``/``.pt`` via ``torch.load(weights_only=True)``, or ``.safetensors``). ``None``
    requires ``random_init=True``: random weights seeded by ``seed``, for testing only.
    """
    from torchvision.models import get_model, list_models

    head_attr, replace = head_attribute(arch)
    if arch not in list_models():
        raise BackboneError(f"torchvision has no architecture {arch!r}")
    notes: list[str] = []
    enum_weights = None
    if weights is None or str(weights) == "":
        if not random_init:
            raise BackboneError("no --weights given: pass a torchvision weights name or a checkpoint path, or --random-init for a test run")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = get_model(arch, weights=None)
        ident = {"kind": "random-init", "seed": seed,
                 "warning": "RANDOM WEIGHTS: features carry no learned visual meaning; use for testing only"}
        notes.append(ident["warning"])
        setattr(model, head_attr, replace(getattr(model, head_attr)))
    else:
        spec = str(weights)
        path = Path(spec).expanduser()
        if path.is_file():
            model = get_model(arch, weights=None)
            setattr(model, head_attr, replace(getattr(model, head_attr)))
            ident = load_checkpoint_into(model, path, arch, head_attr)
        elif _looks_like_path(spec):
            raise BackboneError(f"{spec}: checkpoint file not found")
        else:
            enum_weights = resolve_enum_weights(arch, spec)
            try:
                model = get_model(arch, weights=enum_weights)
            except Exception as exc:  # noqa: BLE001 - download / cache failures: one clear line
                raise BackboneError(f"cannot get torchvision weights {enum_weights} (download failed or no cache?): {str(exc).splitlines()[0][:200]}") from None
            setattr(model, head_attr, replace(getattr(model, head_attr)))
            ident = {"kind": "torchvision", "name": str(enum_weights), "url": getattr(enum_weights, "url", None)}
        if random_init:
            notes.append("--random-init ignored because --weights was given")
    model.eval()
    with torch.inference_mode():
        dim = int(model(torch.zeros(1, 3, probe_size, probe_size)).reshape(1, -1).shape[1])
    return Backbone(arch=arch, model=model, feature_dim=dim, weights=ident,
                    torchvision_weights=enum_weights, notes=notes)
