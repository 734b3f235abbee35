"""The NCC model as the analysis sees it: a scorer function of lists of pairs, and what the report
says about where it came from."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

Scorer = Callable[[list[np.ndarray]], np.ndarray]


def default_scorer(ncc_model) -> Scorer:
    def run(pairs: list[np.ndarray]) -> np.ndarray:
        import ncc

        return np.asarray(ncc.score_pairs(pairs, model=ncc_model), dtype=np.float64)

    return run


def ncc_model_identity(ncc_model: Any, scorer: Scorer | None) -> dict:
    """What the report says about the NCC model: file + SHA-256, the shipped default, or a custom scorer."""
    from vision._io import sha256_file

    if scorer is not None:
        return {"kind": "custom scorer", "name": getattr(scorer, "__name__", type(scorer).__name__)}
    if ncc_model is None:
        ident: dict = {"kind": "shipped default"}
        try:
            from ncc.serialization import DEFAULT_MODEL_PATH

            if Path(DEFAULT_MODEL_PATH).is_file():
                ident.update(path=str(DEFAULT_MODEL_PATH), sha256=sha256_file(DEFAULT_MODEL_PATH))
        except Exception:  # noqa: BLE001 - identity is informative; never fail the analysis for it
            pass
        return ident
    if isinstance(ncc_model, (str, os.PathLike)):
        return {"kind": "file", "path": str(Path(ncc_model).resolve()), "sha256": sha256_file(ncc_model)}
    return {"kind": "in-memory model", "class": type(ncc_model).__name__}
