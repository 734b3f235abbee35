"""Backbones: torchvision models cut before their global pool, timm models, or any ``nn.Module``.

The feature of an image is the global average of the backbone's last convolutional map (512
numbers for ResNet-18, reference §3); the classification head is removed, so a checkpoint's head
may have any size. A backbone's ``model`` maps a ``(B, 3, S, S)`` batch either to that map
``(B, C, h, w)`` (extraction averages it, and keeps the originals' maps for the box-mass
objectness) or, for families whose map is not at hand (swin, ViT-like timm models), to the
pooled ``(B, C)`` features directly.

Three sources (:func:`load_backbone` picks one from the ``--arch`` text):

- a torchvision name (``resnet18``) with torchvision weights, a checkpoint file or random init;
- ``timm:NAME`` (needs the optional ``timm`` extra): timm's model, with timm's own pretrained
  mean, std and input size, features from ``forward_features``;
- ``package.module:callable``: the callable returns the module; a ``--weights`` file is loaded
  into it with the same tolerant rules as for torchvision checkpoints.
"""
from __future__ import annotations

import hashlib
import importlib
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from ncc._hashing import file_sha256 as sha256_file
from vision.preprocess import Preprocessing

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

KEY_PREFIXES = ("module.", "model.", "backbone.")  # DataParallel, Lightning, detection/SSL wrappers
#: Top-level names of classification heads: checkpoint keys under these are ignored when the
#: module (a ``module:callable`` or timm trunk) has no such part.
HEAD_NAMES = ("fc", "classifier", "head", "heads", "last_linear")


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


def head_attribute(arch: str) -> tuple[str, Callable[[nn.Module], nn.Module]]:
    for prefix, rule in _HEADS.items():
        if arch.startswith(prefix):
            return rule
    supported = ", ".join(sorted(p.rstrip("_") + "*" for p in _HEADS))
    raise BackboneError(f"architecture {arch!r} is not supported (need a torchvision model with a global pool: {supported})")


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


def _fitting_prefix(state: dict[str, torch.Tensor], expected: dict) -> tuple[dict[str, torch.Tensor], str]:
    """Strip shared prefixes one at a time, stopping as soon as every expected key is there (a
    module whose own keys start with ``model.`` keeps them); else strip them all."""
    stripped = ""
    while not all(k in state for k in expected):
        for prefix in KEY_PREFIXES:
            if all(k.startswith(prefix) for k in state):
                state = {k[len(prefix):]: v for k, v in state.items()}
                stripped += prefix
                break
        else:
            break
    return state, stripped


def load_checkpoint_into(model: nn.Module, path: Path, arch: str, head_attr: str | tuple[str, ...]) -> dict:
    """Load a state dict into the headless ``model``; raise BackboneError on any misfit.

    Checkpoint keys under ``head_attr`` (one name or several) are ignored unless the model
    itself has those keys (a callable may return a module with its head)."""
    expected = model.state_dict()
    state, stripped = _fitting_prefix(_read_state_dict(path), expected)
    heads = (head_attr,) if isinstance(head_attr, str) else tuple(head_attr)
    head_keys = sorted(k for k in state if k.split(".", 1)[0] in heads and k not in expected)
    state = {k: v for k, v in state.items() if k not in head_keys}
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
    cut = _cutter(arch, head_attr, replace)
    if arch not in list_models():
        raise BackboneError(f"torchvision has no architecture {arch!r}")
    notes: list[str] = []
    enum_weights = None
    if weights is None or str(weights) == "":
        if not random_init:
            raise BackboneError("no --weights given: pass a torchvision weights name or a checkpoint path, or --random-init for a test run")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = cut(get_model(arch, weights=None))
        ident = {"kind": "random-init", "seed": seed,
                 "warning": RANDOM_WEIGHTS}
        notes.append(ident["warning"])
    else:
        spec = str(weights)
        path = Path(spec).expanduser()
        if path.is_file():
            model = cut(get_model(arch, weights=None))
            ident = load_checkpoint_into(model, path, arch, head_attr)
        elif _looks_like_path(spec):
            raise BackboneError(f"{spec}: checkpoint file not found")
        else:
            enum_weights = resolve_enum_weights(arch, spec)
            try:
                model = get_model(arch, weights=enum_weights)
            except Exception as exc:  # noqa: BLE001 - download / cache failures: one clear line
                raise BackboneError(f"cannot get torchvision weights {enum_weights} (download failed or no cache?): {str(exc).splitlines()[0][:200]}") from None
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


# ---------------------------------------------------------------------------- any module

def check_output(out: Any, batch: int, name: str, size: int) -> tuple[int, tuple[int, int, int] | None]:
    """``(feature_dim, map_shape or None)`` of a probe output; BackboneError naming ``name`` otherwise."""
    need = "need (B, C) features or a (B, C, h, w) map"
    if not isinstance(out, torch.Tensor):
        raise BackboneError(f"{name}: returns a {type(out).__name__} for a ({batch}, 3, {size}, {size}) batch, not a tensor; {need}")
    shape = tuple(out.shape)
    if out.ndim not in (2, 4) or shape[0] != batch or any(d < 1 for d in shape[1:]):
        raise BackboneError(f"{name}: returns shape {shape} for a ({batch}, 3, {size}, {size}) batch; {need}")
    if not out.is_floating_point():
        raise BackboneError(f"{name}: returns {out.dtype} values; need floating-point features")
    return int(shape[1]), (tuple(int(d) for d in shape[1:]) if out.ndim == 4 else None)


def probe(model: nn.Module, size: int, name: str, device: torch.device | str = "cpu") -> tuple[int, tuple[int, int, int] | None]:
    """Run ``model`` on a (2, 3, size, size) batch: its feature size and map shape, or one clear line."""
    x = torch.zeros(2, 3, size, size, device=device)
    x[1] = 1.0  # two different images: a batch dimension that gets mixed up shows
    try:
        with torch.inference_mode():
            out = model(x)
    except Exception as exc:  # noqa: BLE001 - any failure of a user's module: one line naming it
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise BackboneError(f"{name}: fails on a (2, 3, {size}, {size}) batch ({type(exc).__name__}: {first})") from None
    return check_output(out, 2, name, size)


def from_module(module: nn.Module, *, name: str | None = None, preprocessing: Preprocessing | None = None,
                weights: dict | None = None, notes: list[str] | None = None) -> Backbone:
    """Wrap a bare ``nn.Module`` mapping (B, 3, H, W) to (B, C) features or a (B, C, h, w) map.

    ``preprocessing`` gives its mean, std and sizes (default: ImageNet statistics, 224). The
    identity recorded is the module's class and the SHA-256 of its state dict
    (:func:`state_dict_sha256`); ``weights`` adds to it (e.g. the checkpoint it was loaded from).
    """
    if not isinstance(module, nn.Module):
        raise BackboneError(f"{name or 'backbone'}: a {type(module).__name__}, not a torch.nn.Module")
    name = name or type(module).__qualname__
    prep = preprocessing or Preprocessing()
    module = module.eval()
    dim, map_shape = probe(module, prep.crop, name)
    ident = {**(weights or {}), "kind": "module", "class": module_class_name(module),
             "sha256": state_dict_sha256(module),
             "hash": "sha256 of the state dict (sorted keys; key, dtype, shape, bytes)"}
    return Backbone(arch=name, model=module, feature_dim=dim, weights=ident, notes=list(notes or []),
                    preprocessing=prep, gives_map=map_shape is not None)


def _import_callable(spec: str) -> Callable[[], Any]:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise BackboneError(f"--arch {spec!r}: expected package.module:callable")
    added = os.getcwd() not in sys.path  # like `python -m`: modules next to the user are found
    if added:
        sys.path.append(os.getcwd())
    try:
        mod = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - ImportError, or the module itself fails: one line
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise BackboneError(f"--arch {spec}: cannot import {module_name} ({type(exc).__name__}: {first})") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    obj = mod
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise BackboneError(f"--arch {spec}: {module_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise BackboneError(f"--arch {spec}: {attr} is a {type(obj).__name__}, not callable")
    return obj


def _seeded_call(fn: Callable[[], Any], seed: int) -> Any:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return fn()


def backbone_from_callable(spec: str, weights: str | os.PathLike | None = None, *, random_init: bool = False,
                           seed: int = 0, preprocessing: Preprocessing | None = None) -> Backbone:
    """``package.module:callable``: call it (under ``torch.manual_seed(seed)``, so random layers are
    reproducible) and load ``weights`` (a checkpoint file) into the module it returns.

    Without ``weights`` the module keeps whatever weights the callable gave it; ``random_init``
    only says (in the notes and the report) that those are random."""
    fn = _import_callable(spec)
    try:
        module = _seeded_call(fn, seed)
    except Exception as exc:  # noqa: BLE001 - the user's callable failed: one line naming it
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise BackboneError(f"--arch {spec}: calling it raised {type(exc).__name__}: {first}") from None
    if not isinstance(module, nn.Module):
        raise BackboneError(f"--arch {spec}: returned a {type(module).__name__}, not a torch.nn.Module")
    notes: list[str] = []
    extra: dict = {"source": spec, "seed": seed}
    if weights is not None and str(weights) != "":
        path = Path(str(weights)).expanduser()
        if not path.is_file():
            raise BackboneError(f"{weights}: checkpoint file not found")
        loaded = load_checkpoint_into(module, path, spec, HEAD_NAMES)
        extra["checkpoint"] = {k: v for k, v in loaded.items() if k != "kind"}
        if random_init:
            notes.append("--random-init ignored because --weights was given")
    elif random_init:
        extra["warning"] = RANDOM_WEIGHTS
        notes.append(extra["warning"])
    return from_module(module, name=spec, preprocessing=preprocessing, weights=extra, notes=notes)


# ---------------------------------------------------------------------------- timm

class TimmFeatures(nn.Module):
    """A timm model seen through ``forward_features``: its last map (B, C, h, w), or, for token
    models (ViT-like), timm's own pooled pre-logits features (B, C)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model.forward_features(x)
        if out.ndim == 4:
            if out.shape[1] != self.model.num_features and out.shape[-1] == self.model.num_features:
                out = out.permute(0, 3, 1, 2)  # channels-last maps (some timm families)
            return out
        return self.model.forward_head(out, pre_logits=True)


def backbone_from_timm(name: str, weights: str | os.PathLike | None = None, *, random_init: bool = False,
                       seed: int = 0) -> Backbone:
    """``timm:NAME``: ``--weights pretrained`` (timm downloads them), a checkpoint file, or random init."""
    try:
        import timm
        from timm.data import resolve_model_data_config
    except ImportError:
        raise BackboneError(f"--arch timm:{name} needs timm: pip install 'ncc[timm]'") from None
    if not timm.is_model(name):
        raise BackboneError(f"--arch timm:{name}: timm has no model {name!r} (see timm.list_models())")
    spec = "" if weights is None else str(weights)
    notes: list[str] = []
    try:
        if spec == "pretrained":
            model = timm.create_model(name, pretrained=True, num_classes=0)
            ident: dict = {"kind": "timm", "name": f"timm:{name}", "pretrained": True}
        else:
            if not spec and not random_init:
                raise BackboneError("no --weights given: pass 'pretrained' (timm's weights) or a checkpoint path, or --random-init for a test run")
            model = _seeded_call(lambda: timm.create_model(name, pretrained=False, num_classes=0), seed)
            ident = {"kind": "random-init", "seed": seed,
                     "warning": RANDOM_WEIGHTS}
    except BackboneError:
        raise
    except Exception as exc:  # noqa: BLE001 - download / config failures: one line
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise BackboneError(f"--arch timm:{name}: cannot create the model ({type(exc).__name__}: {first})") from None
    if spec and spec != "pretrained":
        path = Path(spec).expanduser()
        if not path.is_file():
            raise BackboneError(f"{spec}: checkpoint file not found" if _looks_like_path(spec) else
                                f"--weights {spec!r}: for timm, give 'pretrained' or a checkpoint file")
        # the model is built without a classifier (num_classes=0): the checkpoint's is ignored
        ident = load_checkpoint_into(model, path, f"timm:{name}", HEAD_NAMES)
    elif random_init and spec:
        notes.append("--random-init ignored because --weights was given")
    if ident.get("kind") == "random-init":
        notes.append(ident["warning"])
    cfg = resolve_model_data_config(model)
    _, h, w = cfg["input_size"]
    if h != w:
        raise BackboneError(f"--arch timm:{name}: input size {h}x{w} is not square; only square centre crops are supported")
    prep = Preprocessing(resize=int(h), crop=int(h), mean=tuple(float(v) for v in cfg["mean"]),
                         std=tuple(float(v) for v in cfg["std"]))
    ident["data_config"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}
    wrapped = TimmFeatures(model.eval()).eval()
    dim, map_shape = probe(wrapped, prep.crop, f"timm:{name}")
    ident["state_dict_sha256"] = state_dict_sha256(model)
    return Backbone(arch=f"timm:{name}", model=wrapped, feature_dim=dim, weights=ident, notes=notes,
                    preprocessing=prep, gives_map=map_shape is not None)


# ---------------------------------------------------------------------------- dispatch

def load_backbone(arch: str = "resnet18", weights: str | os.PathLike | None = None, *, random_init: bool = False,
                  seed: int = 0, preprocessing: Preprocessing | None = None) -> Backbone:
    """The backbone named by ``--arch``: ``timm:NAME``, ``package.module:callable`` or a torchvision name."""
    if arch.startswith("timm:"):
        return backbone_from_timm(arch[len("timm:"):], weights, random_init=random_init, seed=seed)
    if ":" in arch:
        return backbone_from_callable(arch, weights, random_init=random_init, seed=seed, preprocessing=preprocessing)
    return build_backbone(arch, weights, random_init=random_init, seed=seed)
