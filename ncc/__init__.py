"""Neural Causation Coefficient (Lopez-Paz et al., "Discovering Causal Signals in Images", CVPR 2017).

Public names are imported lazily so that light modules (``ncc.formats``, the CLI's
``--version``) never pay for importing torch.
"""
from __future__ import annotations

import importlib
from typing import Any

from ncc._version import __version__

_LAZY = {
    "causal_score": "ncc.api",
    "score_pairs": "ncc.api",
    "score_table": "ncc.tables",
    "load": "ncc.api",
    "save": "ncc.api",
    "predict_relation": "ncc.api",
    "predict_relations": "ncc.api",
    "link_scores": "ncc.api",
    "load_link_model": "ncc.serialization",
    "NCCClassifier": "ncc.estimator",
    "NCCConfig": "ncc.model",
    "NCC": "ncc.model",
    "Weights": "ncc.weights",
    "LinkWeights": "ncc.weights",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ncc' has no attribute {name!r}")
