"""torchvision backbones: a model cut before its global pool, with torchvision weights, a
checkpoint file or seeded random weights."""
from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from vision.backbones.checkpoints import load_checkpoint_into, looks_like_path
from vision.backbones.core import Backbone, BackboneError, first_line, pool_output, random_init_identity, seeded_call

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

#: How to cut each family before its global pool, so that the model returns the last map:
#: the children to keep, in order (their names keep the checkpoint keys), plus a trailing ReLU
#: where the torchvision forward applies one between the map and the pool (densenet).
_MAP_TRUNKS: dict[str, tuple[tuple[str, ...], bool]] = {
    "resnet": (("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"), False),
    "resnext": (("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"), False),
    "wide_resnet": (("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"), False),
    "regnet_": (("stem", "trunk_output"), False),
    "shufflenet_v2": (("conv1", "maxpool", "stage2", "stage3", "stage4", "conv5"), False),
    "densenet": (("features",), True),
    "efficientnet": (("features",), False),
    "mobilenet_v2": (("features",), False),
    "mobilenet_v3": (("features",), False),
    "mnasnet": (("layers",), False),
    "convnext": (("features",), False),
    # swin: its last stage is channels-last and normalised before the pool: pooled features only
}


def head_attribute(arch: str) -> tuple[str, Callable[[nn.Module], nn.Module]]:
    for prefix, rule in _HEADS.items():
        if arch.startswith(prefix):
            return rule
    supported = ", ".join(sorted(p.rstrip("_") + "*" for p in _HEADS))
    raise BackboneError(f"architecture {arch!r} is not supported "
                        f"(need a torchvision model with a global pool: {supported})")



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
    cut = _cutter(arch, head_attr, replace)
    if arch not in list_models():
        raise BackboneError(f"torchvision has no architecture {arch!r}")
    notes: list[str] = []
    enum_weights = None
    if weights is None or str(weights) == "":
        if not random_init:
            raise BackboneError("no --weights given: pass a torchvision weights name or a checkpoint path, "
                                "or --random-init for a test run")
        model = seeded_call(lambda: cut(get_model(arch, weights=None)), seed)
        ident = random_init_identity(seed)
        notes.append(ident["warning"])
    else:
        spec = str(weights)
        path = Path(spec).expanduser()
        if path.is_file():
            model = cut(get_model(arch, weights=None))
            ident = load_checkpoint_into(model, path, arch, head_attr)
        elif looks_like_path(spec):
            raise BackboneError(f"{spec}: checkpoint file not found")
        else:
            enum_weights = resolve_enum_weights(arch, spec)
            try:
                model = get_model(arch, weights=enum_weights)
            except Exception as exc:  # noqa: BLE001 - download / cache failures: one clear line
                raise BackboneError(f"cannot get torchvision weights {enum_weights} (download failed or no cache?): "
                                    f"{first_line(exc, '')}") from None
            model = cut(model)
            ident = {"kind": "torchvision", "name": str(enum_weights), "url": getattr(enum_weights, "url", None)}
        if random_init:
            notes.append("--random-init ignored because --weights was given")
    model.eval()
    with torch.inference_mode():
        out = model(torch.zeros(1, 3, probe_size, probe_size))
    return Backbone(arch=arch, model=model, feature_dim=int(pool_output(out).shape[1]), weights=ident,
                    torchvision_weights=enum_weights, notes=notes, gives_map=out.ndim == 4)


def _cutter(arch: str, head_attr: str, replace: Callable[[nn.Module], nn.Module]) -> Callable[[nn.Module], nn.Module]:
    """How to turn the full torchvision model into the headless one: the map trunk, or head -> pooled."""
    for prefix, (children, relu) in _MAP_TRUNKS.items():
        if arch.startswith(prefix):
            def trunk(model: nn.Module) -> nn.Module:
                parts = OrderedDict((name, getattr(model, name)) for name in children)
                if relu:
                    parts["final_relu"] = nn.ReLU()
                return nn.Sequential(parts)
            return trunk

    def pooled(model: nn.Module) -> nn.Module:
        setattr(model, head_attr, replace(getattr(model, head_attr)))
        return model
    return pooled

