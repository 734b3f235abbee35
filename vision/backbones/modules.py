"""Any ``nn.Module`` as a backbone: a module handed over in Python, or ``package.module:callable``
named on the command line (a ``--weights`` file is loaded into what the callable returns)."""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any, Callable

from torch import nn

from vision.backbones.checkpoints import HEAD_NAMES, load_checkpoint_into
from vision.backbones.core import (
    RANDOM_WEIGHTS,
    Backbone,
    BackboneError,
    first_line,
    module_class_name,
    probe,
    seeded_call,
    state_dict_sha256,
)
from vision.preprocess import Preprocessing


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
        raise BackboneError(f"--arch {spec}: cannot import {module_name} ({type(exc).__name__}: {first_line(exc)})"
                            ) from None
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


def backbone_from_callable(spec: str, weights: str | os.PathLike | None = None, *, random_init: bool = False,
                           seed: int = 0, preprocessing: Preprocessing | None = None) -> Backbone:
    """``package.module:callable``: call it (under ``torch.manual_seed(seed)``, so random layers are
    reproducible) and load ``weights`` (a checkpoint file) into the module it returns.

    Without ``weights`` the module keeps whatever weights the callable gave it; ``random_init``
    only says (in the notes and the report) that those are random."""
    fn = _import_callable(spec)
    try:
        module = seeded_call(fn, seed)
    except Exception as exc:  # noqa: BLE001 - the user's callable failed: one line naming it
        raise BackboneError(f"--arch {spec}: calling it raised {type(exc).__name__}: {first_line(exc, '')}") from None
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

