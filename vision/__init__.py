"""Causal signals in images: the image experiment of Lopez-Paz et al. (CVPR 2017).

Python API (names load lazily, so importing :mod:`vision` does not import torch)::

    import vision
    vision.extract_features("coco/val2017", "coco/annotations/instances_val2017.json", "feats",
                            weights="DEFAULT")            # or a checkpoint path, or random_init=True
    report = vision.analyze("feats", "out", ncc_model="model.safetensors")

See :func:`vision.extract.extract_features` and :func:`vision.analysis.analyze`.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "extract_features": "vision.extract",
    "ExtractionConfig": "vision.extract",
    "analyze": "vision.analysis",
    "AnalysisConfig": "vision.analysis",
    "load_dataset": "vision.annotations",
    "build_backbone": "vision.backbones",
    "load_backbone": "vision.backbones",
    "from_module": "vision.backbones",
    "Preprocessing": "vision.preprocess",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vision' has no attribute {name!r}")
