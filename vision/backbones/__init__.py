"""Backbones: torchvision models cut before their global pool, timm models, or any ``nn.Module``.

The feature of an image is the global average of the backbone's last convolutional map (512
numbers for ResNet-18, reference §3); the classification head is removed, so a checkpoint's head
may have any size. A backbone's ``model`` maps a ``(B, 3, S, S)`` batch either to that map
``(B, C, h, w)`` (extraction averages it, and keeps the originals' maps for the box-mass
objectness) or, for families whose map is not at hand (swin, ViT-like timm models), to the
pooled ``(B, C)`` features directly.

Three sources (:func:`load_backbone` picks one from the ``--arch`` text), one module each:

- a torchvision name (``resnet18``) with torchvision weights, a checkpoint file or random init
  (:mod:`~vision.backbones.torchvision_models`);
- ``timm:NAME`` (needs the optional ``timm`` extra): timm's model, with timm's own pretrained
  mean, std and input size, features from ``forward_features`` (:mod:`~vision.backbones.timm_models`);
- ``package.module:callable``: the callable returns the module; a ``--weights`` file is loaded
  into it with the same tolerant rules as for torchvision checkpoints (:mod:`~vision.backbones.modules`).

What they share is in :mod:`~vision.backbones.core`; checkpoint reading in :mod:`~vision.backbones.checkpoints`.
"""
from __future__ import annotations

import os

from vision._io import sha256_file
from vision.backbones.checkpoints import (
    HEAD_NAMES,
    KEY_PREFIXES,
    load_checkpoint_into,
    looks_like_path,
    read_state_dict,
    strip_prefix,
)
from vision.backbones.core import (
    RANDOM_WEIGHTS,
    Backbone,
    BackboneError,
    RandomWeightsWarning,
    check_output,
    first_line,
    module_class_name,
    pool_output,
    probe,
    state_dict_sha256,
    warn_random_weights,
)
from vision.backbones.modules import backbone_from_callable, from_module
from vision.backbones.timm_models import TimmFeatures, backbone_from_timm
from vision.backbones.torchvision_models import (
    _HEADS,
    _MAP_TRUNKS,
    build_backbone,
    head_attribute,
    resolve_enum_weights,
)
from vision.preprocess import Preprocessing


def load_backbone(arch: str = "resnet18", weights: str | os.PathLike | None = None, *, random_init: bool = False,
                  seed: int = 0, preprocessing: Preprocessing | None = None) -> Backbone:
    """The backbone named by ``--arch``: ``timm:NAME``, ``package.module:callable`` or a torchvision name."""
    if arch.startswith("timm:"):
        return backbone_from_timm(arch[len("timm:"):], weights, random_init=random_init, seed=seed)
    if ":" in arch:
        return backbone_from_callable(arch, weights, random_init=random_init, seed=seed, preprocessing=preprocessing)
    return build_backbone(arch, weights, random_init=random_init, seed=seed)


__all__ = ["HEAD_NAMES", "KEY_PREFIXES", "RANDOM_WEIGHTS", "Backbone", "BackboneError", "RandomWeightsWarning",
           "TimmFeatures", "_HEADS", "_MAP_TRUNKS", "backbone_from_callable", "backbone_from_timm", "build_backbone",
           "check_output", "first_line", "from_module", "head_attribute", "load_backbone", "load_checkpoint_into",
           "looks_like_path", "module_class_name", "pool_output", "probe", "read_state_dict", "resolve_enum_weights",
           "sha256_file", "state_dict_sha256", "strip_prefix", "warn_random_weights"]
